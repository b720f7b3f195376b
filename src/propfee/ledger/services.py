"""Ledger writes: store what the engine computes (allocations, 核销), record waivers (减免 and
坏账核销) with their requests, approval limits and reversals, and re-allocate the units whose
credit a new billing run can use.

Locks are taken in one order: the unit row first (every write that changes a unit's account
goes through `unit_reallocate`, which locks it), then the rows of that unit."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from propfee.billing.models import Charge
from propfee.core.bulk import many_values, rows_insert
from propfee.core.models import AuditAction, User
from propfee.core.money import format_yuan
from propfee.core.roles import Capability, PermissionDenied, Role, require
from propfee.core.services import audit_record
from propfee.estates.models import Company, Unit
from propfee.estates.selectors import estates_visible_to
from propfee.ledger.constants import (
    DEFAULT_APPROVAL_LIMITS_FEN,
    Component,
    WaiverKind,
    WaiverRequestStatus,
    WaiverStatus,
    WriteOffReason,
)
from propfee.ledger.engine import WaiverFacts
from propfee.ledger.models import Allocation, Waiver, WaiverApprovalLimit, WaiverRequest
from propfee.ledger.selectors import (
    AllocationKey,
    account_facts,
    allocations_expected,
)
from propfee.payments.constants import PaymentStatus
from propfee.payments.models import Payment


class LedgerError(ValueError):
    """A ledger write that the rules refuse; the message is for the user."""


def _unit_lock(unit_id: int) -> int:
    """Lock the unit row (the first lock of every account write); returns its estate id."""
    return (
        Unit.objects.select_for_update()
        .filter(pk=unit_id)
        .values_list("estate_id", flat=True)
        .get()
    )


def _allocations_changes(
    expected: Counter[AllocationKey], rows: Iterable[tuple[int, int, int, str, int]]
) -> tuple[list[int], Counter[AllocationKey]]:
    """What makes the stored current allocations `rows` (pk, payment, charge, component, fen;
    in pk order) equal the engine's `expected`: (pks to supersede, keys to insert). Rows the
    replay still gives stay as they are, so a backdated payment touches only what it moves."""
    stored: dict[AllocationKey, list[int]] = defaultdict(list)
    for pk, payment_id, charge_id, component, amount_fen in rows:
        stored[(payment_id, charge_id, component, amount_fen)].append(pk)
    stale: list[int] = []
    for key, pks in stored.items():
        stale.extend(pks[expected.get(key, 0) :])
    missing = expected - Counter({key: len(pks) for key, pks in stored.items()})
    return stale, missing


@transaction.atomic
def unit_reallocate(*, unit: Unit) -> None:
    """Replay the unit's account with the engine and make the stored current allocations equal
    the result: stored rows the replay no longer gives are superseded (kept, stamped), rows it
    gives that are not stored are inserted, rows it still gives stay as they are — so a
    backdated payment touches only the allocations it really moves. Nothing is written when
    nothing changed. Five queries, plus two when something changed."""
    _unit_lock(unit.pk)
    expected = allocations_expected(account_facts(unit_ids=[unit.pk])[unit.pk].replay())
    rows = (
        Allocation.objects.filter(charge__unit_id=unit.pk, superseded_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "payment_id", "charge_id", "component", "amount_fen")
    )
    stale, missing = _allocations_changes(expected, rows)
    if stale:
        Allocation.objects.filter(pk__in=stale).update(superseded_at=timezone.now())
    if missing:
        Allocation.objects.bulk_create(
            Allocation(
                payment_id=payment_id, charge_id=charge_id, component=component, amount_fen=fen
            )
            for payment_id, charge_id, component, fen in missing.elements()
        )


#: Units replayed per round of `units_reallocate` (a bounded `IN` list and memory).
REALLOCATE_CHUNK = 500


@transaction.atomic
def units_reallocate(*, unit_ids: Iterable[int]) -> int:
    """`unit_reallocate` for many units, set-based: per chunk of REALLOCATE_CHUNK units one
    lock, the engine's facts in four queries, the stored allocations in one, then one update
    and one bulk insert — the same rows `unit_reallocate` would store, unit by unit. Locks the
    units in pk order. Returns how many units had anything changed."""
    ids = sorted(set(unit_ids))
    changed = 0
    for start in range(0, len(ids), REALLOCATE_CHUNK):
        chunk = ids[start : start + REALLOCATE_CHUNK]
        list(
            Unit.objects.select_for_update()
            .filter(pk__in=many_values(chunk))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        facts = account_facts(unit_ids=chunk)
        rows_by_unit: dict[int, list[tuple[int, int, int, str, int]]] = defaultdict(list)
        rows = (
            Allocation.objects.filter(
                charge__unit_id__in=many_values(chunk), superseded_at__isnull=True
            )
            .order_by("pk")
            .values_list(
                "charge__unit_id", "pk", "payment_id", "charge_id", "component", "amount_fen"
            )
        )
        for unit_id, *row in rows:
            rows_by_unit[unit_id].append(tuple(row))  # type: ignore[arg-type]
        stale: list[int] = []
        missing: list[AllocationKey] = []
        for unit_id in chunk:
            expected = allocations_expected(facts[unit_id].replay())
            unit_stale, unit_missing = _allocations_changes(expected, rows_by_unit[unit_id])
            if unit_stale or unit_missing:
                changed += 1
                stale.extend(unit_stale)
                missing.extend(unit_missing.elements())
        now = timezone.now()
        if stale:
            Allocation.objects.filter(pk__in=many_values(stale)).update(superseded_at=now)
        rows_insert(
            Allocation,
            ("payment", "charge", "component", "amount_fen", "created_at"),
            [(*key, now) for key in missing],
        )
    return changed


def _sum_by_unit(queryset: QuerySet[Any], unit_field: str) -> Coalesce:
    """The sum of `amount_fen` over `queryset` for the outer unit, 0 when there is none."""
    total = (
        queryset.filter(**{unit_field: OuterRef("pk")})
        .order_by()
        .values(unit_field)
        .annotate(total=Sum("amount_fen"))
        .values("total")
    )
    return Coalesce(Subquery(total), Value(0))


def units_to_reallocate(*, charges: QuerySet[Charge]) -> QuerySet[Unit]:
    """After `charges` were posted, the units whose allocations they can change: those holding
    unapplied credit (预存: recorded payments not all allocated), and those whose payments
    already went to a charge due after one of the new charges (charges posted out of order).
    One query, whatever the number of units."""
    recorded = Payment.objects.filter(status=PaymentStatus.RECORDED)
    allocated = Allocation.objects.filter(
        superseded_at__isnull=True, payment__status=PaymentStatus.RECORDED
    )
    first_new_due = Subquery(
        charges.filter(unit_id=OuterRef("pk")).order_by("due_date").values("due_date")[:1]
    )
    paid_later = Exists(
        Allocation.objects.filter(
            charge__unit_id=OuterRef("pk"),
            charge__due_date__gt=OuterRef("first_new_due"),
            superseded_at__isnull=True,
        )
    )
    return (
        # Driven from the payments: both cases need one, and a run over units that never paid
        # (a first billing, the benchmark) then costs one empty semi-join.
        Unit.objects.filter(
            pk__in=recorded.filter(unit_id__in=charges.order_by().values("unit_id"))
            .order_by()
            .values("unit_id")
        )
        .annotate(
            paid_fen=_sum_by_unit(recorded, "unit_id"),
            allocated_fen=_sum_by_unit(allocated, "payment__unit_id"),
            first_new_due=first_new_due,
        )
        .filter(Q(paid_fen__gt=F("allocated_fen")) | paid_later)
        .order_by("pk")
    )


def charges_reallocate(*, charges: QuerySet[Charge]) -> int:
    """After new charges are posted: re-allocate the units they concern (`units_to_reallocate`,
    a set-based selection); the replay runs only for those. Returns how many units."""
    count = 0
    for unit in units_to_reallocate(charges=charges):
        unit_reallocate(unit=unit)
        count += 1
    return count


# --- waivers ---------------------------------------------------------------------------------
#
# 减免申请 → 审批 (approve: `waiver_create` writes the Waiver rows; reject) → 撤销 (reverse).
# A 减免 needs APPROVE_WAIVERS within the approver's limit; a 坏账核销 needs WRITE_OFF.

#: The capability that approves, rejects and reverses each kind.
_DECIDES: dict[str, str] = {
    WaiverKind.WAIVER: Capability.APPROVE_WAIVERS,
    WaiverKind.WRITE_OFF: Capability.WRITE_OFF,
}

#: Allowed transitions of a request: pending is decided once.
_REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    WaiverRequestStatus.PENDING: frozenset(
        {WaiverRequestStatus.APPROVED, WaiverRequestStatus.REJECTED}
    ),
}


def _in_scope_require(actor: User | None, capability: str, estate_id: int) -> None:
    """The actor holds `capability` and sees the estate (else PermissionDenied)."""
    require(actor, capability)
    if actor is not None and not estates_visible_to(actor).filter(pk=estate_id).exists():
        raise PermissionDenied(capability)


def _kind_check(kind: str) -> None:
    if kind not in WaiverKind.values:
        raise LedgerError(f"未知的减免类型：{kind}")


def _amount_check(amount_fen: int, *, allow_zero: bool = False) -> None:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise LedgerError("减免金额必须是整数分")
    if amount_fen < 0 or (amount_fen == 0 and not allow_zero):
        raise LedgerError("减免金额必须大于0")


def _reason_clean(reason: str, missing: str) -> str:
    reason = reason.strip()
    if not reason:
        raise LedgerError(missing)
    return reason[:500]


def _user_or_none(user: User | None) -> User | None:
    return user if user is not None and user.is_authenticated else None


def _fits_check(unit_id: int, proposals: Sequence[tuple[int, str, int, dt.date]]) -> None:
    """Refuse proposals (charge id, component, fen, date) that reduce more than was owed on
    their date (docs/definitions.md, decision 8), or that would make a waiver already
    recorded do so (a backdated principal waiver lowers what later ones could reduce).
    Replays the account twice, without and with the proposals; no query beyond the facts."""
    facts = account_facts(unit_ids=[unit_id])[unit_id]
    next_id = max((w.id for w in facts.waivers), default=0) + 1
    extra = [
        WaiverFacts(next_id + n, charge_id, component, fen, on)  # type: ignore[arg-type]
        for n, (charge_id, component, fen, on) in enumerate(proposals)
    ]
    state = facts.replay(extra_waivers=extra)
    lines = {line.waiver_id: line for line in state.waivers}
    for proposal in extra:
        line = lines[proposal.id]
        if line.excess_fen > 0:
            label = Component(proposal.component).label
            raise LedgerError(
                f"减免金额超过 {proposal.effective_on:%Y-%m-%d} 当日所欠{label}："
                f"最多可减免 ¥{format_yuan(line.amount_fen)}，"
                f"超出 ¥{format_yuan(line.excess_fen)}，不能登记"
            )
    before = {line.waiver_id: line.excess_fen for line in facts.replay().waivers}
    for waiver in facts.waivers:
        if lines[waiver.id].excess_fen > before.get(waiver.id, 0):
            raise LedgerError(
                f"登记后，{waiver.effective_on:%Y-%m-%d} 已登记的"
                f"{Component(waiver.component).label}减免将超过当日所欠，不能登记；"
                "请先撤销或调整该笔减免"
            )


def waiver_limit_fen(*, company_id: int | None, role: str, component: str) -> int | None:
    """The most `role` may approve in 减免 of `component` on one charge (None = no limit): the
    company's WaiverApprovalLimit row, else DEFAULT_APPROVAL_LIMITS_FEN; a role with neither
    may approve nothing (0)."""
    if company_id is not None:
        own = list(
            WaiverApprovalLimit.objects.filter(
                company_id=company_id, role=role, component=component
            ).values_list("max_fen", flat=True)[:1]
        )
        if own:
            return own[0]
    return DEFAULT_APPROVAL_LIMITS_FEN.get((role, component), 0)


def _limit_check(
    actor: User | None, charge: Charge, component: str, amount_fen: int, company_id: int
) -> None:
    """Refuse a 减免 beyond the approver's limit for this charge (its active 减免 counted)."""
    if actor is None or actor.is_superuser:
        return
    limit = waiver_limit_fen(company_id=company_id, role=actor.role, component=component)
    if limit is None:
        return
    already = (
        Waiver.objects.filter(
            charge_id=charge.pk,
            component=component,
            kind=WaiverKind.WAIVER,
            status=WaiverStatus.ACTIVE,
        ).aggregate(total=Sum("amount_fen"))["total"]
        or 0
    )
    if already + amount_fen > limit:
        label = Component(component).label
        role_label = Role(actor.role).label if actor.role in Role.values else actor.role
        held = f"（该应收已减免{label} ¥{format_yuan(already)}）" if already else ""
        raise LedgerError(
            f"超出审批权限：{role_label}每笔应收最多可批准减免{label} "
            f"¥{format_yuan(limit)}{held}，本次 ¥{format_yuan(amount_fen)}，"
            "请提交有更高权限的审批人审批"
        )


