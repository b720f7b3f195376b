"""Benchmark: arrears and aging for every unit against one hand-written SQL aggregate.

    .venv/bin/python bench/bench_aging.py [--units 100000] [--months 24] [--repeat 3] [--explain]

PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/propfee_aging) and run the
same command. Runs in a throw-away test database (`test_<NAME>` on PostgreSQL, or the name given
with `--test-db-name`, which is dropped and re-created; a temporary file on SQLite).

It fills the tables with SQL (`generate_series` / a recursive CTE; the units, owners and
occupancies of bench_reads.py): N units, one monthly 物业费 charge per unit for `--months` months
(principal 150–250 yuan, due the 1st), and then — also in SQL, not through the allocation engine,
because this benchmark measures reads — one payment per paid charge and the current allocation
rows the engine would have stored for it:

- 60 % paid in full on or before the due date, 20 % paid in full 1–300 days late (some after the
  as-of date, so still owed on it) with a penalty allocation as well, 5 % half paid late;
- 0.5 % paid and then reversed (冲销: payment status `reversed`, its allocations superseded), 2 %
  with a superseded allocation row from an earlier replay next to the current one;
- about one charge in 400 with a principal waiver (some of them reversed) and one in 800 with a
  penalty waiver.

Then it times, as a company admin (company-wide scope), `aging_summary` and `arrears_by_unit`
(the list materialised) on the as-of date, next to the hand-written SQL computing the same
figures over the same tables, checks that the results are equal first, and prints the times
(best of `--repeat`) and ratios. The design's target: arrears + aging ≤ 1.5 × one hand-written
SQL aggregate over the same tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propfee.settings")
_TMP = Path(tempfile.mkdtemp(prefix="propfee-bench-"))
os.environ.setdefault("PROPFEE_DATA_DIR", str(_TMP))

import django  # noqa: E402

django.setup()

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_reads import fill as fill_units  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_test_environment,
    teardown_test_environment,
)

from propfee.core.models import User  # noqa: E402
from propfee.core.roles import Role  # noqa: E402
from propfee.ledger.engine import AGING_BUCKETS  # noqa: E402
from propfee.ledger.rates import aging_summary, arrears_by_unit  # noqa: E402

LAST_PERIOD = dt.date(2026, 11, 1)
AS_OF = dt.date(2026, 11, 27)


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _months_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _date(value: dt.date) -> str:
    return f"DATE '{value.isoformat()}'" if _pg() else f"'{value.isoformat()}'"


def _plus_days(column: str, days: str) -> str:
    """`column` (a date) plus `days` (an integer expression) days, as a date."""
    if _pg():
        return f"({column} + CAST({days} AS INTEGER))"
    return f"date({column}, CAST({days} AS TEXT) || ' days')"


def fill(n_units: int, months: int) -> int:
    """Units, owners, charges, payments, allocations and waivers, in SQL. Returns the company id."""
    fill_units(n_units)
    now = "CURRENT_TIMESTAMP"
    with connection.cursor() as c:
        c.execute("SELECT id FROM estates_company")
        company_id = c.fetchone()[0]
        c.execute(
            "INSERT INTO billing_feeitem (company_id, code, name, created_at, updated_at) "
            f"VALUES (%s, 'WYF', '物业费', {now}, {now})",
            [company_id],
        )
        c.execute("SELECT id FROM billing_feeitem")
        fee_item_id = c.fetchone()[0]
        periods = []
        for back in range(months - 1, -1, -1):
            start = _months_back(LAST_PERIOD, back)
            end = _months_back(start, -1) - dt.timedelta(days=1)
            periods.append(f"SELECT {_date(start)} AS ps, {_date(end)} AS pe, {_date(start)} AS dd")
        c.execute(
            "INSERT INTO billing_charge (unit_id, fee_item_id, period_start, period_end,"
            " due_date, principal_fen, payer_id, billing_run_id, created_at) "
            "SELECT u.id, %s, m.ps, m.pe, m.dd, 15000 + (u.id * 7919) %% 10000, o.party_id,"
            f" NULL, {now} FROM estates_unit u JOIN estates_occupancy o ON o.unit_id = u.id "
            f"CROSS JOIN ({' UNION ALL '.join(periods)}) m ORDER BY u.id, m.ps",
            [fee_item_id],
        )
        # h: a per-charge number 0–999 that decides what happens to the charge.
        h = "((c.id * 2654435761) %% 1000)"
        late = f"(1 + ({h} * 13) %% 300)"
        received = (
            f"CASE WHEN {h} < 600 THEN {_plus_days('c.due_date', f'-({h} %% 20)')}"
            f" WHEN {h} < 800 THEN {_plus_days('c.due_date', late)}"
            f" ELSE {_plus_days('c.due_date', f'1 + {h} %% 60')} END"
        )
        half = f"{h} >= 800 AND {h} < 850"
        principal_paid = f"CASE WHEN {half} THEN c.principal_fen / 2 ELSE c.principal_fen END"
        # A late full payment also pays a penalty: 0.05 % a day on the principal, at least 1 fen.
        penalty = (
            f"CASE WHEN {h} >= 600 AND {h} < 800 THEN 1 + c.principal_fen * {late} / 2000"
            " ELSE 0 END"
        )
        status = f"CASE WHEN {h} >= 850 AND {h} < 855 THEN 'reversed' ELSE 'recorded' END"
        c.execute(
            "INSERT INTO payments_payment (unit_id, payer_id, amount_fen, received_on, channel,"
            " reference, designations, status, receipt_no, recorded_by_id, created_at,"
            " reversed_by_id, reversed_at, reverse_reason) "
            f"SELECT c.unit_id, c.payer_id, {principal_paid} + {penalty}, {received},"
            " 'bank_transfer', 'B' || CAST(c.id AS TEXT), '[]', "
            f"{status}, 'BENCH-' || CAST(c.id AS TEXT), NULL, {now}, NULL,"
            f" CASE WHEN {h} >= 850 THEN {now} END, '' "
            f"FROM billing_charge c WHERE {h} < 855 ORDER BY c.id",
            [],
        )
        pair = (
            "FROM billing_charge c JOIN payments_payment p ON p.channel = 'bank_transfer'"
            " AND p.reference = 'B' || CAST(c.id AS TEXT)"
        )
        alloc = (
            "INSERT INTO ledger_allocation (payment_id, charge_id, component, amount_fen,"
            " created_at, superseded_at) "
        )
        superseded = f"CASE WHEN {h} >= 850 THEN {now} END"
        c.execute(
            f"{alloc} SELECT p.id, c.id, 'principal', {principal_paid}, {now}, {superseded} "
            f"{pair} WHERE {h} < 855",
            [],
        )
        c.execute(
            f"{alloc} SELECT p.id, c.id, 'penalty', {penalty}, {now}, NULL "
            f"{pair} WHERE {h} >= 600 AND {h} < 800",
            [],
        )
        # History: an earlier replay's rows, superseded (2 % of the charges).
        c.execute(
            f"{alloc} SELECT p.id, c.id, 'principal', c.principal_fen / 3, {now}, {now} "
            f"{pair} WHERE {h} >= 400 AND {h} < 420",
            [],
        )
        waiver = (
            "INSERT INTO ledger_waiver (charge_id, component, amount_fen, effective_on, reason,"
            " approved_by_id, status, created_at, kind, reverse_reason) "
        )
        c.execute(
            f"{waiver} SELECT c.id, 'principal', 2000 + (c.id %% 7) * 1000,"
            f" {_plus_days('c.due_date', '20 + c.id %% 400')}, '基准减免', NULL,"
            f" CASE WHEN c.id %% 2003 = 0 THEN 'reversed' ELSE 'active' END, {now}, 'waiver', '' "
            "FROM billing_charge c WHERE c.id %% 401 = 0",
            [],
        )
        c.execute(
            f"{waiver} SELECT c.id, 'penalty', 500, {_plus_days('c.due_date', '30')},"
            f" '基准减免', NULL, 'active', {now}, 'waiver', '' FROM billing_charge c"
            " WHERE c.id %% 797 = 0",
            [],
        )
        c.execute("ANALYZE")
    return company_id


# --- the hand-written SQL ----------------------------------------------------------------------


def _outstanding_cte(as_of: dt.date) -> str:
    """Outstanding principal per overdue charge of the company's units on `as_of`."""
    d = _date(as_of)
    days = (
        f"({d} - c.due_date)"
        if _pg()
        else f"CAST(julianday({d}) - julianday(c.due_date) AS INTEGER)"
    )
    month = (
        "date_trunc('month', c.period_start)" if _pg() else "strftime('%%Y-%%m', c.period_start)"
    )
    return (
        "WITH paid AS ("
        " SELECT a.charge_id, SUM(a.amount_fen) AS s FROM ledger_allocation a"
        " JOIN payments_payment p ON p.id = a.payment_id"
        " WHERE a.superseded_at IS NULL AND a.component = 'principal'"
        f" AND p.status = 'recorded' AND p.received_on <= {d} GROUP BY a.charge_id),"
        " waived AS ("
        " SELECT w.charge_id, SUM(w.amount_fen) AS s FROM ledger_waiver w"
        " WHERE w.status = 'active' AND w.component = 'principal'"
        f" AND w.effective_on <= {d} GROUP BY w.charge_id),"
        " o AS ("
        f" SELECT c.unit_id, c.due_date, {month} AS month, {days} AS days,"
        " c.principal_fen - COALESCE(paid.s, 0) - COALESCE(waived.s, 0) AS owed"
        " FROM billing_charge c"
        " JOIN estates_unit u ON u.id = c.unit_id"
        " JOIN estates_estate e ON e.id = u.estate_id AND e.company_id = %s"
        " LEFT JOIN paid ON paid.charge_id = c.id"
        " LEFT JOIN waived ON waived.charge_id = c.id"
        f" WHERE c.due_date < {d})"
    )


