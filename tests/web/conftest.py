"""Fixtures of the staff UI tests: signed-in clients and a few more units and people."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.core.roles import Role
from tests.factories import BuildingFactory, OccupancyFactory, PartyPhoneFactory, UnitFactory


@pytest.fixture
def signed_in(client):
    """signed_in(user) → the test client, signed in as `user`."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def manager(make_user, estate):
    return make_user(Role.MANAGER, username="manager1", estates=[estate])


@pytest.fixture
def finance(make_user, estate):
    return make_user(Role.FINANCE, username="finance1", estates=[estate])


@pytest.fixture
def committee(make_user, estate):
    return make_user(Role.COMMITTEE, username="committee1", estates=[estate])


@pytest.fixture
def tenant(unit):
    """A past tenant of `unit` with an ID number and email on file."""
    occupancy = OccupancyFactory(
        unit=unit,
        party__name="李晓梅",
        party__id_number="110101199003071234",
        party__email="lixm@example.com",
        role="tenant",
        is_payer=False,
        since=dt.date(2019, 1, 1),
        until=dt.date(2020, 5, 31),
    )
    PartyPhoneFactory(party=occupancy.party, number="10087654321")
    return occupancy.party


@pytest.fixture
def more_units(estate, building):
    """A second building of DEMO with a vacant shop and a renovating flat, each with a payer."""
    second = BuildingFactory(estate=estate, code="5", name="5栋")
    shop = UnitFactory(building=second, room="101", unit_type="shop", status="vacant")
    flat = UnitFactory(building=building, room="1601", status="renovating")
    for unit, name, phone in ((shop, "赵一", "10011110001"), (flat, "钱二", "10011115678")):
        occupancy = OccupancyFactory(unit=unit, party__name=name)
        PartyPhoneFactory(party=occupancy.party, number=phone)
    return shop, flat