@transaction.atomic
def waiver_create(
    *,
    charge: Charge,
    component: str,
    amount_fen: int,
    effective_on: dt.date,
    reason: str,
    actor: User | None,
    kind: str = WaiverKind.WAIVER,
    request: WaiverRequest | None = None,
) -> Waiver:
    """Record a waiver approved by `actor` and re-allocate the unit — the one place an approved
    waiver is written. A 减免 needs APPROVE_WAIVERS and stays within the approver's limit per
    charge (`waiver_limit_fen`); a 坏账核销 needs WRITE_OFF. Refused when the engine reports any
    excess: a waiver never reduces more than was owed on its date (docs/definitions.md,
    decision 8), and when `actor` approves the request they filed themselves."""
    _kind_check(kind)
    unit = Unit.objects.get(pk=charge.unit_id)
    _in_scope_require(actor, _DECIDES[kind], unit.estate_id)
    if component not in Component.values:
        raise LedgerError(f"未知的减免项：{component}")
    _amount_check(amount_fen)
    reason = _reason_clean(reason, "请填写减免原因")
    requested_by = request.requested_by if request is not None else None
    if actor is not None and requested_by is not None and requested_by.pk == actor.pk:
        raise LedgerError("不能审批自己提交的申请")

    company_id = unit.estate.company_id
    _unit_lock(unit.pk)
    if kind == WaiverKind.WAIVER:
        _limit_check(actor, charge, component, amount_fen, company_id)
    _fits_check(unit.pk, [(charge.pk, component, amount_fen, effective_on)])

    waiver = Waiver.objects.create(
        charge=charge,
        component=component,
        amount_fen=amount_fen,
        effective_on=effective_on,
        reason=reason,
        approved_by=_user_or_none(actor),
        kind=kind,
        request=request,
        requested_by=requested_by,
    )
    unit_reallocate(unit=unit)
    label = WaiverKind(kind).label
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=waiver,
        estate_id=unit.estate_id,
        after={
            "charge": charge.pk,
            "kind": kind,
            "component": component,
            "amount_fen": amount_fen,
            "effective_on": effective_on.isoformat(),
        },
        note=f"{label}：{reason}"[:500],
    )
    return waiver


