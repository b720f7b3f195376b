"""The pure ledger engine: allocation replay (核销) and penalty (违约金/滞纳金) of one account.

Frozen facts in, frozen results out; no models, no database. Services call `ledger_replay` to
compute what to store and `ledger verify` calls it to recompute. Money is int fen, dates are
`datetime.date`, rates are `Decimal`. The rules are those of design.md "Definitions"; every
choice the design leaves open is written down, with a worked example, in docs/definitions.md.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Literal

from propfee.core.money import floor_fen, round_half_up

Component = Literal["principal", "penalty"]
AllocationOrder = Literal["penalty_first", "principal_first"]

PRINCIPAL: Component = "principal"
PENALTY: Component = "penalty"
PENALTY_FIRST: AllocationOrder = "penalty_first"
PRINCIPAL_FIRST: AllocationOrder = "principal_first"

#: 万分之五 a day, the rate of the model contracts (compliance-facts.md).
DEFAULT_DAILY_RATE = Decimal("0.0005")

#: Aging buckets (账龄) by days overdue: (label, first day, last day or None = no end).
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1-90", 1, 90),
    ("91-180", 91, 180),
    ("181-365", 181, 365),
    ("366-730", 366, 730),
    ("731-1095", 731, 1095),
    ("1096+", 1096, None),
)

_ONE_DAY = timedelta(days=1)


# ---------------------------------------------------------------------------------------------
# Facts (inputs)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateChange:
    """The daily penalty rate in force from `effective_from` until the next change."""

    effective_from: date
    daily_rate: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.daily_rate, Decimal):
            raise TypeError("daily_rate must be a Decimal")
        if not self.daily_rate.is_finite() or self.daily_rate < 0:
            raise ValueError(f"daily_rate must be a finite Decimal ≥ 0: {self.daily_rate!r}")


@dataclass(frozen=True)
class PenaltyTerms:
    """A contract's penalty terms: rates over time, grace days, cap ratio, allocation order."""

    rates: tuple[RateChange, ...] = (RateChange(date.min, DEFAULT_DAILY_RATE),)
    grace_days: int = 0
    cap_ratio: Decimal | None = None
    order: AllocationOrder = PENALTY_FIRST

    def __post_init__(self) -> None:
        if self.grace_days < 0:
            raise ValueError("grace_days must be ≥ 0")
        if self.cap_ratio is not None:
            if not isinstance(self.cap_ratio, Decimal):
                raise TypeError("cap_ratio must be a Decimal")
            if not self.cap_ratio.is_finite() or self.cap_ratio < 0:
                raise ValueError(f"cap_ratio must be a finite Decimal ≥ 0: {self.cap_ratio!r}")
        if self.order not in (PENALTY_FIRST, PRINCIPAL_FIRST):
            raise ValueError(f"unknown allocation order: {self.order!r}")
        ordered = tuple(sorted(self.rates, key=lambda change: change.effective_from))
        starts = [change.effective_from for change in ordered]
        if len(set(starts)) != len(starts):
            raise ValueError("two rate changes on the same day")
        # Stored sorted so equal terms compare equal however the contract listed them.
        object.__setattr__(self, "rates", ordered)

    @cached_property
    def _schedule(self) -> tuple[tuple[date, ...], tuple[int, ...], int]:
        """(start dates, rates as integers scaled by 10**scale, scale).

        Integer arithmetic on the scaled rates is an exact Decimal sum with no context
        precision to overflow, and it is several times faster than Decimal in the hot loop."""
        # Rates are finite (checked in RateChange), so every exponent is an int.
        scale = max(
            (-int(change.daily_rate.as_tuple().exponent) for change in self.rates), default=0
        )
        scale = max(scale, 0)
        factor = 10**scale
        scaled = tuple(int(change.daily_rate * factor) for change in self.rates)
        return tuple(change.effective_from for change in self.rates), scaled, scale


