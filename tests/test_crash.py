"""Crash tests: a real `python -m propfee` process — the billing run, the daily collection run,
a payments import — killed with SIGKILL in the middle of its work, then run again: nothing
half-written by the killed process, no lock left, the re-run completes with what an
uninterrupted run does (no duplicates), `propfee ledger verify` clean, receipts gapless.

Where the kill lands:
The killed process is a real `python -m propfee` process; the re-run is the same command, in
this process, on the state the killed one left.
- PostgreSQL: deterministically. The test holds an uncommitted row (in another session) that
  the process's write must wait for — a charge, a case or a payment with the same key — and
  kills the process once the server shows it waiting on that lock inside its transaction.
- SQLite (no row locks): the test polls until the process holds the database's write lock
  (inside its one write transaction) and kills it then; the data is large enough that the
  transaction lasts; the test then checks that the kill did land mid-way (the run's own row is
  still `running`, or nothing of it is committed).

The process sees the test's database: on PostgreSQL the test database itself (this module's
tests commit: `transaction=True`); on SQLite a file copied from the in-memory test database
with SQLite's backup API, and copied back after the process is killed."""

from __future__ import annotations

import csv
import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from propfee.billing.constants import BillingRunStatus, TariffBasis
from propfee.billing.models import BillingRun, Charge
from propfee.billing.services import (
    billing_run_preview,
    contract_version_create,
    fee_item_create,
    tariff_create,
)
from propfee.collection.constants import CaseStatus, RunStatus
from propfee.collection.models import Action, Case, DunningRun
from propfee.collection.policies import policies_defaults_load
from propfee.collection.run.lock import ADVISORY_LOCK_CLASS
from propfee.collection.services import dunning_run
from propfee.core.models import AuditEntry
from propfee.estates.constants import PartyRole, UnitType
from propfee.estates.models import Occupancy, Party, PartyPhone, Unit
from propfee.messaging.models import Message
from propfee.messaging.services import messaging_defaults_load
from propfee.payments.constants import PaymentChannel
from propfee.payments.models import Payment, ReceiptCounter
from tests.factories import UnitFactory

D = dt.date
POSTGRES = connection.vendor == "postgresql"
pytestmark = pytest.mark.django_db(transaction=True)
# Sizes: on PostgreSQL the kill point is forced, so a handful would do; on SQLite the write
# transaction must last long enough to be caught by polling.
RUN_UNITS, BILL_UNITS, IMPORT_ROWS = (10, 20, 10) if POSTGRES else (40, 300, 150)


