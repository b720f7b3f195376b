"""Shared fixtures: a small company with two estates, and a staff user of every role."""

from __future__ import annotations

import pytest
from django.utils import translation

from propfee.core.roles import Role
from tests.factories import (
    BuildingFactory,
    CompanyFactory,
    EstateFactory,
    OccupancyFactory,
    PartyPhoneFactory,
    UnitFactory,
    UserFactory,
)

PASSWORD = "pw-test-12345"


@pytest.fixture(autouse=True)
def _chinese_by_default():
    """Every test starts in Chinese: a request that switched to English must not leak its
    thread-local language into the next test."""
    translation.activate("zh-hans")
    yield
    translation.activate("zh-hans")


@pytest.fixture
def company(db):
    return CompanyFactory(code="ACME", name="安家物业")


@pytest.fixture
def estate(company):
    return EstateFactory(company=company, code="DEMO", name="阳光花园")


@pytest.fixture
def other_estate(company):
    return EstateFactory(company=company, code="WEST", name="西湖苑")


@pytest.fixture
def building(estate):
    return BuildingFactory(estate=estate, code="3", name="3栋")


@pytest.fixture
def unit(building):
    return UnitFactory(building=building, room="1502")


@pytest.fixture
def other_unit(other_estate):
    return UnitFactory(building=BuildingFactory(estate=other_estate, code="1"), room="101")


@pytest.fixture
def owner(unit):
    occupancy = OccupancyFactory(unit=unit, party__name="王建国")
    PartyPhoneFactory(party=occupancy.party, number="10012345678")
    return occupancy.party


@pytest.fixture
def make_user(company):
    """make_user(role, estates=[...], buildings=[...]) → a staff user of `company`."""

    def make(role: str = Role.COLLECTOR, **kwargs):
        kwargs.setdefault("company", company)
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def admin_user(make_user):
    return make_user(Role.ADMIN, username="admin1")


@pytest.fixture
def collector(make_user, estate):
    return make_user(Role.COLLECTOR, username="collector1", estates=[estate])


@pytest.fixture
def browser():
    """The system Chromium, started for one test (tests/browser.py says how)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
