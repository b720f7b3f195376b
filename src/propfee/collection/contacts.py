"""Writes of the collector's workbench (催收工作台): a contact record (催收记录) with its
attachments, promise and next step; promises (承诺缴费) with their hold; completing and
rescheduling tasks; a case's reason codes (欠费原因) and its collector. Each is one transaction
with its audit row and a line on the case's timeline (CaseEvent). A contact record is never
changed: a correction is a new record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.utils import timezone

from propfee.collection.case_events import case_event_record
from propfee.collection.constants import (
    Attitude,
    ContactChannel,
    ContactOutcome,
    HoldKind,
    PromiseStatus,
    ReasonCode,
    TaskKind,
    TaskStatus,
)
from propfee.collection.definition import DefinitionError, definition_parse
from propfee.collection.models import (
    Case,
    ContactAttachment,
    ContactRecord,
    Hold,
    Promise,
    Task,
)
from propfee.collection.workbench_selectors import cases_workable_by, collectors_for
from propfee.core.models import AuditAction, User
from propfee.core.money import fen_to_yuan
from propfee.core.roles import Capability, PermissionDenied, require, role_can
from propfee.core.services import audit_record
from propfee.core.uploads import (
    FileType,
    UploadKind,
    UploadRefused,
    stored_name,
    upload_check,
    upload_file,
    upload_sha256,
)
from propfee.estates.models import Party
from propfee.messaging.compliance import contact_window, day_bounds

DEFAULT_PROMISE_GRACE_DAYS = 3
#: How far ahead a promise or a next step may be dated.
MAX_PROMISE_DAYS = 180
MAX_NEXT_STEP_DAYS = 90
#: Calls a day to a number that does not answer (compliance-facts.md: ≤ 6 attempts a day).
DEFAULT_UNANSWERED_CALLS_PER_DAY = 6
MAX_ATTACHMENTS = 5


class ContactError(ValueError):
    """A workbench write that cannot be done; the message is for the user."""


def _yuan(fen: int) -> str:
    return f"{fen_to_yuan(fen)}"


def _check_case(actor: User | None, case: Case) -> None:
    """The actor works cases and may see this one (else PermissionDenied)."""
    require(actor, Capability.WORK_CASES)
    if actor is not None and not cases_workable_by(actor).filter(pk=case.pk).exists():
        raise PermissionDenied(Capability.WORK_CASES)


def _event(
    case: Case, *, kind: str, summary: str, actor: User | None, obj: models.Model | None = None
) -> None:
    case_event_record(
        unit_id=case.unit_id, case=case, kind=kind, summary=summary, obj=obj, actor=actor
    )


def _who(actor: User | None) -> User | None:
    return actor if actor is not None and actor.pk else None


def promise_grace_days(case: Case) -> int:
    """The grace days after a promise's date before the run decides it (the case's policy
    option `promise_grace_days`; 3 when the case has no policy yet)."""
    version = case.policy_version
    if version is None:
        return DEFAULT_PROMISE_GRACE_DAYS
    try:
        return definition_parse(version.definition).options.promise_grace_days
    except DefinitionError:
        return DEFAULT_PROMISE_GRACE_DAYS


def _attachment_check(files: Sequence[UploadedFile]) -> list[FileType]:
    """The type of each attachment by its content (photos of a posted notice, call
    recordings, scanned letters: PDF, JPG, PNG or audio), within the attachment size cap."""
    if len(files) > MAX_ATTACHMENTS:
        raise ContactError(f"每条记录最多上传 {MAX_ATTACHMENTS} 个附件")
    try:
        return [upload_check(f, kind=UploadKind.ATTACHMENT) for f in files]
    except UploadRefused as exc:
        raise ContactError(exc.messages[0]) from exc


@transaction.atomic
def promise_create(
    *,
    case: Case,
    amount_fen: int,
    promised_on: dt.date,
    actor: User | None,
    contact: ContactRecord | None = None,
    on: dt.date | None = None,
) -> Promise:
    """Record a promise to pay `amount_fen` by `promised_on` (承诺缴费) and hold escalation
    until that date plus the policy's grace days. An earlier pending promise of the unit is
    replaced (cancelled with its hold): only the latest word of the payer counts. `on` is the
    day it was given (default today; the demo's history gives past days)."""
    _check_case(actor, case)
    today = on or timezone.localdate()
    if amount_fen <= 0:
        raise ContactError("承诺金额必须大于0")
    if promised_on < today:
        raise ContactError("承诺缴费日期不能早于今天")
    if promised_on > today + dt.timedelta(days=MAX_PROMISE_DAYS):
        raise ContactError(f"承诺缴费日期不能晚于 {MAX_PROMISE_DAYS} 天后，长期还款请办理分期")
    for earlier in Promise.objects.select_for_update().filter(
        unit_id=case.unit_id, status=PromiseStatus.PENDING
    ):
        _promise_end(earlier, actor=actor, reason="被新的承诺取代")
    promise = Promise.objects.create(
        case=case,
        unit_id=case.unit_id,
        contact=contact,
        amount_fen=amount_fen,
        promised_on=promised_on,
        created_by=_who(actor),
        # The run counts payments from the day the promise was given.
        created_at=(
            timezone.make_aware(dt.datetime.combine(on, dt.time(10)))
            if on is not None
            else timezone.now()
        ),
    )
    grace = promise_grace_days(case)
    hold = Hold.objects.create(
        unit_id=case.unit_id,
        case=case,
        kind=HoldKind.PROMISE,
        starts_on=today,
        ends_on=promised_on + dt.timedelta(days=grace),
        reason=f"承诺于 {promised_on:%Y-%m-%d} 缴费 {_yuan(amount_fen)} 元",
        promise=promise,
        created_by=_who(actor),
    )
    _event(
        case,
        kind="promise",
        summary=f"承诺于 {promised_on:%Y-%m-%d} 缴费 {_yuan(amount_fen)} 元，"
        f"暂停催收至 {hold.ends_on:%Y-%m-%d}",
        actor=actor,
        obj=promise,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=promise,
        estate_id=case.estate_id,
        after={
            "case": case.pk,
            "amount_fen": amount_fen,
            "promised_on": promised_on.isoformat(),
            "hold_until": hold.ends_on.isoformat() if hold.ends_on else None,
        },
    )
    return promise


def _promise_end(promise: Promise, *, actor: User | None, reason: str) -> None:
    today = timezone.localdate()
    promise.status = PromiseStatus.CANCELLED
    promise.decided_on = today
    promise.save(update_fields=["status", "decided_on"])
    promise.holds.filter(released_on__isnull=True).update(released_on=today)
    case = promise.case
    if case is not None:
        _event(
            case,
            kind="promise_cancelled",
            summary=f"承诺（{promise.promised_on:%Y-%m-%d} 缴费 {_yuan(promise.amount_fen)} 元）"
            f"已取消：{reason}",
            actor=actor,
            obj=promise,
        )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=promise,
        estate_id=case.estate_id if case is not None else None,
        before={"status": PromiseStatus.PENDING},
        after={"status": PromiseStatus.CANCELLED},
        note=reason,
    )


