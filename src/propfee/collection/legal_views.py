"""法律事务 and 诉讼时效 pages: the legal-matter list with filters and Excel export, the form
that prepares a matter (with the court-fee estimate and the small-claims ceiling), a matter's
page with its pipeline, the next step (after a confirmation), costs and recoveries and the
evidence checklist; and the manager's 时效即将届满 list. Thin callers of
`propfee.collection.legal` and `propfee.collection.limitation`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from propfee.collection.constants import LegalStatus
from propfee.collection.form_pages import form_page
from propfee.collection.legal import (
    LEGAL_TRANSITIONS,
    STATUS_DATE_FIELD,
    LegalError,
    court_fee_estimate,
    credit_referral_region,
    evidence_checklist,
    legal_matter_advance,
    legal_matter_amounts_set,
    legal_matter_create,
    legal_matter_evidence_set,
    legal_matters_visible_to,
    next_statuses,
    small_claims_limit_fen,
)
from propfee.collection.limitation import WARNING_DAYS, limitation_expiring
from propfee.collection.matter_exports import LEGAL_EXPORT, LIMITATION_EXPORT
from propfee.collection.matter_forms import (
    EvidenceForm,
    LegalAmountsForm,
    LegalFilterForm,
    LegalMatterForm,
    LegalStepForm,
    LimitationFilterForm,
    fen,
)
from propfee.collection.models import LegalMatter
from propfee.core import roles
from propfee.core.money import fen_to_yuan, format_yuan
from propfee.core.roles import Capability, role_can
from propfee.web.access import StaffRequest, capability_required
from propfee.web.listing import export_list, export_requested, page_of, render_page_or_fragment

get_or_post = require_http_methods(["GET", "POST"])


@capability_required(Capability.MANAGE_LEGAL)
def legal_list(request: StaffRequest) -> HttpResponseBase:
    """法律事务: the matters of the units the user sees."""
    form = LegalFilterForm(request.GET, user=request.user)
    matters = form.filter(legal_matters_visible_to(request.user))
    if export_requested(request):
        return export_list(request, LEGAL_EXPORT, matters, form=form)
    links = [
        {"url": reverse("collection:legal_new"), "label": _("新建法律事务"), "icon": "plus-lg"}
    ]
    return render_page_or_fragment(
        request,
        "collection/matters/list_page.html",
        "collection/matters/_legal_results.html",
        {
            "form": form,
            "page_obj": page_of(request, matters),
            "title": _("法律事务"),
            "links": links,
            "results_template": "collection/matters/_legal_results.html",
        },
    )


@get_or_post
@capability_required(Capability.MANAGE_LEGAL)
def legal_new(request: StaffRequest) -> HttpResponseBase:
    """准备法律事务 for a unit (`?unit=CODE`); the confirmation shows the fee estimate."""
    form = LegalMatterForm(
        request.POST or None, user=request.user, initial={"unit": request.GET.get("unit", "")}
    )

    def summary() -> list[tuple[str, Any]]:
        data = form.cleaned_data
        estate = data["unit"].estate
        limit = small_claims_limit_fen(estate)
        fee = court_fee_estimate(kind=data["kind"], claim_fen=fen(data["claim"]))
        return [
            (_("房屋"), f"{data['unit'].code}（{estate.name}）"),
            (_("主张金额"), f"¥{format_yuan(fen(data['claim']))}"),
            (_("预估诉讼费"), f"¥{format_yuan(fee)}"),
            (
                _("小额诉讼标准"),
                f"¥{format_yuan(limit)}"
                if limit is not None
                else _("未配置（请在设置中填写本省标准）"),
            ),
        ]

    def save() -> tuple[str, str]:
        data = form.cleaned_data
        matter = legal_matter_create(
            unit=data["unit"],
            kind=data["kind"],
            claim_fen=fen(data["claim"]),
            lawyer_fee_fen=fen(data["lawyer_fee"]),
            court=data["court"],
            law_firm=data["law_firm"],
            note=data["note"],
            actor=request.user,
        )
        return _("已新建%(kind)s：%(unit)s，等待审批。") % {
            "kind": matter.get_kind_display(),
            "unit": matter.unit.code,
        }, reverse("collection:legal_detail", args=[matter.pk])

    return form_page(
        request,
        form,
        title=_("新建法律事务"),
        submit_label=_("新建"),
        back_url=reverse("collection:legal_list"),
        back_label=_("法律事务"),
        save=save,
        statement=lambda: _("新建后需经理审批方可发出律师函或向法院申请。"),
        summary=summary,
        refusals=(LegalError,),
    )


def _matter_or_404(request: StaffRequest, pk: int) -> LegalMatter:
    matter = legal_matters_visible_to(request.user).filter(pk=pk).first()
    if matter is None:
        raise Http404
    return matter


def _pipeline(matter: LegalMatter) -> list[dict[str, Any]]:
    steps = [s for s in LegalStatus.values if s in LEGAL_TRANSITIONS[matter.kind]]
    return [
        {
            "status": s,
            "label": LegalStatus(s).label,
            "on": getattr(matter, STATUS_DATE_FIELD[s]),
            "current": s == matter.status,
        }
        for s in steps
    ]


def _allowed_steps(request: StaffRequest, matter: LegalMatter) -> list[str]:
    approves = role_can(request.user, Capability.APPROVE_COLLECTION)
    return [s for s in next_statuses(matter) if s != LegalStatus.APPROVED or approves]


def _yuan_initial(fen_value: int) -> Any:
    return fen_to_yuan(fen_value)


@get_or_post
@capability_required(Capability.MANAGE_LEGAL)
def legal_detail(request: StaffRequest, pk: int) -> HttpResponseBase:
    """A legal matter: pipeline with dates, the next step, costs and recoveries, evidence."""
    matter = _matter_or_404(request, pk)
    steps = _allowed_steps(request, matter)
    step_form = LegalStepForm(statuses=steps, prefix="step")
    amounts_form = LegalAmountsForm(
        prefix="amounts",
        initial={
            "claim": _yuan_initial(matter.claim_fen),
            "court_fee": _yuan_initial(matter.court_fee_fen),
            "lawyer_fee": _yuan_initial(matter.lawyer_fee_fen),
            "recovered": _yuan_initial(matter.recovered_fen),
        },
    )
    confirming = False
    error = ""
    if request.method == "POST" and "step-to_status" in request.POST:
        step_form = LegalStepForm(request.POST, statuses=steps, prefix="step")
        if step_form.is_valid():
            if request.POST.get("confirm") != "1":
                confirming = True
            else:
                data = step_form.cleaned_data
                try:
                    legal_matter_advance(
                        matter=matter,
                        to_status=data["to_status"],
                        on=data["on"],
                        docket_no=data["docket_no"] or None,
                        note=data["note"],
                        actor=request.user,
                    )
                except roles.PermissionDenied as exc:
                    raise PermissionDenied from exc
                except LegalError as exc:
                    error = str(exc)
                else:
                    messages.success(
                        request,
                        _("已更新为“%(status)s”。")
                        % {"status": LegalStatus(data["to_status"]).label},
                    )
                    return redirect("collection:legal_detail", pk=matter.pk)
    elif request.method == "POST" and "amounts-claim" in request.POST:
        amounts_form = LegalAmountsForm(request.POST, prefix="amounts")
        if amounts_form.is_valid():
            data = amounts_form.cleaned_data
            try:
                legal_matter_amounts_set(
                    matter=matter,
                    claim_fen=fen(data["claim"]),
                    court_fee_fen=fen(data["court_fee"]) if data["court_fee"] is not None else None,
                    lawyer_fee_fen=fen(data["lawyer_fee"]),
                    recovered_fen=fen(data["recovered"]),
                    actor=request.user,
                )
            except LegalError as exc:
                error = str(exc)
            else:
                messages.success(request, _("已更新费用与回收金额。"))
                return redirect("collection:legal_detail", pk=matter.pk)
    estate = matter.unit.estate
    return render(
        request,
        "collection/matters/legal_detail.html",
        {
            "matter": matter,
            "pipeline": _pipeline(matter),
            "step_form": step_form,
            "steps": steps,
            "confirming": confirming,
            "amounts_form": amounts_form,
            "evidence": evidence_checklist(matter),
            "error": error,
            "small_claims_limit_fen": small_claims_limit_fen(estate),
            "credit_region": credit_referral_region(estate),
        },
    )


@require_POST
@capability_required(Capability.MANAGE_LEGAL)
def legal_evidence(request: StaffRequest, pk: int) -> HttpResponseBase:
    """Save the manual ticks of the evidence checklist."""
    matter = _matter_or_404(request, pk)
    form = EvidenceForm(request.POST)
    form.is_valid()
    try:
        legal_matter_evidence_set(matter=matter, ticks=form.cleaned_data, actor=request.user)
    except roles.PermissionDenied as exc:
        raise PermissionDenied from exc
    messages.success(request, _("已更新证据清单。"))
    return redirect("collection:legal_detail", pk=matter.pk)


@capability_required(Capability.MANAGE_CASES)
def limitation_list(request: StaffRequest) -> HttpResponseBase:
    """时效即将届满: outstanding charges whose limitation ends within 30/60/90 days."""
    form = LimitationFilterForm(request.GET, user=request.user)
    values = form.values()
    as_of = form.as_of_day()
    rows = limitation_expiring(
        user=request.user,
        as_of=as_of,
        within_days=values.get("within_days") or WARNING_DAYS,
        include_expired=bool(values.get("include_expired")),
        estate=values.get("estate"),
    )
    if export_requested(request):
        return export_list(request, LIMITATION_EXPORT, rows, form=form)
    return render_page_or_fragment(
        request,
        "collection/matters/list_page.html",
        "collection/matters/_limitation_results.html",
        {
            "form": form,
            "page_obj": page_of(request, rows),
            "title": _("时效即将届满"),
            "intro": _(
                "诉讼时效为三年（民法典第188条），自应缴日起算；催缴通知有送达凭证、部分缴费、"
                "承诺缴费、分期审批、起诉或申请支付令时重新起算（第195条）。公告张贴不中断时效。"
            ),
            "links": [],
            "results_template": "collection/matters/_limitation_results.html",
            "as_of": as_of,
        },
    )
