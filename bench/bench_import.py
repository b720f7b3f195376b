"""Benchmark: importing a units file against the physical limit of the same database.

    .venv/bin/python bench/bench_import.py [--units 100000] [--repeat 3] [--profile]

PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/propfee_imp) and run
the same command.

Runs in a throw-away test database (Django's test-database machinery: `test_<NAME>` on
PostgreSQL, a temporary file on SQLite), so it never touches real data. It generates a CSV of N
units, times `import_run` (parse, check, look-ups, bulk writes, one audit row per created
object), then on a fresh schema times a raw bulk insert of the same unit rows (executemany on
SQLite, COPY on PostgreSQL), and the same units plus the one audit row per unit the import
must also write; it prints the times and the ratios.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import platform
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propfee.settings")
_TMP = Path(tempfile.mkdtemp(prefix="propfee-bench-"))
os.environ.setdefault("PROPFEE_DATA_DIR", str(_TMP))

import django  # noqa: E402

django.setup()

from django.db import connection, models, transaction  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from propfee.core.importing import import_run  # noqa: E402
from propfee.core.models import AuditEntry  # noqa: E402
from propfee.estates.models import Building, Company, Estate, Unit  # noqa: E402
from propfee.estates.services import unit_floor_from_room  # noqa: E402

ESTATE = "BENCH"
FLOORS, ROOMS_PER_FLOOR, ENTRANCES = 33, 4, 2
UNITS_PER_BUILDING = FLOORS * ROOMS_PER_FLOOR * ENTRANCES
AUDIT_COLUMNS = (
    "at",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "estate_id",
    "before",
    "after",
    "note",
)
COLUMNS = (
    "estate_id",
    "building_id",
    "entrance",
    "room",
    "code",
    "floor",
    "area_m2",
    "unit_type",
    "handover_date",
    "status",
    "created_at",
    "updated_at",
)


def unit_specs(n: int) -> list[tuple[str, str, str, str, str]]:
    """(building, entrance, room, area, handover) for n units: 33-floor towers, 2 entrances,
    4 flats per floor, areas and handover dates varying like a real estate's."""
    specs = []
    for i in range(n):
        building, rest = divmod(i, UNITS_PER_BUILDING)
        entrance, rest = divmod(rest, FLOORS * ROOMS_PER_FLOOR)
        floor, room = divmod(rest, ROOMS_PER_FLOOR)
        area = f"{70 + (i * 7) % 90}.{(i * 13) % 100:02d}"
        handover = f"{2015 + building % 8}-{1 + building % 12:02d}-{1 + building % 28:02d}"
        specs.append(
            (str(building + 1), str(entrance + 1), f"{floor + 1}{room + 1:02d}", area, handover)
        )
    return specs


def units_csv(specs: list[tuple[str, str, str, str, str]]) -> bytes:
    lines = ["项目编码,楼栋,单元,房号,建筑面积,房屋类型,交房日期,状态"]
    lines.extend(f"{ESTATE},{b}栋,{e},{r},{a},住宅,{h},已入住" for b, e, r, a, h in specs)
    return ("\n".join(lines) + "\n").encode("utf-8")


def fresh_database() -> str:
    return connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)


def company_and_estate() -> tuple[Company, Estate]:
    company = Company.objects.create(code="BENCH", name="基准测试物业")
    estate = Estate.objects.create(company=company, code=ESTATE, name="基准小区")
    return company, estate


def time_import(content: bytes, company: Company, profile: bool) -> float:
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = import_run(
        kind="units", content=content, filename="bench.csv", actor=None, company=company
    )
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    if not report.applied or report.created != Unit.objects.count():
        sys.exit("import failed: " + "; ".join(str(e) for e in report.errors[:5]))
    if profiler:
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            30
        )
    return elapsed


