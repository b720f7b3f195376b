"""Installment plans (分期还款): the request, a manager's approval or rejection, and the daily
review that finds plans defaulted (a missed installment after the grace days) or completed.

Good standing is decided from the ledger alone: the payments recorded for the unit and received
from the approval day on cover every installment due more than `grace_days` ago
(`installment_standings`, the one rule). The daily run decides its holds from the same
standings and calls `installment_plans_review` in its transaction, so a defaulted plan resumes
escalation the same day."""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from propfee.billing.models import Charge
from propfee.billing.periods import months_add
from propfee.collection.case_events import case_event_record, open_case_of
from propfee.collection.constants import CaseStatus, HoldKind, PlanStatus, RestartKind
from propfee.collection.limitation import limitation_restart_record
from propfee.collection.models import Case, CaseEvent, Hold, Installment, InstallmentPlan
from propfee.collection.permissions import unit_action_require
from propfee.core.bulk import many_values
from propfee.core.models import AuditAction, User
from propfee.core.money import format_yuan
from propfee.core.roles import Capability
from propfee.core.services import AuditBatch, audit_record
from propfee.estates.models import Company, Unit
from propfee.ledger.constants import Component
from propfee.ledger.selectors import statement_for_unit
from propfee.ledger.services import waiver_create
from propfee.payments.constants import PaymentStatus
from propfee.payments.models import Payment

#: A plan runs at most this many installments (five years of monthly payments).
MAX_INSTALLMENTS = 60
#: Statuses that block a second plan for the same unit.
LIVE_STATUSES = (PlanStatus.REQUESTED, PlanStatus.ACTIVE)


class PlanError(ValueError):
    """A plan request or decision refused, with the reason to show."""


def installment_schedule(
    *, total_fen: int, count: int, first_due_on: dt.date, every_months: int = 1
) -> list[tuple[dt.date, int]]:
    """`count` installments from `first_due_on`, every `every_months` months on the same day
    (the month's last day when it has no such day); equal amounts in fen, the last one taking
    the remainder: ¥1,000.00 in 3 → 333.33, 333.33, 333.34."""
    if count < 1 or count > MAX_INSTALLMENTS:
        raise PlanError(f"分期期数应在 1 至 {MAX_INSTALLMENTS} 期之间")
    if every_months < 1:
        raise PlanError("分期间隔至少 1 个月")
    if total_fen < count:
        raise PlanError("分期总额不足以分成这么多期")
    base = total_fen // count
    schedule = []
    for seq in range(count):
        month = months_add(first_due_on, seq * every_months)
        day = min(first_due_on.day, calendar.monthrange(month.year, month.month)[1])
        amount = base if seq < count - 1 else total_fen - base * (count - 1)
        schedule.append((month.replace(day=day), amount))
    return schedule


def _schedule_check(total_fen: int, schedule: Sequence[tuple[dt.date, int]]) -> None:
    if not schedule:
        raise PlanError("请填写分期明细")
    if len(schedule) > MAX_INSTALLMENTS:
        raise PlanError(f"分期期数不能超过 {MAX_INSTALLMENTS} 期")
    days = [day for day, _ in schedule]
    if any(later <= earlier for earlier, later in itertools.pairwise(days)):
        raise PlanError("各期还款日期应依次递增")
    if any(isinstance(a, bool) or not isinstance(a, int) or a <= 0 for _, a in schedule):
        raise PlanError("每期金额必须大于零")
    if sum(a for _, a in schedule) != total_fen:
        raise PlanError(
            f"各期金额合计 ¥{format_yuan(sum(a for _, a in schedule))} "
            f"与分期总额 ¥{format_yuan(total_fen)} 不一致"
        )


