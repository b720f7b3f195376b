"""Benchmark: billing one month for N units against a raw bulk insert of the same charge rows.

    .venv/bin/python bench/bench_billing.py [--units 1000000] [--repeat 1] [--profile]

PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/propfee_bbench) and run
the same command.

Runs in a throw-away test database (`test_<NAME>` on PostgreSQL, a temporary file on SQLite).
Each round fills N units of one estate with SQL (buildings of 1,000 units, areas varying, one
in ten vacant, one in fifty parking spaces, one payer each), sets up fee items, tariffs and a
contract through the billing services, and times `billing_run_post` for one month (plan,
charges, the run's audit row, all in one transaction). Then, on a fresh database filled
the same way, it times the raw insert of exactly the charge rows the run wrote (executemany on
SQLite, COPY on PostgreSQL, in one transaction) and prints both and the ratio. The design's
target is billing ≤ 1.5 × the raw insert.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import platform
import pstats
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propfee.settings")
_TMP = Path(tempfile.mkdtemp(prefix="propfee-bench-"))
os.environ.setdefault("PROPFEE_DATA_DIR", str(_TMP))

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

from propfee.billing.constants import AllocationOrder, TariffBasis  # noqa: E402
from propfee.billing.models import BillingRun, Charge  # noqa: E402
from propfee.billing.services import (  # noqa: E402
    billing_run_post,
    contract_version_create,
    fee_item_create,
    tariff_create,
)
from propfee.core.models import AuditEntry  # noqa: E402
from propfee.estates.models import Company, Estate  # noqa: E402

ESTATE = "BENCH"
PERIOD = "2026-11"
UNITS_PER_BUILDING = 1000  # 50 floors × 20 rooms
CHARGE_COLUMNS = (
    "unit_id",
    "fee_item_id",
    "period_start",
    "period_end",
    "due_date",
    "principal_fen",
    "payer_id",
    "billing_run_id",
    "created_at",
)


def _seq() -> str:
    if connection.vendor == "postgresql":
        return "generate_series(1, %s) AS s(n)"
    return (
        "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %s)"
        " SELECT n FROM s)"
    )


def fill(n_units: int) -> Estate:
    """Company, one estate, buildings, units, payers — in SQL (the pattern of bench_reads.py).
    Unit n: area 60.00–149.99 ㎡; every 10th vacant; every 50th a parking space; every 200th
    handed over on the 16th of the billed month (pro-rated)."""
    n_buildings = -(-n_units // UNITS_PER_BUILDING)
    now = "CURRENT_TIMESTAMP"
    seq = _seq()
    with connection.cursor() as c:
        c.execute(
            "INSERT INTO estates_company (code, name, created_at, updated_at) "
            f"VALUES ('BENCH', '基准物业', {now}, {now})"
        )
        c.execute("SELECT id FROM estates_company")
        company_id = c.fetchone()[0]
        c.execute(
            "INSERT INTO estates_estate (company_id, code, name, city, address, created_at,"
            f" updated_at) VALUES (%s, %s, '基准小区', '杭州', '', {now}, {now})",
            [company_id, ESTATE],
        )
        c.execute("SELECT id FROM estates_estate")
        estate_id = c.fetchone()[0]
        c.execute(
            "INSERT INTO estates_building (estate_id, code, name, created_at, updated_at) "
            f"SELECT %s, CAST(n AS TEXT), CAST(n AS TEXT) || '栋', {now}, {now} FROM {seq}",
            [estate_id, n_buildings],
        )
        building = f"((n - 1) / {UNITS_PER_BUILDING}) + 1"
        floor = f"(((n - 1) %% {UNITS_PER_BUILDING}) / 20) + 1"
        room = f"CAST(({floor}) * 100 + ((n - 1) %% 20) + 1 AS TEXT)"
        area = "(6000 + (CAST(n AS BIGINT) * 7919) %% 9000) / 100.0"
        unit_type = "CASE WHEN n %% 50 = 0 THEN 'parking' ELSE 'residential' END"
        status = "CASE WHEN n %% 10 = 0 THEN 'vacant' ELSE 'occupied' END"
        date = "DATE " if connection.vendor == "postgresql" else ""
        handover = f"CASE WHEN n %% 200 = 0 THEN {date}'2026-11-16' ELSE {date}'2020-06-01' END"
        c.execute(
            "INSERT INTO estates_unit (estate_id, building_id, entrance, room, code, floor,"
            " area_m2, unit_type, handover_date, status, created_at, updated_at) "
            f"SELECT b.estate_id, b.id, '', {room}, '{ESTATE}-' || b.code || '-' || {room},"
            f" {floor}, {area}, {unit_type}, {handover}, {status}, {now}, {now} "
            f"FROM {seq} JOIN estates_building b ON b.code = CAST({building} AS TEXT)",
            [n_units],
        )
        c.execute(
            "INSERT INTO estates_party (company_id, name, is_organization, email, id_number,"
            f" created_at, updated_at) SELECT %s, '业主' || CAST(n AS TEXT), FALSE, '', '',"
            f" {now}, {now} FROM {seq}",
            [company_id, n_units],
        )
        c.execute("SELECT MIN(id) FROM estates_party")
        first_party = c.fetchone()[0]
        c.execute("SELECT MIN(id) FROM estates_unit")
        first_unit = c.fetchone()[0]
        c.execute(
            "INSERT INTO estates_occupancy (unit_id, party_id, role, is_payer, since, until,"
            f" created_at, updated_at) SELECT %s + n - 1, %s + n - 1, 'owner', TRUE,"
            f" '2020-06-01', NULL, {now}, {now} FROM {seq}",
            [first_unit, first_party, n_units],
        )
        c.execute("ANALYZE")
    return Estate.objects.get(pk=estate_id)


def billing_setup(estate: Estate) -> None:
    """What `billing_demo_setup` does for the demo estate: 物业费 by area (vacancy discount 30 %)
    and 停车管理费 per space, a monthly contract due on the 1st."""
    company = Company.objects.get(pk=estate.company_id)
    wyf = fee_item_create(company=company, code="WYF", name="物业费", actor=None)
    tcf = fee_item_create(company=company, code="TCF", name="停车管理费", actor=None)
    start = dt.date(2020, 1, 1)
    for item, unit_type, basis, rate, vacancy in (
        (wyf, "residential", TariffBasis.PER_M2_MONTH, Decimal("2.35"), Decimal("0.3")),
        (tcf, "parking", TariffBasis.PER_SPACE_MONTH, Decimal("80"), None),
    ):
        tariff_create(
            fee_item=item,
            estate=estate,
            unit_type=unit_type,
            basis=basis,
            rate_yuan=rate,
            effective_from=start,
            vacancy_discount_ratio=vacancy,
            actor=None,
        )
    contract_version_create(
        estate=estate,
        effective_from=start,
        billing_cycle_months=1,
        due_day=1,
        grace_days=15,
        penalty_cap_ratio=Decimal("1"),
        allocation_order=AllocationOrder.PENALTY_FIRST,
        actor=None,
    )


def fresh_database(n_units: int) -> tuple[str, Estate, float]:
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    started = time.perf_counter()
    estate = fill(n_units)
    billing_setup(estate)
    return old_name, estate, time.perf_counter() - started


def time_billing(estate: Estate, profile: bool) -> tuple[float, int]:
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    run = billing_run_post(estate=estate, period=PERIOD, actor=None)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    if profiler:
        stats = pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative"))
        stats.print_stats(30)
    if run.charge_count != Charge.objects.count() or not run.charge_count:
        sys.exit(f"billing failed: {run.charge_count} charges, {Charge.objects.count()} in table")
    return elapsed, run.charge_count


def charge_rows() -> list[tuple[Any, ...]]:
    """The charge rows the run wrote, as the driver takes them, in the order they were written."""
    with connection.cursor() as c:
        c.execute(f"SELECT {', '.join(CHARGE_COLUMNS)} FROM billing_charge ORDER BY id")
        return [tuple(r) for r in c.fetchall()]


def time_raw_insert(estate: Estate, rows: list[tuple[Any, ...]]) -> float:
    """The same rows into the same (empty) table, after a run row for them to point at."""
    run = BillingRun.objects.create(estate=estate, period_start=dt.date(2026, 11, 1))
    rows = [(*r[:7], run.pk, r[8]) for r in rows]
    table = Charge._meta.db_table
    column_list = ", ".join(CHARGE_COLUMNS)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(CHARGE_COLUMNS))
            cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({marks})", rows)
    elapsed = time.perf_counter() - started
    assert Charge.objects.count() == len(rows)
    return elapsed


def measure(n_units: int, profile: bool) -> dict[str, float]:
    """One round: the billing run, then the raw insert on a fresh database of the same units."""
    times: dict[str, float] = {}
    old_name, estate, times["fill"] = fresh_database(n_units)
    try:
        times["billing"], times["charges"] = time_billing(estate, profile)
        times["audit_rows"] = AuditEntry.objects.filter(
            object_type__in=["billing.charge", "billing.billingrun"]
        ).count()
        rows = charge_rows()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        old_name, estate, _ = fresh_database(n_units)
        times["raw"] = time_raw_insert(estate, rows)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the best time counts")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the run")
    args = parser.parse_args()

    if connection.vendor == "sqlite":
        # A file, like production, rather than Django's default in-memory test database.
        connection.settings_dict["TEST"]["NAME"] = str(_TMP / "bench.sqlite3")
    setup_test_environment()
    try:
        rounds = [measure(args.units, args.profile) for _ in range(max(1, args.repeat))]
    finally:
        teardown_test_environment()
        shutil.rmtree(_TMP, ignore_errors=True)
    # Best of the rounds: other processes on the machine only ever add time.
    best = {key: min(r[key] for r in rounds) for key in rounds[0]}

    n, charges = args.units, int(best["charges"])
    cpu = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"database            {connection.vendor}")
    print(f"machine             {cpu}")
    print(f"date                {dt.date.today().isoformat()}")
    print(f"units               {n:,} (filled in {best['fill']:.1f} s), best of {len(rounds)}")
    print(f"charges             {charges:,} (+ {int(best['audit_rows']):,} audit rows)")
    print(
        f"billing_run_post    {best['billing']:7.2f} s  ({charges / best['billing']:,.0f} rows/s)"
    )
    print(f"raw charge insert   {best['raw']:7.2f} s  ({charges / best['raw']:,.0f} rows/s)")
    print(f"ratio               {best['billing'] / best['raw']:7.2f} x  (billing / raw insert)")


if __name__ == "__main__":
    main()
