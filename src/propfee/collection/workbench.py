"""催收工作台 pages: the collector's day (今日任务), the case list and a case's page with its
timeline, the contact record form (催收记录表, htmx), the audited reveal of the payer's phone,
and a case's quick writes (reason codes, reassigning, rescheduling or completing a task,
cancelling a promise). Thin callers of `collection.contacts` and `collection.workbench_selectors`;
cases outside the user's scope are answered with 404."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import PurePath
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from propfee.collection.constants import (
    REASON_HANDLING,
    ContactOutcome,
    PromiseStatus,
    ReasonCode,
)
from propfee.collection.contacts import (
    ContactError,
    case_reason_set,
    case_reassign,
    contact_record_create,
    promise_cancel,
    task_complete,
    task_reschedule,
)
from propfee.collection.escalation import (
    DOWN,
    UP,
    EscalationError,
    case_stage_move,
    case_stage_move_plan,
)
from propfee.collection.models import Case, Promise, Task
from propfee.collection.timeline import case_timeline
from propfee.collection.workbench_forms import (
    CaseFilterForm,
    ContactForm,
    MessageForm,
    ReasonCodesForm,
    ReassignForm,
    RescheduleForm,
    reason_handling,
)
from propfee.collection.workbench_selectors import (
    case_list_rows,
    case_open_tasks,
    case_with_payer,
    cases_workable_by,
    collector_day,
    collectors_for,
    contact_attachments_visible_to,
    payer_in,
    tasks_workable_by,
)
from propfee.core.exporting import Column, ColumnKind, ExportList
from propfee.core.identifiers import id_parse
from propfee.core.models import User
from propfee.core.roles import Capability, role_can
from propfee.core.roles import PermissionDenied as CapabilityDenied
from propfee.estates.services import party_reveal_record
from propfee.ledger.selectors import statement_for_unit
from propfee.web.access import StaffRequest, capability_required
from propfee.web.downloads import stored_file_response
from propfee.web.listing import export_list, export_requested, page_of, render_page_or_fragment


def _payer_numbers(case: Case) -> list[str]:
    payer = payer_in(case.unit)
    return [p.number for p in payer.phones.all()] if payer is not None else []


#: The case list as an Excel file (`?export=xlsx`); the payer's phone is masked like every export.
CASE_EXPORT = ExportList(
    name="催收案件",
    object_type="collection.case",
    columns=[
        Column("房屋编码", "unit.code", width=18),
        Column("项目", "estate.name", width=20),
        Column("楼栋", "unit.building.name"),
        Column("缴费人", lambda case: getattr(payer_in(case.unit), "name", None)),
        Column(
            "缴费人手机",
            lambda case: _payer_numbers(case),
            ColumnKind.PHONE,
        ),
        Column("催收阶段", "get_stage_display"),
        Column("分类", "get_segment_display"),
        Column("优先级", "priority", ColumnKind.NUMBER),
        Column("逾期本金", "principal_overdue_fen", ColumnKind.MONEY_FEN),
        Column("未缴滞纳金", "penalty_outstanding_fen", ColumnKind.MONEY_FEN),
        Column("欠费月数", "months_owed", ColumnKind.NUMBER),
        Column("最早应缴日期", "oldest_due_date", ColumnKind.DATE),
        Column("催收负责人", lambda case: str(case.collector) if case.collector_id else ""),
        Column(
            "欠费原因",
            lambda case: [
                str(ReasonCode(c).label) for c in case.reason_codes if c in ReasonCode.values
            ],
            width=24,
        ),
        Column("有待兑现承诺", lambda case: "是" if case.has_promise else "否"),
        Column("立案日期", "opened_on", ColumnKind.DATE),
    ],
)


def _case_or_404(request: StaffRequest, pk: int) -> Case:
    case = (
        cases_workable_by(request.user)
        .select_related("unit__building", "estate", "collector", "policy_version")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404
    return case


def _task_or_404(request: StaffRequest, pk: int) -> Task:
    task = tasks_workable_by(request.user).select_related("case").filter(pk=pk).first()
    if task is None or task.case is None:
        raise Http404
    return task


#: Pages of service issues (物业服务问题跟进表) and installment requests (分期) the contact form
#: links to when an outcome calls for them; a link is shown only once its page exists.
ISSUE_NEW_PATH = "/collection/issues/new/"
PLAN_NEW_PATH = "/collection/plans/new/"
#: The case page's other quick actions (暂停催收, 法律事务), linked the same way.
HOLD_NEW_PATH = "/collection/holds/new/"
LEGAL_NEW_PATH = "/collection/legal/new/"


def _optional_url(path: str) -> str:
    """`path` if some view answers it, else ""."""
    try:
        resolve(path)
    except Resolver404:
        return ""
    return path


@capability_required(Capability.WORK_CASES)
def today(request: StaffRequest) -> HttpResponseBase:
    """今日任务: the signed-in collector's tasks, or (managers) any collector's."""
    user = request.user
    collectors = collectors_for(user)
    collector: User = user
    chosen = request.GET.get("collector", "")
    if chosen and role_can(user, Capability.MANAGE_CASES):
        found = collectors.filter(pk=id_parse(chosen)).first()
        if found is None:
            raise Http404
        collector = found
    day = collector_day(user=user, collector=collector)
    context = {
        "day": day,
        "collector": collector,
        "collectors": list(collectors) if role_can(user, Capability.MANAGE_CASES) else [],
        "can_reveal": role_can(user, Capability.REVEAL_PERSONAL_DATA),
    }
    return render(request, "collection/workbench/today.html", context)


@capability_required(Capability.WORK_CASES)
def case_list(request: StaffRequest) -> HttpResponseBase:
    form = CaseFilterForm(request.GET or None, user=request.user)
    status = request.GET.get("status", "open")
    cases = cases_workable_by(request.user)
    if status != "all":
        cases = cases.filter(status="closed" if status == "closed" else "open")
    cases = case_list_rows(form.filter(cases))
    if export_requested(request):
        return export_list(request, CASE_EXPORT, cases, form=form)
    return render_page_or_fragment(
        request,
        "collection/workbench/case_list.html",
        "collection/workbench/_case_results.html",
        {"form": form, "page_obj": page_of(request, cases), "status": status},
    )


def _contact_context(
    request: StaffRequest, case: Case, *, task: Task | None, form: ContactForm | None = None
) -> dict[str, Any]:
    return {
        "case": case,
        "task": task,
        "form": form or ContactForm(with_task=task is not None),
        "handling": reason_handling(),
        "issue_url": _optional_url(ISSUE_NEW_PATH),
        "plan_url": _optional_url(PLAN_NEW_PATH),
        "disputed": ContactOutcome.DISPUTED,
        "installment": ContactOutcome.INSTALLMENT_REQUESTED,
        "next": request.GET.get("next") or request.POST.get("next") or "",
    }


def _case_page(request: StaffRequest, case: Case, **extra: Any) -> HttpResponseBase:
    user = request.user
    statement = statement_for_unit(unit=case.unit, as_of=timezone.localdate())
    overdue = [line for line in statement.lines if line.position.days_overdue > 0]
    context = {
        "case": case,
        "payer": case_with_payer(case),
        "statement": statement,
        "overdue_principal_fen": sum(line.position.principal_outstanding for line in overdue),
        "overdue_penalty_fen": sum(line.position.penalty_outstanding for line in overdue),
        "reasons": [
            (ReasonCode(code).label, REASON_HANDLING[code])
            for code in case.reason_codes
            if code in ReasonCode.values
        ],
        "timeline": case_timeline(case=case),
        "stage_moves": _stage_moves(case) if role_can(user, Capability.MANAGE_CASES) else {},
        "open_tasks": list(case_open_tasks(case=case)),
        "pending_promises": list(
            Promise.objects.filter(case=case, status=PromiseStatus.PENDING).order_by("promised_on")
        ),
        "can_reveal": role_can(user, Capability.REVEAL_PERSONAL_DATA),
        "can_manage": role_can(user, Capability.MANAGE_CASES),
        "hold_url": _optional_url(HOLD_NEW_PATH) if role_can(user, Capability.MANAGE_CASES) else "",
        "legal_url": (
            _optional_url(LEGAL_NEW_PATH) if role_can(user, Capability.MANAGE_LEGAL) else ""
        ),
        "reason_form": ReasonCodesForm(initial={"reason_codes": case.reason_codes}),
        "reassign_form": ReassignForm(user=user, initial={"collector": case.collector_id}),
        "message_form": MessageForm(initial={"key": uuid.uuid4().hex}),
        "can_message": role_can(user, Capability.SEND_MESSAGES),
        **_contact_context(request, case, task=None),
        **extra,
    }
    return render(request, "collection/workbench/case_detail.html", context)


@capability_required(Capability.WORK_CASES)
def case_detail(request: StaffRequest, pk: int) -> HttpResponseBase:
    return _case_page(request, _case_or_404(request, pk))


@capability_required(Capability.WORK_CASES)
def contact_attachment_file(request: StaffRequest, pk: int) -> HttpResponseBase:
    """A contact record's file (照片、录音、扫描件), for those who see the record: photos and
    PDFs open in the browser, recordings download; out of scope is 404."""
    attachment = contact_attachments_visible_to(request.user).filter(pk=pk).first()
    if attachment is None:
        raise Http404
    name = attachment.description or PurePath(attachment.file.name or "").name
    return stored_file_response(
        request, attachment.file, filename=name, inline=request.GET.get("download") != "1"
    )


@capability_required(Capability.WORK_CASES)
def case_timeline_more(request: StaffRequest, pk: int) -> HttpResponseBase:
    """显示更早的记录: the timeline's next (older) page, as the lines to append (htmx)."""
    case = _case_or_404(request, pk)
    try:
        before = dt.datetime.fromisoformat(request.GET.get("before", ""))
    except ValueError as exc:
        raise Http404 from exc
    if timezone.is_naive(before):
        before = timezone.make_aware(before)
    context = {"case": case, "timeline": case_timeline(case=case, before=before)}
    return render(request, "collection/workbench/_timeline_lines.html", context)