@transaction.atomic
def waiver_request_create(
    *,
    charge: Charge,
    principal_fen: int,
    penalty_fen: int,
    effective_on: dt.date,
    reason: str,
    actor: User | None,
    kind: str = WaiverKind.WAIVER,
    write_off_reason: str = "",
) -> WaiverRequest:
    """File a request (减免申请 or 坏账核销申请) for a manager to decide. Needs REQUEST_WAIVERS
    in the charge's estate, a reason, and for a write-off one of WriteOffReason. Refused now,
    not at approval, when it reduces more than is owed on `effective_on`."""
    _kind_check(kind)
    unit = Unit.objects.get(pk=charge.unit_id)
    _in_scope_require(actor, Capability.REQUEST_WAIVERS, unit.estate_id)
    _amount_check(principal_fen, allow_zero=True)
    _amount_check(penalty_fen, allow_zero=True)
    if principal_fen + penalty_fen <= 0:
        raise LedgerError("请填写减免金额：本金或违约金至少一项大于0")
    reason = _reason_clean(reason, "请填写减免原因")
    if kind == WaiverKind.WRITE_OFF:
        if write_off_reason not in WriteOffReason.values:
            raise LedgerError("坏账核销须选择核销原因")
    else:
        write_off_reason = ""
    if effective_on > timezone.localdate():
        raise LedgerError("生效日期不能晚于今天")
    _unit_lock(unit.pk)
    proposals = [
        (charge.pk, component, fen, effective_on)
        for component, fen in (
            (Component.PRINCIPAL, principal_fen),
            (Component.PENALTY, penalty_fen),
        )
        if fen
    ]
    _fits_check(unit.pk, proposals)
    request = WaiverRequest.objects.create(
        charge=charge,
        kind=kind,
        principal_fen=principal_fen,
        penalty_fen=penalty_fen,
        effective_on=effective_on,
        reason=reason,
        write_off_reason=write_off_reason,
        requested_by=_user_or_none(actor),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=request,
        estate_id=unit.estate_id,
        after={
            "charge": charge.pk,
            "kind": kind,
            "principal_fen": principal_fen,
            "penalty_fen": penalty_fen,
            "effective_on": effective_on.isoformat(),
            "write_off_reason": write_off_reason,
        },
        note=f"{WaiverKind(kind).label}申请：{reason}"[:500],
    )
    return request