@dataclass(frozen=True)
class ChargeFacts:
    """A posted charge (应收): one fee item for one unit for one period."""

    id: int
    fee_item: str
    period_start: date
    due_date: date
    principal_fen: int
    terms: PenaltyTerms = PenaltyTerms()

    def __post_init__(self) -> None:
        if self.principal_fen <= 0:
            raise ValueError(f"charge {self.id}: principal_fen must be > 0")

    @cached_property
    def penalty_cap_fen(self) -> int | None:
        """The largest whole fen not above k × P (a ceiling, so never rounded up: 1844.8 → 1844);
        None when the contract has no cap."""
        if self.terms.cap_ratio is None:
            return None
        return floor_fen(Decimal(self.principal_fen) * self.terms.cap_ratio)


@dataclass(frozen=True)
class PaymentFacts:
    """A payment (实收) and the charge ids the payer designated, in the payer's order."""

    id: int
    received_on: date
    posted_seq: int
    amount_fen: int
    designations: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.amount_fen <= 0:
            raise ValueError(f"payment {self.id}: amount_fen must be > 0")


@dataclass(frozen=True)
class WaiverFacts:
    """An approved reduction (减免) of one component of a charge, effective at the end of a day."""

    id: int
    charge_id: int
    component: Component
    amount_fen: int
    effective_on: date

    def __post_init__(self) -> None:
        if self.component not in (PRINCIPAL, PENALTY):
            raise ValueError(f"waiver {self.id}: unknown component {self.component!r}")
        if self.amount_fen <= 0:
            raise ValueError(f"waiver {self.id}: amount_fen must be > 0")


@dataclass(frozen=True)
class PrincipalEvent:
    """Principal of a charge reduced (paid or waived) on `on`; it stops accruing from `on` + 1."""

    on: date
    amount_fen: int


# ---------------------------------------------------------------------------------------------
# Results (outputs)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationLine:
    """Part of a payment applied to one component of one charge (核销明细)."""

    payment_id: int
    charge_id: int
    component: Component
    amount_fen: int


@dataclass(frozen=True)
class WaiverLine:
    """What a waiver actually reduced; `excess_fen` is the part beyond what was owed then."""

    waiver_id: int
    charge_id: int
    component: Component
    amount_fen: int
    excess_fen: int


@dataclass(frozen=True)
class ChargePosition:
    """One charge as of a date: the figures of a statement line."""

    charge_id: int
    principal: int
    principal_paid: int
    principal_waived: int
    principal_outstanding: int
    penalty_accrued: int
    penalty_paid: int
    penalty_waived: int
    penalty_outstanding: int
    days_overdue: int

    @property
    def total_outstanding(self) -> int:
        return self.principal_outstanding + self.penalty_outstanding


@dataclass(frozen=True)
class _Entry:
    """A dated reduction of one component of a charge, kept for positions at any date."""

    on: date
    component: Component
    amount_fen: int
    is_waiver: bool