@transaction.atomic
def installment_plan_request(
    *,
    unit: Unit,
    total_fen: int,
    reason: str,
    actor: User | None,
    schedule: Sequence[tuple[dt.date, int]] | None = None,
    count: int | None = None,
    first_due_on: dt.date | None = None,
    every_months: int = 1,
    grace_days: int = 5,
    waive_penalty_on_completion: bool = False,
    requested_on: dt.date | None = None,
) -> InstallmentPlan:
    """申请分期: a plan of `schedule` (due day, fen) or of `count` equal installments from
    `first_due_on`, waiting for a manager's approval. One live plan per unit. The debtor's
    written request, dated `requested_on` (today by default, never in the future), is an
    acknowledgement of the debt (诉讼时效规定 art. 14): it restarts the limitation clock from
    that day whether or not the plan is approved, with the request as its evidence."""
    unit_action_require(actor, Capability.WORK_CASES, unit)
    today = timezone.localdate()
    requested_on = requested_on or today
    if requested_on > today:
        raise PlanError("书面申请日期不能晚于今天")
    if isinstance(total_fen, bool) or not isinstance(total_fen, int) or total_fen <= 0:
        raise PlanError("分期总额必须大于零")
    reason = (reason or "").strip()
    if not reason:
        raise PlanError("请填写分期理由")
    if not 0 <= grace_days <= 60:
        raise PlanError("宽限天数应在 0 至 60 天之间")
    if schedule is None:
        if count is None or first_due_on is None:
            raise PlanError("请填写分期明细，或期数与首期还款日期")
        schedule = installment_schedule(
            total_fen=total_fen, count=count, first_due_on=first_due_on, every_months=every_months
        )
    _schedule_check(total_fen, schedule)
    Unit.objects.select_for_update().filter(pk=unit.pk).first()
    if InstallmentPlan.objects.filter(unit=unit, status__in=LIVE_STATUSES).exists():
        raise PlanError("该房屋已有待审批或履行中的分期计划")
    plan = InstallmentPlan.objects.create(
        unit=unit,
        case=open_case_of(unit.pk),
        total_fen=total_fen,
        reason=reason[:500],
        grace_days=grace_days,
        waive_penalty_on_completion=waive_penalty_on_completion,
        requested_by=actor,
        requested_on=requested_on,
    )
    limitation_restart_record(
        unit=unit,
        kind=RestartKind.ACKNOWLEDGEMENT,
        occurred_on=requested_on,
        description=f"书面申请分期 #{plan.pk}（合计 ¥{format_yuan(total_fen)}）：{reason}",
        source_type="collection.installmentplan.request",
        source_id=plan.pk,
    )
    Installment.objects.bulk_create(
        Installment(plan=plan, seq=seq, due_on=day, amount_fen=amount)
        for seq, (day, amount) in enumerate(schedule, start=1)
    )
    summary = (
        f"申请分期：共 {len(schedule)} 期，合计 ¥{format_yuan(total_fen)}，"
        f"首期 {schedule[0][0]:%Y-%m-%d}"
    )
    case_event_record(
        unit_id=unit.pk, kind="plan_requested", summary=summary, obj=plan, actor=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=plan,
        estate_id=unit.estate_id,
        after={
            "total_fen": total_fen,
            "installments": [[d.isoformat(), a] for d, a in schedule],
            "grace_days": grace_days,
            "waive_penalty_on_completion": waive_penalty_on_completion,
        },
        note=summary,
    )
    return plan


def _decide_check(plan: InstallmentPlan, actor: User | None) -> InstallmentPlan:
    unit_action_require(actor, Capability.APPROVE_COLLECTION, plan.unit)
    locked = InstallmentPlan.objects.select_for_update().get(pk=plan.pk)
    if locked.status != PlanStatus.REQUESTED:
        raise PlanError(f"该分期计划{locked.get_status_display()}，不能再审批")
    if actor is not None and locked.requested_by_id == actor.pk:
        raise PlanError("不能审批自己提交的申请")
    return locked


@transaction.atomic
def installment_plan_approve(
    *, plan: InstallmentPlan, actor: User | None, note: str = "", on: dt.date | None = None
) -> InstallmentPlan:
    """批准分期: the plan is in good standing from `on` (today): a Hold of kind installment
    pauses escalation until the last installment's grace ends, and the approval is an
    acknowledgement of the debt that restarts the limitation clock (诉讼时效规定 art. 14)."""
    plan = _decide_check(plan, actor)
    on = on or timezone.localdate()
    last_due = plan.installments.order_by("-seq").values_list("due_on", flat=True).first()
    plan.status = PlanStatus.ACTIVE
    plan.decided_by = actor
    plan.decided_at = timezone.now()
    plan.decision_note = note.strip()[:500]
    plan.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    ends_on = last_due + dt.timedelta(days=plan.grace_days) if last_due else None
    Hold.objects.create(
        unit_id=plan.unit_id,
        case_id=plan.case_id,
        kind=HoldKind.INSTALLMENT,
        starts_on=on,
        ends_on=ends_on,
        reason=f"分期计划 #{plan.pk}",
        plan=plan,
        created_by=actor,
    )
    limitation_restart_record(
        unit=plan.unit,
        kind=RestartKind.ACKNOWLEDGEMENT,
        occurred_on=on,
        description=f"分期计划 #{plan.pk} 经审批（合计 ¥{format_yuan(plan.total_fen)}）",
        source_type="collection.installmentplan",
        source_id=plan.pk,
    )
    summary = f"分期计划已批准，合计 ¥{format_yuan(plan.total_fen)}，暂停催收至履行完毕"
    case_event_record(
        unit_id=plan.unit_id, kind="plan_approved", summary=summary, obj=plan, actor=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=plan,
        estate_id=plan.unit.estate_id,
        before={"status": PlanStatus.REQUESTED},
        after={"status": PlanStatus.ACTIVE, "approved_on": on.isoformat()},
        note=f"批准分期：{plan.decision_note}"[:500],
    )
    return plan


