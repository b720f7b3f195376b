"""诉讼时效 (limitation): the events that restart a charge's three-year clock and each charge's
expiry date from them (民法典 arts. 188, 195; docs/definitions.md "诉讼时效届满日").

Restarts come from four places, read set-based (a fixed number of queries whatever the number
of units):
- LimitationRestart rows written by the services: an installment plan requested in writing or
  approved (acknowledgement), a filing (payment order, small claim, lawsuit, arbitration) and
  the end of a filed matter — these last two for the charges the matter claims only;
- delivered demands (催收文书 with a DeliveryEvidence row; the documents app's
  `demands_delivered_for_units` rule) — notice-board postings are never deliveries;
- promises to pay (承诺缴费, acknowledgements), except cancelled ones;
- part payments: a payment allocated to a charge restarts that charge's clock.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from propfee.billing.models import Charge
from propfee.collection.constants import PromiseStatus, RestartKind
from propfee.collection.models import LimitationRestart, Promise
from propfee.core.bulk import many_values
from propfee.core.models import User
from propfee.documents.constants import DEMAND_KINDS
from propfee.documents.models import DeliveryEvidence
from propfee.estates.models import Building, Estate, Unit
from propfee.estates.selectors import units_visible_to
from propfee.ledger.models import Allocation
from propfee.ledger.rates import principal_outstanding_by_charge
from propfee.ledger.selectors import LIMITATION_YEARS, limitation_expires_on
from propfee.payments.constants import PaymentStatus

#: The manager list's default warning window (design: "warns 90 days ahead").
WARNING_DAYS = 90
#: The source_type of a part payment in a ChargeLimitation (payments are read, not stored).
PART_PAYMENT = "part_payment"


@dataclass(frozen=True)
class Restart:
    """One event that restarts the clock: its day, RestartKind and a short description."""

    on: dt.date
    kind: str
    description: str


@dataclass(frozen=True)
class ChargeLimitation:
    """A charge's limitation position on `as_of`: the day its current clock started (the due
    date, or the restart that last moved it) and the expiry date."""

    charge_id: int
    unit_id: int
    due_date: dt.date
    clock_from: dt.date
    expires_on: dt.date
    restart: Restart | None

    @property
    def restarted(self) -> bool:
        return self.restart is not None


def limitation_restart_record(
    *,
    unit: Unit,
    kind: str,
    occurred_on: dt.date,
    description: str,
    source_type: str,
    source_id: int,
    charge_ids: Iterable[int] | None = None,
) -> LimitationRestart:
    """Record a restart once per (source, kind): a retried service finds its row and keeps it.
    `charge_ids` limits it to those charges (a legal matter's claim); None = every charge of the
    unit due by then. Called inside the caller's transaction; the caller's own audit row covers
    it."""
    if kind not in RestartKind.values:
        raise ValueError(f"未知的时效中断事由：{kind}")
    restart, created = LimitationRestart.objects.get_or_create(
        source_type=source_type,
        source_id=source_id,
        kind=kind,
        defaults={
            "unit": unit,
            "occurred_on": occurred_on,
            "description": description[:500],
        },
    )
    if created and charge_ids is not None:
        restart.charges.set(sorted(set(charge_ids)))
    return restart


def limitation_expiry_from(
    due_date: dt.date, restarts: Sequence[Restart], *, as_of: dt.date
) -> tuple[dt.date, dt.date, Restart | None]:
    """(clock start, expiry, last counted restart) of a charge due on `due_date`, given the
    restarts that apply to it, oldest first. The clock runs three years from the due date; a
    restart counts when it happens on or after the due date, on or before `as_of`, and while
    the clock is still running (on or before the current expiry date) — a demand after expiry
    revives nothing. Each counted restart starts a new three-year clock on its day."""
    clock_from = due_date
    expires_on = limitation_expires_on(due_date)
    counted: Restart | None = None
    for restart in restarts:
        if restart.on < due_date or restart.on > as_of or restart.on > expires_on:
            continue
        if restart.on >= clock_from:
            clock_from = restart.on
            expires_on = limitation_expires_on(restart.on)
            counted = restart
    return clock_from, expires_on, counted


def _localdate(value: dt.datetime) -> dt.date:
    return timezone.localdate(value) if timezone.is_aware(value) else value.date()


def _unit_restarts(
    units: Any, *, as_of: dt.date, by_charge: dict[int, list[Restart]] | None = None
) -> dict[int, list[Restart]]:
    """unit → the restarts that apply to all its charges, oldest first (three queries).
    `units` is anything a `unit_id__in=` lookup takes. A LimitationRestart that names its
    charges (a legal matter's claim) goes to `by_charge` instead, charge → restarts."""
    by_unit: dict[int, list[Restart]] = defaultdict(list)
    for unit_id, day, kind, description, charge_id in LimitationRestart.objects.filter(
        unit_id__in=units, occurred_on__lte=as_of
    ).values_list("unit_id", "occurred_on", "kind", "description", "charges"):
        if charge_id is None:
            by_unit[unit_id].append(Restart(day, kind, description))
        elif by_charge is not None:
            by_charge.setdefault(charge_id, []).append(Restart(day, kind, description))
    for unit_id, day, kind_label, number in DeliveryEvidence.objects.filter(
        document__unit_id__in=units, document__kind__in=DEMAND_KINDS, delivered_on__lte=as_of
    ).values_list("document__unit_id", "delivered_on", "document__title", "document__number"):
        text = f"{kind_label} {number}".strip() + " 已送达"
        by_unit[unit_id].append(Restart(day, RestartKind.DEMAND, text))
    for unit_id, created_at, promised_on in (
        Promise.objects.filter(unit_id__in=units)
        .exclude(status=PromiseStatus.CANCELLED)
        .values_list("unit_id", "created_at", "promised_on")
    ):
        day = _localdate(created_at)
        if day <= as_of:
            text = f"承诺于 {promised_on:%Y-%m-%d} 缴费"
            by_unit[unit_id].append(Restart(day, RestartKind.ACKNOWLEDGEMENT, text))
    for restarts in by_unit.values():
        restarts.sort(key=lambda r: r.on)
    return by_unit


def _charge_part_payments(charges: Any, *, as_of: dt.date) -> dict[int, list[Restart]]:
    """charge → the days a recorded payment received ≤ as_of was allocated to it (one query)."""
    by_charge: dict[int, list[Restart]] = defaultdict(list)
    for charge_id, day in (
        Allocation.objects.filter(
            charge_id__in=charges,
            superseded_at__isnull=True,
            payment__status=PaymentStatus.RECORDED,
            payment__received_on__lte=as_of,
        )
        .values_list("charge_id", "payment__received_on")
        .distinct()
        .order_by("charge_id", "payment__received_on")
    ):
        by_charge[charge_id].append(Restart(day, RestartKind.ACKNOWLEDGEMENT, "部分缴费"))
    return by_charge


def _positions(
    charges: Iterable[tuple[int, int, dt.date]],
    unit_restarts: dict[int, list[Restart]],
    payments: dict[int, list[Restart]],
    *,
    as_of: dt.date,
) -> dict[int, ChargeLimitation]:
    result = {}
    for charge_id, unit_id, due_date in charges:
        restarts = sorted(
            [*unit_restarts.get(unit_id, ()), *payments.get(charge_id, ())], key=lambda r: r.on
        )
        clock_from, expires_on, counted = limitation_expiry_from(due_date, restarts, as_of=as_of)
        result[charge_id] = ChargeLimitation(
            charge_id, unit_id, due_date, clock_from, expires_on, counted
        )
    return result


def limitation_expiry(*, unit_ids: Iterable[int], as_of: dt.date) -> dict[int, ChargeLimitation]:
    """charge → its limitation position on `as_of`, for every charge of the units (five
    queries, whatever the number of units and charges)."""
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    units = many_values(ids)
    charges = list(
        Charge.objects.filter(unit_id__in=units).values_list("pk", "unit_id", "due_date")
    )
    per_charge = _charge_part_payments(many_values([c[0] for c in charges]), as_of=as_of)
    unit_restarts = _unit_restarts(many_values(ids), as_of=as_of, by_charge=per_charge)
    return _positions(charges, unit_restarts, per_charge, as_of=as_of)


@dataclass(frozen=True)
class ExpiringCharge:
    """A row of 时效即将届满: an outstanding charge whose clock ends soon (or has ended)."""

    charge_id: int
    estate_name: str
    unit_code: str
    fee_item: str
    period_start: dt.date
    period_end: dt.date
    due_date: dt.date
    principal_outstanding_fen: int
    clock_from: dt.date
    expires_on: dt.date
    days_left: int
    restart_kind: str
    restart_description: str

    @property
    def restart_label(self) -> str:
        return str(RestartKind(self.restart_kind).label) if self.restart_kind else ""


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def limitation_expiring(
    *,
    user: User,
    as_of: dt.date,
    within_days: int = WARNING_DAYS,
    include_expired: bool = False,
    estate: Estate | None = None,
    building: Building | None = None,
) -> list[ExpiringCharge]:
    """时效即将届满: the charges of the units `user` sees with principal outstanding on `as_of`
    whose limitation expires within `within_days` (on or after `as_of`; also before it when
    `include_expired`), soonest first. Only a charge due at least three years before the window
    ends can be in it (a restart only moves the expiry later), so the restarts are read for those
    charges' units alone. Five queries."""
    window_end = as_of + dt.timedelta(days=within_days)
    units = units_visible_to(user)
    if estate is not None:
        units = units.filter(estate=estate)
    if building is not None:
        units = units.filter(building=building)
    charges: QuerySet[Charge] = Charge.objects.filter(
        unit__in=units.values("pk"),
        due_date__lte=_years_before(window_end, LIMITATION_YEARS),
    )
    rows = list(
        principal_outstanding_by_charge(charges, as_of=as_of)
        .filter(principal_outstanding_fen__gt=0)  # type: ignore[misc]
        .values_list(
            "pk",
            "unit_id",
            "due_date",
            "unit__estate__name",
            "unit__code",
            "fee_item__name",
            "period_start",
            "period_end",
            "principal_outstanding_fen",
        )
        .order_by("due_date", "pk")
    )
    if not rows:
        return []
    per_charge = _charge_part_payments(many_values([r[0] for r in rows]), as_of=as_of)
    unit_restarts = _unit_restarts(
        many_values(sorted({r[1] for r in rows})), as_of=as_of, by_charge=per_charge
    )
    positions = _positions(
        [(r[0], r[1], r[2]) for r in rows], unit_restarts, per_charge, as_of=as_of
    )
    result = []
    for pk, _unit_id, due_date, estate_name, code, fee_item, start, end, outstanding in rows:
        position = positions[pk]
        if position.expires_on > window_end:
            continue
        if position.expires_on < as_of and not include_expired:
            continue
        restart = position.restart
        result.append(
            ExpiringCharge(
                charge_id=pk,
                estate_name=estate_name,
                unit_code=code,
                fee_item=fee_item,
                period_start=start,
                period_end=end,
                due_date=due_date,
                principal_outstanding_fen=int(outstanding),
                clock_from=position.clock_from,
                expires_on=position.expires_on,
                days_left=(position.expires_on - as_of).days,
                restart_kind=restart.kind if restart else "",
                restart_description=restart.description if restart else "",
            )
        )
    result.sort(key=lambda r: (r.expires_on, r.unit_code, r.charge_id))
    return result
