"""A billing run's plan in SQL: every (unit, tariff) pair of one estate and month, with the
charge's principal computed by the database exactly as `pricing.charge_principal_fen` computes
it and the unit's payer, so that a run over 1,000,000 units is an `INSERT … SELECT` and no row
passes through Python.

Exactness. `pricing.charge_principal_fen` rounds once, half up, the exact product

    rate × 100 × months [× area] [× (1 − vacancy ratio)] [× billed days ÷ period days]

With the rate in 1/10⁴ yuan, the area in 1/10² ㎡ and the vacancy factor in 1/10⁴ (all integers,
since the fields have those places), the product before pro-rating is P ÷ 10⁸ fen with

    P = K × A,   K = rate·10⁴ × months × (10⁴ − ratio·10⁴ if vacant and a ratio, else 10⁴)
                 A = area·10² per ㎡, 10² per unit or space

and the principal is round_half_up(P × b ÷ (10⁸ × p)) for b billed days of p. The database
computes it in integer arithmetic only (no floating point, no numeric division, identical on
SQLite and PostgreSQL): K is split in Python as K = q·10⁸ + r, so that

    a = q·A + (r·A) div 10⁸,   r₈ = (r·A) mod 10⁸          (P = a·10⁸ + r₈)
    c = (a·b) div p,           ρ = (a·b) mod p             (a·b = c·p + ρ)
    principal = c + (2·(ρ·10⁸ + r₈·b) + 10⁸·p) div (2·10⁸·p)

which is floor(P·b ÷ (10⁸·p) + ½), i.e. half up. Every intermediate stays below 2⁶³ for any
area the field admits (< 10⁸ ㎡) as long as `plan_tariff` accepts the tariff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from propfee.billing.constants import RATE_PLACES, TariffBasis
from propfee.billing.models import Charge, Tariff
from propfee.estates.constants import UnitStatus
from propfee.estates.models import Building, Occupancy, Unit

_SCALE = 10**8
_RATIO_PLACES = 4
_AREA_E2_MAX = 10**10  # Unit.area_m2 has 10 digits, 2 of them places
_DAYS_MAX = 366  # the longest period (a yearly cycle)
_BIGINT_MAX = 2**63 - 1


class PlanRangeError(ValueError):
    """A tariff whose amounts could exceed the integer range of the database arithmetic."""


@dataclass(frozen=True)
class PlanTariff:
    """A tariff as the plan's SQL uses it: K = q·10⁸ + r for occupied and for vacant units."""

    fee_item_id: int
    unit_type: str
    per_m2: bool
    occupied: tuple[int, int]
    vacant: tuple[int, int]


def _scaled(value: Any, places: int) -> int:
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise PlanRangeError(f"{value} has more than {places} places")
    return int(scaled)


def plan_tariff(tariff: Tariff, *, months: int) -> PlanTariff:
    """The integer factors of `tariff` for a period of `months` months. Raises PlanRangeError
    for a rate so large that a charge of the largest admissible area could overflow (far
    beyond any property fee: rate × months above about 600,000 元/㎡)."""
    rate = _scaled(tariff.rate_yuan, RATE_PLACES)
    full = 10**_RATIO_PLACES
    ratio = tariff.vacancy_discount_ratio
    vacant_factor = full - _scaled(ratio, _RATIO_PLACES) if ratio else full
    per_m2 = tariff.basis == TariffBasis.PER_M2_MONTH
    area_max = _AREA_E2_MAX if per_m2 else 100
    factors = []
    for factor in (full, vacant_factor):
        q, r = divmod(rate * months * factor, _SCALE)
        if (q + 1) * area_max * _DAYS_MAX * 4 > _BIGINT_MAX:
            raise PlanRangeError(f"rate {tariff.rate_yuan} out of range")
        factors.append((q, r))
    return PlanTariff(tariff.fee_item_id, tariff.unit_type, per_m2, factors[0], factors[1])