@dataclass(frozen=True)
class LedgerState:
    """The result of a replay: allocations, applied waivers and unapplied credit per payment."""

    allocations: tuple[AllocationLine, ...]
    waivers: tuple[WaiverLine, ...]
    unapplied_by_payment: Mapping[int, int]
    _charges: Mapping[int, ChargeFacts] = field(repr=False, compare=False)
    _entries: Mapping[int, tuple[_Entry, ...]] = field(repr=False, compare=False)
    _received_on: Mapping[int, date] = field(repr=False, compare=False)

    def unapplied_credit_fen(self, as_of: date | None = None) -> int:
        """Credit (预存) left over from payments received on or before `as_of` (all if None).

        A payment's allocation never depends on later payments, so this is the credit the
        account really held at the end of `as_of`."""
        return sum(
            amount
            for payment_id, amount in self.unapplied_by_payment.items()
            if as_of is None or self._received_on[payment_id] <= as_of
        )

    def charge_position(self, charge_id: int, as_of: date) -> ChargePosition:
        """The charge's statement figures at the end of `as_of`."""
        charge = self._charges[charge_id]
        paid = {PRINCIPAL: 0, PENALTY: 0}
        waived = {PRINCIPAL: 0, PENALTY: 0}
        meter = _PenaltyMeter(charge)
        for entry in self._entries[charge_id]:
            if entry.on > as_of:
                break  # entries are in replay (date) order
            (waived if entry.is_waiver else paid)[entry.component] += entry.amount_fen
            if entry.component == PRINCIPAL:
                meter.reduce(entry.on, entry.amount_fen)
        meter.advance_through(as_of)
        accrued = meter.accrued_fen()
        principal_outstanding = charge.principal_fen - paid[PRINCIPAL] - waived[PRINCIPAL]
        penalty_outstanding = max(0, accrued - paid[PENALTY] - waived[PENALTY])
        overdue = as_of > charge.due_date and (principal_outstanding + penalty_outstanding) > 0
        return ChargePosition(
            charge_id=charge_id,
            principal=charge.principal_fen,
            principal_paid=paid[PRINCIPAL],
            principal_waived=waived[PRINCIPAL],
            principal_outstanding=principal_outstanding,
            penalty_accrued=accrued,
            penalty_paid=paid[PENALTY],
            penalty_waived=waived[PENALTY],
            penalty_outstanding=penalty_outstanding,
            days_overdue=(as_of - charge.due_date).days if overdue else 0,
        )

    def principal_days(self, charge_id: int, as_of: date) -> int:
        """Σ_{t = due_date + 1 .. as_of} outstanding_principal(c, t), in fen-days: the principal
        the company went without, day by day (no grace days, no rate, no cap) — the base of
        the penalty reasonableness bound (docs/definitions.md, §6)."""
        charge = replace(self._charges[charge_id], terms=_PRINCIPAL_DAYS_TERMS)
        meter = _PenaltyMeter(charge)
        for entry in self._entries[charge_id]:
            if entry.on > as_of:
                break
            if entry.component == PRINCIPAL:
                meter.reduce(entry.on, entry.amount_fen)
        meter.advance_through(as_of)
        return meter.accrued_fen()

    def positions(self, as_of: date) -> tuple[ChargePosition, ...]:
        """Every charge's position, oldest due first (the statement's order)."""
        ordered = sorted(self._charges.values(), key=_default_order_key)
        return tuple(self.charge_position(charge.id, as_of) for charge in ordered)


# ---------------------------------------------------------------------------------------------
# Penalty
# ---------------------------------------------------------------------------------------------


class _PenaltyMeter:
    """Accrues one charge's penalty forward in time, one segment between breakpoints at a time.

    The work is O(principal reductions + rate changes), never O(days): within a segment both
    the outstanding principal and the rate are constant, so the segment adds
    outstanding × rate × days. The sum is kept exact (integers scaled by 10**scale) and rounded
    once, in `accrued_fen`."""

    __slots__ = (
        "_cap_fen",
        "_index",
        "_next_day",
        "_outstanding",
        "_rates",
        "_scale",
        "_starts",
        "_sum_scaled",
    )

    def __init__(self, charge: ChargeFacts) -> None:
        self._starts, self._rates, self._scale = charge.terms._schedule
        self._cap_fen = charge.penalty_cap_fen
        # Grace days and the due date itself never accrue.
        self._next_day = charge.due_date + timedelta(days=charge.terms.grace_days + 1)
        self._outstanding = charge.principal_fen
        self._sum_scaled = 0
        # Index of the rate in force on _next_day; -1 = before the first change (no rate).
        self._index = bisect_right(self._starts, self._next_day) - 1

    def advance_through(self, day: date) -> None:
        """Add the days from the first day not yet counted through `day`."""
        start = self._next_day
        if day < start:
            return
        self._next_day = day + _ONE_DAY
        if self._outstanding == 0:
            # Outstanding principal never grows again, so nothing more accrues.
            return
        starts, rates, index = self._starts, self._rates, self._index
        last = len(starts) - 1
        while True:
            # Segment end (exclusive): the next rate change, or the day after `day`.
            end = starts[index + 1] if index < last and starts[index + 1] <= day else self._next_day
            if index >= 0:
                self._sum_scaled += self._outstanding * rates[index] * (end - start).days
            if end > day:
                break
            start = end
            index += 1
        self._index = index

    def reduce(self, on: date, amount_fen: int) -> None:
        """Principal reduced at the end of `on`: the day `on` still accrues on the old amount."""
        self.advance_through(on)
        self._outstanding -= amount_fen

    def accrued_fen(self) -> int:
        """The sum rounded once, half up, then capped at the whole fen not above k × P."""
        total = round_half_up(Decimal(f"{self._sum_scaled}E-{self._scale}"))
        if self._cap_fen is not None and total > self._cap_fen:
            return self._cap_fen
        return total