def raw_rows(estate: Estate, specs: list[tuple[str, str, str, str, str]]) -> list[tuple]:
    """The unit rows as the database stores them, prepared before the clock starts."""
    buildings = Building.objects.bulk_create(
        Building(estate=estate, code=b, name=f"{b}栋") for b in sorted({s[0] for s in specs})
    )
    building_ids = {b.code: b.pk for b in buildings}
    now = timezone.now()
    stamp = now if connection.vendor == "postgresql" else now.replace(tzinfo=None).isoformat(" ")
    return [
        (
            estate.pk,
            building_ids[b],
            e,
            r,
            f"{ESTATE}-{b}-{e}-{r}",
            unit_floor_from_room(r),
            a,
            "residential",
            h,
            "occupied",
            stamp,
            stamp,
        )
        for b, e, r, a, h in specs
    ]


def audit_rows(rows: list[tuple]) -> list[tuple]:
    """One create audit row per unit, JSON already encoded: what the import must write besides
    the units, as the database takes it."""
    at = rows[0][-1]
    return [
        (
            at,
            None,
            "create",
            "estates.unit",
            str(i),
            r[4],
            r[0],
            None,
            json.dumps(
                {
                    "building": r[1],
                    "entrance": r[2],
                    "room": r[3],
                    "code": r[4],
                    "floor": r[5],
                    "area_m2": r[6],
                    "unit_type": r[7],
                    "handover_date": r[8],
                    "status": r[9],
                }
            ),
            "导入：bench.csv",
        )
        for i, r in enumerate(rows, start=1)
    ]


def raw_insert(
    cursor: Any, model: type[models.Model], columns: tuple[str, ...], rows: list
) -> None:
    table = model._meta.db_table
    column_list = ", ".join(columns)
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({marks})", rows)


def time_raw_insert(rows: list[tuple], audit: list[tuple] | None = None) -> float:
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        raw_insert(cursor, Unit, COLUMNS, rows)
        if audit is not None:
            raw_insert(cursor, AuditEntry, AUDIT_COLUMNS, audit)
    elapsed = time.perf_counter() - started
    assert Unit.objects.count() == len(rows)
    return elapsed


def measure(specs: list[tuple[str, str, str, str, str]], content: bytes, profile: bool) -> dict:
    """One round: the import, then each raw insert, every time on a fresh schema."""
    times: dict[str, float] = {}
    old_name = fresh_database()
    try:
        company, _ = company_and_estate()
        times["import"] = time_import(content, company, profile)
        for label in ("units", "units+audit"):
            connection.creation.destroy_test_db(old_name, verbosity=0)
            old_name = fresh_database()
            _, estate = company_and_estate()
            rows = raw_rows(estate, specs)
            times[label] = time_raw_insert(rows, audit_rows(rows) if label != "units" else None)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best time counts")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the import")
    args = parser.parse_args()

    if connection.vendor == "sqlite":
        # A file, like production, rather than Django's default in-memory test database.
        connection.settings_dict["TEST"]["NAME"] = str(_TMP / "bench.sqlite3")
    setup_test_environment()
    specs = unit_specs(args.units)
    content = units_csv(specs)
    try:
        rounds = [measure(specs, content, args.profile) for _ in range(max(1, args.repeat))]
    finally:
        teardown_test_environment()
        shutil.rmtree(_TMP, ignore_errors=True)
    # Best of the rounds: other processes on the machine only ever add time.
    best = {key: min(r[key] for r in rounds) for key in rounds[0]}

    n = args.units
    cpu = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"database            {connection.vendor}")
    print(f"machine             {cpu}")
    print(f"date                {dt.date.today().isoformat()}")
    print(f"units               {n:,} ({len(content) / 1e6:.1f} MB CSV), best of {len(rounds)}")
    print(f"import_run          {best['import']:7.2f} s  ({n / best['import']:,.0f} rows/s)")
    print(f"raw units           {best['units']:7.2f} s  ({n / best['units']:,.0f} rows/s)")
    print(f"raw units+audit     {best['units+audit']:7.2f} s")
    print(f"ratio               {best['import'] / best['units']:7.2f} x  (import / raw units)")
    ratio = best["import"] / best["units+audit"]
    print(f"ratio incl. audit   {ratio:7.2f} x  (import / raw units + audit rows)")


if __name__ == "__main__":
    main()