# --- the process and its database ------------------------------------------------------------
class ProcessDatabase:
    """The database a `python -m propfee` process of this test uses (see the module)."""

    def __init__(self, tmp_path: Path) -> None:
        self.file = tmp_path / "crash.sqlite3"
        self.env = {**os.environ, "PROPFEE_DATA_DIR": str(tmp_path / "data")}
        if POSTGRES:
            s = connection.settings_dict
            auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
            self.env["DATABASE_URL"] = (
                f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"
            )
        else:
            self.env["DATABASE_URL"] = f"sqlite:///{self.file}"

    def push(self) -> None:
        """The test's data, committed, where the process will see it."""
        if not POSTGRES:
            connection.ensure_connection()
            target = sqlite3.connect(self.file)
            connection.connection.backup(target)
            target.close()

    def pull(self) -> None:
        """What the processes wrote, back into the test's database."""
        if not POSTGRES:
            source = sqlite3.connect(self.file)
            source.backup(connection.connection)
            source.close()

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "propfee", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def scalar(self, sql: str) -> int:
        """One figure read from the committed state the process sees."""
        if POSTGRES:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return int(cursor.fetchone()[0])
        reader = sqlite3.connect(self.file, timeout=20)
        try:
            return int(reader.execute(sql).fetchone()[0])
        finally:
            reader.close()

    def sqlite_writing(self) -> bool:
        """SQLite: whether a process holds the write lock (is inside a write transaction)."""
        probe = sqlite3.connect(self.file, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True
        else:
            probe.execute("ROLLBACK")
            return False
        finally:
            probe.close()


def postgres_waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def postgres_sessions() -> set[int]:
    """The other sessions connected to the test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return {row[0] for row in cursor.fetchall()}


def postgres_others_gone(before: set[int]) -> Callable[[], bool]:
    """No session is connected to the test database but those that were before the process
    started (a killed process's server backend ends once it notices that its client is gone;
    an idle session another test of this worker left open is not the process's)."""
    return lambda: postgres_sessions() <= before


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the process ended before it was killed:\n{out}\n{err}")
        if time.monotonic() > deadline:
            if process is not None:
                process.kill()
            pytest.fail("the awaited state never came")
        time.sleep(0.005)


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL


@contextmanager
def uncommitted(write: Callable[[], object]) -> Iterator[None]:
    """PostgreSQL: `write` done in another session and held uncommitted for the duration of
    the block (then rolled back): a process writing the same key waits for it."""
    ready, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                write()
                ready.set()
                release.wait(timeout=120)
                transaction.set_rollback(True)
        except BaseException as exc:  # reported below
            errors.append(exc)
            ready.set()
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert ready.wait(timeout=60)
    assert not errors, errors
    try:
        yield
    finally:
        release.set()
        holder.join()


def killed_mid_way(
    db: ProcessDatabase,
    args: list[str],
    *,
    blocker: Callable[[], object],
    sqlite_started: Callable[[], bool],
) -> None:
    """Start `propfee *args` and SIGKILL it in the middle of its write transaction."""
    if POSTGRES:
        before = postgres_sessions()
        with uncommitted(blocker):
            process = db.start(*args)
            wait_for(postgres_waiting_on_a_lock, process)
            kill(process)
        wait_for(postgres_others_gone(before))
    else:
        process = db.start(*args)
        wait_for(lambda: sqlite_started() and db.sqlite_writing(), process)
        kill(process)


def ledger_verify_clean() -> None:
    out = StringIO()
    call_command("ledger", "verify", stdout=out)  # raises CommandError on any mismatch
    assert "不一致" not in out.getvalue()


# --- data ------------------------------------------------------------------------------------
def units_create(building, count: int) -> list[Unit]:
    return Unit.objects.bulk_create(
        [UnitFactory.build(building=building, room=f"{i + 1:04d}") for i in range(count)]
    )


def charges_create(units: list[Unit], fee_item, months: tuple[int, ...]) -> None:
    rows = []
    for unit in units:
        for month in months:
            start = D(2026, month, 1)
            end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
            rows.append(
                Charge(
                    unit=unit,
                    fee_item=fee_item,
                    period_start=start,
                    period_end=end,
                    due_date=end,
                    principal_fen=10000,
                )
            )
    Charge.objects.bulk_create(rows)


def payers_create(company, units: list[Unit]) -> None:
    parties = Party.objects.bulk_create(
        [Party(company=company, name=f"业主{i}") for i in range(len(units))]
    )
    PartyPhone.objects.bulk_create(
        [
            PartyPhone(party=p, number=f"139{i:08d}", number_reversed=f"139{i:08d}"[::-1])
            for i, p in enumerate(parties)
        ]
    )
    Occupancy.objects.bulk_create(
        [
            Occupancy(unit=u, party=p, role=PartyRole.OWNER, is_payer=True, since=D(2020, 1, 1))
            for u, p in zip(units, parties, strict=True)
        ]
    )


# --- the daily collection run ----------------------------------------------------------------
def test_a_killed_daily_run_leaves_no_lock_and_the_next_run_completes(
    tmp_path, company, estate, building
):
    fee_item = fee_item_create(company=company, code="WYF", name="物业费", actor=None)
    contract_version_create(estate=estate, effective_from=D(2026, 1, 1), actor=None)
    policies_defaults_load(company)
    messaging_defaults_load(company=company, approve=True)
    units = units_create(building, RUN_UNITS)
    charges_create(units, fee_item, (1, 2, 3))
    payers_create(company, units)
    as_of = D(2026, 4, 1)
    preview = dunning_run(company=company, as_of=as_of, actor=None, dry_run=True)
    assert (preview.cases_opened, preview.actions_by_stage) == (RUN_UNITS, {"reminder": RUN_UNITS})
    db = ProcessDatabase(tmp_path)
    db.push()

    args = ["dunning", "run", "--as-of", f"{as_of}"]
    killed_mid_way(
        db,
        args,
        blocker=lambda: Case.objects.create(
            company=company,
            estate=estate,
            unit=units[-1],
            status=CaseStatus.OPEN,
            opened_on=as_of,
        ),
        sqlite_started=lambda: (
            db.scalar("SELECT count(*) FROM collection_dunningrun WHERE status = 'running'") > 0
        ),
    )
    db.pull()
    # Killed mid-way: its lock row is there, still running; nothing it planned is written.
    killed = DunningRun.objects.get()
    assert killed.status == RunStatus.RUNNING and killed.holder
    assert (Case.objects.count(), Action.objects.count(), Message.objects.count()) == (0, 0, 0)

    out = StringIO()
    call_command(*args, stdout=out)  # the next run is not refused
    assert "新立案" in out.getvalue()
    killed.refresh_from_db()
    assert killed.status == RunStatus.FAILED and killed.error.startswith("中断")
    finished = DunningRun.objects.get(status=RunStatus.FINISHED)
    # What an uninterrupted run does (its dry run), once: no duplicate actions or messages.
    assert finished.report["cases_opened"] == RUN_UNITS
    assert finished.report["actions_by_stage"] == {"reminder": RUN_UNITS}
    assert Case.objects.filter(status=CaseStatus.OPEN).count() == RUN_UNITS
    assert Action.objects.count() == RUN_UNITS
    assert Action.objects.values("key").distinct().count() == RUN_UNITS
    assert Message.objects.count() == RUN_UNITS
    assert Message.objects.values("unit").distinct().count() == RUN_UNITS
    assert not DunningRun.objects.filter(status=RunStatus.RUNNING).exists()
    if POSTGRES:
        assert _advisory_locks() == 0
    ledger_verify_clean()
    # A third run the same day adds nothing.
    call_command(*args, stdout=StringIO())
    assert (Action.objects.count(), Message.objects.count()) == (RUN_UNITS, RUN_UNITS)


def _advisory_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s",
            [ADVISORY_LOCK_CLASS],
        )
        return cursor.fetchone()[0]


# --- the billing run -------------------------------------------------------------------------
def test_a_killed_billing_run_writes_nothing_and_the_next_one_bills_once(
    tmp_path, company, estate, building
):
    fee_item = fee_item_create(company=company, code="WYF", name="物业费", actor=None)
    for code, rate in (("GTF", "0.50"), ("ZMF", "0.20")):
        tariff_create(
            fee_item=fee_item_create(company=company, code=code, name=code, actor=None),
            estate=estate,
            unit_type=UnitType.RESIDENTIAL,
            basis=TariffBasis.PER_M2_MONTH,
            rate_yuan=Decimal(rate),
            effective_from=D(2026, 1, 1),
            actor=None,
        )
    tariff_create(
        fee_item=fee_item,
        estate=estate,
        unit_type=UnitType.RESIDENTIAL,
        basis=TariffBasis.PER_M2_MONTH,
        rate_yuan=Decimal("2.35"),
        effective_from=D(2026, 1, 1),
        actor=None,
    )
    contract_version_create(estate=estate, effective_from=D(2026, 1, 1), due_day=5, actor=None)
    units = units_create(building, BILL_UNITS)
    preview = billing_run_preview(estate=estate, period="2026-02", actor=None)
    assert preview.charge_count == 3 * BILL_UNITS
    db = ProcessDatabase(tmp_path)
    db.push()

    args = ["bill", "--period", "2026-02", "--estate", estate.code]
    killed_mid_way(
        db,
        args,
        blocker=lambda: Charge.objects.create(
            unit=units[-1],
            fee_item=fee_item,
            period_start=D(2026, 2, 1),
            period_end=D(2026, 2, 28),
            due_date=D(2026, 2, 5),
            principal_fen=1,
        ),
        sqlite_started=lambda: True,
    )
    db.pull()
    # Nothing half-written: no run, no charge, no audit row.
    assert (BillingRun.objects.count(), Charge.objects.count()) == (0, 0)
    assert not AuditEntry.objects.filter(object_type="billing.billingrun").exists()

    call_command(*args, stdout=StringIO())
    run = BillingRun.objects.get()
    assert run.status == BillingRunStatus.POSTED
    assert (run.charge_count, run.total_fen) == (preview.charge_count, preview.total_fen)
    assert Charge.objects.count() == 3 * BILL_UNITS
    assert (
        Charge.objects.values("unit", "fee_item", "period_start").distinct().count()
        == 3 * BILL_UNITS
    )
    ledger_verify_clean()


# --- a payments import -----------------------------------------------------------------------
def test_a_killed_payments_import_writes_nothing_and_receipts_stay_gapless(
    tmp_path, company, estate, building
):
    fee_item = fee_item_create(company=company, code="WYF", name="物业费", actor=None)
    contract_version_create(estate=estate, effective_from=D(2026, 1, 1), actor=None)
    units = units_create(building, IMPORT_ROWS)
    charges_create(units, fee_item, (1, 2))
    rows = [
        [unit.code, "150.00", "2026-03-02", "银行转账", f"BANK-{i:06d}"]
        for i, unit in enumerate(units)
    ]
    upload = tmp_path / "payments.csv"
    with upload.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["房屋编码", "金额", "收款日期", "方式", "流水号"])
        writer.writerows(rows)
    db = ProcessDatabase(tmp_path)
    db.push()

    args = ["import", "payments", str(upload)]
    killed_mid_way(
        db,
        args,
        blocker=lambda: Payment.objects.create(
            unit=units[-1],
            amount_fen=1,
            received_on=D(2026, 3, 1),
            channel=PaymentChannel.BANK_TRANSFER,
            reference=rows[-1][-1],
            receipt_no="HELD-BY-THE-TEST",
        ),
        sqlite_started=lambda: True,
    )
    db.pull()
    # Nothing half-written: no payment, no allocation, the receipt counter not advanced.
    assert Payment.objects.count() == 0
    assert not ReceiptCounter.objects.filter(last_number__gt=0).exists()
    assert not AuditEntry.objects.filter(object_type="import.payments").exists()

    call_command(*args, stdout=StringIO())
    assert Payment.objects.count() == IMPORT_ROWS
    assert Payment.objects.values("reference").distinct().count() == IMPORT_ROWS
    # Receipts gapless: ESTATE-2026-000001 … the last, and the counter at the last one.
    year = Payment.objects.values_list("receipt_no", flat=True).first().split("-")[-2]
    numbers = sorted(
        int(no.rsplit("-", 1)[1]) for no in Payment.objects.values_list("receipt_no", flat=True)
    )
    assert numbers == list(range(1, IMPORT_ROWS + 1))
    assert ReceiptCounter.objects.get(estate=estate, year=int(year)).last_number == IMPORT_ROWS
    ledger_verify_clean()
    # The same file again records nothing more.
    call_command(*args, stdout=StringIO())
    assert Payment.objects.count() == IMPORT_ROWS