def _request_decide(request: WaiverRequest, actor: User | None) -> tuple[Unit, WaiverRequest]:
    """Check the decider and lock the unit, then the request; returns both, fresh."""
    charge = Charge.objects.get(pk=request.charge_id)
    unit = Unit.objects.select_related("estate").get(pk=charge.unit_id)
    _in_scope_require(actor, _DECIDES[request.kind], unit.estate_id)
    _unit_lock(unit.pk)
    locked = WaiverRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != WaiverRequestStatus.PENDING:
        raise LedgerError(f"该申请{locked.get_status_display()}，不能再审批")
    return unit, locked


def _request_close(
    request: WaiverRequest, status: str, actor: User | None, note: str, estate_id: int
) -> None:
    if status not in _REQUEST_TRANSITIONS.get(request.status, frozenset()):
        raise LedgerError(f"该申请{request.get_status_display()}，不能再审批")
    before = request.status
    request.status = status
    request.decided_by = _user_or_none(actor)
    request.decided_at = timezone.now()
    request.decision_note = note[:500]
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=request,
        estate_id=estate_id,
        before={"status": before},
        after={"status": status},
        note=f"{WaiverKind(request.kind).label}申请{request.get_status_display()}"
        + (f"：{note}" if note else ""),
    )


@transaction.atomic
def waiver_request_approve(
    *, request: WaiverRequest, actor: User | None, note: str = ""
) -> list[Waiver]:
    """Approve a pending request: one Waiver per component with an amount, each written by
    `waiver_create` (limits, excess, self-approval refused there), in one transaction."""
    unit, locked = _request_decide(request, actor)
    charge = Charge.objects.get(pk=locked.charge_id)
    waivers = [
        waiver_create(
            charge=charge,
            component=component,
            amount_fen=fen,
            effective_on=locked.effective_on,
            reason=locked.reason,
            actor=actor,
            kind=locked.kind,
            request=locked,
        )
        for component, fen in (
            (Component.PRINCIPAL, locked.principal_fen),
            (Component.PENALTY, locked.penalty_fen),
        )
        if fen
    ]
    _request_close(locked, WaiverRequestStatus.APPROVED, actor, note.strip(), unit.estate_id)
    request.refresh_from_db()
    return waivers


