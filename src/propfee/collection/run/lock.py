"""The run lock (运行锁): at most one daily run per company at a time, and none left behind by a
run whose process was killed (`kill -9`, a lost machine) in the middle.

PostgreSQL: a session-level advisory lock keyed by the company (`pg_try_advisory_lock`). The
server releases it when the connection ends, however the process ended; whoever gets it knows
that a `running` DunningRun row of the company is left over from a dead run.

SQLite: the `running` DunningRun row is the lock. It names its holder (host:pid) and carries a
heartbeat; it is stale, and is taken over, when its holder is a process of this machine that no
longer exists (at once), or when its heartbeat is older than `PROPFEE_RUN_LOCK_STALE_SECONDS`
(default 10 minutes). The heartbeat is written when the lock is taken: the run's writes that
follow are one write transaction, during which SQLite keeps every other writer out, so no one
can take over a live run in the middle of its work whatever its length, and a refresh inside
that transaction would be seen by no one before the commit that releases the lock anyway.

A left-over row is closed as `failed` with the reason, audit-logged; `dunning_run_unlock` (the
`propfee dunning unlock` command) does the same by hand and refuses while the holder is alive."""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from propfee.collection.constants import RunStatus
from propfee.collection.models import DunningRun
from propfee.core.models import AuditAction, User
from propfee.core.services import audit_record
from propfee.estates.models import Company

# First key of the advisory lock (the second is the company's id): "pf" and 1, the daily run.
ADVISORY_LOCK_CLASS = 0x7066_0001
DEFAULT_STALE_SECONDS = 600


class DunningError(ValueError):
    """A run the rules refuse; the message is for the user."""


class DunningRunLocked(DunningError):
    """Another run of the same company is in progress."""


@dataclass(frozen=True)
class ReleasedRun:
    """A left-over `running` row closed by a takeover or by hand."""

    run_id: int
    as_of: dt.date
    started_at: dt.datetime
    holder: str
    heartbeat_at: dt.datetime | None


def stale_after() -> dt.timedelta:
    return dt.timedelta(
        seconds=int(getattr(settings, "PROPFEE_RUN_LOCK_STALE_SECONDS", DEFAULT_STALE_SECONDS))
    )


def this_holder() -> str:
    """Who holds a lock taken by this process: "host:pid"."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: it exists
    try:  # a killed process not yet reaped by its parent is a zombie: dead all the same
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def holder_alive(holder: str) -> bool | None:
    """Whether the process `holder` ("host:pid") is alive: True/False on this machine, None
    (unknown) for another machine's or a malformed holder."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    return _process_exists(int(pid))


def _row_stale(run: DunningRun, now: dt.datetime) -> bool:
    """Left over: its holder is gone from this machine, or its heartbeat is older than the
    stale timeout. (A live process whose heartbeat is that old is not running the run: on
    SQLite a run's work is one write transaction, which no takeover could enter anyway.)"""
    if holder_alive(run.holder) is False:
        return True
    beat = run.heartbeat_at or run.started_at
    return now - beat > stale_after()


def _advisory(function: str, company: Company) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {function}(%s, %s)", [ADVISORY_LOCK_CLASS, company.pk % 2_147_483_647]
        )
        return bool(cursor.fetchone()[0])