def aging_sql(as_of: dt.date) -> str:
    whens = " ".join(
        f"WHEN days >= {first}" + (f" AND days <= {last}" if last else "") + f" THEN '{label}'"
        for label, first, last in AGING_BUCKETS
    )
    return (
        f"{_outstanding_cte(as_of)} SELECT CASE {whens} END AS bucket, COUNT(*),"
        " COUNT(DISTINCT unit_id), SUM(owed) FROM o WHERE owed > 0 GROUP BY 1 ORDER BY 1"
    )


def arrears_sql(as_of: dt.date) -> str:
    return (
        f"{_outstanding_cte(as_of)} SELECT o.unit_id, u.code, SUM(o.owed),"
        " COUNT(DISTINCT o.month), MIN(o.due_date) FROM o"
        " JOIN estates_unit u ON u.id = o.unit_id WHERE o.owed > 0"
        " GROUP BY o.unit_id, u.code ORDER BY SUM(o.owed) DESC, u.code"
    )


def run_sql(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as c:
        c.execute(sql, params)
        return c.fetchall()


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def best_of(fn: Callable[[], object], times: int) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def explain(sql: str, params: list[Any] | None) -> None:
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if _pg() else "EXPLAIN QUERY PLAN "
    with connection.cursor() as c:
        c.execute(prefix + sql, params)
        for row in c.fetchall():
            print("    " + " | ".join(str(x) for x in row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best counts")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument(
        "--test-db-name", help="PostgreSQL: the throw-away database to use (dropped, re-created)"
    )
    args = parser.parse_args()
    if connection.vendor == "sqlite":
        # A file, like production, rather than Django's default in-memory test database.
        connection.settings_dict["TEST"]["NAME"] = str(_TMP / "bench.sqlite3")
    elif args.test_db_name:
        connection.settings_dict["TEST"]["NAME"] = args.test_db_name
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        started = time.perf_counter()
        company_id = fill(args.units, args.months)
        fill_s = time.perf_counter() - started
        counts = {
            table: run_sql(f"SELECT COUNT(*) FROM {table}", [])[0][0]
            for table in (
                "billing_charge",
                "payments_payment",
                "ledger_allocation",
                "ledger_waiver",
            )
        }
        admin = User.objects.create(username="bench-admin", role=Role.ADMIN, company_id=company_id)

        def orm_aging() -> list[Any]:
            return aging_summary(user=admin, as_of=AS_OF)

        def orm_arrears() -> list[Any]:
            return arrears_by_unit(user=admin, as_of=AS_OF)

        def raw_aging() -> list[tuple[Any, ...]]:
            return run_sql(aging_sql(AS_OF), [company_id])

        def raw_arrears() -> list[tuple[Any, ...]]:
            return run_sql(arrears_sql(AS_OF), [company_id])

        # Same numbers first.
        buckets = {b.label: (b.charges, b.units, b.principal_fen) for b in orm_aging()}
        raw_buckets = {label: (0, 0, 0) for label, _, _ in AGING_BUCKETS}
        raw_buckets.update({r[0]: (r[1], r[2], int(r[3])) for r in raw_aging()})
        if buckets != raw_buckets:
            sys.exit(f"aging differs:\n  selector {buckets}\n  SQL      {raw_buckets}")
        ledger = [
            (a.unit_id, a.code, a.principal_overdue_fen, a.months_owed, a.oldest_due_date)
            for a in orm_arrears()
        ]
        raw_ledger = [(r[0], r[1], int(r[2]), r[3], _as_date(r[4])) for r in raw_arrears()]
        if ledger != raw_ledger:
            diff = [i for i, (a, b) in enumerate(zip(ledger, raw_ledger, strict=False)) if a != b]
            sys.exit(
                f"arrears differ ({len(ledger)} vs {len(raw_ledger)} rows,"
                f" first difference at {diff[0] if diff else 'the end'})"
            )
        owed = sum(b[2] for b in buckets.values())
        if owed != sum(r[2] for r in ledger) or not ledger:
            sys.exit("aging total and arrears total differ, or nothing is owed")

        if args.explain:
            for label, fn, sql in (
                ("aging_summary", orm_aging, aging_sql(AS_OF)),
                ("arrears_by_unit", orm_arrears, arrears_sql(AS_OF)),
            ):
                with CaptureQueriesContext(connection) as ctx:
                    fn()
                orm_q = [q["sql"] for q in ctx.captured_queries if "billing_charge" in q["sql"]][-1]
                print(f"--- {label} (ORM):\n    {orm_q}")
                explain(orm_q, None)
                print(f"--- {label} (hand-written SQL):")
                explain(sql, [company_id])

        times = {
            "aging_summary": best_of(orm_aging, args.repeat),
            "aging SQL": best_of(raw_aging, args.repeat),
            "arrears_by_unit": best_of(orm_arrears, args.repeat),
            "arrears SQL": best_of(raw_arrears, args.repeat),
        }
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
        shutil.rmtree(_TMP, ignore_errors=True)

    cpu = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"database            {connection.vendor}")
    print(f"machine             {cpu}")
    print(f"date                {dt.date.today().isoformat()}")
    print(f"units × months      {args.units:,} × {args.months} (filled in {fill_s:.1f} s)")
    print(
        f"rows                {counts['billing_charge']:,} charges,"
        f" {counts['payments_payment']:,} payments, {counts['ledger_allocation']:,} allocations,"
        f" {counts['ledger_waiver']:,} waivers"
    )
    print(
        f"as of {AS_OF}    {len(ledger):,} units owe {owed / 100:,.2f} yuan;"
        f" results equal (aging buckets and the arrears list)"
    )
    print(f"best of {args.repeat}")
    for name in times:
        print(f"  {name:18} {times[name]:8.3f} s")
    print(f"ratio aging         {times['aging_summary'] / times['aging SQL']:8.2f} x")
    print(f"ratio arrears       {times['arrears_by_unit'] / times['arrears SQL']:8.2f} x")
    both = times["aging_summary"] + times["arrears_by_unit"]
    print(
        f"ratio both          {both / (times['aging SQL'] + times['arrears SQL']):8.2f} x"
        "  (arrears + aging / the two hand-written queries)"
    )


if __name__ == "__main__":
    main()