#: A rate of 1 per day: the meter then sums outstanding principal × days exactly.
_PRINCIPAL_DAYS_TERMS = PenaltyTerms(rates=(RateChange(date.min, Decimal(1)),))


def penalty_accrued(
    charge: ChargeFacts, *, principal_events: Iterable[PrincipalEvent], as_of: date
) -> int:
    """accrued(c, as_of): penalty accrued through the end of `as_of`, in fen.

    `principal_events` are the charge's principal reductions (allocations and waivers), each
    effective from the day after its date; events after `as_of` are ignored."""
    meter = _PenaltyMeter(charge)
    principal_left = charge.principal_fen
    for event in sorted(principal_events, key=lambda e: e.on):
        if event.amount_fen < 0:
            raise ValueError("a principal event cannot add principal")
        principal_left -= event.amount_fen
        if principal_left < 0:
            raise ValueError(f"charge {charge.id}: principal events exceed the principal")
        if event.on >= as_of:
            # A reduction on as_of only affects as_of + 1 onwards; later ones even later.
            continue
        meter.reduce(event.on, event.amount_fen)
    meter.advance_through(as_of)
    return meter.accrued_fen()


def aging_bucket(days_overdue: int) -> str | None:
    """The aging bucket label (账龄) for a number of days overdue; None when not overdue."""
    for label, first, last in AGING_BUCKETS:
        if days_overdue >= first and (last is None or days_overdue <= last):
            return label
    return None


# ---------------------------------------------------------------------------------------------
# Allocation replay
# ---------------------------------------------------------------------------------------------


def _default_order_key(charge: ChargeFacts) -> tuple[date, date, int]:
    return charge.due_date, charge.period_start, charge.id


class _ChargeBook:
    """Running state of one charge during the replay."""

    __slots__ = ("charge", "entries", "meter", "penalty_settled", "principal_outstanding")

    def __init__(self, charge: ChargeFacts) -> None:
        self.charge = charge
        self.meter = _PenaltyMeter(charge)
        self.principal_outstanding = charge.principal_fen
        self.penalty_settled = 0  # paid + waived
        self.entries: list[_Entry] = []

    def penalty_outstanding(self, day: date) -> int:
        # accrued(c, day) depends only on reductions of earlier days, all already fed in.
        self.meter.advance_through(day)
        return self.meter.accrued_fen() - self.penalty_settled

    def outstanding(self, component: Component, day: date) -> int:
        if component == PRINCIPAL:
            return self.principal_outstanding
        return self.penalty_outstanding(day)

    def reduce(self, component: Component, day: date, amount_fen: int, *, is_waiver: bool) -> None:
        if component == PRINCIPAL:
            self.principal_outstanding -= amount_fen
            self.meter.reduce(day, amount_fen)
        else:
            self.penalty_settled += amount_fen
        self.entries.append(_Entry(day, component, amount_fen, is_waiver))

    def settled(self, day: date) -> bool:
        """Nothing owed at the end of `day`. Final: with no principal nothing accrues again."""
        return self.principal_outstanding == 0 and self.penalty_outstanding(day) == 0


_COMPONENT_ORDER: Mapping[AllocationOrder, tuple[Component, Component]] = {
    PENALTY_FIRST: (PENALTY, PRINCIPAL),
    PRINCIPAL_FIRST: (PRINCIPAL, PENALTY),
}