def _date(value: dt.date) -> Any:
    return connection.ops.adapt_datefield_value(value)


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def plan_sql(
    *,
    estate_id: int,
    period_start: dt.date,
    period_end: dt.date,
    tariffs: Sequence[PlanTariff],
    payer: bool,
) -> tuple[str, dict[str, Any]]:
    """A SELECT of every pair of a unit of `estate_id` handed over by `period_end` and a tariff
    of its type: `unit_id`, `building_id`, `fee_item_id`, `principal_fen` (0 for a pair that
    costs nothing, e.g. a vacant unit with a 100 % discount) and, with `payer`, `payer_id` —
    the unit's payer on the first billed day (`estates.selectors.current_payer`: the latest
    `since` first). The tariffs are listed in the order given. Returns SQL and named params."""
    assert tariffs
    pg = connection.vendor == "postgresql"
    params: dict[str, Any] = {
        "estate": estate_id,
        "start": _date(period_start),
        "end": _date(period_end),
        "vacant": UnitStatus.VACANT.value,
    }
    rows = []
    for n, t in enumerate(tariffs):
        params[f"type{n}"] = t.unit_type
        rows.append(
            f"SELECT %(type{n})s AS unit_type, {int(t.fee_item_id)} AS fee_item_id,"
            f" {int(t.per_m2)} AS per_m2,"
            f" {int(t.occupied[0])} AS occ_q, {int(t.occupied[1])} AS occ_r,"
            f" {int(t.vacant[0])} AS vac_q, {int(t.vacant[1])} AS vac_r"
        )
    tariff_table = " UNION ALL ".join(rows)
    p = (period_end - period_start).days + 1
    if pg:
        area = "CAST(u.area_m2 * 100 AS BIGINT)"
        days = "(CAST(%(end)s AS DATE) - u.handover_date + 1)"
    else:
        # SQLite keeps a decimal as a REAL: ×100 is within 10⁻⁶ of the integer it stands for.
        area = "CAST(ROUND(u.area_m2 * 100) AS INTEGER)"
        days = "(CAST(julianday(%(end)s) - julianday(u.handover_date) AS INTEGER) + 1)"
    area_factor = f"CASE WHEN t.per_m2 = 1 THEN {area} ELSE 100 END"
    vacant = "u.status = %(vacant)s"
    first_day = "(CASE WHEN u.handover_date > %(start)s THEN u.handover_date ELSE %(start)s END)"
    payer_sql = ""
    if payer:
        payer_sql = (
            ", (SELECT o.party_id FROM "
            f"{_table(Occupancy)} o WHERE o.unit_id = u.id AND o.is_payer"
            f" AND o.since <= {first_day}"
            f" AND (o.until IS NULL OR o.until >= {first_day})"
            " ORDER BY o.since DESC, o.id LIMIT 1) AS payer_id"
        )
    # Each level is fenced (LIMIT -1 / OFFSET 0) so that the database computes its columns once
    # a row instead of pasting the expressions into the next level (several times over).
    fence = " OFFSET 0" if pg else " LIMIT -1"
    # SQLite: CROSS JOIN keeps the units as the outer loop (one pass over the estate's units,
    # each meeting the few tariffs in their order); PostgreSQL plans it as any join.
    factors = (
        "SELECT u.id AS unit_id, u.building_id AS building_id, t.fee_item_id AS fee_item_id,"
        f" {area_factor} AS af,"
        f" CASE WHEN {vacant} THEN t.vac_q ELSE t.occ_q END AS q,"
        f" CASE WHEN {vacant} THEN t.vac_r ELSE t.occ_r END AS r,"
        f" CASE WHEN u.handover_date > %(start)s THEN {days} ELSE {p} END AS b"
        f"{payer_sql} "
        f"FROM {_table(Unit)} u CROSS JOIN ({tariff_table}) t "
        "WHERE t.unit_type = u.unit_type AND u.estate_id = %(estate)s"
        f" AND u.handover_date IS NOT NULL AND u.handover_date <= %(end)s{fence}"
    )
    carried = "y.unit_id, y.building_id, y.fee_item_id, y.b" + (", y.payer_id" if payer else "")
    split = (
        f"SELECT {carried}, y.q * y.af + (y.r * y.af) / {_SCALE} AS a,"
        f" (y.r * y.af) %% {_SCALE} AS r8 FROM ({factors}) y{fence}"
    )
    principal = (
        f"(x.a * x.b) / {p}"
        f" + (2 * (((x.a * x.b) %% {p}) * {_SCALE} + x.r8 * x.b) + {_SCALE * p})"
        f" / {2 * _SCALE * p}"
    )
    sql = (
        f"SELECT x.unit_id, x.building_id, x.fee_item_id, {principal} AS principal_fen"
        f"{', x.payer_id' if payer else ''} FROM ({split}) x{fence}"
    )
    return sql, params


