"""Selectors for arrears, aging and collection rates (欠费、账龄、收缴率).

Every figure is a set-based SQL aggregate (a fixed number of queries whatever the number of
units) over the stored current allocations (核销, `superseded_at` NULL), the active waivers and
the charges of the units the user may see (`units_visible_to`), optionally narrowed to one
estate or building. The rules are design.md "Arrears and aging" and "Collection rates"; the
choices the design leaves open are written down, with a worked example, in
docs/definitions.md ("收缴率 / Collection rates").

Principal only: the penalty (违约金) of a charge needs the engine's day-by-day replay and is
reported by the unit statement, not here.

Decisions shared by every selector:
- A payment counts on its received date (`received_on`), for as-of dates in the past too, as
  the replay does: a backdated bank transfer counts from the day it was received.
- A reversed payment (冲销) is out of the replay, so it is excluded entirely, even for an
  as-of date before its reversal (its allocations are superseded anyway).
- A principal waiver (减免) counts from its `effective_on` date while it is active.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from propfee.billing.models import Charge
from propfee.billing.periods import months_add, period_parse
from propfee.core.models import User
from propfee.estates.models import Building, Estate, Unit
from propfee.estates.selectors import units_visible_to
from propfee.ledger.constants import Component, WaiverStatus
from propfee.ledger.engine import AGING_BUCKETS
from propfee.ledger.models import Allocation, Waiver
from propfee.payments.constants import PaymentStatus
from propfee.payments.models import Payment

_ONE_DAY = dt.timedelta(days=1)
_RATIO_PLACES = 4


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitArrears:
    """One unit's overdue principal on the as-of date (欠费台账一行)."""

    unit_id: int
    code: str
    principal_overdue_fen: int
    months_owed: int
    oldest_due_date: dt.date
    days_overdue: int
    bucket: str


@dataclass(frozen=True)
class BuildingArrears:
    """One building's overdue principal (按楼栋欠费)."""

    building_id: int
    code: str
    name: str
    units: int
    charges: int
    principal_overdue_fen: int


@dataclass(frozen=True)
class AgingBucket:
    """One aging bucket (账龄段): overdue charges by days overdue, `max_days` None = no end."""

    label: str
    min_days: int
    max_days: int | None
    charges: int
    units: int
    principal_fen: int


@dataclass(frozen=True)
class CollectionRate:
    """A collection rate (收缴率): numerator ÷ denominator, in fen (or in units for 户数收缴率),
    and the ratio rounded half up to 4 places, None when the denominator is 0."""

    kind: str
    label: str
    numerator: int
    denominator: int
    ratio: Decimal | None

    @property
    def percent(self) -> str:
        """'87.50%' or '—'."""
        if self.ratio is None:
            return "—"
        return f"{(self.ratio * 100).quantize(Decimal('0.01'))}%"


def ratio(numerator: int, denominator: int) -> Decimal | None:
    """numerator ÷ denominator rounded half up to 4 places, exactly (integer arithmetic)."""
    if denominator == 0:
        return None
    scale = 10**_RATIO_PLACES
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    num, den = abs(numerator), abs(denominator)
    quotient = (2 * num * scale + den) // (2 * den)
    return Decimal(sign * quotient).scaleb(-_RATIO_PLACES)


# --- building blocks -------------------------------------------------------------------------


def charges_in_scope(
    *, user: User, estate: Estate | None = None, building: Building | None = None
) -> QuerySet[Charge]:
    """The charges of the units `user` may see, narrowed to an estate or a building."""
    units = units_visible_to(user)
    if estate is not None:
        units = units.filter(estate_id=estate.pk)
    if building is not None:
        units = units.filter(building_id=building.pk)
    return Charge.objects.filter(unit_id__in=units.order_by().values("pk"))


