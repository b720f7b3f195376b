"""Billing reads that carry a rule: which tariff and which contract terms are in force on a day,
and what a billing run charged, by building."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum

from propfee.billing.models import BillingRun, Charge, ContractVersion, FeeItem, Tariff
from propfee.billing.periods import months_between
from propfee.core.models import User
from propfee.estates.models import Estate
from propfee.estates.selectors import estates_visible_to


def _in_force(on: dt.date) -> Q:
    return Q(effective_from__lte=on) & (Q(effective_to__isnull=True) | Q(effective_to__gte=on))


def tariff_for(*, fee_item: FeeItem, estate: Estate, unit_type: str, on: dt.date) -> Tariff | None:
    """The tariff of `fee_item` for `unit_type` units of `estate` in force on `on`."""
    return (
        Tariff.objects.filter(fee_item=fee_item, estate=estate, unit_type=unit_type)
        .filter(_in_force(on))
        .order_by("-effective_from")
        .first()
    )


def tariffs_in_force(*, estate: Estate, on: dt.date) -> QuerySet[Tariff]:
    """Every tariff of `estate` in force on `on` (one per fee item and unit type)."""
    return (
        Tariff.objects.filter(estate=estate)
        .filter(_in_force(on))
        .select_related("fee_item")
        .order_by("fee_item__code", "unit_type", "effective_from")
    )


def contract_terms_on(*, estate: Estate, day: dt.date) -> ContractVersion | None:
    """The contract version of `estate` in force on `day`: the latest one that started by then."""
    return (
        ContractVersion.objects.filter(contract__estate=estate, effective_from__lte=day)
        .select_related("contract")
        .order_by("-effective_from")
        .first()
    )


def billing_cycle_starts(*, terms: ContractVersion, period_start: dt.date) -> bool:
    """Whether the month of `period_start` starts a billing cycle of `terms`. Cycles count from
    the version's first month; bills cover a whole cycle in advance, so the other months of a
    cycle bill nothing."""
    return months_between(terms.effective_from, period_start) % terms.billing_cycle_months == 0


@dataclass(frozen=True)
class BuildingBilling:
    """Charges of one building in a run or a preview."""

    building_code: str
    building_name: str
    charge_count: int
    total_fen: int


def billing_run_buildings(*, run: BillingRun) -> list[BuildingBilling]:
    """The charges a posted run created, counted and summed by building (one query)."""
    rows = (
        run.charges.order_by()
        .values("unit__building__code", "unit__building__name")
        .annotate(count=Count("pk"), total=Sum("principal_fen"))
        .order_by("unit__building__code")
    )
    return [
        BuildingBilling(
            r["unit__building__code"], r["unit__building__name"], r["count"], r["total"] or 0
        )
        for r in rows
    ]


def billing_runs_visible_to(user: User) -> QuerySet[BillingRun]:
    """The billing runs of the estates `user` may see, newest month first."""
    return (
        BillingRun.objects.filter(estate__in=estates_visible_to(user))
        .select_related("estate", "created_by", "reversed_by")
        .order_by("-period_start", "-id")
    )


def billing_run_charges(*, run: BillingRun) -> QuerySet[Charge]:
    """The charges a run created, by building and unit code."""
    return run.charges.select_related("unit", "unit__building", "fee_item", "payer").order_by(
        "unit__building__code", "unit__code", "fee_item__code"
    )


# --- fee set-up (收费设置) --------------------------------------------------------------------


def fee_items_of(*, company_id: int) -> QuerySet[FeeItem]:
    return FeeItem.objects.filter(company_id=company_id).order_by("code")


def tariffs_of(*, estate: Estate) -> QuerySet[Tariff]:
    """Every tariff of `estate`, current and past, grouped by fee item and unit type."""
    return (
        Tariff.objects.filter(estate=estate)
        .select_related("fee_item", "estate")
        .order_by("fee_item__code", "unit_type", "-effective_from")
    )


def contract_versions_of(*, estate: Estate) -> QuerySet[ContractVersion]:
    """The contract terms of `estate`, newest first."""
    return ContractVersion.objects.filter(contract__estate=estate).order_by("-effective_from")
