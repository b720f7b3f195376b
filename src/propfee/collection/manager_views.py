"""催收看板 pages of a manager: the board (open cases by stage, the approvals queue, collector
workload) with an estate filter, the overdue tasks list with filters and Excel export, and the
decision on a case's stage approval (律师函, 法律程序) after a confirmation. Thin callers of
`collection.manager_selectors` and `collection.approvals`; cases outside the manager's estates
are answered with 404."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import Http404, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from propfee.analytics.charts import chart_data, yuan_values
from propfee.collection.approvals import case_stage_grant, case_stage_reject, stage_requested_by
from propfee.collection.constants import StageKey, TaskKind
from propfee.collection.form_pages import form_page
from propfee.collection.manager_selectors import (
    CONTACT_DAYS,
    approvals_queue,
    collector_workload,
    overdue_tasks,
    stage_approval_case,
    stage_funnel,
)
from propfee.collection.matter_forms import EstateFilterForm, NoteForm
from propfee.collection.models import Case, Task
from propfee.collection.workbench_selectors import collectors_for
from propfee.core.exporting import Column, ColumnKind, ExportList
from propfee.core.models import User
from propfee.core.money import format_yuan
from propfee.core.roles import Capability, role_can
from propfee.web.access import StaffRequest, capability_required
from propfee.web.listing import export_list, export_requested, page_of, render_page_or_fragment

get_or_post = require_http_methods(["GET", "POST"])


class OverdueTaskFilterForm(EstateFilterForm):
    """The overdue tasks list's filters: estate, collector, kind."""

    collector: forms.ModelChoiceField = forms.ModelChoiceField(
        label=gettext_lazy("执行人"), queryset=None, required=False
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("任务类型"),
        required=False,
        choices=[("", gettext_lazy("全部类型")), *TaskKind.choices],
    )

    def __init__(self, data: Any, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, user=user, **kwargs)
        collector = cast(forms.ModelChoiceField, self.fields["collector"])
        collector.queryset = collectors_for(user)
        collector.empty_label = _("全部人员")


def _days_late(task: Task) -> int:
    return (timezone.localdate() - task.due_on).days


#: The overdue tasks as an Excel file (`?export=xlsx`).
OVERDUE_TASK_EXPORT = ExportList(
    name="逾期任务",
    object_type="collection.task",
    columns=[
        Column("房屋编码", "unit.code", width=18),
        Column("项目", "unit.estate.name", width=20),
        Column("楼栋", "unit.building.name"),
        Column("任务类型", "get_kind_display"),
        Column("任务内容", "title", width=30),
        Column("催收阶段", "get_stage_display"),
        Column("截止日期", "due_on", ColumnKind.DATE),
        Column("逾期天数", _days_late, ColumnKind.NUMBER),
        Column("优先级", "priority", ColumnKind.NUMBER),
        Column("执行人", lambda task: str(task.assigned_to) if task.assigned_to_id else ""),
        Column(
            "逾期本金",
            lambda task: task.case.principal_overdue_fen if task.case_id else None,
            ColumnKind.MONEY_FEN,
        ),
    ],
)


@capability_required(Capability.MANAGE_CASES)
def board(request: StaffRequest) -> HttpResponseBase:
    """催收看板: the funnel, the approvals queue and the collectors' workload of the manager's
    estates (or of the estate chosen)."""
    user = request.user
    form = EstateFilterForm(request.GET, user=user)
    estate = form.values().get("estate")
    today = timezone.localdate()
    funnel = stage_funnel(user=user, estate=estate)
    chart = chart_data(
        kind="bar",
        categories=[row.label for row in funnel],
        series=[(_("逾期本金(元)"), yuan_values([row.principal_fen for row in funnel]))],
        value_format="yuan",
    )
    workload = collector_workload(user=user, estate=estate, today=today)
    context = {
        "form": form,
        "estate": estate,
        "today": today,
        "funnel": funnel,
        "funnel_cases": sum(row.cases for row in funnel),
        "funnel_principal_fen": sum(row.principal_fen for row in funnel),
        "chart": chart,
        "queue": approvals_queue(user=user, estate=estate),
        "workload": workload,
        "overdue_total": sum(load.overdue_tasks for load in workload),
        "contact_days": CONTACT_DAYS,
        "decides": role_can(user, Capability.APPROVE_COLLECTION),
    }
    return render(request, "collection/manager/board.html", context)


