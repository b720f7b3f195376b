"""Reads of the report pages (报表): thin compositions of `propfee.ledger.rates`, which owns every
rule and every figure; this module only chooses the rows (estates, buildings, months) and
narrows the arrears list the way the page asks.

Every function is scoped to `user` through the rates selectors (the units the user may see)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from propfee.billing.periods import months_add, period_label, period_parse
from propfee.core.models import User
from propfee.estates.models import Building, Estate
from propfee.estates.selectors import buildings_visible_to, estates_visible_to
from propfee.ledger.rates import (
    CollectionRate,
    UnitArrears,
    arrears_by_unit,
    arrears_clearance_rate,
    current_period_rate,
    household_rate,
    overall_rate,
)

#: The orders of the arrears list (欠费明细): key → (sort key, descending).
ARREARS_ORDERS = ("-amount", "amount", "-days", "days")


@dataclass(frozen=True)
class RateRow:
    """The four collection rates of one estate, one building or the whole scope (合计)."""

    label: str
    current: CollectionRate
    clearance: CollectionRate
    overall: CollectionRate
    household: CollectionRate
    is_total: bool = False

    @property
    def rates(self) -> tuple[CollectionRate, ...]:
        return (self.current, self.clearance, self.overall, self.household)


@dataclass(frozen=True)
class TrendPoint:
    """当期收缴率 of one billing month (收缴率走势)."""

    period: str
    rate: CollectionRate


def collection_rates(
    *,
    user: User,
    label: str,
    period: str,
    as_of: dt.date,
    start: dt.date,
    end: dt.date,
    estate: Estate | None = None,
    building: Building | None = None,
    is_total: bool = False,
) -> RateRow:
    """当期收缴率 and 户数收缴率 of month `period` on `as_of`, 清欠率 and 综合收缴率 of the window
    [start, end]. Eight queries (the rates selectors' own counts)."""
    return RateRow(
        label=label,
        current=current_period_rate(
            user=user, period=period, as_of=as_of, estate=estate, building=building
        ),
        clearance=arrears_clearance_rate(
            user=user, start=start, end=end, estate=estate, building=building
        ),
        overall=overall_rate(user=user, start=start, end=end, estate=estate, building=building),
        household=household_rate(
            user=user, period=period, as_of=as_of, estate=estate, building=building
        ),
        is_total=is_total,
    )


def report_estates(*, user: User) -> QuerySet[Estate]:
    """The estates a report may be narrowed to, by code."""
    return estates_visible_to(user).order_by("code")


def report_buildings(*, user: User, estate: Estate) -> QuerySet[Building]:
    """The buildings of `estate` the user may see, by code."""
    return buildings_visible_to(user).filter(estate_id=estate.pk).order_by("code")


def collection_rate_rows(
    *,
    user: User,
    period: str,
    as_of: dt.date,
    start: dt.date,
    end: dt.date,
    estate: Estate | None = None,
) -> list[RateRow]:
    """The rate table of the 收缴率 page: without `estate`, one row per visible estate; with
    it, one row per visible building of it; then the total (合计) of the same scope.

    The rates selectors answer for one scope at a time, so this costs eight queries a row; the
    rows are the user's estates, or the buildings of one estate (tens, not thousands)."""

    def row(label: str, building: Building | None = None, is_total: bool = False) -> RateRow:
        return collection_rates(
            user=user,
            label=label,
            period=period,
            as_of=as_of,
            start=start,
            end=end,
            estate=estate,
            building=building,
            is_total=is_total,
        )

    rows: list[RateRow] = []
    if estate is None:
        for each in report_estates(user=user):
            rows.append(
                collection_rates(
                    user=user,
                    label=each.name,
                    period=period,
                    as_of=as_of,
                    start=start,
                    end=end,
                    estate=each,
                )
            )
    else:
        rows += [
            row(building.name, building) for building in report_buildings(user=user, estate=estate)
        ]
    rows.append(row("合计", is_total=True))
    return rows


def current_rate_trend(
    *,
    user: User,
    period: str,
    as_of: dt.date,
    months: int = 12,
    estate: Estate | None = None,
    building: Building | None = None,
) -> list[TrendPoint]:
    """当期收缴率 of the `months` billing months ending with `period`, oldest first, each on
    `as_of`. Two queries a month."""
    last = period_parse(period)
    points = []
    for back in range(months - 1, -1, -1):
        month = period_label(months_add(last, -back))
        rate = current_period_rate(
            user=user, period=month, as_of=as_of, estate=estate, building=building
        )
        points.append(TrendPoint(period=month, rate=rate))
    return points


def arrears_list(
    *,
    user: User,
    as_of: dt.date,
    estate: Estate | None = None,
    building: Building | None = None,
    code: str = "",
    buckets: Sequence[str] = (),
    order: str = "-amount",
) -> list[UnitArrears]:
    """The arrears by unit (欠费明细) on `as_of`, narrowed to unit codes containing `code`
    (case-insensitive) and to the aging `buckets` given, in `order` (ARREARS_ORDERS: amount
    or days overdue, `-` most first; ties by unit code). One query."""
    rows = arrears_by_unit(user=user, as_of=as_of, estate=estate, building=building)
    needle = code.strip().upper()
    if needle:
        rows = [row for row in rows if needle in row.code.upper()]
    if buckets:
        rows = [row for row in rows if row.bucket in buckets]
    if order not in ARREARS_ORDERS:
        order = "-amount"
    descending = order.startswith("-")
    if order.lstrip("-") == "days":
        rows.sort(key=lambda row: row.code)
        rows.sort(key=lambda row: row.days_overdue, reverse=descending)
    else:
        rows.sort(key=lambda row: row.code)
        rows.sort(key=lambda row: row.principal_overdue_fen, reverse=descending)
    return rows
