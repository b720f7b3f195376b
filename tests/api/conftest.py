"""API fixtures: a small world (two estates, one owner with a phone, one unlinked buyer), one
staff user of every role scoped to estate DEMO (the admin is company-wide), API clients."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from propfee.core.models import User
from propfee.core.roles import Role
from propfee.estates.models import Building, Estate, Party, Unit
from tests.factories import PartyFactory, UnitFactory


@dataclass
class World:
    estate: Estate
    other_estate: Estate
    building: Building
    unit: Unit
    other_unit: Unit
    owner: Party
    buyer: Party


@pytest.fixture
def world(estate, other_estate, building, unit, other_unit, owner, company) -> World:
    buyer = PartyFactory(company=company, name="李买家")
    return World(estate, other_estate, building, unit, other_unit, owner, buyer)


@pytest.fixture
def staff(make_user, estate):
    """staff(role) → a user of that role scoped to estate DEMO (admins see the whole company)."""

    def make(role: str, **kwargs) -> User:
        kwargs.setdefault("username", f"{role}-user")
        if role != Role.ADMIN:
            kwargs.setdefault("estates", [estate])
        return make_user(role, **kwargs)

    return make


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for():
    """client_for(user) → an APIClient with a session logged in as `user`."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def units_bulk():
    """units_bulk(building, n) → n more units in `building` (rooms 9001, 9002, …)."""

    def make(building: Building, n: int, start: int = 9001) -> list[Unit]:
        units = [UnitFactory.build(building=building, room=str(start + i)) for i in range(n)]
        return Unit.objects.bulk_create(units)

    return make
