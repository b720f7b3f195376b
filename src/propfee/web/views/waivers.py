"""减免 and 坏账核销 pages: the request (申请减免) of a charge and the reversal (撤销) of a waiver,
both dialogs of the unit page; the 减免审批 list of requests with its filters and Excel export,
and a request's approval (批准, after a confirmation) or rejection (驳回, with a reason).

Thin callers of the ledger services: who may, the limits and what is owed are decided there,
and their refusals are shown on the form."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from propfee.billing.models import Charge
from propfee.core import roles
from propfee.core.money import format_yuan
from propfee.core.roles import Capability, Role, role_can
from propfee.core.submission import SubmissionMissing, submission_once, submitted_response
from propfee.ledger.constants import Component, WaiverKind, WaiverStatus
from propfee.ledger.exports import WAIVER_REQUEST_EXPORT
from propfee.ledger.models import Waiver, WaiverRequest
from propfee.ledger.selectors import (
    statement_for_unit,
    waiver_limits_of,
    waiver_requests_visible_to,
)
from propfee.ledger.services import (
    LedgerError,
    waiver_limit_set,
    waiver_request_approve,
    waiver_request_create,
    waiver_request_reject,
    waiver_reverse,
)
from propfee.web.access import StaffRequest, capability_required
from propfee.web.listing import export_list, export_requested, page_of, render_page_or_fragment
from propfee.web.views.unit_writes import _dialog, _done
from propfee.web.views.units import unit_or_404
from propfee.web.waiver_forms import (
    ApproveForm,
    ReasonForm,
    WaiverLimitForm,
    WaiverRequestFilterForm,
    WaiverRequestForm,
)

get_or_post = require_http_methods(["GET", "POST"])

#: The capability that decides (approves, rejects, reverses) each kind; the services' own rule.
DECIDES = {
    WaiverKind.WAIVER: Capability.APPROVE_WAIVERS,
    WaiverKind.WRITE_OFF: Capability.WRITE_OFF,
}


@contextmanager
def refusals_shown_on(form: forms.Form) -> Iterator[None]:
    """A ledger refusal (or a post without its one-time token) becomes an error at the top of
    `form`; a missing capability, a 403."""
    try:
        yield
    except (LedgerError, SubmissionMissing) as exc:
        form.add_error(None, str(exc))
    except roles.PermissionDenied as exc:
        raise PermissionDenied from exc


def _confirmed(request: StaffRequest) -> bool:
    return request.POST.get("confirm") == "1"


# --- on the unit page ------------------------------------------------------------------------


@get_or_post
@capability_required(Capability.VIEW_UNITS, Capability.REQUEST_WAIVERS)
def waiver_request_add(request: StaffRequest, code: str, charge_id: int) -> HttpResponseBase:
    """申请减免 of one charge of the unit (`waiver_request_create`); `?kind=write_off` opens it
    as a 坏账核销 with everything owed today filled in."""
    unit = unit_or_404(request, code)
    charge = Charge.objects.filter(unit_id=unit.pk, pk=charge_id).select_related("fee_item").first()
    if charge is None:
        raise Http404
    statement = statement_for_unit(unit=unit, as_of=timezone.localdate())
    line = next(line for line in statement.lines if line.charge_id == charge.pk)
    initial: dict[str, Any] = {}
    if request.GET.get("kind") == WaiverKind.WRITE_OFF:
        initial = {
            "kind": WaiverKind.WRITE_OFF,
            "principal": format_yuan(line.position.principal_outstanding).replace(",", ""),
            "penalty": format_yuan(line.position.penalty_outstanding).replace(",", ""),
        }
    form = WaiverRequestForm(request.POST or None, initial=initial)
    if form.is_valid():
        data = form.cleaned_data
        unit_url = reverse("web:unit_detail", args=[unit.code])

        def save() -> tuple[str, str]:
            filed = waiver_request_create(
                charge=charge,
                kind=data["kind"],
                principal_fen=form.fen("principal"),
                penalty_fen=form.fen("penalty"),
                effective_on=data["effective_on"],
                reason=data["reason"],
                write_off_reason=data["write_off_reason"],
                actor=request.user,
            )
            message = _(
                "已提交%(kind)s申请（本金 ¥%(principal)s，滞纳金 ¥%(penalty)s），等待审批。"
            ) % {
                "kind": filed.get_kind_display(),
                "principal": format_yuan(filed.principal_fen),
                "penalty": format_yuan(filed.penalty_fen),
            }
            return message, unit_url

        with refusals_shown_on(form):
            return submitted_response(
                request, submission_once(request, save, fallback_url=unit_url)
            )
    title = _("申请减免：%(fee_item)s %(start)s — %(end)s") % {
        "fee_item": charge.fee_item.name,
        "start": charge.period_start.isoformat(),
        "end": charge.period_end.isoformat(),
    }
    return _dialog(
        request,
        unit,
        "web/units/_waiver_request_add.html",
        title,
        {"form": form, "charge": charge, "line": line},
    )


def _reversal_statement(waiver: Waiver) -> str:
    values = {
        "kind": waiver.get_kind_display(),
        "component": waiver.get_component_display(),
        "amount": format_yuan(waiver.amount_fen),
        "on": waiver.effective_on.isoformat(),
    }
    text = _("撤销 %(on)s 的%(kind)s：%(component)s ¥%(amount)s 将重新计入欠费") % values
    if waiver.component == Component.PRINCIPAL:
        text += _("，并自 %(on)s 次日起按合同计收滞纳金") % values
    return text + _("。已收款项将按规则重新核销。")


@get_or_post
@capability_required(Capability.VIEW_UNITS)
def waiver_reverse_view(request: StaffRequest, code: str, waiver_id: int) -> HttpResponseBase:
    """撤销 a waiver of the unit: a reason, then a confirmation, then `waiver_reverse`."""
    unit = unit_or_404(request, code)
    waiver = (
        Waiver.objects.filter(charge__unit_id=unit.pk, pk=waiver_id, status=WaiverStatus.ACTIVE)
        .select_related("charge__fee_item")
        .first()
    )
    if waiver is None:
        raise Http404
    if not role_can(request.user, DECIDES[waiver.kind]):
        raise PermissionDenied
    form = ReasonForm(request.POST or None, label=_("撤销原因"))
    context: dict[str, Any] = {
        "form": form,
        "waiver": waiver,
        "statement": _reversal_statement(waiver),
    }
    title = _("撤销%(kind)s") % {"kind": waiver.get_kind_display()}
    if form.is_valid() and request.POST.get("action") != "edit":
        if _confirmed(request):
            with refusals_shown_on(form):
                waiver_reverse(
                    waiver=waiver, actor=request.user, reason=form.cleaned_data["reason"]
                )
                message = _("已撤销%(kind)s：%(component)s ¥%(amount)s。") % {
                    "kind": waiver.get_kind_display(),
                    "component": waiver.get_component_display(),
                    "amount": format_yuan(waiver.amount_fen),
                }
                return _done(request, unit, message)
        else:
            return _dialog(request, unit, "web/units/_waiver_reverse_confirm.html", title, context)
    return _dialog(request, unit, "web/units/_waiver_reverse.html", title, context)


# --- 减免审批 ----------------------------------------------------------------------------------


def _may_decide_any(request: StaffRequest) -> None:
    user = request.user
    if not role_can(user, Capability.VIEW_UNITS) or not any(
        role_can(user, capability) for capability in DECIDES.values()
    ):
        raise PermissionDenied


@capability_required()
def waiver_request_list(request: StaffRequest) -> HttpResponseBase:
    """减免审批: the requests of the units the user sees, 待审批 first by default."""
    _may_decide_any(request)
    form = WaiverRequestFilterForm(request.GET, user=request.user)
    requests = form.filter(waiver_requests_visible_to(request.user))
    if export_requested(request):
        return export_list(request, WAIVER_REQUEST_EXPORT, requests, form=form)
    page = page_of(request, requests)
    decides = {kind for kind, cap in DECIDES.items() if role_can(request.user, cap)}
    return render_page_or_fragment(
        request,
        "web/waivers/request_list.html",
        "web/waivers/_request_results.html",
        {
            "form": form,
            "page_obj": page,
            "decides": decides,
            "can_set_limits": role_can(request.user, Capability.MANAGE_COMPANY),
        },
    )


def _request_or_404(request: StaffRequest, pk: int) -> WaiverRequest:
    found = waiver_requests_visible_to(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    if not role_can(request.user, DECIDES[found.kind]):
        raise PermissionDenied
    return found


def _back_to_list(request: StaffRequest, message: str) -> HttpResponseBase:
    messages.success(request, message)
    return redirect(reverse("web:waiver_request_list"))


@get_or_post
@capability_required(Capability.VIEW_UNITS)
def waiver_request_approve_view(request: StaffRequest, pk: int) -> HttpResponseBase:
    """批准: the request as it will be recorded, then `waiver_request_approve` on confirmation."""
    found = _request_or_404(request, pk)
    form = ApproveForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _confirmed(request):
        with refusals_shown_on(form):
            waiver_request_approve(
                request=found, actor=request.user, note=form.cleaned_data["note"]
            )
            message = _(
                "已批准%(kind)s申请：%(unit)s，本金 ¥%(principal)s，滞纳金 ¥%(penalty)s。"
            ) % {
                "kind": found.get_kind_display(),
                "unit": found.charge.unit.code,
                "principal": format_yuan(found.principal_fen),
                "penalty": format_yuan(found.penalty_fen),
            }
            return _back_to_list(request, message)
    return render(
        request,
        "web/waivers/request_decide.html",
        {"form": form, "item": found, "approving": True, "title": _("批准申请")},
    )


@get_or_post
@capability_required(Capability.VIEW_UNITS)
def waiver_request_reject_view(request: StaffRequest, pk: int) -> HttpResponseBase:
    """驳回 with a reason (`waiver_request_reject`)."""
    found = _request_or_404(request, pk)
    form = ReasonForm(request.POST or None, label=_("驳回原因"))
    if request.method == "POST" and form.is_valid():
        with refusals_shown_on(form):
            waiver_request_reject(
                request=found, actor=request.user, reason=form.cleaned_data["reason"]
            )
            message = _("已驳回%(kind)s申请：%(unit)s。") % {
                "kind": found.get_kind_display(),
                "unit": found.charge.unit.code,
            }
            return _back_to_list(request, message)
    return render(
        request,
        "web/waivers/request_decide.html",
        {"form": form, "item": found, "approving": False, "title": _("驳回申请")},
    )


@get_or_post
@capability_required(Capability.MANAGE_COMPANY)
def waiver_limits(request: StaffRequest) -> HttpResponseBase:
    """减免审批权限: each approving role's limit per component on one charge; a POST sets one."""
    company = request.user.company
    if company is None:
        raise Http404
    form = WaiverLimitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals_shown_on(form):
            limit = waiver_limit_set(
                company=company,
                role=form.cleaned_data["role"],
                component=form.cleaned_data["component"],
                max_fen=form.max_fen(),
                actor=request.user,
            )
            messages.success(
                request,
                _("已保存：%(role)s 的%(component)s减免审批权限。")
                % {
                    "role": Role(limit.role).label,
                    "component": Component(limit.component).label,
                },
            )
            return redirect("web:waiver_limits")
    return render(
        request,
        "web/waivers/limits.html",
        {"rows": waiver_limits_of(company_id=company.pk), "form": form},
        status=400 if form.is_bound else 200,
    )
