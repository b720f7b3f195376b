"""Benchmark: payments posted per second, against a raw bulk insert of the same rows.

    .venv/bin/python bench/bench_payments.py [--units 10000] [--payments 2000] [--months 6]

PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/propfee_pbench) and run
the same command.

Runs in a throw-away test database (`test_<NAME>` on PostgreSQL, a temporary file on SQLite).
Each round fills M units of one estate with SQL (the fill of bench_billing.py: areas varying,
one in ten vacant, one in fifty parking spaces, one payer each), bills them for `--months`
months through `billing_run_post` (2026-05 … 2026-10, due on the 1st, 15 grace days, 万分之五 a
day), and then records N payments as a company admin, spread over the units in turn: the k-th
payment of a unit pays its k-th month — in full, or (one in five) half of it, or (one in ten)
20 days late so that a penalty is paid too — received between the due date and 25 days later.
Every unit thus has open charges, earlier allocations and, with `--payments` > `--units`,
earlier payments when its next payment arrives.

Timed:

- **payment_record**: `propfee.payments.services.payment_record` once per payment, each in its
  own transaction as the front desk and the bank-file import post them: scope check, idempotency
  look-up, the unit's lock, the payer, the receipt counter, the payment, the engine's replay of
  the unit's account and the allocations it stores, the audit row, the commit.
- **payments_record_bulk** (when the code base has it): the same N payments in one call, on a
  fresh database filled the same way.
- **raw insert**: the physical limit — the payment rows and the current allocation rows that
  `payment_record` wrote, read back, inserted into the same empty tables of a fresh database of
  the same units and charges (`executemany` on SQLite, `COPY` on PostgreSQL) in one
  transaction.
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
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propfee.settings")
_TMP = Path(tempfile.mkdtemp(prefix="propfee-bench-"))
os.environ.setdefault("PROPFEE_DATA_DIR", str(_TMP))

import django  # noqa: E402

django.setup()

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_billing import billing_setup  # noqa: E402
from bench_billing import fill as fill_units  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

from propfee.billing.models import Charge  # noqa: E402
from propfee.billing.services import billing_run_post  # noqa: E402
from propfee.core.models import User  # noqa: E402
from propfee.core.roles import Capability, Role, role_can  # noqa: E402
from propfee.estates.models import Estate, Unit  # noqa: E402
from propfee.ledger.models import Allocation  # noqa: E402
from propfee.payments.models import Payment  # noqa: E402
from propfee.payments.services import payment_record  # noqa: E402

try:  # the set-based path, where the code base has it
    from propfee.payments.services import PaymentRow, payments_record_bulk
except ImportError:  # pragma: no cover - older trees
    PaymentRow = payments_record_bulk = None  # type: ignore[assignment,misc]

FIRST_MONTH = dt.date(2026, 5, 1)
PAYMENT_COLUMNS = (
    "id",
    "unit_id",
    "payer_id",
    "amount_fen",
    "received_on",
    "channel",
    "reference",
    "designations",
    "status",
    "receipt_no",
    "recorded_by_id",
    "created_at",
    "reversed_by_id",
    "reversed_at",
    "reverse_reason",
)
ALLOCATION_COLUMNS = ("payment_id", "charge_id", "component", "amount_fen", "created_at")


def _months_add(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def fresh_database(n_units: int, months: int) -> tuple[str, Estate, User, float]:
    """Units, payers, `months` billed months and an admin, in a new test database."""
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    started = time.perf_counter()
    estate = fill_units(n_units)
    billing_setup(estate)
    for k in range(months):
        billing_run_post(estate=estate, period=f"{_months_add(FIRST_MONTH, k):%Y-%m}", actor=None)
    admin = User.objects.create(username="bench-admin", role=Role.ADMIN, company=estate.company)
    assert role_can(admin, Capability.RECORD_PAYMENTS)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return old_name, estate, admin, time.perf_counter() - started


def payment_plan(n_payments: int, months: int) -> list[tuple[int, int, dt.date, str]]:
    """(unit id, amount in fen, received on, bank reference) of each payment, in posting order:
    units in turn, the k-th payment of a unit for its k-th billed month."""
    # The units billed since the first month (one in 200 is handed over later).
    unit_ids = list(
        Charge.objects.filter(period_start=FIRST_MONTH)
        .order_by("unit_id")
        .values_list("unit_id", flat=True)
    )
    charges = {
        (unit_id, period_start): (principal, due)
        for unit_id, period_start, principal, due in Charge.objects.values_list(
            "unit_id", "period_start", "principal_fen", "due_date"
        )
    }
    plan = []
    for n in range(n_payments):
        unit_id = unit_ids[n % len(unit_ids)]
        month = _months_add(FIRST_MONTH, (n // len(unit_ids)) % months)
        principal, due = charges[(unit_id, month)]
        if n % 10 == 3:  # late: 20 days past the grace, with the penalty on top
            amount, received = principal + principal * 20 // 2000 + 1, due + dt.timedelta(35)
        elif n % 5 == 1:  # half
            amount, received = max(1, principal // 2), due + dt.timedelta(n % 15)
        else:
            amount, received = principal, due + dt.timedelta(n % 15)
        plan.append((unit_id, amount, received, f"BANK-{n:08d}"))
    return plan


def time_payment_record(
    plan: list[tuple[int, int, dt.date, str]], admin: User, profile: bool = False
) -> float:
    units = Unit.objects.in_bulk([unit_id for unit_id, *_rest in plan])
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    started = time.perf_counter()
    for unit_id, amount, received, reference in plan:
        payment_record(
            unit=units[unit_id],
            amount_fen=amount,
            received_on=received,
            channel="bank_transfer",
            reference=reference,
            actor=admin,
        )
    elapsed = time.perf_counter() - started
    if profiler:
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative"))
        stats.print_stats(40)
    return elapsed


def time_bulk(plan: list[tuple[int, int, dt.date, str]], admin: User) -> float:
    assert PaymentRow is not None and payments_record_bulk is not None
    rows = [
        PaymentRow(unit_id=u, amount_fen=a, received_on=r, channel="bank_transfer", reference=ref)
        for u, a, r, ref in plan
    ]
    started = time.perf_counter()
    payments_record_bulk(rows=rows, actor=admin)
    return time.perf_counter() - started


def written_rows() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The payment rows and the current allocation rows, as the driver takes them back."""
    with connection.cursor() as c:
        c.execute(f"SELECT {', '.join(PAYMENT_COLUMNS)} FROM payments_payment ORDER BY id")
        payments = [tuple(r) for r in c.fetchall()]
        c.execute(
            f"SELECT {', '.join(ALLOCATION_COLUMNS)} FROM ledger_allocation"
            " WHERE superseded_at IS NULL ORDER BY id"
        )
        allocations = [tuple(r) for r in c.fetchall()]
    return payments, allocations


