"""Ledger reads: the engine's facts for a set of units (charges with their contract's penalty
terms, recorded payments, active waivers) and the allocations stored as current, loaded a fixed
number of queries for any number of units."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from propfee.billing.models import Charge, ContractVersion
from propfee.ledger.constants import WaiverStatus
from propfee.ledger.engine import (
    ChargeFacts,
    LedgerState,
    PaymentFacts,
    PenaltyTerms,
    RateChange,
    WaiverFacts,
    ledger_replay,
)
from propfee.ledger.models import Allocation, Waiver
from propfee.payments.constants import PaymentStatus
from propfee.payments.models import Payment

#: (payment id, charge id, component, amount in fen): one allocation as compared and stored.
AllocationKey = tuple[int, int, str, int]


@dataclass
class AccountFacts:
    """Everything the engine needs to replay one unit's account (房屋账户)."""

    unit_id: int
    charges: list[ChargeFacts] = field(default_factory=list)
    payments: list[PaymentFacts] = field(default_factory=list)
    waivers: list[WaiverFacts] = field(default_factory=list)

    def replay(self, *, extra_waivers: Iterable[WaiverFacts] = ()) -> LedgerState:
        return ledger_replay(
            charges=self.charges,
            payments=self.payments,
            waivers=[*self.waivers, *extra_waivers],
        )


class _EstateTerms:
    """The penalty terms of an estate's charges. The daily rate follows every contract version
    over time (the engine's RateChange schedule); grace days, cap and allocation order are those
    of the version in force on the charge's first day, as billing prices a period (the first
    version for a charge older than the contract)."""

    def __init__(self, versions: list[ContractVersion]) -> None:
        rates = tuple(RateChange(v.effective_from, v.penalty_daily_rate) for v in versions)
        self._starts = [v.effective_from for v in versions]
        self._terms = [
            PenaltyTerms(
                rates=rates,
                grace_days=v.grace_days,
                cap_ratio=v.penalty_cap_ratio,
                order=v.allocation_order,  # type: ignore[arg-type]  # same values as the engine
            )
            for v in versions
        ]

    def on(self, day: dt.date) -> PenaltyTerms:
        if not self._terms:
            return PenaltyTerms(rates=())  # no contract: no penalty (it exists only by contract)
        return self._terms[max(bisect_right(self._starts, day) - 1, 0)]


def account_facts(*, unit_ids: Iterable[int]) -> dict[int, AccountFacts]:
    """The engine's facts for each of `unit_ids`, in four queries whatever their number."""
    ids = sorted(set(unit_ids))
    accounts = {unit_id: AccountFacts(unit_id) for unit_id in ids}
    if not ids:
        return accounts
    charges = list(
        Charge.objects.filter(unit_id__in=ids)
        .order_by()
        .values_list(
            "pk",
            "unit_id",
            "unit__estate_id",
            "fee_item_id",
            "period_start",
            "due_date",
            "principal_fen",
        )
    )
    estate_ids = {row[2] for row in charges}
    versions: dict[int, list[ContractVersion]] = defaultdict(list)
    for version in (
        ContractVersion.objects.filter(contract__estate_id__in=estate_ids)
        .order_by("effective_from")
        .select_related("contract")
    ):
        versions[version.contract.estate_id].append(version)
    terms = {estate_id: _EstateTerms(versions[estate_id]) for estate_id in estate_ids}
    for pk, unit_id, estate_id, fee_item_id, period_start, due_date, principal_fen in charges:
        accounts[unit_id].charges.append(
            ChargeFacts(
                id=pk,
                fee_item=str(fee_item_id),
                period_start=period_start,
                due_date=due_date,
                principal_fen=principal_fen,
                terms=terms[estate_id].on(period_start),
            )
        )
    payments = (
        Payment.objects.filter(unit_id__in=ids, status=PaymentStatus.RECORDED)
        .order_by()
        .values_list("pk", "unit_id", "received_on", "amount_fen", "designations")
    )
    for pk, unit_id, received_on, amount_fen, designations in payments:
        accounts[unit_id].payments.append(
            PaymentFacts(
                id=pk,
                received_on=received_on,
                posted_seq=pk,
                amount_fen=amount_fen,
                designations=tuple(int(charge_id) for charge_id in designations or ()),
            )
        )
    waivers = (
        Waiver.objects.filter(charge__unit_id__in=ids, status=WaiverStatus.ACTIVE)
        .order_by()
        .values_list(
            "pk", "charge__unit_id", "charge_id", "component", "amount_fen", "effective_on"
        )
    )
    for pk, unit_id, charge_id, component, amount_fen, effective_on in waivers:
        accounts[unit_id].waivers.append(
            WaiverFacts(
                id=pk,
                charge_id=charge_id,
                component=component,  # type: ignore[arg-type]  # Component values
                amount_fen=amount_fen,
                effective_on=effective_on,
            )
        )
    return accounts


def allocations_current(*, unit_ids: Iterable[int]) -> dict[int, Counter[AllocationKey]]:
    """The stored current allocations of each unit, as a multiset of AllocationKey (one query)."""
    ids = sorted(set(unit_ids))
    stored: dict[int, Counter[AllocationKey]] = {unit_id: Counter() for unit_id in ids}
    rows = (
        Allocation.objects.filter(charge__unit_id__in=ids, superseded_at__isnull=True)
        .order_by()
        .values_list("charge__unit_id", "payment_id", "charge_id", "component", "amount_fen")
    )
    for unit_id, payment_id, charge_id, component, amount_fen in rows:
        stored[unit_id][(payment_id, charge_id, component, amount_fen)] += 1
    return stored


def allocations_expected(state: LedgerState) -> Counter[AllocationKey]:
    """The engine's allocations as a multiset of AllocationKey."""
    return Counter(
        (line.payment_id, line.charge_id, line.component, line.amount_fen)
        for line in state.allocations
    )