def _stage_moves(case: Case) -> dict[str, str]:
    """The stages a manager may move the case to now, by direction (a refused move is left out)."""
    moves = {}
    for direction in (UP, DOWN):
        try:
            moves[direction] = case_stage_move_plan(case=case, direction=direction).target_label
        except EscalationError:
            continue
    return moves


@require_http_methods(["GET", "POST"])
@capability_required(Capability.WORK_CASES, Capability.MANAGE_CASES)
def case_stage(request: StaffRequest, pk: int, direction: str) -> HttpResponseBase:
    """升级/降级: GET shows what the move will do and asks for the reason; POST (confirmed)
    does it."""
    case = _case_or_404(request, pk)
    try:
        move = case_stage_move_plan(case=case, direction=direction)
    except EscalationError as exc:
        messages.error(request, str(exc))
        return redirect("collection:case_detail", pk=case.pk)
    error = ""
    reason = request.POST.get("reason", "").strip()
    if request.method == "POST":
        if request.POST.get("confirm") != "1":
            error = _("请确认后再提交。")
        else:
            try:
                case_stage_move(case=case, direction=direction, reason=reason, actor=request.user)
            except EscalationError as exc:
                error = str(exc)
            except CapabilityDenied as exc:
                raise PermissionDenied from exc
            else:
                if move.needs_approval:
                    messages.success(request, _("已提交审批，审批通过后进入该阶段。"))
                else:
                    messages.success(request, _("催收阶段已调整。"))
                return redirect("collection:case_detail", pk=case.pk)
    context = {"case": case, "move": move, "reason": reason, "error": error}
    return render(
        request,
        "collection/workbench/case_stage.html",
        context,
        status=200 if not error else 422,
    )