@dataclass(frozen=True)
class PlanBuilding:
    """The plan of one building: its new charges, their total and how many lack a payer."""

    code: str
    name: str
    pairs: int
    units: int
    new_count: int
    new_total_fen: int
    new_without_payer: int


def plan_totals(
    *,
    estate_id: int,
    period_start: dt.date,
    period_end: dt.date,
    tariffs: Sequence[PlanTariff],
    by_building: bool,
    new: bool,
) -> list[PlanBuilding]:
    """The plan counted (one query): the pairs that cost something and their units, and with
    `new` which of them are new (no charge exists for the unit, fee item and period yet), with
    their total and how many have no payer (without `new` those three are 0: a run counts what
    its insert really wrote instead). One row per building (by code), or one row."""
    sql, params = plan_sql(
        estate_id=estate_id,
        period_start=period_start,
        period_end=period_end,
        tariffs=tariffs,
        payer=new,
    )
    # A unit type with one tariff gives one pair per unit: no need to count distinct units.
    types = [t.unit_type for t in tariffs]
    units = "COUNT(DISTINCT p.unit_id)" if len(set(types)) < len(types) else "COUNT(*)"
    columns = f"COUNT(*), {units}"
    joins = ""
    if new:
        is_new = "c.id IS NULL"
        columns += (
            f", SUM(CASE WHEN {is_new} THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN {is_new} THEN p.principal_fen ELSE 0 END),"
            f" SUM(CASE WHEN {is_new} AND p.payer_id IS NULL THEN 1 ELSE 0 END)"
        )
        joins = (
            f" LEFT JOIN {_table(Charge)} c ON c.unit_id = p.unit_id"
            " AND c.fee_item_id = p.fee_item_id AND c.period_start = %(start)s"
        )
    else:
        columns += ", 0, 0, 0"
    if by_building:
        query = (
            f"SELECT b.code, b.name, {columns} FROM ({sql}) p"
            f" JOIN {_table(Building)} b ON b.id = p.building_id{joins}"
            " WHERE p.principal_fen > 0 GROUP BY b.id, b.code, b.name ORDER BY b.code"
        )
    else:
        query = f"SELECT '', '', {columns} FROM ({sql}) p{joins} WHERE p.principal_fen > 0"
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    return [
        PlanBuilding(code, name, int(n), int(u), int(new_n or 0), int(fen or 0), int(np or 0))
        for code, name, n, u, new_n, fen, np in rows
        if n
    ]


def plan_insert(
    *,
    estate_id: int,
    period_start: dt.date,
    period_end: dt.date,
    due_date: dt.date,
    tariffs: Sequence[PlanTariff],
    billing_run_id: int,
    created_at: dt.datetime,
) -> tuple[int, int]:
    """Insert the plan's new charges for `tariffs` with `INSERT … SELECT`, skipping any key
    (unit, fee item, period) that exists, also one a concurrent writer has just taken. Returns
    the number of charges inserted and their total. One statement."""
    sql, params = plan_sql(
        estate_id=estate_id,
        period_start=period_start,
        period_end=period_end,
        tariffs=tariffs,
        payer=True,
    )
    params.update(
        due=_date(due_date),
        run=billing_run_id,
        now=connection.ops.adapt_datetimefield_value(created_at),
    )
    insert = (
        f"INSERT INTO {_table(Charge)} (unit_id, fee_item_id, period_start, period_end,"
        " due_date, principal_fen, payer_id, billing_run_id, created_at) "
        "SELECT p.unit_id, p.fee_item_id, %(start)s, %(end)s, %(due)s, p.principal_fen,"
        f" p.payer_id, %(run)s, %(now)s FROM ({sql}) p WHERE p.principal_fen > 0 "
        "ON CONFLICT (unit_id, fee_item_id, period_start) DO NOTHING"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH ins AS ({insert} RETURNING principal_fen) "
                "SELECT COUNT(*), COALESCE(SUM(principal_fen), 0) FROM ins",
                params,
            )
            count, total = cursor.fetchone()
            return int(count), int(total)
        cursor.execute(insert, params)
        count = cursor.rowcount
        if not count:
            return 0, 0
        cursor.execute(
            f"SELECT COUNT(*), COALESCE(SUM(principal_fen), 0) FROM {_table(Charge)}"
            " WHERE billing_run_id = %s AND fee_item_id IN"
            f" ({', '.join(str(int(t.fee_item_id)) for t in tariffs)})",
            [billing_run_id],
        )
        count, total = cursor.fetchone()
        return int(count), int(total)