@transaction.atomic
def waiver_request_reject(*, request: WaiverRequest, actor: User | None, reason: str) -> None:
    """Reject a pending request, with the reason the requester will read."""
    reason = _reason_clean(reason, "请填写驳回原因")
    unit, locked = _request_decide(request, actor)
    _request_close(locked, WaiverRequestStatus.REJECTED, actor, reason, unit.estate_id)
    request.refresh_from_db()


@transaction.atomic
def waiver_reverse(*, waiver: Waiver, actor: User | None, reason: str) -> Waiver:
    """撤销 an active waiver (a 减免 granted in error, a written-off debt recovered): it leaves
    the replay, so the amount is owed again (with the penalty it accrues) and the unit is
    re-allocated. Needs the capability that approves its kind. The row is kept, marked."""
    reason = _reason_clean(reason, "请填写撤销原因")
    charge = Charge.objects.get(pk=waiver.charge_id)
    unit = Unit.objects.get(pk=charge.unit_id)
    _in_scope_require(actor, _DECIDES[waiver.kind], unit.estate_id)
    _unit_lock(unit.pk)
    locked = Waiver.objects.select_for_update().get(pk=waiver.pk)
    if locked.status != WaiverStatus.ACTIVE:
        raise LedgerError("该减免已撤销")
    locked.status = WaiverStatus.REVERSED
    locked.reversed_by = _user_or_none(actor)
    locked.reversed_at = timezone.now()
    locked.reverse_reason = reason
    locked.save(update_fields=["status", "reversed_by", "reversed_at", "reverse_reason"])
    unit_reallocate(unit=unit)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked,
        estate_id=unit.estate_id,
        before={"status": WaiverStatus.ACTIVE},
        after={"status": WaiverStatus.REVERSED},
        note=f"撤销{WaiverKind(locked.kind).label}：{reason}"[:500],
    )
    waiver.refresh_from_db()
    return locked


@transaction.atomic
def waiver_limit_set(
    *, company: Company, role: str, component: str, max_fen: int | None, actor: User | None
) -> WaiverApprovalLimit:
    """Set a company's approval limit for one role and component (None = no limit)."""
    require(actor, Capability.MANAGE_COMPANY)
    if actor is not None and not actor.is_superuser and actor.company_id != company.pk:
        raise PermissionDenied(Capability.MANAGE_COMPANY)
    if role not in Role.values:
        raise LedgerError(f"未知的角色：{role}")
    if component not in Component.values:
        raise LedgerError(f"未知的减免项：{component}")
    if max_fen is not None:
        _amount_check(max_fen, allow_zero=True)
    before = waiver_limit_fen(company_id=company.pk, role=role, component=component)
    limit, _created = WaiverApprovalLimit.objects.update_or_create(
        company=company, role=role, component=component, defaults={"max_fen": max_fen}
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=limit,
        before={"max_fen": before},
        after={"max_fen": max_fen},
        note=f"减免审批权限：{Role(role).label} {Component(component).label}",
    )
    return limit