@transaction.atomic
def promise_cancel(*, promise: Promise, actor: User | None, reason: str) -> Promise:
    """Cancel a pending promise (the payer withdrew it, or it was recorded by mistake) and
    release its hold, so escalation resumes at the next run."""
    if promise.case is None:
        raise ContactError("该承诺不属于任何催收案件")
    _check_case(actor, promise.case)
    reason = reason.strip()
    if not reason:
        raise ContactError("请填写取消原因")
    promise = Promise.objects.select_for_update().get(pk=promise.pk)
    if promise.status != PromiseStatus.PENDING:
        raise ContactError("只能取消待兑现的承诺")
    _promise_end(promise, actor=actor, reason=reason)
    return promise


def _task_done(task: Task, *, actor: User | None, result: str) -> None:
    if task.status != TaskStatus.OPEN:
        raise ContactError("该任务已处理，不能重复完成")
    task.status = TaskStatus.DONE
    task.done_at = timezone.now()
    task.done_by = _who(actor)
    task.result = result[:500]
    task.save(update_fields=["status", "done_at", "done_by", "result"])
    case = task.case
    if case is not None:
        _event(
            case,
            kind="task_done",
            summary=f"完成任务：{task.title}" + (f"（{result}）" if result else ""),
            actor=actor,
            obj=task,
        )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=task,
        estate_id=case.estate_id if case is not None else None,
        before={"status": TaskStatus.OPEN},
        after={"status": TaskStatus.DONE, "result": task.result},
    )