@require_http_methods(["GET", "POST"])
@capability_required(Capability.WORK_CASES)
def contact_new(request: StaffRequest, pk: int) -> HttpResponseBase:
    """The contact form of a case (or of one of its tasks, `?task=`): GET gives the form
    (htmx fragment), POST records it; after recording, the page the form was on reloads."""
    case = _case_or_404(request, pk)
    task_id = request.GET.get("task") or request.POST.get("task") or ""
    task = None
    if task_id:
        task = case.tasks.filter(pk=id_parse(task_id)).first()
        if task is None:
            raise Http404
    if request.method == "GET":
        return render(
            request,
            "collection/workbench/_contact_form.html",
            _contact_context(request, case, task=task),
        )
    form = ContactForm(request.POST, request.FILES, with_task=task is not None)
    if form.is_valid():
        try:
            contact_record_create(
                case=case,
                actor=request.user,
                task=task,
                party=case_with_payer(case),
                **form.service_kwargs(),
            )
        except ContactError as exc:
            form.add_error(None, str(exc))
        except CapabilityDenied as exc:
            raise PermissionDenied from exc
        else:
            messages.success(request, _("催收记录已保存。"))
            back = request.POST.get("next") or ""
            target = (
                reverse("collection:today")
                if back == "today"
                else reverse("collection:case_detail", args=[case.pk])
            )
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = target
                return response
            return redirect(target)
    context = _contact_context(request, case, task=task, form=form)
    status = 422 if request.htmx else 200
    return render(request, "collection/workbench/_contact_form.html", context, status=status)


