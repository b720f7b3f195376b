"""Prefetches the staff lists need, so a page or an export costs the same number of queries
whatever its length (no query per row)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from propfee.core.models import User
from propfee.estates.models import Occupancy, Party, PartyPhone, Unit
from propfee.estates.selectors import units_visible_to

CURRENT_OCCUPANCIES = "current_occupancies"


def units_with_current_occupants(units: QuerySet[Unit]) -> QuerySet[Unit]:
    """Each unit's current occupancies (payer first) with their party and phones, as
    `unit.current_occupancies`."""
    occupancies = (
        Occupancy.objects.filter(until__isnull=True)
        .select_related("party")
        .prefetch_related(
            Prefetch("party__phones", queryset=PartyPhone.objects.order_by("position"))
        )
        .order_by("-is_payer", "since", "pk")
    )
    return units.prefetch_related(
        Prefetch("occupancies", queryset=occupancies, to_attr=CURRENT_OCCUPANCIES)
    )


def parties_with_current_units(parties: QuerySet[Party], user: User) -> QuerySet[Party]:
    """Each party's current occupancies of units the user may see (never units outside the
    user's scope), as `party.current_occupancies`."""
    occupancies = (
        Occupancy.objects.filter(until__isnull=True, unit__in=units_visible_to(user).values("pk"))
        .select_related("unit")
        .order_by("unit__code", "pk")
    )
    return parties.prefetch_related(
        Prefetch("occupancies", queryset=occupancies, to_attr=CURRENT_OCCUPANCIES)
    )


def payer_of(unit: Unit) -> Party | None:
    """The current payer among the prefetched occupancies (None if not prefetched)."""
    for occupancy in getattr(unit, CURRENT_OCCUPANCIES, ()):
        if occupancy.is_payer:
            return occupancy.party
    return None


def phones_of(party: Party | None) -> list[str]:
    if party is None:
        return []
    return [phone.number for phone in party.phones.all()]