def _check_task(actor: User | None, task: Task) -> Task:
    if task.case is None:
        raise ContactError("该任务不属于任何催收案件")
    _check_case(actor, task.case)
    return Task.objects.select_for_update().get(pk=task.pk)


@transaction.atomic
def task_complete(*, task: Task, actor: User | None, result: str = "") -> Task:
    """Mark an open task done (已完成) with what came of it."""
    task = _check_task(actor, task)
    _task_done(task, actor=actor, result=result.strip())
    return task


def contact_time_check(at: dt.datetime, *, what: str) -> None:
    """Calls and visits keep the contact window of messages (PROPFEE_MESSAGE_HOURS, never
    22:00–08:00): a call or a visit appointment outside it is refused."""
    window = contact_window()
    local = timezone.localtime(at).time()
    if not window.start <= local < window.end:
        raise ContactError(
            f"{what}须在 {window.start:%H:%M}–{window.end:%H:%M} 之间"
            "（22:00 至次日 08:00 不得联系业主）"
        )


def unanswered_calls_check(*, unit_id: int, at: dt.datetime) -> None:
    """At most PROPFEE_CALL_CAP_UNANSWERED calls a day to a unit whose phone does not answer
    (one query): the next call that day is refused."""
    cap = int(getattr(settings, "PROPFEE_CALL_CAP_UNANSWERED", DEFAULT_UNANSWERED_CALLS_PER_DAY))
    start, end = day_bounds(at)
    unanswered = ContactRecord.objects.filter(
        unit_id=unit_id,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.NO_ANSWER,
        contacted_at__gte=start,
        contacted_at__lt=end,
    ).count()
    if unanswered >= cap:
        raise ContactError(f"今天已拨打 {unanswered} 次未接通，已达每日上限 {cap} 次，请改日再联系")


@transaction.atomic
def task_reschedule(
    *,
    task: Task,
    actor: User | None,
    due_on: dt.date,
    appointment_at: dt.datetime | None = None,
    reason: str = "",
) -> Task:
    """Move an open task to `due_on` (a visit: with the appointment agreed with the owner)."""
    task = _check_task(actor, task)
    if task.status != TaskStatus.OPEN:
        raise ContactError("只能调整待办任务")
    today = timezone.localdate()
    if due_on < today:
        raise ContactError("截止日期不能早于今天")
    if appointment_at is not None and timezone.localdate(appointment_at) < today:
        raise ContactError("预约时间不能早于今天")
    if appointment_at is not None:
        contact_time_check(appointment_at, what="上门预约时间")
    before = {
        "due_on": task.due_on.isoformat(),
        "appointment_at": task.appointment_at.isoformat() if task.appointment_at else None,
    }
    task.due_on = due_on
    task.appointment_at = appointment_at
    task.save(update_fields=["due_on", "appointment_at"])
    when = f"{due_on:%Y-%m-%d}"
    if appointment_at is not None:
        when = f"{timezone.localtime(appointment_at):%Y-%m-%d %H:%M}（已预约）"
    assert task.case is not None
    _event(
        task.case,
        kind="task_rescheduled",
        summary=f"任务改期：{task.title} → {when}" + (f"，{reason.strip()}" if reason else ""),
        actor=actor,
        obj=task,
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=task,
        estate_id=task.case.estate_id,
        before=before,
        after={
            "due_on": due_on.isoformat(),
            "appointment_at": appointment_at.isoformat() if appointment_at else None,
        },
        note=reason.strip(),
    )
    return task


