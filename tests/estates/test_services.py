"""Estates services: create, update, ownership transfer, with audit rows in the same transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from propfee.core.models import AuditAction, AuditEntry
from propfee.core.personal_data import PersonalDataError
from propfee.core.roles import PermissionDenied, Role
from propfee.estates.constants import PartyRole
from propfee.estates.models import Occupancy, Unit
from propfee.estates.services import (
    EstatesError,
    building_create,
    estate_create,
    occupancy_create,
    ownership_transfer,
    party_create,
    party_update,
    unit_create,
    unit_floor_from_room,
    unit_update,
)


def test_unit_create_builds_code_floor_and_audit(admin_user, estate):
    building = building_create(estate=estate, code="3", actor=admin_user)
    unit = unit_create(building=building, room="1502", area_m2=Decimal("89.50"), actor=admin_user)
    assert unit.code == "DEMO-3-1502"
    assert unit.floor == 15
    assert building.name == "3栋"
    entry = AuditEntry.objects.get(object_type="estates.unit", object_id=str(unit.pk))
    assert entry.action == AuditAction.CREATE
    assert entry.actor == admin_user
    assert entry.after["area_m2"] == "89.50"
    assert entry.after["code"] == "DEMO-3-1502"


def test_unit_code_with_entrance(admin_user, building):
    unit = unit_create(
        building=building, entrance="2", room="301", area_m2=Decimal("70"), actor=admin_user
    )
    assert unit.code == "DEMO-3-2-301"
    assert unit.floor == 3


@pytest.mark.parametrize(
    ("room", "floor"),
    [("1502", 15), ("301", 3), ("B1-023", -1), ("B2-105", -2), ("B2023", None), ("S12", None)],
)
def test_unit_floor_from_room(room, floor):
    assert unit_floor_from_room(room) == floor


def test_unit_create_refuses_duplicate_and_nonpositive_area(admin_user, unit):
    with pytest.raises(EstatesError, match="房屋已存在：DEMO-3-1502"):
        unit_create(building=unit.building, room="1502", area_m2=Decimal("1"), actor=admin_user)
    with pytest.raises(EstatesError, match="建筑面积必须大于0"):
        unit_create(building=unit.building, room="1503", area_m2=Decimal("0"), actor=admin_user)
    assert Unit.objects.count() == 1


def test_unit_update_records_only_changed_fields(admin_user, unit):
    unit_update(unit=unit, area_m2=Decimal("90.00"), status="vacant", actor=admin_user)
    entry = AuditEntry.objects.filter(action=AuditAction.UPDATE).get()
    assert entry.before == {"area_m2": "89.50", "status": "occupied"}
    assert entry.after == {"area_m2": "90.00", "status": "vacant"}
    unit_update(unit=unit, area_m2=Decimal("90.00"), actor=admin_user)
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE).count() == 1


def test_estate_create_needs_admin(make_user, company):
    manager = make_user(Role.MANAGER)
    with pytest.raises(PermissionDenied):
        estate_create(company=company, code="NEW", name="新项目", actor=manager)
    admin = make_user(Role.ADMIN)
    estate = estate_create(company=company, code="new", name="新项目", actor=admin)
    assert estate.code == "NEW"


def test_party_create_normalises_phones_and_id(admin_user, company):
    party = party_create(
        company=company,
        name=" 李娜 ",
        phones=["138 0013 8000", "+86 13800138000", "10000000001"],
        id_number="11010519491231002x",
        actor=admin_user,
    )
    assert party.name == "李娜"
    assert list(party.phones.values_list("number", flat=True)) == ["13800138000", "10000000001"]
    assert party.id_number == "11010519491231002X"
    with pytest.raises(PersonalDataError, match="手机号格式不正确：1380013800"):
        party_create(company=company, name="赵六", phones=["1380013800"], actor=admin_user)


def test_party_update_audits_phone_change(admin_user, owner):
    party_update(party=owner, phones=["13800138000"], actor=admin_user)
    entry = AuditEntry.objects.get(object_type="estates.party", action=AuditAction.UPDATE)
    assert entry.before == {"phones": ["10012345678"]}
    assert entry.after == {"phones": ["13800138000"]}


def test_one_current_payer_per_unit(admin_user, unit, owner, company):
    tenant = party_create(company=company, name="租户甲", actor=admin_user)
    occupancy_create(
        unit=unit,
        party=tenant,
        role=PartyRole.TENANT,
        since=dt.date(2025, 1, 1),
        is_payer=True,
        actor=admin_user,
    )
    payers = Occupancy.objects.filter(unit=unit, is_payer=True, until__isnull=True)
    assert [o.party for o in payers] == [tenant]


def test_ownership_transfer_closes_old_and_keeps_history(admin_user, unit, owner, company):
    buyer = party_create(company=company, name="新业主", actor=admin_user)
    opened = ownership_transfer(
        unit=unit, new_owners=[buyer], on=dt.date(2026, 3, 1), actor=admin_user
    )
    old = Occupancy.objects.get(unit=unit, party=owner)
    assert old.until == dt.date(2026, 2, 28)
    assert old.is_payer is True  # history: the old owner paid until the transfer
    assert opened[0].party == buyer
    assert opened[0].is_payer
    assert opened[0].since == dt.date(2026, 3, 1)
    assert Occupancy.objects.filter(unit=unit).count() == 2
    entry = AuditEntry.objects.get(action=AuditAction.TRANSFER)
    assert entry.before["owners"][0]["party"] == owner.pk
    assert entry.after["owners"][0]["party"] == buyer.pk


def test_ownership_transfer_keeps_paying_tenant(admin_user, unit, owner, company):
    tenant = party_create(company=company, name="租户乙", actor=admin_user)
    occupancy_create(
        unit=unit,
        party=tenant,
        role=PartyRole.TENANT,
        since=dt.date(2025, 1, 1),
        is_payer=True,
        actor=admin_user,
    )
    buyer = party_create(company=company, name="买家", actor=admin_user)
    ownership_transfer(unit=unit, new_owners=[buyer], on=dt.date(2026, 3, 1), actor=admin_user)
    payer = Occupancy.objects.get(unit=unit, is_payer=True, until__isnull=True)
    assert payer.party == tenant


def test_ownership_transfer_refuses_date_before_current_owner(admin_user, unit, owner, company):
    buyer = party_create(company=company, name="买家", actor=admin_user)
    with pytest.raises(EstatesError, match="不能早于或等于现有产权的起始日期"):
        ownership_transfer(unit=unit, new_owners=[buyer], on=dt.date(2020, 6, 1), actor=admin_user)
    assert Occupancy.objects.get(unit=unit, party=owner).until is None


def test_failed_service_leaves_no_audit_row(admin_user, unit, owner, company):
    before = AuditEntry.objects.count()
    with pytest.raises(EstatesError):
        ownership_transfer(unit=unit, new_owners=[], on=dt.date(2026, 1, 1), actor=admin_user)
    assert AuditEntry.objects.count() == before


def test_collector_cannot_write_parties(collector, company):
    with pytest.raises(PermissionDenied):
        party_create(company=company, name="某人", actor=collector)
