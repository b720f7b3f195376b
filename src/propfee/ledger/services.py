"""Ledger writes: store what the engine computes (allocations, 核销), record waivers (减免), and
re-allocate the units whose credit a new billing run can use.

Locks are taken in one order: the unit row first (every write that changes a unit's account
goes through `unit_reallocate`, which locks it), then the rows of that unit."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from propfee.billing.models import Charge
from propfee.core.models import AuditAction, User
from propfee.core.money import format_yuan
from propfee.core.roles import Capability, PermissionDenied, require
from propfee.core.services import audit_record
from propfee.estates.models import Unit
from propfee.estates.selectors import estates_visible_to
from propfee.ledger.constants import Component
from propfee.ledger.engine import WaiverFacts
from propfee.ledger.models import Allocation, Waiver
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


@transaction.atomic
def unit_reallocate(*, unit: Unit) -> None:
    """Replay the unit's account with the engine and make the stored current allocations equal
    the result: stored rows the replay no longer gives are superseded (kept, stamped), rows it
    gives that are not stored are inserted, rows it still gives stay as they are — so a
    backdated payment touches only the allocations it really moves. Nothing is written when
    nothing changed. Five queries, plus two when something changed."""
    _unit_lock(unit.pk)
    expected = allocations_expected(account_facts(unit_ids=[unit.pk])[unit.pk].replay())
    stored: dict[AllocationKey, list[int]] = defaultdict(list)
    rows = (
        Allocation.objects.filter(charge__unit_id=unit.pk, superseded_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "payment_id", "charge_id", "component", "amount_fen")
    )
    for pk, payment_id, charge_id, component, amount_fen in rows:
        stored[(payment_id, charge_id, component, amount_fen)].append(pk)
    stale: list[int] = []
    for key, pks in stored.items():
        stale.extend(pks[expected.get(key, 0) :])
    missing = expected - Counter({key: len(pks) for key, pks in stored.items()})
    if stale:
        Allocation.objects.filter(pk__in=stale).update(superseded_at=timezone.now())
    if missing:
        Allocation.objects.bulk_create(
            Allocation(
                payment_id=payment_id, charge_id=charge_id, component=component, amount_fen=fen
            )
            for payment_id, charge_id, component, fen in missing.elements()
        )


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


@transaction.atomic
def waiver_create(
    *,
    charge: Charge,
    component: str,
    amount_fen: int,
    effective_on: dt.date,
    reason: str,
    actor: User | None,
) -> Waiver:
    """Record a waiver (减免) approved by `actor` (a manager: APPROVE_WAIVERS) and re-allocate
    the unit. Refused when the engine reports any excess: a waiver never reduces more than was
    owed on its date (docs/definitions.md, decision 8)."""
    require(actor, Capability.APPROVE_WAIVERS)
    unit = Unit.objects.get(pk=charge.unit_id)
    if actor is not None and not estates_visible_to(actor).filter(pk=unit.estate_id).exists():
        raise PermissionDenied(Capability.APPROVE_WAIVERS)
    if component not in Component.values:
        raise LedgerError(f"未知的减免项：{component}")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise LedgerError("减免金额必须大于0")
    reason = reason.strip()
    if not reason:
        raise LedgerError("请填写减免原因")

    _unit_lock(unit.pk)
    facts = account_facts(unit_ids=[unit.pk])[unit.pk]
    proposed_id = max((w.id for w in facts.waivers), default=0) + 1
    proposed = WaiverFacts(proposed_id, charge.pk, component, amount_fen, effective_on)  # type: ignore[arg-type]
    state = facts.replay(extra_waivers=[proposed])
    line = next(w for w in state.waivers if w.waiver_id == proposed_id)
    if line.excess_fen > 0:
        label = Component(component).label
        raise LedgerError(
            f"减免金额超过 {effective_on:%Y-%m-%d} 当日所欠{label}："
            f"最多可减免 ¥{format_yuan(line.amount_fen)}，"
            f"超出 ¥{format_yuan(line.excess_fen)}，不能登记"
        )

    waiver = Waiver.objects.create(
        charge=charge,
        component=component,
        amount_fen=amount_fen,
        effective_on=effective_on,
        reason=reason[:500],
        approved_by=actor if actor is not None and actor.is_authenticated else None,
    )
    unit_reallocate(unit=unit)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=waiver,
        estate_id=unit.estate_id,
        after={
            "charge": charge.pk,
            "component": component,
            "amount_fen": amount_fen,
            "effective_on": effective_on.isoformat(),
        },
        note=f"减免：{reason}"[:500],
    )
    return waiver