@capability_required(Capability.MANAGE_CASES)
def overdue_task_list(request: StaffRequest) -> HttpResponseBase:
    """逾期任务: open tasks due before today in the manager's estates."""
    form = OverdueTaskFilterForm(request.GET, user=request.user)
    values = form.values()
    today = timezone.localdate()
    tasks = overdue_tasks(
        user=request.user,
        today=today,
        estate=values.get("estate"),
        collector=values.get("collector"),
        kind=values.get("kind", ""),
    )
    if export_requested(request):
        return export_list(request, OVERDUE_TASK_EXPORT, tasks, form=form)
    page = page_of(request, tasks)
    for task in page:
        task.days_late = (today - task.due_on).days
    return render_page_or_fragment(
        request,
        "collection/manager/overdue_tasks.html",
        "collection/manager/_overdue_results.html",
        {"form": form, "page_obj": page, "today": today},
    )


def _approval_case(request: StaffRequest, pk: int) -> Case:
    case = stage_approval_case(user=request.user, pk=pk)
    if case is None:
        raise Http404
    return case


def _approval_summary(case: Case) -> list[tuple[str, str]]:
    return [
        (_("房屋"), f"{case.unit.code}（{case.unit.estate.name}）"),
        (_("当前阶段"), case.get_stage_display() or _("未进入阶段")),
        (_("申请进入"), str(StageKey(case.pending_stage).label)),
        (_("逾期本金"), f"¥{format_yuan(case.principal_overdue_fen)}"),
        (_("欠费月数"), str(case.months_owed)),
        (_("提交审批日期"), f"{case.pending_since:%Y-%m-%d}" if case.pending_since else "—"),
    ]


@get_or_post
@capability_required(Capability.MANAGE_CASES, Capability.APPROVE_COLLECTION)
def stage_approve(request: StaffRequest, pk: int) -> HttpResponseBase:
    """同意进入阶段, after a confirmation; the next run enters the stage. The manager who asked
    for the stage is told that someone else approves it (the service refuses it too)."""
    case = _approval_case(request, pk)
    stage = StageKey(case.pending_stage).label
    own_request = stage_requested_by(case=case, user=request.user)
    form = NoteForm(request.POST or None, label=_("审批意见"))

    def save() -> tuple[str, str]:
        case_stage_grant(case=case, actor=request.user, note=form.cleaned_data["note"])
        message = _("已同意 %(unit)s 进入“%(stage)s”阶段，下次运行催收批次时执行。") % {
            "unit": case.unit.code,
            "stage": stage,
        }
        return message, reverse("collection:board")

    return form_page(
        request,
        form,
        title=_("同意进入“%(stage)s”阶段") % {"stage": stage},
        submit_label=_("同意"),
        submit_class="btn-success",
        back_url=reverse("collection:board"),
        back_label=_("催收看板"),
        save=save,
        statement=lambda: (
            _("同意后，下次运行催收批次时该案件进入“%(stage)s”阶段并执行其动作。")
            % {"stage": stage}
        ),
        summary=lambda: _approval_summary(case),
        intro=_("这是您本人提交的升级申请，需由其他负责人审批。") if own_request else "",
    )


@get_or_post
@capability_required(Capability.MANAGE_CASES, Capability.APPROVE_COLLECTION)
def stage_reject(request: StaffRequest, pk: int) -> HttpResponseBase:
    """不同意进入阶段, with a reason, after a confirmation; the case stays in its stage."""
    case = _approval_case(request, pk)
    stage = StageKey(case.pending_stage).label
    form = NoteForm(request.POST or None, label=_("不同意的原因"), required=True)

    def save() -> tuple[str, str]:
        case_stage_reject(case=case, actor=request.user, reason=form.cleaned_data["note"])
        message = _("已不同意 %(unit)s 进入“%(stage)s”阶段。") % {
            "unit": case.unit.code,
            "stage": stage,
        }
        return message, reverse("collection:board")

    return form_page(
        request,
        form,
        title=_("不同意进入“%(stage)s”阶段") % {"stage": stage},
        submit_label=_("不同意"),
        submit_class="btn-danger",
        back_url=reverse("collection:board"),
        back_label=_("催收看板"),
        save=save,
        statement=lambda: _(
            "不同意后，该案件停留在当前阶段；条件仍满足时，催收批次在30天后再次提交审批。"
        ),
        summary=lambda: _approval_summary(case),
    )