@transaction.atomic
def installment_plan_reject(
    *, plan: InstallmentPlan, actor: User | None, reason: str
) -> InstallmentPlan:
    """驳回分期 with a reason; escalation goes on as before."""
    reason = (reason or "").strip()
    if not reason:
        raise PlanError("请填写驳回原因")
    plan = _decide_check(plan, actor)
    plan.status = PlanStatus.REJECTED
    plan.decided_by = actor
    plan.decided_at = timezone.now()
    plan.decision_note = reason[:500]
    plan.ended_on = timezone.localdate()
    plan.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "ended_on"])
    case_event_record(
        unit_id=plan.unit_id,
        kind="plan_rejected",
        summary=f"分期申请被驳回：{reason}",
        obj=plan,
        actor=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=plan,
        estate_id=plan.unit.estate_id,
        before={"status": PlanStatus.REQUESTED},
        after={"status": PlanStatus.REJECTED},
        note=f"驳回分期：{reason}"[:500],
    )
    return plan


@dataclass(frozen=True)
class PlanStanding:
    """Where an active plan stands on a day: what has fallen due (past the grace days), what
    was paid since approval, and the verdict."""

    plan_id: int
    unit_id: int
    start: dt.date
    due_fen: int
    paid_fen: int
    total_fen: int

    @property
    def completed(self) -> bool:
        return self.paid_fen >= self.total_fen

    @property
    def in_good_standing(self) -> bool:
        return self.paid_fen >= self.due_fen


def plan_start(plan_decided_at: dt.datetime | None, requested_at: dt.datetime) -> dt.date:
    """The day from which payments count toward a plan: its approval day."""
    return timezone.localdate(plan_decided_at or requested_at)


def installment_standings(*, company: Company, as_of: dt.date) -> list[PlanStanding]:
    """Every active plan of `company` on `as_of` (three queries): installments count once
    `due_on + grace_days < as_of`; payments recorded for the unit and received from the
    approval day to `as_of` count toward them, in order."""
    plans = list(
        InstallmentPlan.objects.filter(
            unit__estate__company=company, status=PlanStatus.ACTIVE
        ).values("id", "unit_id", "grace_days", "decided_at", "requested_at", "total_fen")
    )
    if not plans:
        return []
    due: dict[int, int] = defaultdict(int)
    grace = {p["id"]: p["grace_days"] for p in plans}
    for plan_id, due_on, amount in Installment.objects.filter(
        plan_id__in=many_values([p["id"] for p in plans])
    ).values_list("plan_id", "due_on", "amount_fen"):
        if due_on + dt.timedelta(days=grace[plan_id]) < as_of:
            due[plan_id] += amount
    starts = {p["id"]: plan_start(p["decided_at"], p["requested_at"]) for p in plans}
    paid_by_unit: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for unit_id, day, amount in Payment.objects.filter(
        unit_id__in=many_values(sorted({p["unit_id"] for p in plans})),
        status=PaymentStatus.RECORDED,
        received_on__gte=min(starts.values()),
        received_on__lte=as_of,
    ).values_list("unit_id", "received_on", "amount_fen"):
        paid_by_unit[unit_id].append((day, amount))
    return [
        PlanStanding(
            plan_id=p["id"],
            unit_id=p["unit_id"],
            start=starts[p["id"]],
            due_fen=due[p["id"]],
            paid_fen=sum(a for d, a in paid_by_unit[p["unit_id"]] if d >= starts[p["id"]]),
            total_fen=p["total_fen"],
        )
        for p in plans
    ]