@transaction.atomic
def case_reason_set(*, case: Case, actor: User | None, reason_codes: Sequence[str]) -> Case:
    """Set the case's reason codes (欠费原因), in the order of the list of codes."""
    _check_case(actor, case)
    unknown = [code for code in reason_codes if code not in ReasonCode.values]
    if unknown:
        raise ContactError(f"未知的欠费原因：{'、'.join(unknown)}")
    case = Case.objects.select_for_update().get(pk=case.pk)
    codes = [code for code in ReasonCode.values if code in set(reason_codes)]
    before = list(case.reason_codes)
    if before == codes:
        return case
    case.reason_codes = codes
    case.save(update_fields=["reason_codes"])
    labels = "、".join(str(ReasonCode(code).label) for code in codes) or "（无）"
    _event(case, kind="reason", summary=f"欠费原因：{labels}", actor=actor)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=case,
        estate_id=case.estate_id,
        before={"reason_codes": before},
        after={"reason_codes": codes},
    )
    return case


@transaction.atomic
def case_reassign(*, case: Case, actor: User | None, collector: User) -> Case:
    """Give the case (and its open tasks of the previous collector) to `collector` (a
    manager's decision, MANAGE_CASES)."""
    require(actor, Capability.MANAGE_CASES)
    _check_case(actor, case)
    allowed = collectors_for(actor) if actor is not None else User.objects.all()
    if not allowed.filter(pk=collector.pk).exists() or not role_can(
        collector, Capability.WORK_CASES
    ):
        raise ContactError("只能分派给本公司的催收人员")
    if not cases_workable_by(collector).filter(pk=case.pk).exists():
        raise ContactError(f"{collector} 的负责范围不包括该房屋，请先调整其负责项目或楼栋")
    case = Case.objects.select_for_update().get(pk=case.pk)
    previous = case.collector
    if previous is not None and previous.pk == collector.pk:
        return case
    case.collector = collector
    case.save(update_fields=["collector"])
    moved = case.tasks.filter(status=TaskStatus.OPEN).filter(
        **({"assigned_to": previous} if previous else {"assigned_to__isnull": True})
    )
    moved_count = moved.update(assigned_to=collector)
    _event(
        case,
        kind="reassign",
        summary=f"催收负责人：{previous or '（未分派）'} → {collector}"
        f"（转交待办任务 {moved_count} 项）",
        actor=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=case,
        estate_id=case.estate_id,
        before={"collector": previous.pk if previous else None},
        after={"collector": collector.pk, "tasks_moved": moved_count},
    )
    return case


