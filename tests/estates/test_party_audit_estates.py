"""Audit rows about a party's personal data (edits and reveals) carry the estates the party
lives or lived in — one row per estate — so each estate's managers see them in 操作日志 and
managers of other estates do not."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from propfee.core.models import AuditAction, AuditEntry
from propfee.core.roles import Role
from propfee.estates.selectors import audit_entries_visible_to
from propfee.estates.services import party_audit_estate_ids, party_reveal_record, party_update
from tests.factories import OccupancyFactory, PartyFactory, PartyPhoneFactory


@pytest.fixture
def manager_a(make_user, estate):
    return make_user(Role.MANAGER, username="manager-a", estates=[estate])


@pytest.fixture
def manager_b(make_user, other_estate):
    return make_user(Role.MANAGER, username="manager-b", estates=[other_estate])


def _resident(unit, name: str, phone: str):
    occupancy = OccupancyFactory(unit=unit, party__name=name, party__company=unit.estate.company)
    PartyPhoneFactory(party=occupancy.party, number=phone)
    return occupancy.party


@pytest.fixture
def in_a(unit):
    return _resident(unit, "王甲", "10011110000")


@pytest.fixture
def in_b(other_unit):
    return _resident(other_unit, "李乙", "10022220000")


def _seen_by(user, party) -> set[str]:
    rows = audit_entries_visible_to(user).filter(object_type="estates.party", object_id=party.pk)
    return set(rows.values_list("action", flat=True))


def test_reveals_and_edits_through_the_api_reach_the_estates_manager_only(
    in_a, in_b, admin_user, manager_a, manager_b
):
    client = APIClient()
    client.force_login(admin_user)
    for party, name in ((in_a, "王甲甲"), (in_b, "李乙乙")):
        assert client.post(f"/api/v1/parties/{party.pk}/reveal/").status_code == 200
        response = client.patch(f"/api/v1/parties/{party.pk}/", {"name": name}, format="json")
        assert response.status_code == 200

    both = {AuditAction.REVEAL, AuditAction.UPDATE}
    assert _seen_by(manager_a, in_a) == both
    assert _seen_by(manager_a, in_b) == set()
    assert _seen_by(manager_b, in_b) == both
    assert _seen_by(manager_b, in_a) == set()


def test_audit_page_of_an_estate_manager_lists_their_residents_rows(
    in_a, in_b, admin_user, manager_a, client
):
    party_reveal_record(actor=admin_user, party=in_a, fields=["手机"])
    party_reveal_record(actor=admin_user, party=in_b, fields=["手机"])
    party_update(party=in_a, actor=admin_user, email="wang@example.com")
    party_update(party=in_b, actor=admin_user, email="li@example.com")
    client.force_login(manager_a)
    page = client.get("/audit/").text
    assert page.count("王甲") == 2  # the reveal and the edit
    assert "李乙" not in page


def test_a_party_of_two_estates_gets_one_row_in_each(
    in_a, other_unit, estate, other_estate, admin_user, manager_a, manager_b
):
    OccupancyFactory(
        unit=other_unit,
        party=in_a,
        role="tenant",
        is_payer=False,
        since=dt.date(2019, 1, 1),
        until=dt.date(2020, 1, 31),  # a past tenancy still makes WEST's residents' data
    )
    assert party_audit_estate_ids(in_a) == sorted([estate.pk, other_estate.pk])
    # Revealed from a unit page of WEST: WEST's row first, then DEMO's.
    rows = party_reveal_record(
        actor=admin_user, party=in_a, fields=["手机"], estate_id=other_estate.pk
    )
    assert [row.estate_id for row in rows] == [other_estate.pk, estate.pk]
    party_update(party=in_a, actor=admin_user, name="王甲乙")
    updates = AuditEntry.objects.filter(action=AuditAction.UPDATE, object_id=in_a.pk)
    assert sorted(updates.values_list("estate_id", flat=True)) == sorted(
        [estate.pk, other_estate.pk]
    )
    both = {AuditAction.REVEAL, AuditAction.UPDATE}
    assert _seen_by(manager_a, in_a) == both
    assert _seen_by(manager_b, in_a) == both
    # A company admin sees each estate's row.
    assert audit_entries_visible_to(admin_user).filter(object_id=in_a.pk).count() == 4


def test_a_party_linked_to_no_unit_gets_one_row_without_an_estate(company, admin_user):
    party = PartyFactory(company=company, name="赵无房")
    rows = party_reveal_record(actor=admin_user, party=party, fields=["手机"])
    assert [row.estate_id for row in rows] == [None]
    assert audit_entries_visible_to(admin_user).filter(object_id=party.pk).count() == 1
