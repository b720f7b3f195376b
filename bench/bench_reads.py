"""Benchmark: the pages and API reads a person waits for, at 1,000,000 units.

    .venv/bin/python bench/bench_reads.py [--units 1000000] [--requests 30]

PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/propfee_bench) and run
the same command. Runs in a throw-away test database (`test_<NAME>` on PostgreSQL, a temporary
file on SQLite).

It fills the tables with SQL (`generate_series` / a recursive CTE): N units in 10 estates of
buildings of 1,000 units, one owner per unit with a phone, names drawn from 50,000 distinct
names. Then it requests each page and API read through Django's test client (middleware,
scoping, templates and serializers included) `--requests` times with varying arguments, and
prints the p50 and p95 in milliseconds, next to the time of the one hand-written SQL query that
returns the same rows (the raw database doing the same work). The design's target is p95 <
300 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propfee.settings")
_TMP = Path(tempfile.mkdtemp(prefix="propfee-bench-"))
os.environ.setdefault("PROPFEE_DATA_DIR", str(_TMP))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

from propfee.core.models import StaffScope, User  # noqa: E402
from propfee.core.roles import Role  # noqa: E402
from propfee.estates.models import Estate  # noqa: E402

ESTATES = 10
UNITS_PER_BUILDING = 1000  # 50 floors × 20 rooms
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华建国志红玉兰文斌婷宇浩凯鹏飞晨欣怡佳琳"


def _pg() -> bool:
    return connection.vendor == "postgresql"


def fill(n_units: int) -> None:
    """Company, estates, buildings, units, parties, phones, occupancies — in SQL."""
    n_buildings = -(-n_units // UNITS_PER_BUILDING)
    per_estate = -(-n_buildings // ESTATES)
    now = "CURRENT_TIMESTAMP"
    with connection.cursor() as c:
        c.execute(
            "INSERT INTO estates_company (code, name, created_at, updated_at) "
            f"VALUES ('BENCH', '基准物业', {now}, {now})"
        )
        c.execute("SELECT id FROM estates_company")
        company_id = c.fetchone()[0]
        for e in range(1, ESTATES + 1):
            c.execute(
                "INSERT INTO estates_estate (company_id, code, name, city, address, created_at,"
                f" updated_at) VALUES (%s, %s, %s, '杭州', '', {now}, {now})",
                [company_id, f"E{e}", f"基准小区{e}"],
            )
        if _pg():
            seq = "generate_series(1, %s) AS s(n)"
            pad8 = "lpad(n::text, 8, '0')"
            rev = f"reverse({pad8}) || '931'"
            div = "/"
        else:
            seq = (
                "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %s)"
                " SELECT n FROM s)"
            )
            pad8 = "printf('%%08d', n)"
            rev = " || ".join(f"substr({pad8}, {i}, 1)" for i in range(8, 0, -1)) + " || '931'"
            div = "/"
        estate_of_building = f"((n - 1) {div} {per_estate}) + 1"
        c.execute(
            "INSERT INTO estates_building (estate_id, code, name, created_at, updated_at) "
            f"SELECT e.id, CAST(n AS TEXT), CAST(n AS TEXT) || '栋', {now}, {now} FROM {seq} "
            f"JOIN estates_estate e ON e.code = 'E' || CAST({estate_of_building} AS TEXT)",
            [n_buildings],
        )
        # unit n: building (n-1)/1000+1, floor ((n-1)%1000)/20+1, room floor*100 + (n-1)%20+1
        building = f"((n - 1) {div} {UNITS_PER_BUILDING}) + 1"
        floor = f"(((n - 1) %% {UNITS_PER_BUILDING}) {div} 20) + 1"
        room = f"CAST(({floor}) * 100 + ((n - 1) %% 20) + 1 AS TEXT)"
        c.execute(
            "INSERT INTO estates_unit (estate_id, building_id, entrance, room, code, floor,"
            " area_m2, unit_type, handover_date, status, created_at, updated_at) "
            f"SELECT b.estate_id, b.id, '', {room}, e.code || '-' || b.code || '-' || {room},"
            f" {floor}, 89.50, 'residential', '2020-06-01', 'occupied', {now}, {now} "
            f"FROM {seq} JOIN estates_building b ON b.code = CAST({building} AS TEXT) "
            "JOIN estates_estate e ON e.id = b.estate_id",
            [n_units],
        )
        name = (
            f"substr('{SURNAMES}', (n %% 20) + 1, 1)"
            f" || substr('{GIVEN}', ((n {div} 20) %% 50) + 1, 1)"
            f" || substr('{GIVEN}', ((n {div} 1000) %% 50) + 1, 1)"
        )
        c.execute(
            "INSERT INTO estates_party (company_id, name, is_organization, email, id_number,"
            f" created_at, updated_at) SELECT %s, {name}, FALSE, '', '', {now}, {now} FROM {seq}",
            [company_id, n_units],
        )
        c.execute("SELECT MIN(id) FROM estates_party")
        first_party = c.fetchone()[0]
        c.execute(
            "INSERT INTO estates_partyphone (party_id, number, number_reversed, position) "
            f"SELECT %s + n - 1, '139' || {pad8}, {rev}, 0 FROM {seq}",
            [first_party, n_units],
        )
        c.execute("SELECT MIN(id) FROM estates_unit")
        first_unit = c.fetchone()[0]
        c.execute(
            "INSERT INTO estates_occupancy (unit_id, party_id, role, is_payer, since, until,"
            f" created_at, updated_at) SELECT %s + n - 1, %s + n - 1, 'owner', TRUE,"
            f" '2020-06-01', NULL, {now}, {now} FROM {seq}",
            [first_unit, first_party, n_units],
        )
        c.execute("ANALYZE")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn: Callable[[], object], times: int) -> list[float]:
    out = []
    for _ in range(times):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def raw_ms(sql: str, params: list, times: int) -> float:
    def run() -> None:
        with connection.cursor() as c:
            c.execute(sql, params)
            c.fetchall()

    return statistics.median(timed(run, times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver"]
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    rng = random.Random(7)
    try:
        start = time.perf_counter()
        fill(args.units)
        elapsed = time.perf_counter() - start
        print(f"filled {args.units:,} units in {elapsed:.1f} s ({connection.vendor})")
        company_id = Estate.objects.values_list("company_id", flat=True).first()
        admin = User.objects.create(username="bench-admin", role=Role.ADMIN, company_id=company_id)
        collector = User.objects.create(
            username="bench-collector", role=Role.COLLECTOR, company_id=company_id
        )
        StaffScope.objects.create(user=collector, estate=Estate.objects.get(code="E3"))
        clients = {}
        for user in (admin, collector):
            client = Client()
            client.force_login(user)
            clients[user.username] = client
        with connection.cursor() as c:
            c.execute(
                "SELECT u.code FROM estates_unit u JOIN estates_estate e ON e.id = u.estate_id "
                "WHERE e.code = 'E3' ORDER BY u.id LIMIT 2000"
            )
            e3_codes = [r[0] for r in c.fetchall()]
            c.execute("SELECT name FROM estates_party ORDER BY id LIMIT 5000")
            names = [r[0] for r in c.fetchall()]

        def get(who: str, path: str, **params: object) -> Callable[[], object]:
            def call() -> None:
                response = clients[who].get(path, params)
                assert response.status_code == 200, (path, response.status_code)

            return call

        def varying(who: str, path_fn: Callable[[], str], params_fn: Callable[[], dict]):
            def call() -> None:
                response = clients[who].get(path_fn(), params_fn())
                assert response.status_code in (200, 302), (response.status_code,)

            return call

        cases: list[tuple[str, Callable[[], object], str, list]] = [
            (
                "units list, admin (1M in scope), page 1",
                get("bench-admin", "/units/"),
                "SELECT u.id, u.code FROM estates_unit u ORDER BY u.code LIMIT 50",
                [],
            ),
            (
                "units list, collector (one estate), page 200",
                get("bench-collector", "/units/", page=200),
                "SELECT u.id FROM estates_unit u WHERE u.estate_id = %s ORDER BY u.code "
                "LIMIT 50 OFFSET 9950",
                [Estate.objects.get(code="E3").pk],
            ),
            (
                "search by phone suffix (4 digits), admin",
                varying(
                    "bench-admin", lambda: "/units/", lambda: {"q": f"{rng.randint(0, 9999):04d}"}
                ),
                "SELECT p.party_id FROM estates_partyphone p WHERE p.number_reversed LIKE %s",
                ["8765%"],
            ),
            (
                "search by owner name, collector",
                varying("bench-collector", lambda: "/units/", lambda: {"q": rng.choice(names)}),
                "SELECT id FROM estates_party WHERE name LIKE %s",
                [f"%{names[0]}%"],
            ),
            (
                "unit page, collector",
                varying("bench-collector", lambda: f"/units/{rng.choice(e3_codes)}/", dict),
                "SELECT * FROM estates_unit WHERE code = %s",
                [e3_codes[0]],
            ),
            (
                "API units list, admin, page 1",
                get("bench-admin", "/api/v1/units/"),
                "SELECT u.id, u.code FROM estates_unit u ORDER BY u.code LIMIT 50",
                [],
            ),
            (
                "API unit by code, collector",
                varying("bench-collector", lambda: f"/api/v1/units/{rng.choice(e3_codes)}/", dict),
                "SELECT * FROM estates_unit WHERE code = %s",
                [e3_codes[0]],
            ),
            (
                "API parties search by phone suffix, collector",
                varying(
                    "bench-collector",
                    lambda: "/api/v1/parties/",
                    lambda: {"q": f"{rng.randint(0, 99999):05d}"},
                ),
                "SELECT p.party_id FROM estates_partyphone p WHERE p.number_reversed LIKE %s",
                ["87654%"],
            ),
        ]
        print(f"{'read':48} {'p50 ms':>8} {'p95 ms':>8} {'raw SQL ms':>11}\n" + "-" * 79)
        for label, call, sql, params in cases:
            call()  # warm up
            samples = timed(call, args.requests)
            raw = raw_ms(sql, params, 5)
            print(
                f"{label:48} {statistics.median(samples):8.1f} {percentile(samples, 0.95):8.1f}"
                f" {raw:11.1f}"
            )
        print(f"\n{platform.node()} · {os.cpu_count()} cores · Python {sys.version.split()[0]}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
        shutil.rmtree(_TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