def _principal_allocations(*, received_from: dt.date | None, received_to: dt.date) -> Q:
    """Current principal allocations of recorded payments received in [from, to]."""
    q = Q(
        superseded_at__isnull=True,
        component=Component.PRINCIPAL,
        payment__status=PaymentStatus.RECORDED,
        payment__received_on__lte=received_to,
    )
    if received_from is not None:
        q &= Q(payment__received_on__gte=received_from)
    return q


def _principal_waivers(*, as_of: dt.date) -> Q:
    return Q(status=WaiverStatus.ACTIVE, component=Component.PRINCIPAL, effective_on__lte=as_of)


def _sum_per_charge(queryset: QuerySet[Any]) -> Coalesce:
    summed = (
        queryset.filter(charge_id=OuterRef("pk"))
        .order_by()
        .values("charge_id")
        .annotate(total=Sum("amount_fen"))
        .values("total")
    )
    return Coalesce(Subquery(summed, output_field=IntegerField()), Value(0))


def principal_outstanding_by_charge(
    charges: QuerySet[Charge], *, as_of: dt.date
) -> QuerySet[Charge]:
    """`charges` annotated with `principal_paid_fen`, `principal_waived_fen` and
    `principal_outstanding_fen` on `as_of`:

        outstanding = principal − principal allocated from recorded payments received ≤ as_of
                                − principal waived by active waivers effective ≤ as_of

    Reversed payments are left out entirely (they are out of the replay)."""
    paid = _sum_per_charge(
        Allocation.objects.filter(_principal_allocations(received_from=None, received_to=as_of))
    )
    waived = _sum_per_charge(Waiver.objects.filter(_principal_waivers(as_of=as_of)))
    return charges.annotate(
        principal_paid_fen=paid,
        principal_waived_fen=waived,
    ).annotate(
        principal_outstanding_fen=F("principal_fen")
        - F("principal_paid_fen")
        - F("principal_waived_fen")
    )


# --- arrears and aging -----------------------------------------------------------------------


def _scope_units_sql(
    *, user: User, estate: Estate | None, building: Building | None
) -> tuple[str, list[Any]]:
    """The SQL of the ids of the units `charges_in_scope` covers, with its params."""
    units = units_visible_to(user)
    if estate is not None:
        units = units.filter(estate_id=estate.pk)
    if building is not None:
        units = units.filter(building_id=building.pk)
    sql, params = units.order_by().values("pk").query.sql_with_params()
    return sql, list(params)


def _overdue_sql(
    *,
    user: User,
    as_of: dt.date,
    estate: Estate | None,
    building: Building | None,
    columns: str,
    group_by: str,
    order_by: str,
    joins: str = "",
    column_params: Sequence[Any] = (),
) -> tuple[str, list[Any]]:
    """One aggregate over the charges `_overdue` selects, as `o`: `o.id`, `o.unit_id`,
    `o.due_date`, `o.period_start` and `o.owed` (principal outstanding on `as_of`, > 0).

    The outstanding principal is `principal_outstanding_by_charge`'s, but the allocations and
    the waivers are summed once per charge in grouped derived tables joined to the charges,
    instead of correlated subqueries that the database would run for every charge in the
    filter and again for every overdue charge in the sum. Only the overdue charges in scope
    are summed (the derived tables start from them)."""
    scope, scope_params = _scope_units_sql(user=user, estate=estate, building=building)
    charge = _table(Charge)
    in_scope = f"c.due_date < %s AND c.unit_id IN ({scope})"
    scoped = [as_of, *scope_params]
    sql = (
        "WITH paid AS ("
        " SELECT a.charge_id, SUM(a.amount_fen) AS fen"
        f" FROM {charge} c JOIN {_table(Allocation)} a ON a.charge_id = c.id"
        f" JOIN {_table(Payment)} p ON p.id = a.payment_id"
        f" WHERE {in_scope} AND a.superseded_at IS NULL AND a.component = %s"
        " AND p.status = %s AND p.received_on <= %s GROUP BY a.charge_id),"
        " waived AS ("
        " SELECT w.charge_id, SUM(w.amount_fen) AS fen"
        f" FROM {charge} c JOIN {_table(Waiver)} w ON w.charge_id = c.id"
        f" WHERE {in_scope} AND w.status = %s AND w.component = %s AND w.effective_on <= %s"
        " GROUP BY w.charge_id),"
        " owed AS ("
        " SELECT c.id, c.unit_id, c.due_date, c.period_start,"
        " c.principal_fen - COALESCE(paid.fen, 0) - COALESCE(waived.fen, 0) AS owed"
        f" FROM {charge} c LEFT JOIN paid ON paid.charge_id = c.id"
        f" LEFT JOIN waived ON waived.charge_id = c.id WHERE {in_scope}) "
        f"SELECT {columns} FROM owed o{joins} WHERE o.owed > 0"
        f" GROUP BY {group_by} ORDER BY {order_by}"
    )
    params = [
        *scoped,
        Component.PRINCIPAL.value,
        PaymentStatus.RECORDED.value,
        as_of,
        *scoped,
        WaiverStatus.ACTIVE.value,
        Component.PRINCIPAL.value,
        as_of,
        *scoped,
        *column_params,  # the SELECT list follows the WITH clause
    ]
    return sql, params