@transaction.atomic
def contact_record_create(
    *,
    case: Case,
    actor: User | None,
    channel: str,
    outcome: str,
    attitude: str = "",
    reason_code: str = "",
    note: str = "",
    party: Party | None = None,
    task: Task | None = None,
    complete_task: bool = False,
    next_step: str = "",
    next_step_on: dt.date | None = None,
    next_step_kind: str = "",
    promise_amount_fen: int | None = None,
    promise_on: dt.date | None = None,
    attachments: Sequence[UploadedFile] = (),
    contacted_at: dt.datetime | None = None,
) -> ContactRecord:
    """Record one contact with the payer (催收记录表) in one go: the record and its files
    (SHA-256 kept), a promise with its hold, the reason code added to the case, a follow-up
    task for the next step, and the task it was done for completed. A call or a visit at
    `contacted_at` (now) keeps the contact window, and calls to a unit that does not answer
    stop at the day's cap."""
    _check_case(actor, case)
    today = timezone.localdate()
    contacted_at = contacted_at or timezone.now()
    if contacted_at > timezone.now():
        raise ContactError("联系时间不能晚于现在")
    if channel in (ContactChannel.PHONE, ContactChannel.VISIT):
        what = "电话联系" if channel == ContactChannel.PHONE else "上门拜访"
        contact_time_check(contacted_at, what=what)
    if channel == ContactChannel.PHONE:
        unanswered_calls_check(unit_id=case.unit_id, at=contacted_at)
    if channel not in ContactChannel.values:
        raise ContactError(f"未知的联系方式：{channel}")
    if outcome not in ContactOutcome.values:
        raise ContactError(f"未知的联系结果：{outcome}")
    if attitude and attitude not in Attitude.values:
        raise ContactError(f"未知的态度：{attitude}")
    if reason_code and reason_code not in ReasonCode.values:
        raise ContactError(f"未知的欠费原因：{reason_code}")
    has_promise = promise_amount_fen is not None or promise_on is not None
    if has_promise and (promise_amount_fen is None or promise_on is None):
        raise ContactError("承诺缴费请同时填写金额和日期")
    if outcome == ContactOutcome.PROMISED and not has_promise:
        raise ContactError("结果为“承诺缴费”时请填写承诺金额和日期")
    next_step = next_step.strip()
    if next_step_on is not None:
        if next_step_on < today:
            raise ContactError("下一步日期不能早于今天")
        if next_step_on > today + dt.timedelta(days=MAX_NEXT_STEP_DAYS):
            raise ContactError(f"下一步日期不能晚于 {MAX_NEXT_STEP_DAYS} 天后")
    if next_step and next_step_on is None:
        raise ContactError("请填写下一步的日期")
    if next_step_kind and next_step_kind not in (TaskKind.PHONE, TaskKind.VISIT, TaskKind.DELIVER):
        raise ContactError(f"未知的任务类型：{next_step_kind}")
    if task is not None:
        if task.case_id != case.pk:
            raise ContactError("任务与案件不一致")
        task = Task.objects.select_for_update().get(pk=task.pk)
        if complete_task and task.status != TaskStatus.OPEN:
            raise ContactError("该任务已处理，不能重复完成")
    if party is not None and not case.unit.occupancies.filter(party=party).exists():
        raise ContactError("联系对象不是该房屋的业主或住户")
    attachment_types = _attachment_check(attachments)

    contact = ContactRecord.objects.create(
        case=case,
        unit_id=case.unit_id,
        party=party,
        task=task,
        channel=channel,
        outcome=outcome,
        attitude=attitude,
        reason_code=reason_code,
        note=note.strip(),
        next_step=next_step[:200],
        next_step_on=next_step_on,
        contacted_at=contacted_at,
        recorded_by=_who(actor),
    )
    stored = []
    for f, file_type in zip(attachments, attachment_types, strict=True):
        attachment = ContactAttachment(
            contact=contact,
            description=PurePath(f.name or "").name[:200],
            sha256=upload_sha256(f),
        )
        name = stored_name(f.name or "", file_type, default="attachment")
        attachment.file.save(name, upload_file(f), save=False)
        attachment.save()
        stored.append({"name": attachment.file.name, "sha256": attachment.sha256})

    summary = f"{ContactChannel(channel).label}：{ContactOutcome(outcome).label}"
    if attitude:
        summary += f"，态度{Attitude(attitude).label}"
    if note.strip():
        summary += f"。{note.strip()}"
    _event(case, kind="contact", summary=summary, actor=actor, obj=contact)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=contact,
        estate_id=case.estate_id,
        after={
            "case": case.pk,
            "channel": channel,
            "outcome": outcome,
            "attitude": attitude,
            "reason_code": reason_code,
            "next_step": next_step,
            "next_step_on": next_step_on.isoformat() if next_step_on else None,
            "attachments": stored,
        },
    )

    if has_promise:
        assert promise_amount_fen is not None and promise_on is not None
        promise_create(
            case=case,
            amount_fen=promise_amount_fen,
            promised_on=promise_on,
            actor=actor,
            contact=contact,
        )
    if reason_code and reason_code not in case.reason_codes:
        case_reason_set(case=case, actor=actor, reason_codes=[*case.reason_codes, reason_code])
    if next_step_on is not None:
        kind = next_step_kind or (
            TaskKind.VISIT if channel == ContactChannel.VISIT else TaskKind.PHONE
        )
        follow_up = Task.objects.create(
            case=case,
            unit_id=case.unit_id,
            kind=kind,
            stage=case.stage,
            title=(next_step or f"跟进：{ContactOutcome(outcome).label}")[:200],
            due_on=next_step_on,
            priority=case.priority,
            assigned_to=case.collector or _who(actor),
        )
        _event(
            case,
            kind="task_created",
            summary=f"下一步：{follow_up.title}（{next_step_on:%Y-%m-%d}，{TaskKind(kind).label}）",
            actor=actor,
            obj=follow_up,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=follow_up,
            estate_id=case.estate_id,
            after={"case": case.pk, "kind": kind, "due_on": next_step_on.isoformat()},
        )
    if task is not None and complete_task:
        _task_done(task, actor=actor, result=summary)
    return contact
