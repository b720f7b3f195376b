"""The run's safety: the lock, the dry-run that writes nothing (also for an unsaved policy), a
query count that does not grow with the number of units, the command and the task."""

from __future__ import annotations

import datetime as dt
import threading
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from propfee.billing.services import contract_version_create, fee_item_create
from propfee.collection.constants import RunStatus
from propfee.collection.models import Action, Case, DunningRun, Policy, Task
from propfee.collection.policies import policies_defaults_load
from propfee.collection.services import DunningError, DunningRunLocked, dunning_run
from propfee.collection.tasks import dunning_run_task
from propfee.core.roles import PermissionDenied, Role
from tests.factories import BuildingFactory, CompanyFactory, EstateFactory, UnitFactory
from tests.payments.conftest import ChargeFactory

D = dt.date


def _all_counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


def test_a_running_run_refuses_another(run, owing, company, lock_held_elsewhere):
    owing("101", months=[1, 2])
    with pytest.raises(DunningRunLocked, match="正在运行中"):
        run(D(2026, 4, 1))
    with pytest.raises(DunningRunLocked):
        run(D(2026, 4, 1), dry_run=True)
    assert not Case.objects.exists()


def test_finished_run_keeps_its_report(run, owing, company):
    owing("101", months=[1, 2])
    run(D(2026, 4, 1))
    stored = DunningRun.objects.get(company=company)
    assert stored.status == RunStatus.FINISHED and stored.finished_at is not None
    assert stored.report["cases_opened"] == 1
    assert stored.report["actions_by_stage"] == {"reminder": 1}
    run(D(2026, 4, 2))  # the lock was released
    assert DunningRun.objects.filter(status=RunStatus.FINISHED).count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: PostgreSQL")
def test_two_concurrent_runs_one_is_refused(company, building, make_charge):
    policies_defaults_load(company)
    for room in range(1, 41):
        make_charge(month=1, unit=UnitFactory(building=building, room=f"{room}01"))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def call() -> None:
        try:
            barrier.wait()
            dunning_run(company=company, as_of=D(2026, 4, 1), actor=None, dispatch=False)
            outcomes.append("ran")
        except DunningRunLocked:
            outcomes.append("refused")
        except BaseException as exc:  # reported below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ran", "refused"]
    assert Case.objects.count() == 40
    assert DunningRun.objects.count() == 1


def test_dry_run_writes_nothing(run, owing, pay, company):
    for room in ("101", "102", "103"):
        owing(room, months=[1, 2, 3])
    run(D(2026, 4, 1))
    owing("104", months=[1, 2])
    pay(40000, D(2026, 4, 2), unit=Case.objects.first().unit)
    before = _all_counts()
    report = run(D(2026, 4, 3), dry_run=True)
    assert _all_counts() == before
    assert report.dry_run and report.cases_opened == 1 and report.cases_closed == {"cleared": 1}
    assert report.actions_by_stage == {"phone": 2, "reminder": 1}
    assert {p["unit"] for p in report.preview} == {"DEMO-3-102", "DEMO-3-103", "DEMO-3-104"}
    # The real run then does what the preview said.
    real = run(D(2026, 4, 3))
    assert (real.cases_opened, real.cases_closed, real.actions_by_stage) == (
        1,
        {"cleared": 1},
        {"phone": 2, "reminder": 1},
    )


def test_dry_run_of_an_unsaved_policy(run, owing, company):
    owing("101", months=[3], principal_fen=3000)  # ¥30
    raw = Policy.objects.get(company=company, code="default").versions.get().definition
    before = _all_counts()
    assert run(D(2026, 4, 1), dry_run=True).cases_opened == 0
    edited = {**raw, "tolerance": "20.00"}
    assert run(D(2026, 4, 1), dry_run=True, policy_override=edited).cases_opened == 1
    assert _all_counts() == before
    with pytest.raises(DunningError, match="只能试运行"):
        run(D(2026, 4, 1), policy_override=edited)


def _company_with_units(n: int, code: str):
    company = CompanyFactory(code=code, name=f"{code}物业")
    estate = EstateFactory(company=company, code=f"E{code}")
    building = BuildingFactory(estate=estate, code="1")
    fee_item = fee_item_create(company=company, code="WYF", name="物业费", actor=None)
    contract_version_create(estate=estate, effective_from=D(2026, 1, 1), actor=None)
    policies_defaults_load(company)
    for i in range(n):
        unit = UnitFactory(building=building, room=f"{i + 1:03d}")
        for month in (1, 2, 3):
            start = D(2026, month, 1)
            end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
            ChargeFactory(
                unit=unit, fee_item=fee_item, period_start=start, period_end=end, due_date=end
            )
    return company


def test_query_count_does_not_grow_with_units(make_user):
    small, large = _company_with_units(5, "S"), _company_with_units(50, "L")
    counts = {}
    for company in (small, large):
        per_day = []
        for day, force in (
            (D(2026, 4, 1), False),
            (D(2026, 4, 3), False),
            (D(2026, 4, 3), True),  # a full re-run
            (D(2026, 4, 3), False),  # nothing changed since: answered from the last run
        ):
            with CaptureQueriesContext(connection) as queries:
                dunning_run(company=company, as_of=day, actor=None, dispatch=False, force=force)
            per_day.append(len(queries))
        counts[company.code] = per_day
    assert Case.objects.filter(company=large).count() == 50
    assert Task.objects.filter(case__company=large).count() == 50
    assert counts["S"] == counts["L"]
    # The unchanged re-run reads the marks only (and takes and gives back the run lock).
    assert counts["L"][3] < 28


def test_permission(run, owing, collector, manager, company):
    with pytest.raises(PermissionDenied):
        dunning_run(company=company, as_of=D(2026, 4, 1), actor=collector, dispatch=False)
    owing("101", months=[1, 2])
    report = dunning_run(company=company, as_of=D(2026, 4, 1), actor=manager, dispatch=False)
    assert report.cases_opened == 1
    assert DunningRun.objects.get().started_by == manager


def test_command(run, owing, company, manager):
    owing("101", months=[1, 2])
    out = StringIO()
    call_command("dunning", "run", "--as-of", "2026-04-01", "--dry-run", stdout=out)
    assert "（试运行，未写入）" in out.getvalue() and "新立案" in out.getvalue()
    assert not Case.objects.exists()
    out = StringIO()
    call_command(
        "dunning",
        "run",
        "--as-of",
        "2026-04-01",
        "--user",
        manager.username,
        "--no-dispatch",
        stdout=out,
    )
    assert Case.objects.count() == 1
    assert "温馨提醒" in out.getvalue()
    with pytest.raises(CommandError, match="日期格式不对"):
        call_command("dunning", "run", "--as-of", "4/1/2026")
    collector = manager.__class__.objects.create(
        username="c9", company=company, role=Role.COLLECTOR
    )
    with pytest.raises(CommandError, match="没有运行催收批次的权限"):
        call_command("dunning", "run", "--user", collector.username)


def test_task_runs_the_run(run, owing, company):
    owing("101", months=[1, 2])
    result = dunning_run_task.call(company.pk, "2026-04-01")
    assert result["cases_opened"] == 1
    assert Action.objects.count() == 1