def _payment_allocate(
    payment: PaymentFacts,
    open_books: dict[int, _ChargeBook],
    allocations: list[AllocationLine],
) -> int:
    """Apply one payment on its received date; returns what is left over (unapplied credit)."""
    day = payment.received_on
    remaining = payment.amount_fen

    def pay(book: _ChargeBook) -> bool:
        """Pay what `book` owes on `day` from `remaining`; True when it is settled."""
        nonlocal remaining
        for component in _COMPONENT_ORDER[book.charge.terms.order]:
            amount = min(remaining, book.outstanding(component, day))
            if amount:
                book.reduce(component, day, amount, is_waiver=False)
                allocations.append(AllocationLine(payment.id, book.charge.id, component, amount))
                remaining -= amount
        return book.settled(day)

    # dict.fromkeys: a charge designated twice is paid once, at its first place. A designated
    # charge that is already settled is skipped; the money goes on in the default order.
    for charge_id in dict.fromkeys(payment.designations):
        if not remaining:
            break
        if charge_id in open_books and pay(open_books[charge_id]):
            del open_books[charge_id]
    if remaining:
        settled_ids = []
        for charge_id, book in open_books.items():
            if pay(book):
                settled_ids.append(charge_id)
            if not remaining:
                break
        for charge_id in settled_ids:
            del open_books[charge_id]
    return remaining


def ledger_replay(
    *,
    charges: Iterable[ChargeFacts],
    payments: Iterable[PaymentFacts],
    waivers: Iterable[WaiverFacts] = (),
) -> LedgerState:
    """Replay an account's payments and waivers against its charges, in date order.

    Payments go in order of received date, then posted_seq (then id, so the result never
    depends on the order of the input); waivers effective on a day apply before that day's
    payments. Each payment pays its designated charges first, in the payer's order, then the
    rest oldest due first; within a charge penalty then principal (or the contract's order)."""
    books: dict[int, _ChargeBook] = {}
    for charge in sorted(charges, key=_default_order_key):
        if charge.id in books:
            raise ValueError(f"charge {charge.id} given twice")
        books[charge.id] = _ChargeBook(charge)
    # Charges with anything owed, oldest due first; a settled charge leaves for good, so each
    # payment visits only the charges it settles plus one.
    open_books: dict[int, _ChargeBook] = dict(books)

    payment_list = list(payments)
    waiver_list = list(waivers)
    if len({p.id for p in payment_list}) != len(payment_list):
        raise ValueError("a payment id is given twice")
    if len({w.id for w in waiver_list}) != len(waiver_list):
        raise ValueError("a waiver id is given twice")
    for waiver in waiver_list:
        if waiver.charge_id not in books:
            raise ValueError(f"waiver {waiver.id}: unknown charge {waiver.charge_id}")
    for payment in payment_list:
        for charge_id in payment.designations:
            if charge_id not in books:
                raise ValueError(f"payment {payment.id}: designates unknown charge {charge_id}")

    events: list[tuple[tuple[date, int, int, int], PaymentFacts | WaiverFacts]] = [
        ((w.effective_on, 0, 0, w.id), w) for w in waiver_list
    ]
    events.extend(((p.received_on, 1, p.posted_seq, p.id), p) for p in payment_list)
    events.sort(key=lambda pair: pair[0])

    allocations: list[AllocationLine] = []
    waiver_lines: list[WaiverLine] = []
    unapplied: dict[int, int] = {}

    for _, event in events:
        if isinstance(event, WaiverFacts):
            book = books[event.charge_id]
            day = event.effective_on
            applied = min(event.amount_fen, book.outstanding(event.component, day))
            if applied:
                book.reduce(event.component, day, applied, is_waiver=True)
            waiver_lines.append(
                WaiverLine(
                    event.id, event.charge_id, event.component, applied, event.amount_fen - applied
                )
            )
            if book.settled(day):
                open_books.pop(book.charge.id, None)
            continue

        unapplied[event.id] = _payment_allocate(event, open_books, allocations)

    return LedgerState(
        allocations=tuple(allocations),
        waivers=tuple(waiver_lines),
        unapplied_by_payment=unapplied,
        _charges={charge_id: book.charge for charge_id, book in books.items()},
        _entries={charge_id: tuple(book.entries) for charge_id, book in books.items()},
        _received_on={p.id: p.received_on for p in payment_list},
    )
