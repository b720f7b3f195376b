"""The run lock: a live run refuses another, a dead run's lock is taken over by the next run,
a stale heartbeat (SQLite) is taken over, `propfee dunning unlock` releases a left-over lock by
hand (audited) and refuses a live one, and no lock is left after a run, finished or failed.
A real run process killed mid-way: tests/test_crash.py."""

from __future__ import annotations

import datetime as dt
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from propfee.collection.constants import RunStatus
from propfee.collection.models import Case, DunningRun
from propfee.collection.run import lock
from propfee.collection.services import DunningRunLocked, dunning_run_unlock
from propfee.core.models import AuditEntry

D = dt.date


def _dead_holder() -> str:
    """A holder naming a process of this machine that has exited (and been reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return f"{lock.this_holder().rpartition(':')[0]}:{process.pid}"


def test_a_live_run_refuses_another_and_cannot_be_unlocked(
    run, owing, company, lock_held_elsewhere
):
    owing("101", months=[1, 2])
    with pytest.raises(DunningRunLocked, match="的催收批次正在运行中，请等待其完成后再运行"):
        run(D(2026, 4, 1))
    with pytest.raises(DunningRunLocked, match="不能解锁"):
        dunning_run_unlock(company=company, actor=None)
    assert not Case.objects.exists()
    assert DunningRun.objects.get().status == RunStatus.RUNNING


def test_a_dead_runs_lock_is_taken_over_by_the_next_run(run, owing, company):
    owing("101", months=[1, 2])
    left = DunningRun.objects.create(
        company=company, as_of=D(2026, 4, 1), status=RunStatus.RUNNING, holder=_dead_holder()
    )
    report = run(D(2026, 4, 1))
    assert report.cases_opened == 1
    left.refresh_from_db()
    assert left.status == RunStatus.FAILED and left.error.startswith("中断")
    assert DunningRun.objects.filter(status=RunStatus.FINISHED).count() == 1
    assert not DunningRun.objects.filter(status=RunStatus.RUNNING).exists()
    assert AuditEntry.objects.filter(
        object_type="collection.dunningrun", object_id=str(left.pk), note__contains="中断"
    ).exists()


@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL: the advisory lock decides, not rows"
)
@override_settings(PROPFEE_RUN_LOCK_STALE_SECONDS=120)
def test_heartbeat_of_another_machine_is_stale_after_the_setting(run, owing, company):
    owing("101", months=[1, 2])
    left = DunningRun.objects.create(
        company=company,
        as_of=D(2026, 4, 1),
        status=RunStatus.RUNNING,
        holder="another-machine:4242",
        heartbeat_at=timezone.now() - dt.timedelta(seconds=100),
    )
    with pytest.raises(DunningRunLocked):
        run(D(2026, 4, 1))
    DunningRun.objects.filter(pk=left.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(seconds=130)
    )
    assert run(D(2026, 4, 1)).cases_opened == 1
    left.refresh_from_db()
    assert left.status == RunStatus.FAILED


def test_unlock_command_releases_a_left_over_lock_and_audits_it(run, owing, company, manager):
    owing("101", months=[1, 2])
    out = StringIO()
    call_command("dunning", "unlock", stdout=out)
    assert "没有遗留的运行锁" in out.getvalue()
    left = DunningRun.objects.create(
        company=company,
        as_of=D(2026, 4, 1),
        status=RunStatus.RUNNING,
        holder="another-machine:4242",
        heartbeat_at=timezone.now(),
    )
    out = StringIO()
    call_command("dunning", "unlock", "--user", manager.username, stdout=out)
    assert f"已释放：催收批次 #{left.pk}，业务日期 2026-04-01" in out.getvalue()
    assert "运行进程 another-machine:4242" in out.getvalue()
    left.refresh_from_db()
    assert left.status == RunStatus.FAILED and "手动解锁" in left.error
    entry = AuditEntry.objects.get(object_type="collection.dunningrun", object_id=str(left.pk))
    assert entry.actor == manager and "手动解锁" in entry.note
    assert run(D(2026, 4, 1)).cases_opened == 1


def test_unlock_needs_the_run_permission(company, collector):
    with pytest.raises(CommandError, match="没有解锁催收批次的权限"):
        call_command("dunning", "unlock", "--user", collector.username)


def _advisory_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s",
            [lock.ADVISORY_LOCK_CLASS],
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks: PostgreSQL")
def test_no_advisory_lock_is_left_after_a_run_finished_or_failed(run, owing, company, monkeypatch):
    owing("101", months=[1, 2])
    run(D(2026, 4, 1))
    assert _advisory_locks() == 0

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("propfee.collection.run.service.plan_apply", broken)
    with pytest.raises(RuntimeError):
        run(D(2026, 4, 2), force=True)
    assert _advisory_locks() == 0
    assert DunningRun.objects.filter(status=RunStatus.FAILED).count() == 1


@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL: the advisory lock decides, not rows"
)
def test_a_live_process_with_a_stale_heartbeat_is_not_running_the_run(run, owing, company):
    """A row left by a process that lives on (a web worker whose failed run could not mark its
    row) is taken over after the stale timeout all the same."""
    owing("101", months=[1, 2])
    left = DunningRun.objects.create(
        company=company,
        as_of=D(2026, 4, 1),
        status=RunStatus.RUNNING,
        holder=lock.this_holder(),
        heartbeat_at=timezone.now() - lock.stale_after() - dt.timedelta(seconds=1),
    )
    assert run(D(2026, 4, 1)).cases_opened == 1
    left.refresh_from_db()
    assert left.status == RunStatus.FAILED