@require_POST
@capability_required(Capability.WORK_CASES, Capability.SEND_MESSAGES)
def case_message(request: StaffRequest, pk: int) -> HttpResponseBase:
    """Send the payer an e-mail written here; the wording guard and the contact guard of
    messaging decide (`message_compose`). A refusal shows the page again with the reasons."""
    from propfee.messaging.services import MessagingError, message_compose

    case = _case_or_404(request, pk)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            message = message_compose(
                unit=case.unit,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                actor=request.user,
                key=f"case-{case.pk}/message/{form.cleaned_data['key']}",
            )
        except MessagingError as exc:
            form.add_error(None, str(exc))
        except CapabilityDenied as exc:
            raise PermissionDenied from exc
        else:
            messages.success(
                request,
                _("邮件已进入发件队列（%(status)s）。") % {"status": message.get_status_display()},
            )
            return redirect("collection:case_detail", pk=case.pk)
    return _case_page(request, case, message_form=form)


@require_POST
@capability_required(Capability.WORK_CASES, Capability.REVEAL_PERSONAL_DATA)
def payer_reveal(request: StaffRequest, pk: int) -> HttpResponseBase:
    """Show the payer's full phone numbers (with `tel:` links) and log that they were viewed."""
    case = _case_or_404(request, pk)
    payer = case_with_payer(case)
    if payer is None:
        raise Http404
    phones = [p.number for p in payer.phones.all()]
    if phones:
        party_reveal_record(
            actor=request.user, party=payer, fields=["手机"], estate_id=case.estate_id
        )
    row = request.POST.get("row", "")
    context = {
        "case": case,
        "payer": payer,
        "revealed": True,
        "row": row if row.isdigit() else "",
        "can_reveal": True,
    }
    if request.htmx:
        return render(request, "collection/workbench/_payer_phones.html", context)
    return _case_page(request, case, revealed=True)


def _back(request: StaffRequest, case: Case) -> HttpResponseBase:
    if request.POST.get("next") == "today":
        return redirect("collection:today")
    return redirect("collection:case_detail", pk=case.pk)


@require_POST
@capability_required(Capability.WORK_CASES)
def task_done(request: StaffRequest, pk: int) -> HttpResponseBase:
    task = _task_or_404(request, pk)
    assert task.case is not None
    try:
        task_complete(task=task, actor=request.user, result=request.POST.get("result", ""))
    except ContactError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("任务已完成。"))
    return _back(request, task.case)


@require_POST
@capability_required(Capability.WORK_CASES)
def task_move(request: StaffRequest, pk: int) -> HttpResponseBase:
    task = _task_or_404(request, pk)
    assert task.case is not None
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写正确的日期。"))
        return _back(request, task.case)
    try:
        task_reschedule(
            task=task,
            actor=request.user,
            due_on=form.cleaned_data["due_on"],
            appointment_at=form.cleaned_data.get("appointment_at"),
            reason=form.cleaned_data.get("reason") or "",
        )
    except ContactError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("任务已改期。"))
    return _back(request, task.case)


@require_POST
@capability_required(Capability.WORK_CASES)
def case_reasons(request: StaffRequest, pk: int) -> HttpResponseBase:
    case = _case_or_404(request, pk)
    form = ReasonCodesForm(request.POST)
    if form.is_valid():
        case_reason_set(
            case=case, actor=request.user, reason_codes=form.cleaned_data["reason_codes"]
        )
        messages.success(request, _("欠费原因已更新。"))
    return redirect("collection:case_detail", pk=case.pk)


@require_POST
@capability_required(Capability.WORK_CASES, Capability.MANAGE_CASES)
def case_collector(request: StaffRequest, pk: int) -> HttpResponseBase:
    case = _case_or_404(request, pk)
    form = ReassignForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _("请选择催收负责人。"))
    else:
        try:
            case_reassign(case=case, actor=request.user, collector=form.cleaned_data["collector"])
        except ContactError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("催收负责人已变更。"))
    return redirect("collection:case_detail", pk=case.pk)


@require_POST
@capability_required(Capability.WORK_CASES)
def promise_withdraw(request: StaffRequest, pk: int, promise_id: int) -> HttpResponseBase:
    case = _case_or_404(request, pk)
    promise = case.promises.filter(pk=promise_id).first()
    if promise is None:
        raise Http404
    try:
        promise_cancel(promise=promise, actor=request.user, reason=request.POST.get("reason", ""))
    except ContactError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("承诺已取消，下次运行时恢复催收。"))
    return redirect("collection:case_detail", pk=case.pk)