def _month(column: str) -> str:
    """The billing month of a date column, native to the database (not Django's TruncMonth,
    which SQLite runs as a Python function for every row)."""
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column})"
    return f"substr({column}, 1, 7)"  # SQLite keeps dates as 'YYYY-MM-DD'


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    adapt = connection.ops.adapt_datefield_value
    values = [adapt(v) if isinstance(v, dt.date) else v for v in params]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.fetchall()


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _as_date(value: Any) -> dt.date:
    """A date column as SQLite (text) or PostgreSQL (date) returns it."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _bucket_for(days: int) -> str:
    for label, first, last in AGING_BUCKETS:
        if days >= first and (last is None or days <= last):
            return label
    raise ValueError(f"not overdue: {days}")


def arrears_by_unit(
    *,
    user: User,
    as_of: dt.date,
    estate: Estate | None = None,
    building: Building | None = None,
) -> list[UnitArrears]:
    """The units with overdue principal on `as_of` (欠费台账), most owed first: principal
    overdue, months owed (distinct billing months of the overdue charges), the oldest overdue
    due date, its days overdue and aging bucket. One query.

    Principal only: penalty per unit needs the engine's replay and comes with the statement
    (`statement_for_unit`)."""
    sql, params = _overdue_sql(
        user=user,
        as_of=as_of,
        estate=estate,
        building=building,
        columns=(
            f"o.unit_id, u.code, SUM(o.owed), COUNT(DISTINCT {_month('o.period_start')}),"
            " MIN(o.due_date)"
        ),
        joins=f" JOIN {_table(Unit)} u ON u.id = o.unit_id",
        group_by="o.unit_id, u.code",
        order_by="SUM(o.owed) DESC, u.code",
    )
    result = []
    for unit_id, code, principal, months, oldest in _rows(sql, params):
        oldest = _as_date(oldest)
        days = (as_of - oldest).days
        result.append(
            UnitArrears(
                unit_id=unit_id,
                code=code,
                principal_overdue_fen=int(principal),
                months_owed=int(months),
                oldest_due_date=oldest,
                days_overdue=days,
                bucket=_bucket_for(days),
            )
        )
    return result


def arrears_by_building(*, user: User, estate: Estate, as_of: dt.date) -> list[BuildingArrears]:
    """Overdue principal of each visible building of `estate` on `as_of` (按楼栋), buildings
    with nothing overdue left out, by building code. One query."""
    sql, params = _overdue_sql(
        user=user,
        as_of=as_of,
        estate=estate,
        building=None,
        columns="b.id, b.code, b.name, SUM(o.owed), COUNT(DISTINCT o.unit_id), COUNT(*)",
        joins=(
            f" JOIN {_table(Unit)} u ON u.id = o.unit_id"
            f" JOIN {_table(Building)} b ON b.id = u.building_id"
        ),
        group_by="b.id, b.code, b.name",
        order_by="b.code",
    )
    return [
        BuildingArrears(
            building_id=building_id,
            code=code,
            name=name,
            units=int(units),
            charges=int(charges),
            principal_overdue_fen=int(principal),
        )
        for building_id, code, name, principal, units, charges in _rows(sql, params)
    ]


def aging_summary(
    *,
    user: User,
    as_of: dt.date,
    estate: Estate | None = None,
    building: Building | None = None,
) -> list[AgingBucket]:
    """Overdue charges by aging bucket (账龄分析) on `as_of`: each charge falls in the bucket of
    its own days overdue (as_of − due_date); a unit with charges in two buckets counts in both.
    Every bucket of the engine's AGING_BUCKETS is listed, empty ones with zeros. One query."""
    whens = []
    bucket_params: list[Any] = []
    for label, first, last in AGING_BUCKETS:
        # days ≥ first ⇔ due_date ≤ as_of − first; days ≤ last ⇔ due_date ≥ as_of − last.
        condition = "o.due_date <= %s"
        bucket_params.append(as_of - dt.timedelta(days=first))
        if last is not None:
            condition += " AND o.due_date >= %s"
            bucket_params.append(as_of - dt.timedelta(days=last))
        whens.append(f"WHEN {condition} THEN %s")
        bucket_params.append(label)
    bucket = f"CASE {' '.join(whens)} ELSE '' END"
    sql, params = _overdue_sql(
        user=user,
        as_of=as_of,
        estate=estate,
        building=building,
        columns=f"{bucket} AS bucket, COUNT(*), COUNT(DISTINCT o.unit_id), SUM(o.owed)",
        group_by="1",
        order_by="1",
        column_params=bucket_params,
    )
    found = {row[0]: row for row in _rows(sql, params)}
    result = []
    for label, first, last in AGING_BUCKETS:
        row = found.get(label)
        result.append(
            AgingBucket(
                label=label,
                min_days=first,
                max_days=last,
                charges=int(row[1]) if row else 0,
                units=int(row[2]) if row else 0,
                principal_fen=int(row[3]) if row else 0,
            )
        )
    return result


