"""Collection fixtures: the `estate` billed 物业费 of ¥100 a month from January 2026 (due at each
month's end), the shipped policies loaded (the default ladder is the company default), a
collector scoped to the building and a manager, and `run(day)` for the daily run."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.collection.policies import policies_defaults_load
from propfee.collection.services import dunning_run
from propfee.core.roles import Role
from tests.factories import UnitFactory
from tests.ledger.conftest import (  # noqa: F401
    contract,
    fee_item,
    make_charge,
    manager,
    pay,
)

D = dt.date


@pytest.fixture
def policies(company):
    policies_defaults_load(company)


@pytest.fixture
def building_collector(make_user, building):
    return make_user(Role.COLLECTOR, username="louzhang", buildings=[building])


@pytest.fixture
def make_unit(building):
    def make(room: str):
        return UnitFactory(building=building, room=room)

    return make


@pytest.fixture
def owing(make_charge, make_unit):  # noqa: F811
    """owing(room, months=[1, 2], principal_fen=10000) → a unit with those months billed."""

    def make(room: str, months=(1,), principal_fen: int = 10000):
        unit = make_unit(room)
        for month in months:
            make_charge(month=month, principal_fen=principal_fen, unit=unit)
        return unit

    return make


@pytest.fixture
def run(company, policies):
    """run(day, **kwargs) → the report of the real run as of `day`, by the system, without
    dispatching messages and documents (the dispatch tests call it themselves)."""

    def call(day: dt.date, **kwargs):
        kwargs.setdefault("actor", None)
        kwargs.setdefault("dispatch", False)
        return dunning_run(company=company, as_of=day, **kwargs)

    return call


@pytest.fixture
def lock_held_elsewhere(company):
    """The company's run lock held by another live run, as the lock itself sees one: on
    PostgreSQL another database session holding the advisory lock (with its `running` row); on
    SQLite a `running` row whose holder is a live process of this machine (this one)."""
    from django.db import connection, connections

    from propfee.collection.constants import RunStatus
    from propfee.collection.models import DunningRun
    from propfee.collection.run.lock import ADVISORY_LOCK_CLASS, this_holder

    other = None
    if connection.vendor == "postgresql":
        other = connections.create_connection("default")
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [ADVISORY_LOCK_CLASS, company.pk])
    row = DunningRun.objects.create(
        company=company, as_of=D(2026, 4, 1), status=RunStatus.RUNNING, holder=this_holder()
    )
    yield row
    if other is not None:
        other.close()
