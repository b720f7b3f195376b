"""分期 pages: the list of installment plans (待审批 first) with filters and Excel export, the
request form, and a manager's approval (after a confirmation) or rejection with a reason.
Thin callers of `propfee.collection.plans`."""

from __future__ import annotations

from django.http import Http404, HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from propfee.collection.form_pages import form_page
from propfee.collection.matter_exports import PLAN_EXPORT
from propfee.collection.matter_forms import NoteForm, PlanFilterForm, PlanRequestForm, fen
from propfee.collection.models import InstallmentPlan
from propfee.collection.plans import (
    installment_plan_approve,
    installment_plan_reject,
    installment_plan_request,
)
from propfee.core.money import format_yuan
from propfee.core.roles import Capability, role_can
from propfee.estates.selectors import units_visible_to
from propfee.web.access import StaffRequest, capability_required
from propfee.web.listing import export_list, export_requested, page_of, render_page_or_fragment

get_or_post = require_http_methods(["GET", "POST"])


def plans_visible_to(user):  # type: ignore[no-untyped-def]
    return (
        InstallmentPlan.objects.filter(unit__in=units_visible_to(user).values("pk"))
        .select_related("unit__estate", "requested_by", "decided_by")
        .prefetch_related("installments")
        .order_by("-requested_at", "-pk")
    )


@capability_required(Capability.WORK_CASES)
def plan_list(request: StaffRequest) -> HttpResponseBase:
    """分期计划: every plan of the units the user sees."""
    form = PlanFilterForm(request.GET, user=request.user)
    plans = form.filter(plans_visible_to(request.user))
    if export_requested(request):
        return export_list(request, PLAN_EXPORT, plans, form=form)
    links = [{"url": reverse("collection:plan_new"), "label": _("申请分期"), "icon": "plus-lg"}]
    return render_page_or_fragment(
        request,
        "collection/matters/list_page.html",
        "collection/matters/_plan_results.html",
        {
            "form": form,
            "page_obj": page_of(request, plans),
            "title": _("分期计划"),
            "links": links,
            "results_template": "collection/matters/_plan_results.html",
            "decides": role_can(request.user, Capability.APPROVE_COLLECTION),
        },
    )


@get_or_post
@capability_required(Capability.WORK_CASES)
def plan_new(request: StaffRequest) -> HttpResponseBase:
    """申请分期 for a unit (`?unit=CODE` fills it in)."""
    form = PlanRequestForm(
        request.POST or None, user=request.user, initial={"unit": request.GET.get("unit", "")}
    )

    def save() -> tuple[str, str]:
        data = form.cleaned_data
        plan = installment_plan_request(
            unit=data["unit"],
            total_fen=fen(data["total"]),
            count=data["count"],
            first_due_on=data["first_due_on"],
            every_months=data["every_months"],
            grace_days=data["grace_days"],
            waive_penalty_on_completion=data["waive_penalty_on_completion"],
            reason=data["reason"],
            requested_on=data.get("requested_on"),
            actor=request.user,
        )
        message = _("已提交分期申请：%(unit)s，合计 ¥%(total)s，等待审批。") % {
            "unit": plan.unit.code,
            "total": format_yuan(plan.total_fen),
        }
        return message, reverse("collection:plan_list")

    return form_page(
        request,
        form,
        title=_("申请分期"),
        submit_label=_("提交申请"),
        back_url=reverse("collection:plan_list"),
        back_label=_("分期计划"),
        save=save,
        intro=_("按期数平均分期，末期含尾差；批准后暂停催收，逾期超过宽限天数未还则恢复催收。"),
        once=True,
    )


def _plan_or_404(request: StaffRequest, pk: int) -> InstallmentPlan:
    plan = plans_visible_to(request.user).filter(pk=pk).first()
    if plan is None:
        raise Http404
    return plan


def _plan_summary(plan: InstallmentPlan) -> list[tuple[str, str]]:
    rows = [
        (_("房屋"), f"{plan.unit.code}（{plan.unit.estate.name}）"),
        (_("分期总额"), f"¥{format_yuan(plan.total_fen)}"),
        (_("申请理由"), plan.reason),
    ]
    rows += [
        (_("第 %(seq)s 期") % {"seq": i.seq}, f"{i.due_on:%Y-%m-%d} ¥{format_yuan(i.amount_fen)}")
        for i in plan.installments.all()
    ]
    return rows


@get_or_post
@capability_required(Capability.APPROVE_COLLECTION)
def plan_approve(request: StaffRequest, pk: int) -> HttpResponseBase:
    """批准分期, after a confirmation."""
    plan = _plan_or_404(request, pk)
    form = NoteForm(request.POST or None, label=_("审批意见"))

    def save() -> tuple[str, str]:
        installment_plan_approve(plan=plan, actor=request.user, note=form.cleaned_data["note"])
        return _("已批准分期：%(unit)s。") % {"unit": plan.unit.code}, reverse(
            "collection:plan_list"
        )

    return form_page(
        request,
        form,
        title=_("批准分期"),
        submit_label=_("批准"),
        submit_class="btn-success",
        back_url=reverse("collection:plan_list"),
        back_label=_("分期计划"),
        save=save,
        statement=lambda: _("批准后暂停该房屋的催收，并记为债务承认（诉讼时效中断）。"),
        summary=lambda: _plan_summary(plan),
    )


@get_or_post
@capability_required(Capability.APPROVE_COLLECTION)
def plan_reject(request: StaffRequest, pk: int) -> HttpResponseBase:
    """驳回分期 with a reason."""
    plan = _plan_or_404(request, pk)
    form = NoteForm(request.POST or None, label=_("驳回原因"), required=True)

    def save() -> tuple[str, str]:
        installment_plan_reject(plan=plan, actor=request.user, reason=form.cleaned_data["note"])
        return _("已驳回分期申请：%(unit)s。") % {"unit": plan.unit.code}, reverse(
            "collection:plan_list"
        )

    return form_page(
        request,
        form,
        title=_("驳回分期"),
        submit_label=_("驳回"),
        submit_class="btn-danger",
        back_url=reverse("collection:plan_list"),
        back_label=_("分期计划"),
        save=save,
    )
