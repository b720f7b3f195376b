"""Fixtures of the workbench tests (今日任务, cases, contact records): open cases and tasks made
as the daily run leaves them, on units billed through the ledger, at a fixed Wednesday."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from propfee.collection.constants import CaseStatus, Segment, StageKey, TaskKind
from propfee.collection.models import Case, Task
from propfee.core.roles import Role
from tests.factories import BuildingFactory, OccupancyFactory, PartyPhoneFactory, UnitFactory

#: Wednesday 15 April 2026, 10:00 in Shanghai: a working day, before the evening slot.
NOW = dt.datetime(2026, 4, 15, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
TODAY = NOW.date()


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def wb_collector(make_user, estate):
    return make_user(Role.COLLECTOR, username="cuishou1", display_name="李催收", estates=[estate])


@pytest.fixture
def wb_manager(make_user, estate):
    return make_user(Role.MANAGER, username="jingli1", display_name="赵经理", estates=[estate])


@pytest.fixture
def make_case(frozen, building, make_charge):
    """make_case(room, collector, months=[1, 2], priority=…, building=…, payer="王建国",
    phone=…) → an open case on a new unit with those months of ¥100 billed and overdue."""

    def make(
        room: str,
        collector=None,
        *,
        months=(1, 2),
        priority: int = 10,
        stage: str = StageKey.PHONE,
        segment: str = Segment.GENERAL,
        in_building=None,
        payer: str | None = "王建国",
        phone: str | None = None,
    ) -> Case:
        unit = UnitFactory(building=in_building or building, room=room)
        if payer:
            occupancy = OccupancyFactory(
                unit=unit, party__name=payer, party__company=unit.estate.company
            )
            if phone:
                PartyPhoneFactory(party=occupancy.party, number=phone)
        for month in months:
            make_charge(month=month, principal_fen=10000, unit=unit)
        oldest = dt.date(2026, min(months), 1)
        oldest = (oldest + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        return Case.objects.create(
            company=unit.estate.company,
            estate=unit.estate,
            unit=unit,
            status=CaseStatus.OPEN,
            stage=stage,
            stage_entered_on=TODAY - dt.timedelta(days=3),
            segment=segment,
            priority=priority,
            collector=collector,
            principal_overdue_fen=10000 * len(months),
            penalty_outstanding_fen=150,
            months_owed=len(months),
            oldest_due_date=oldest,
            opened_on=TODAY - dt.timedelta(days=10),
        )

    return make


@pytest.fixture
def make_task():
    """make_task(case, kind=phone, due_on=TODAY, …) → an open task of the case's collector."""

    def make(case: Case, kind: str = TaskKind.PHONE, due_on: dt.date = TODAY, **kwargs) -> Task:
        kwargs.setdefault("assigned_to", case.collector)
        kwargs.setdefault("priority", case.priority)
        return Task.objects.create(
            case=case,
            unit=case.unit,
            kind=kind,
            stage=case.stage,
            title=kwargs.pop("title", f"{TaskKind(kind).label} {case.unit.code}"),
            due_on=due_on,
            created_at=timezone.now(),
            **kwargs,
        )

    return make


@pytest.fixture
def second_building(estate):
    return BuildingFactory(estate=estate, code="5", name="5栋")
