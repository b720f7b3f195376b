"""个人信息保存期限 (retention of personal data): which parties have left, owe nothing and are past
their company's retention period, so their personal data may be removed (个人信息保护法 arts.
19, 47). The rule reads the ledger, so it lives here; `propfee.collection.privacy` acts on it.

A party is past retention on `as_of` when
- it has occupancies and every one of them has ended (`until` set);
- nothing is owed on any charge it was the payer of: no principal outstanding (SQL) and no
  penalty outstanding (the engine's replay, as statements compute it);
- `as_of` ≥ the retention start + the company's `personal_data_retention_years`, where the
  retention start is the latest of: its last occupancy end, the received date of the last
  payment allocated to its charges, the effective date of the last waiver on them.

Set-based: one query narrows the candidates and reads their dates, then the engine replays the
candidates' units in batches of a fixed number of queries each."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery

from propfee.billing.models import Charge
from propfee.core.bulk import many_values
from propfee.estates.models import Company, Occupancy, Party
from propfee.ledger.constants import WaiverStatus
from propfee.ledger.models import Allocation, Waiver
from propfee.ledger.rates import principal_outstanding_by_charge
from propfee.ledger.selectors import account_facts
from propfee.payments.constants import PaymentStatus

#: Parties whose units are replayed together (a fixed number of queries per batch).
BATCH_SIZE = 500


@dataclass(frozen=True)
class PartyRetention:
    """A departed party that owes nothing: when its retention period started and ends."""

    party_id: int
    retention_from: dt.date
    retention_until: dt.date


def years_after(day: dt.date, years: int) -> dt.date:
    """`day` plus whole years; 29 February goes to 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _departed_settled_candidates(*, company: Company, as_of: dt.date, years: int) -> QuerySet:
    """Parties of `company` not yet anonymised, every occupancy ended, no principal outstanding
    on their charges, annotated with their three retention dates (one query)."""
    current = Occupancy.objects.filter(party_id=OuterRef("pk"), until__isnull=True)
    owing = principal_outstanding_by_charge(
        Charge.objects.filter(payer_id=OuterRef("pk")), as_of=as_of
    ).filter(Q(principal_outstanding_fen__gt=0))
    last_until = (
        Occupancy.objects.filter(party_id=OuterRef("pk"))
        .order_by()
        .values("party_id")
        .annotate(m=Max("until"))
        .values("m")
    )
    last_paid = (
        Allocation.objects.filter(
            charge__payer_id=OuterRef("pk"),
            superseded_at__isnull=True,
            payment__status=PaymentStatus.RECORDED,
            payment__received_on__lte=as_of,
        )
        .order_by()
        .values("charge__payer_id")
        .annotate(m=Max("payment__received_on"))
        .values("m")
    )
    last_waived = (
        Waiver.objects.filter(
            charge__payer_id=OuterRef("pk"),
            status=WaiverStatus.ACTIVE,
            effective_on__lte=as_of,
        )
        .order_by()
        .values("charge__payer_id")
        .annotate(m=Max("effective_on"))
        .values("m")
    )
    return (
        Party.objects.filter(company=company, anonymised_at__isnull=True)
        .filter(Exists(Occupancy.objects.filter(party_id=OuterRef("pk"))))
        .exclude(Exists(current))
        .exclude(Exists(owing))
        .annotate(
            last_until=Subquery(last_until[:1]),
            last_paid=Subquery(last_paid[:1]),
            last_waived=Subquery(last_waived[:1]),
        )
        # Necessary, not sufficient: the occupancy end alone must be past the period already.
        .filter(last_until__lte=years_after(as_of, -years))
        .order_by("pk")
    )


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _without_penalty_owed(party_ids: list[int], *, as_of: dt.date) -> set[int]:
    """Those of `party_ids` with no penalty outstanding on any charge they were payer of, by
    the engine's replay of the units concerned (as their statements show it)."""
    charges_of: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for charge_id, unit_id, payer_id in (
        Charge.objects.filter(payer_id__in=many_values(party_ids))
        .order_by()
        .values_list("pk", "unit_id", "payer_id")
    ):
        charges_of[payer_id].append((charge_id, unit_id))
    unit_ids = {unit_id for charges in charges_of.values() for _charge, unit_id in charges}
    states = {
        unit_id: facts.replay()
        for unit_id, facts in account_facts(unit_ids=unit_ids, as_of=as_of).items()
    }
    return {
        party_id
        for party_id in party_ids
        if all(
            states[unit_id].charge_position(charge_id, as_of).total_outstanding == 0
            for charge_id, unit_id in charges_of.get(party_id, [])
        )
    }


def parties_past_retention(*, company: Company, as_of: dt.date) -> list[PartyRetention]:
    """The parties of `company` whose personal data may be removed on `as_of` (module
    docstring), in id order."""
    years = company.personal_data_retention_years
    rows = _departed_settled_candidates(company=company, as_of=as_of, years=years).values_list(
        "pk", "last_until", "last_paid", "last_waived"
    )
    due: dict[int, PartyRetention] = {}
    for party_id, *dates in rows:
        start = max(d for d in dates if d is not None)
        until = years_after(start, years)
        if until <= as_of:
            due[party_id] = PartyRetention(party_id, start, until)
    eligible: list[PartyRetention] = []
    for batch in _batches(sorted(due), BATCH_SIZE):
        settled = _without_penalty_owed(batch, as_of=as_of)
        eligible.extend(due[party_id] for party_id in batch if party_id in settled)
    return eligible