def advisory_holder_pid(company: Company) -> int | None:
    """PostgreSQL: the server process id of the session holding `company`'s run lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
            "AND objid = %s AND objsubid = 2 AND granted",
            [ADVISORY_LOCK_CLASS, company.pk % 2_147_483_647],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _locked_message(company: Company) -> str:
    return f"{company.name} 的催收批次正在运行中，请等待其完成后再运行。"


def _close_left_over(
    rows: list[DunningRun], *, actor: User | None, reason: str
) -> list[ReleasedRun]:
    """Close left-over `running` rows as failed with `reason`, one audit row each."""
    now = timezone.now()
    released = []
    for row in rows:
        DunningRun.objects.filter(pk=row.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, error=reason, finished_at=now
        )
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=row,
            before={"status": RunStatus.RUNNING, "holder": row.holder},
            after={"status": RunStatus.FAILED},
            note=f"催收批次 #{row.pk}（{row.as_of:%Y-%m-%d}）：{reason}",
        )
        released.append(
            ReleasedRun(row.pk, row.as_of, row.started_at, row.holder, row.heartbeat_at)
        )
    return released


def _running_rows(company: Company) -> list[DunningRun]:
    return list(DunningRun.objects.filter(company=company, status=RunStatus.RUNNING).order_by("pk"))


def run_lock_acquire(*, company: Company, as_of: dt.date, actor: User | None) -> DunningRun:
    """Take `company`'s run lock and open its `running` row, closing a row left over by a
    dead run; DunningRunLocked when a live run holds it. Release with `run_lock_release`."""
    postgres = connection.vendor == "postgresql"
    if postgres and not _advisory("pg_try_advisory_lock", company):
        raise DunningRunLocked(_locked_message(company))
    try:
        with transaction.atomic():
            now = timezone.now()
            left_over = _running_rows(company)
            if not postgres and not all(_row_stale(row, now) for row in left_over):
                raise DunningRunLocked(_locked_message(company))
            _close_left_over(left_over, actor=None, reason="中断：上次运行的进程已退出，锁已释放")
            return DunningRun.objects.create(
                company=company,
                as_of=as_of,
                status=RunStatus.RUNNING,
                started_by=actor if actor is not None and actor.is_authenticated else None,
                holder=this_holder(),
                heartbeat_at=now,
            )
    except (IntegrityError, OperationalError) as exc:
        # IntegrityError: another run inserted its row first. OperationalError on SQLite: the
        # other run's write transaction kept the database busy past the timeout.
        run_lock_release(company)
        if isinstance(exc, OperationalError) and "locked" not in str(exc):
            raise
        raise DunningRunLocked(_locked_message(company)) from exc
    except BaseException:
        run_lock_release(company)
        raise


def run_lock_release(company: Company) -> None:
    """PostgreSQL: give up the advisory lock. (On SQLite the row's status is the lock.)"""
    if connection.vendor == "postgresql":
        _advisory("pg_advisory_unlock", company)


def run_lock_busy(company: Company) -> bool:
    """Whether a live run of `company` holds the lock now."""
    if connection.vendor == "postgresql":
        if _advisory("pg_try_advisory_lock", company):
            _advisory("pg_advisory_unlock", company)
            return False
        return True
    now = timezone.now()
    return any(not _row_stale(row, now) for row in _running_rows(company))


def dunning_run_unlock(*, company: Company, actor: User | None) -> list[ReleasedRun]:
    """Release `company`'s run lock by hand (`propfee dunning unlock`): close its `running`
    rows as failed, audit-logged, and return them. Refused (DunningRunLocked) while the holder
    is known to be alive: the PostgreSQL session holding the advisory lock, or a process of
    this machine with a fresh heartbeat; a holder on another machine is taken at the
    operator's word."""
    from propfee.core.roles import Capability, require

    require(actor, Capability.RUN_DUNNING)
    if actor is not None and actor.company_id not in (None, company.pk):
        raise DunningError("不能为其他物业公司解锁催收批次。")
    if connection.vendor == "postgresql":
        pid = advisory_holder_pid(company)
        if pid is not None:
            raise DunningRunLocked(
                f"{company.name} 的催收批次正在运行中（数据库连接进程 {pid}），不能解锁；"
                "如确认该进程已挂起，请由数据库管理员结束该连接。"
            )
    with transaction.atomic():
        rows = _running_rows(company)
        now = timezone.now()
        for row in rows:
            live = holder_alive(row.holder) and not _row_stale(row, now)
            if live and connection.vendor != "postgresql":
                raise DunningRunLocked(
                    f"{company.name} 的催收批次正在运行中（进程 {row.holder}），不能解锁。"
                )
        return _close_left_over(rows, actor=actor, reason="已手动解锁（propfee dunning unlock）")
