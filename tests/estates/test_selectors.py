"""Scoping: every read goes through the selectors, and they show each role only its scope."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.core.roles import Role
from propfee.estates.models import Unit
from propfee.estates.selectors import (
    audit_entries_visible_to,
    buildings_visible_to,
    current_payer,
    estates_visible_to,
    parties_visible_to,
    unit_get,
    unit_search,
    units_visible_to,
)
from propfee.estates.services import ownership_transfer, party_create
from tests.factories import (
    BuildingFactory,
    CompanyFactory,
    EstateFactory,
    OccupancyFactory,
    PartyPhoneFactory,
    UnitFactory,
    UserFactory,
)


def test_admin_sees_whole_company_but_not_other_companies(admin_user, unit, other_unit):
    foreign = UnitFactory(building=BuildingFactory(estate=EstateFactory(company=CompanyFactory())))
    visible = set(units_visible_to(admin_user))
    assert visible == {unit, other_unit}
    assert foreign not in visible


def test_superuser_sees_every_company(db, unit):
    root = UserFactory(company=None, is_superuser=True, role=Role.ADMIN)
    foreign = UnitFactory(building=BuildingFactory(estate=EstateFactory(company=CompanyFactory())))
    assert set(units_visible_to(root)) == {unit, foreign}


def test_collector_sees_only_assigned_estate(collector, unit, other_unit):
    assert list(units_visible_to(collector)) == [unit]
    assert unit_get(user=collector, code="demo-3-1502") == unit
    with pytest.raises(Unit.DoesNotExist):
        unit_get(user=collector, code=other_unit.code)


def test_building_scope_limits_units_and_buildings(make_user, estate, unit):
    other_building = BuildingFactory(estate=estate, code="4")
    other = UnitFactory(building=other_building, room="101")
    user = make_user(Role.COLLECTOR, buildings=[other_building])
    assert list(units_visible_to(user)) == [other]
    assert list(buildings_visible_to(user)) == [other_building]
    assert list(estates_visible_to(user)) == [estate]


def test_user_without_scope_sees_nothing(make_user, unit):
    user = make_user(Role.MANAGER)
    assert not units_visible_to(user).exists()
    assert not estates_visible_to(user).exists()


def test_committee_sees_estates_but_no_units_or_people(make_user, estate, unit, owner):
    committee = make_user(Role.COMMITTEE, estates=[estate])
    assert list(estates_visible_to(committee)) == [estate]
    assert not units_visible_to(committee).exists()
    assert not parties_visible_to(committee).exists()


def test_parties_follow_unit_scope(collector, owner, other_unit):
    stranger = OccupancyFactory(unit=other_unit).party
    visible = set(parties_visible_to(collector))
    assert owner in visible
    assert stranger not in visible


def test_search_by_code_name_and_phone_suffix(collector, unit, owner, other_unit):
    OccupancyFactory(unit=other_unit, party__name="王建国")  # same name, out of scope
    assert list(unit_search(user=collector, query="DEMO-3-15")) == [unit]
    assert list(unit_search(user=collector, query="王建国")) == [unit]
    assert list(unit_search(user=collector, query="5678")) == [unit]
    assert list(unit_search(user=collector, query="12345678")) == [unit]
    assert list(unit_search(user=collector, query="9999")) == []


def test_phone_suffix_search_needs_party_access(make_user, estate, unit, owner):
    # Finance may view parties; a role without VIEW_PARTIES cannot find units by phone.
    finance = make_user(Role.FINANCE, estates=[estate])
    assert list(unit_search(user=finance, query="5678")) == [unit]


def test_phone_suffix_search_matches_second_phone(collector, unit, owner):
    PartyPhoneFactory(party=owner, number="10099990000", position=1)
    assert list(unit_search(user=collector, query="9990000")) == [unit]


def test_current_payer_follows_transfer(admin_user, unit, owner, company):
    buyer = party_create(company=company, name="新业主", actor=admin_user)
    ownership_transfer(unit=unit, new_owners=[buyer], on=dt.date(2026, 3, 1), actor=admin_user)
    assert current_payer(unit=unit, on=dt.date(2026, 2, 28)) == owner
    assert current_payer(unit=unit, on=dt.date(2026, 3, 1)) == buyer


def test_audit_visibility(make_user, admin_user, estate, other_estate, company):
    from propfee.estates.services import building_create

    building_create(estate=estate, code="9", actor=admin_user)
    building_create(estate=other_estate, code="9", actor=admin_user)
    manager = make_user(Role.MANAGER, estates=[estate])
    assert [e.estate_id for e in audit_entries_visible_to(manager)] == [estate.pk]
    assert audit_entries_visible_to(admin_user).count() == 2
    collector = make_user(Role.COLLECTOR, estates=[estate])
    assert not audit_entries_visible_to(collector).exists()


def test_scoped_unit_list_query_count(collector, building, django_assert_max_num_queries):
    for i in range(30):
        UnitFactory(building=building, room=f"{i + 1}01")
    with django_assert_max_num_queries(2):
        units = list(units_visible_to(collector))
        assert all(u.building.estate_id for u in units)
    assert len(units) == 30


def test_party_search_by_name_and_phone_suffix(collector, owner, other_unit):
    from propfee.estates.selectors import party_search

    stranger = OccupancyFactory(unit=other_unit, party__name="王建国").party
    PartyPhoneFactory(party=stranger, number="10087655678")
    assert list(party_search(user=collector, query="建国")) == [owner]
    assert list(party_search(user=collector, query="5678")) == [owner]
    assert list(party_search(user=collector, query="0000")) == []


def test_unit_history_includes_people_changes_but_not_views(admin_user, unit, owner):
    from propfee.core.services import personal_data_reveal_record
    from propfee.estates.selectors import unit_history
    from propfee.estates.services import party_update, unit_update

    unit_update(unit=unit, status="vacant", actor=admin_user)
    party_update(party=owner, phones=["13800138000"], actor=admin_user)
    personal_data_reveal_record(actor=admin_user, obj=owner, fields=["phones"])
    history = list(unit_history(unit=unit))
    assert [(e.object_type, e.action) for e in history] == [
        ("estates.party", "update"),
        ("estates.unit", "update"),
    ]
    assert history[0].after == {"phones": ["13800138000"]}