def _allocated(charges: QuerySet[Charge], *, received_from: dt.date | None, to: dt.date) -> int:
    total = Allocation.objects.filter(
        _principal_allocations(received_from=received_from, received_to=to),
        charge_id__in=charges.order_by().values("pk"),
    ).aggregate(total=Sum("amount_fen"))["total"]
    return int(total or 0)


def _overdue_principal_at_opening(charges: QuerySet[Charge], *, day: dt.date) -> int:
    """Principal overdue at the opening of `day`: charges due before `day`, outstanding after
    the payments received and waivers effective up to the day before."""
    # Measured on the day before, so that a payment received on `day` is a collection in the
    # window, not a reduction of the opening balance.
    before = day - _ONE_DAY
    opening = (
        principal_outstanding_by_charge(charges.filter(due_date__lt=day), as_of=before)
        .filter(Q(principal_outstanding_fen__gt=0))
        .aggregate(total=Sum("principal_outstanding_fen"))["total"]
    )
    return int(opening or 0)


def current_period_rate(
    *,
    user: User,
    period: str,
    as_of: dt.date,
    estate: Estate | None = None,
    building: Building | None = None,
) -> CollectionRate:
    """当期收缴率 for billing month `period` ("YYYY-MM") on `as_of`:

        principal allocated to P's charges from recorded payments received ≤ as_of
        ÷ (principal of P's charges − principal waived on them by waivers effective ≤ as_of)

    P's charges are those whose `period_start` falls in the month. Two queries."""
    start = period_parse(period)
    charges = charges_in_scope(user=user, estate=estate, building=building).filter(
        period_start__gte=start, period_start__lt=months_add(start, 1)
    )
    numerator = _allocated(charges, received_from=None, to=as_of)
    totals = principal_outstanding_by_charge(charges, as_of=as_of).aggregate(
        principal=Sum("principal_fen"), waived=Sum("principal_waived_fen")
    )
    denominator = int(totals["principal"] or 0) - int(totals["waived"] or 0)
    return CollectionRate(
        "current_period", "当期收缴率", numerator, denominator, ratio(numerator, denominator)
    )


