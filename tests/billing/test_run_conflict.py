"""A billing run's insert meeting a key another transaction is writing (PostgreSQL only): the
other transaction inserted the charge but has not committed, so the run's INSERT … SELECT …
ON CONFLICT DO NOTHING waits on that row, and once it commits skips the key and counts it as
already billed.

The other transaction is held open until the run's insert waits on its row lock (seen in
pg_stat_activity), then commits: the order of events is forced, not left to timing."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction

from propfee.billing.constants import BillingRunStatus
from propfee.billing.models import Charge
from propfee.billing.services import billing_run_post
from propfee.core.models import AuditAction, AuditEntry
from tests.factories import UnitFactory

D = dt.date
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks of a concurrent insert: PostgreSQL"
    ),
]


def _wait_until_blocked(pid: int) -> bool:
    """Whether the backend `pid` comes to wait on a lock within about ten seconds."""
    with connection.cursor() as cursor:
        for _ in range(1000):
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
            if row is not None and row[0] == "Lock":
                return True
            time.sleep(0.01)
    return False


def test_a_key_written_by_a_concurrent_transaction_is_skipped(
    estate, billable, fee_item, unit, building
):
    others = [UnitFactory(building=building, room=room) for room in ("1601", "1701")]
    taken = others[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        run_pid = cursor.fetchone()[0]
    inserted = threading.Event()
    outcome: dict[str, object] = {}

    def concurrent_writer() -> None:
        try:
            with transaction.atomic():
                Charge.objects.create(
                    unit=taken,
                    fee_item=fee_item,
                    period_start=D(2026, 1, 1),
                    period_end=D(2026, 1, 31),
                    due_date=D(2026, 1, 20),
                    principal_fen=12345,
                )
                inserted.set()
                outcome["blocked"] = _wait_until_blocked(run_pid)
        except BaseException as exc:  # reported below
            outcome["error"] = exc
            inserted.set()
        finally:
            connection.close()

    writer = threading.Thread(target=concurrent_writer)
    writer.start()
    assert inserted.wait(timeout=30)
    # The insert waits on the writer's uncommitted row, then skips that key.
    run = billing_run_post(estate=estate, period="2026-01", actor=None)
    writer.join()
    assert "error" not in outcome, outcome
    assert outcome["blocked"] is True

    run.refresh_from_db()
    assert run.status == BillingRunStatus.POSTED
    assert (run.unit_count, run.charge_count, run.already_billed_count) == (3, 2, 1)
    charges = {
        unit_id: (principal_fen, billing_run_id)
        for unit_id, principal_fen, billing_run_id in Charge.objects.values_list(
            "unit_id", "principal_fen", "billing_run_id"
        )
    }
    # 89.50 ㎡ × 2.35 元 = 210.325 → 21033 分 (the fixtures' tariff, rounded once).
    assert charges == {
        unit.pk: (21033, run.pk),
        others[1].pk: (21033, run.pk),
        taken.pk: (12345, None),  # the writer's charge, left as it was
    }
    assert run.total_fen == 2 * 21033
    summary = AuditEntry.objects.get(action=AuditAction.CREATE, object_type="billing.billingrun")
    assert (summary.after["charge_count"], summary.after["already_billed_count"]) == (2, 1)
    assert summary.after["total_fen"] == 2 * 21033