@dataclass
class PlanReview:
    """What `installment_plans_review` decided."""

    defaulted: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)
    penalty_waived_fen: int = 0
    events: int = 0  # timeline lines written (on the units' open cases)


def _penalty_waive(plan: InstallmentPlan, as_of: dt.date) -> int:
    """Waive the unit's outstanding penalty on completion (the plan's approver agreed to it),
    through the ledger's waiver service; the fen waived."""
    statement = statement_for_unit(unit=plan.unit, as_of=as_of)
    approver = str(plan.decided_by) if plan.decided_by_id else "系统"
    reason = f"分期计划 #{plan.pk} 履行完毕，按分期协议减免违约金（审批人：{approver}）"
    total = 0
    charges = Charge.objects.in_bulk([line.charge_id for line in statement.lines])
    for line in statement.lines:
        amount = line.position.penalty_outstanding
        if amount > 0:
            waiver_create(
                charge=charges[line.charge_id],
                component=Component.PENALTY,
                amount_fen=amount,
                effective_on=as_of,
                reason=reason,
                actor=None,
            )
            total += amount
    return total


@transaction.atomic
def installment_plans_review(
    *,
    company: Company,
    as_of: dt.date,
    actor: User | None = None,
    standings: Sequence[PlanStanding] | None = None,
) -> PlanReview:
    """Decide every active plan of `company` on `as_of`: completed when the payments since
    approval reach the total (optionally waiving the penalty then); defaulted when they do not
    cover the installments due more than the grace days ago. Both end the plan, release its
    hold and write a line on the case; a defaulted plan resumes escalation from the next
    decision of the run. Plans in good standing are left as they are (idempotent).

    `standings`: the ones the caller read in the same transaction (the daily run, which
    decided its holds from them); read here otherwise."""
    review = PlanReview()
    if standings is None:
        standings = installment_standings(company=company, as_of=as_of)
    decided = [s for s in standings if s.completed or not s.in_good_standing]
    if not decided:
        return review
    plans = InstallmentPlan.objects.select_related("unit", "decided_by").in_bulk(
        [s.plan_id for s in decided]
    )
    open_cases = dict(
        Case.objects.filter(
            unit_id__in=many_values(sorted({s.unit_id for s in decided})),
            status=CaseStatus.OPEN,
        ).values_list("unit_id", "pk")
    )
    events: list[CaseEvent] = []
    audit = AuditBatch(actor=actor, note="分期计划检查")
    for standing in decided:
        plan = plans[standing.plan_id]
        status = PlanStatus.COMPLETED if standing.completed else PlanStatus.DEFAULTED
        if standing.completed:
            review.completed.append(plan.pk)
            summary = f"分期计划履行完毕（实还 ¥{format_yuan(standing.paid_fen)}）"
            if plan.waive_penalty_on_completion:
                waived = _penalty_waive(plan, as_of)
                review.penalty_waived_fen += waived
                if waived:
                    summary += f"，减免违约金 ¥{format_yuan(waived)}"
        else:
            review.defaulted.append(plan.pk)
            summary = (
                f"分期计划逾期未还（应还 ¥{format_yuan(standing.due_fen)}，"
                f"实还 ¥{format_yuan(standing.paid_fen)}），恢复催收"
            )
        if plan.unit_id in open_cases:
            events.append(
                CaseEvent(
                    case_id=open_cases[plan.unit_id],
                    kind=f"plan_{status}",
                    summary=summary[:500],
                    object_type=plan._meta.label_lower,
                    object_id=plan.pk,
                    data={
                        "plan": plan.pk,
                        "due_fen": standing.due_fen,
                        "paid_fen": standing.paid_fen,
                    },
                )
            )
        audit.add(
            action=AuditAction.UPDATE,
            obj=plan,
            estate_id=plan.unit.estate_id,
            before={"status": PlanStatus.ACTIVE},
            after={"status": status, "ended_on": as_of.isoformat()},
            note=summary,
        )
    for status, ids in (
        (PlanStatus.COMPLETED, review.completed),
        (PlanStatus.DEFAULTED, review.defaulted),
    ):
        if ids:
            InstallmentPlan.objects.filter(pk__in=many_values(ids)).update(
                status=status, ended_on=as_of
            )
    Hold.objects.filter(
        Q(released_on__isnull=True) | Q(released_on__gt=as_of),
        plan_id__in=many_values([s.plan_id for s in decided]),
    ).update(released_on=as_of)
    CaseEvent.objects.bulk_create(events)
    review.events = len(events)
    audit.write()
    return review