def arrears_clearance_rate(
    *,
    user: User,
    start: dt.date,
    end: dt.date,
    estate: Estate | None = None,
    building: Building | None = None,
) -> CollectionRate:
    """清欠率 for the window [start, end]:

        principal allocated from recorded payments received in [start, end] to charges
        overdue at `start` (due before `start`)
        ÷ principal overdue at the opening of `start` (payments and waivers up to start − 1)

    Two queries."""
    old = charges_in_scope(user=user, estate=estate, building=building).filter(due_date__lt=start)
    numerator = _allocated(old, received_from=start, to=end)
    denominator = _overdue_principal_at_opening(old, day=start)
    return CollectionRate(
        "arrears_clearance", "清欠率", numerator, denominator, ratio(numerator, denominator)
    )


def overall_rate(
    *,
    user: User,
    start: dt.date,
    end: dt.date,
    estate: Estate | None = None,
    building: Building | None = None,
) -> CollectionRate:
    """综合收缴率 for the window [start, end]:

        principal allocated from recorded payments received in [start, end] to charges due
        ≤ end
        ÷ (principal overdue at the opening of `start` + principal of charges due in
           [start, end])

    The charges due in the window count with their billed principal, as the design defines
    it (a waiver on them is not subtracted). Three queries."""
    scoped = charges_in_scope(user=user, estate=estate, building=building)
    numerator = _allocated(scoped.filter(due_date__lte=end), received_from=start, to=end)
    opening = _overdue_principal_at_opening(scoped.filter(due_date__lt=start), day=start)
    billed = scoped.filter(due_date__gte=start, due_date__lte=end).aggregate(
        total=Sum("principal_fen")
    )["total"]
    denominator = opening + int(billed or 0)
    return CollectionRate(
        "overall", "综合收缴率", numerator, denominator, ratio(numerator, denominator)
    )


def household_rate(
    *,
    user: User,
    period: str,
    as_of: dt.date | None = None,
    estate: Estate | None = None,
    building: Building | None = None,
) -> CollectionRate:
    """户数收缴率 for billing month `period`:

        units all of whose charges of P have no principal outstanding on `as_of`
        ÷ units with a charge of P

    `as_of` defaults to today. Waived principal counts as settled; penalty is not considered.
    Numerator and denominator are unit counts. One query."""
    as_of = as_of or timezone.localdate()
    start = period_parse(period)
    charges = charges_in_scope(user=user, estate=estate, building=building).filter(
        period_start__gte=start, period_start__lt=months_add(start, 1)
    )
    totals = principal_outstanding_by_charge(charges, as_of=as_of).aggregate(
        billed=Count("unit_id", distinct=True),
        unpaid=Count(Case(When(principal_outstanding_fen__gt=0, then=F("unit_id"))), distinct=True),
    )
    billed = int(totals["billed"] or 0)
    paid = billed - int(totals["unpaid"] or 0)
    return CollectionRate("household", "户数收缴率", paid, billed, ratio(paid, billed))


__all__ = [
    "AgingBucket",
    "BuildingArrears",
    "CollectionRate",
    "UnitArrears",
    "aging_summary",
    "arrears_by_building",
    "arrears_by_unit",
    "arrears_clearance_rate",
    "charges_in_scope",
    "current_period_rate",
    "household_rate",
    "overall_rate",
    "principal_outstanding_by_charge",
    "ratio",
]