def _insert(cursor: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    column_list = ", ".join(columns)
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({marks})", rows)


def time_raw_insert(payments: list[tuple[Any, ...]], allocations: list[tuple[Any, ...]]) -> float:
    """The same rows into the same (empty) tables, in one transaction."""
    if connection.vendor == "postgresql":
        # psycopg hands JSON back as Python lists; COPY takes the text.
        import json

        at = PAYMENT_COLUMNS.index("designations")
        payments = [(*p[:at], json.dumps(p[at]), *p[at + 1 :]) for p in payments]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        _insert(cursor, Payment._meta.db_table, PAYMENT_COLUMNS, payments)
        _insert(cursor, Allocation._meta.db_table, ALLOCATION_COLUMNS, allocations)
    elapsed = time.perf_counter() - started
    assert Payment.objects.count() == len(payments)
    return elapsed


def measure(n_units: int, n_payments: int, months: int, profile: bool) -> dict[str, float]:
    times: dict[str, float] = {}
    old_name, _estate, admin, times["fill"] = fresh_database(n_units, months)
    try:
        plan = payment_plan(n_payments, months)
        times["record"] = time_payment_record(plan, admin, profile)
        payments, allocations = written_rows()
        times["payments"], times["allocations"] = len(payments), len(allocations)
        if payments_record_bulk is not None:
            connection.creation.destroy_test_db(old_name, verbosity=0)
            old_name, _estate, admin, _ = fresh_database(n_units, months)
            times["bulk"] = time_bulk(plan, admin)
            # The same payments and allocations as one call per payment gives.
            bulk_payments, bulk_allocations = written_rows()
            strip = PAYMENT_COLUMNS.index("created_at")
            if [p[:strip] for p in bulk_payments] != [p[:strip] for p in payments] or sorted(
                a[:4] for a in bulk_allocations
            ) != sorted(a[:4] for a in allocations):
                sys.exit("payments_record_bulk wrote other rows than payment_record")
        connection.creation.destroy_test_db(old_name, verbosity=0)
        old_name, *_rest = fresh_database(n_units, months)
        times["raw"] = time_raw_insert(payments, allocations)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--payments", type=int, default=2_000)
    parser.add_argument("--months", type=int, default=6, help="billed months before paying")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the best time counts")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of payment_record")
    args = parser.parse_args()

    if connection.vendor == "sqlite":
        # A file, like production, rather than Django's default in-memory test database.
        connection.settings_dict["TEST"]["NAME"] = str(_TMP / "bench.sqlite3")
    setup_test_environment()
    try:
        rounds = [
            measure(args.units, args.payments, args.months, args.profile)
            for _ in range(max(1, args.repeat))
        ]
    finally:
        teardown_test_environment()
        shutil.rmtree(_TMP, ignore_errors=True)
    best = {key: min(r[key] for r in rounds) for key in rounds[0]}

    n = int(best["payments"])
    cpu = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"database            {connection.vendor}")
    print(f"machine             {cpu}")
    print(f"date                {dt.date.today().isoformat()}")
    print(
        f"units               {args.units:,} × {args.months} billed months"
        f" (filled in {best['fill']:.1f} s), best of {len(rounds)}"
    )
    print(f"payments            {n:,} (+ {int(best['allocations']):,} current allocations)")
    print(f"payment_record      {best['record']:8.2f} s  ({n / best['record']:,.0f} payments/s)")
    if "bulk" in best:
        print(f"payments_record_bulk{best['bulk']:8.2f} s  ({n / best['bulk']:,.0f} payments/s)")
    print(f"raw insert          {best['raw']:8.2f} s  ({n / best['raw']:,.0f} payments/s)")
    print(f"ratio record        {best['record'] / best['raw']:8.1f} x  (payment_record / raw)")
    if "bulk" in best:
        print(f"ratio bulk          {best['bulk'] / best['raw']:8.1f} x  (bulk / raw)")


if __name__ == "__main__":
    main()
