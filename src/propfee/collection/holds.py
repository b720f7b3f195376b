"""Holds that pause escalation (暂停催收) and service issues raised while collecting
(物业服务问题跟进表): the services that write them and the selectors the run and the pages read.

A dispute (an issue with `is_dispute`) always gets a Hold of kind dispute while it is unresolved;
whether that hold pauses the case is the policy's option (`dispute_holds`), decided by the run.
Promise and installment holds are written by their own services."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from propfee.collection.case_events import case_event_record, open_case_of
from propfee.collection.constants import HoldKind, IssueCategory, IssueStatus
from propfee.collection.models import Hold, ServiceIssue
from propfee.collection.permissions import unit_action_require
from propfee.core.bulk import many_values
from propfee.core.models import AuditAction, User
from propfee.core.roles import Capability
from propfee.core.services import audit_record
from propfee.estates.models import Unit
from propfee.estates.selectors import units_visible_to

#: The holds a person creates here, and the only ones a person may release (解除): a promise,
#: installment or dispute hold ends with its promise, plan or issue. The longest a manual hold
#: may run.
MANUAL_KINDS = (HoldKind.MANUAL, HoldKind.HARDSHIP, HoldKind.LEGAL)
MANUAL_HOLD_MAX_DAYS = 180

#: The service-issue pipeline: the statuses each may move to. Resolving goes through
#: `service_issue_resolve` (it needs the resolution); closing after the owner's return visit.
ISSUE_TRANSITIONS: dict[str, frozenset[str]] = {
    IssueStatus.OPEN: frozenset({IssueStatus.IN_PROGRESS, IssueStatus.RESOLVED}),
    IssueStatus.IN_PROGRESS: frozenset({IssueStatus.RESOLVED}),
    IssueStatus.RESOLVED: frozenset({IssueStatus.CLOSED, IssueStatus.IN_PROGRESS}),
    IssueStatus.CLOSED: frozenset(),
}
UNRESOLVED = (IssueStatus.OPEN, IssueStatus.IN_PROGRESS)


class HoldError(ValueError):
    """A hold or service-issue write refused, with the reason to show."""


class IssueTransitionError(HoldError):
    """A service-issue status change the pipeline does not allow."""


# --- holds -----------------------------------------------------------------------------------


@transaction.atomic
def hold_create(
    *,
    unit: Unit,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date | None,
    reason: str,
    actor: User | None,
) -> Hold:
    """暂停催收 by hand: a manual hold with an end date (at most 180 days), a hardship hold
    with an end date, or a legal hold (open-ended until released)."""
    unit_action_require(actor, Capability.MANAGE_CASES, unit)
    if kind not in MANUAL_KINDS:
        raise HoldError("只能手工登记人工暂停、经济困难或法律程序中的暂停")
    reason = (reason or "").strip()
    if not reason:
        raise HoldError("请填写暂停原因")
    if kind in (HoldKind.MANUAL, HoldKind.HARDSHIP) and ends_on is None:
        raise HoldError("请填写暂停结束日期")
    if ends_on is not None and ends_on < starts_on:
        raise HoldError("结束日期不能早于开始日期")
    if (
        kind == HoldKind.MANUAL
        and ends_on is not None
        and (ends_on - starts_on).days > MANUAL_HOLD_MAX_DAYS
    ):
        raise HoldError(f"人工暂停最长 {MANUAL_HOLD_MAX_DAYS} 天")
    hold = Hold.objects.create(
        unit=unit,
        case=open_case_of(unit.pk),
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason[:500],
        created_by=actor,
    )
    label = HoldKind(kind).label
    until = f"至 {ends_on:%Y-%m-%d}" if ends_on else "至解除"
    summary = f"暂停催收（{label}）：{starts_on:%Y-%m-%d} {until}，{reason}"
    case_event_record(unit_id=unit.pk, kind="hold_created", summary=summary, obj=hold, actor=actor)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=hold,
        estate_id=unit.estate_id,
        after={
            "kind": kind,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat() if ends_on else None,
        },
        note=summary,
    )
    return hold


@transaction.atomic
def hold_release(
    *, hold: Hold, actor: User | None, on: dt.date | None = None, reason: str = ""
) -> Hold:
    """解除暂停 from `on` (today): escalation resumes with the run of that day. Only a hold a
    person created (`MANUAL_KINDS`) that is still in force or yet to start may be released
    (`holds_releasable`); a promise, installment or dispute hold ends with what it waits for."""
    unit_action_require(actor, Capability.MANAGE_CASES, hold.unit)
    on = on or timezone.localdate()
    hold = Hold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_on is not None and hold.released_on <= on:
        raise HoldError("该暂停已解除")
    if hold.kind not in MANUAL_KINDS:
        raise HoldError(
            _("“%(kind)s”的暂停随承诺、分期计划或服务争议的处理自动结束，不能手工解除。")
            % {"kind": hold.get_kind_display()}
        )
    if hold.ends_on is not None and hold.ends_on < on:
        raise HoldError(
            _("该暂停已于 %(day)s 到期结束，无需解除。") % {"day": hold.ends_on.isoformat()}
        )
    hold.released_on = max(on, hold.starts_on)
    hold.save(update_fields=["released_on"])
    summary = f"解除暂停催收（{hold.get_kind_display()}）" + (f"：{reason}" if reason else "")
    case_event_record(
        unit_id=hold.unit_id, kind="hold_released", summary=summary, obj=hold, actor=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=hold,
        estate_id=hold.unit.estate_id,
        before={"released_on": None},
        after={"released_on": hold.released_on.isoformat()},
        note=summary[:500],
    )
    return hold


@dataclass(frozen=True)
class ActiveHold:
    """A hold in force on a day, as the run and the pages show it."""

    hold_id: int
    unit_id: int
    kind: str
    starts_on: dt.date
    ends_on: dt.date | None
    reason: str
    issue_id: int | None

    @property
    def label(self) -> str:
        return str(HoldKind(self.kind).label)


def holds_in_force(on: dt.date) -> Q:
    """The condition of a hold in force on `on`: started, not ended, not released."""
    return (
        Q(starts_on__lte=on)
        & (Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        & (Q(released_on__isnull=True) | Q(released_on__gt=on))
    )


def active_holds(
    *, unit_ids: Iterable[int], on: dt.date, kinds: Iterable[str] | None = None
) -> dict[int, list[ActiveHold]]:
    """unit → the holds in force on `on`, oldest first (one query). Dispute holds are listed
    whatever the policy says; the run decides whether to honour them."""
    ids = sorted(set(unit_ids))
    result: dict[int, list[ActiveHold]] = defaultdict(list)
    if not ids:
        return result
    rows = Hold.objects.filter(holds_in_force(on), unit_id__in=many_values(ids))
    if kinds is not None:
        rows = rows.filter(kind__in=list(kinds))
    for pk, unit_id, kind, starts_on, ends_on, reason, issue_id in rows.order_by(
        "starts_on", "pk"
    ).values_list("pk", "unit_id", "kind", "starts_on", "ends_on", "reason", "issue_id"):
        result[unit_id].append(ActiveHold(pk, unit_id, kind, starts_on, ends_on, reason, issue_id))
    return result


def holds_releasable(on: dt.date) -> Q:
    """The condition of a hold a person may release on `on` (`hold_release`'s rule): one of
    `MANUAL_KINDS`, not released by then, not ended before."""
    return (
        Q(kind__in=MANUAL_KINDS)
        & (Q(released_on__isnull=True) | Q(released_on__gt=on))
        & (Q(ends_on__isnull=True) | Q(ends_on__gte=on))
    )


def holds_visible_to(user: User, *, on: dt.date | None = None) -> QuerySet[Hold]:
    """The holds of the units the user sees, newest first; each says whether it may be
    released on `on` (today): `releasable`."""
    return (
        Hold.objects.filter(unit__in=units_visible_to(user).values("pk"))
        .annotate(
            releasable=Case(
                When(holds_releasable(on or timezone.localdate()), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .select_related("unit__estate", "created_by", "issue")
        .order_by("-starts_on", "-pk")
    )


# --- service issues --------------------------------------------------------------------------


def _dispute_hold(issue: ServiceIssue, actor: User | None, on: dt.date) -> Hold:
    return Hold.objects.create(
        unit_id=issue.unit_id,
        case_id=issue.case_id,
        kind=HoldKind.DISPUTE,
        starts_on=on,
        ends_on=None,
        reason=f"服务问题 #{issue.pk}（{issue.get_category_display()}）待解决",
        issue=issue,
        created_by=actor,
    )


@transaction.atomic
def service_issue_create(
    *,
    unit: Unit,
    category: str,
    description: str,
    department: str,
    promised_on: dt.date | None,
    is_dispute: bool,
    actor: User | None,
    on: dt.date | None = None,
) -> ServiceIssue:
    """登记服务问题 raised while collecting. A dispute (the owner withholds payment because of
    it) also gets a Hold of kind dispute until it is resolved."""
    unit_action_require(actor, Capability.WORK_CASES, unit)
    if category not in IssueCategory.values:
        raise HoldError(f"未知的问题类别：{category}")
    description = (description or "").strip()
    department = (department or "").strip()
    if not description:
        raise HoldError("请填写问题描述")
    if not department:
        raise HoldError("请填写责任部门")
    on = on or timezone.localdate()
    if promised_on is not None and promised_on < on:
        raise HoldError("承诺解决日期不能早于登记日期")
    issue = ServiceIssue.objects.create(
        unit=unit,
        case=open_case_of(unit.pk),
        category=category,
        description=description,
        department=department[:64],
        promised_on=promised_on,
        is_dispute=is_dispute,
        raised_by=actor,
    )
    if is_dispute:
        _dispute_hold(issue, actor, on)
    label = IssueCategory(category).label
    summary = f"登记服务问题（{label}，{department}）：{description}"
    if is_dispute:
        summary = "业主因此拒缴。" + summary
    case_event_record(
        unit_id=unit.pk, kind="issue_created", summary=summary, obj=issue, actor=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=issue,
        estate_id=unit.estate_id,
        after={
            "category": category,
            "department": department,
            "promised_on": promised_on.isoformat() if promised_on else None,
            "is_dispute": is_dispute,
        },
        note=summary[:500],
    )
    return issue


def _issue_locked(issue: ServiceIssue, to_status: str) -> ServiceIssue:
    locked = ServiceIssue.objects.select_for_update().select_related("unit").get(pk=issue.pk)
    if to_status not in ISSUE_TRANSITIONS.get(locked.status, frozenset()):
        raise IssueTransitionError(
            f"服务问题{locked.get_status_display()}，不能改为“{IssueStatus(to_status).label}”"
        )
    return locked


def _dispute_hold_release(issue: ServiceIssue, on: dt.date) -> int:
    return Hold.objects.filter(
        Q(released_on__isnull=True) | Q(released_on__gt=on), issue=issue
    ).update(released_on=on)


@transaction.atomic
def service_issue_status_set(
    *, issue: ServiceIssue, status: str, actor: User | None, note: str = ""
) -> ServiceIssue:
    """Move an issue along ISSUE_TRANSITIONS (处理中, 已关闭 after the return visit, or back to
    处理中 when the owner is not satisfied — which puts a dispute's hold back)."""
    unit_action_require(actor, Capability.WORK_CASES, issue.unit)
    if status == IssueStatus.RESOLVED:
        raise IssueTransitionError("标记为已解决请填写处理结果")
    issue = _issue_locked(issue, status)
    before = issue.status
    issue.status = status
    fields = ["status"]
    today = timezone.localdate()
    if before == IssueStatus.RESOLVED and status == IssueStatus.IN_PROGRESS:
        issue.resolved_on = None
        fields.append("resolved_on")
        if issue.is_dispute:
            _dispute_hold(issue, actor, today)
    issue.save(update_fields=fields)
    summary = f"服务问题改为“{issue.get_status_display()}”" + (f"：{note}" if note else "")
    case_event_record(
        unit_id=issue.unit_id, kind="issue_status", summary=summary, obj=issue, actor=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=issue,
        estate_id=issue.unit.estate_id,
        before={"status": before},
        after={"status": status},
        note=summary[:500],
    )
    return issue


@transaction.atomic
def service_issue_resolve(
    *,
    issue: ServiceIssue,
    resolution: str,
    actor: User | None,
    resolved_on: dt.date | None = None,
) -> ServiceIssue:
    """标记已解决 with the resolution; a dispute's hold is released the same day, so the run
    resumes asking for the money."""
    unit_action_require(actor, Capability.WORK_CASES, issue.unit)
    resolution = (resolution or "").strip()
    if not resolution:
        raise HoldError("请填写处理结果")
    issue = _issue_locked(issue, IssueStatus.RESOLVED)
    resolved_on = resolved_on or timezone.localdate()
    before = issue.status
    issue.status = IssueStatus.RESOLVED
    issue.resolution = resolution
    issue.resolved_on = resolved_on
    issue.save(update_fields=["status", "resolution", "resolved_on"])
    released = _dispute_hold_release(issue, resolved_on)
    summary = f"服务问题已解决：{resolution}" + ("，恢复催收" if released else "")
    case_event_record(
        unit_id=issue.unit_id, kind="issue_resolved", summary=summary, obj=issue, actor=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=issue,
        estate_id=issue.unit.estate_id,
        before={"status": before},
        after={"status": IssueStatus.RESOLVED, "resolved_on": resolved_on.isoformat()},
        note=summary[:500],
    )
    return issue


def service_issues_visible_to(user: User) -> QuerySet[ServiceIssue]:
    """The service issues of the units the user sees, newest first."""
    return (
        ServiceIssue.objects.filter(unit__in=units_visible_to(user).values("pk"))
        .select_related("unit__estate", "unit__building", "raised_by")
        .order_by("-created_at", "-pk")
    )


def issues_overdue(issues: QuerySet[ServiceIssue], *, on: dt.date) -> QuerySet[ServiceIssue]:
    """逾期未解决: the promised resolution date has passed and the issue is not resolved."""
    return issues.filter(promised_on__lt=on, status__in=UNRESOLVED)
