"""Estates services: create, update, ownership transfer, with audit rows in the same transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from propfee.core.models import AuditAction, AuditEntry
from propfee.core.personal_data import PersonalDataError
from propfee.core.roles import PermissionDenied, Role
from propfee.estates.constants import PartyRole
from propfee.estates.models import Occupancy, Party, Unit
from propfee.estates.services import (
    EstatesError,
    NewParty,
    building_create,
    estate_create,
    occupancy_create,
    occupancy_end,
    occupancy_end_check,
    occupant_add,
    ownership_transfer,
    ownership_transfer_plan,
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


def test_occupant_add_creates_the_new_party_and_the_occupancy(admin_user, unit, owner):
    occupancy = occupant_add(
        unit=unit,
        party=NewParty(name=" 李娜 ", phones=("138 0013 8000",)),
        role=PartyRole.TENANT,
        since=dt.date(2026, 3, 1),
        is_payer=True,
        actor=admin_user,
    )
    assert occupancy.party.name == "李娜"
    assert occupancy.party.company_id == unit.estate.company_id
    assert list(occupancy.party.phones.values_list("number", flat=True)) == ["13800138000"]
    assert occupancy.is_payer
    assert Occupancy.objects.get(party=owner).is_payer is False
    created = AuditEntry.objects.get(object_type="estates.party", action=AuditAction.CREATE)
    assert created.estate_id == unit.estate_id


def test_occupant_add_refused_leaves_no_party_behind(admin_user, unit, collector):
    with pytest.raises(PersonalDataError, match="手机号格式不正确：1380013800"):
        occupant_add(
            unit=unit,
            party=NewParty(name="李娜", phones=("1380013800",)),
            role=PartyRole.TENANT,
            since=dt.date(2026, 3, 1),
            actor=admin_user,
        )
    with pytest.raises(EstatesError, match="身份不正确：buyer"):
        occupant_add(
            unit=unit,
            party=NewParty(name="李娜"),
            role="buyer",
            since=dt.date(2026, 3, 1),
            actor=admin_user,
        )
    with pytest.raises(PermissionDenied):
        occupant_add(
            unit=unit,
            party=NewParty(name="李娜"),
            role=PartyRole.TENANT,
            since=dt.date(2026, 3, 1),
            actor=collector,
        )
    assert not Party.objects.exists()
    assert not AuditEntry.objects.exists()


def test_occupancy_end_check_matches_occupancy_end(admin_user, unit, owner):
    occupancy = owner.occupancies.get()
    with pytest.raises(EstatesError, match="结束日期不能早于起始日期"):
        occupancy_end_check(occupancy=occupancy, until=dt.date(2020, 5, 31))
    occupancy_end_check(occupancy=occupancy, until=dt.date(2026, 2, 28))
    assert Occupancy.objects.get(pk=occupancy.pk).until is None
    occupancy_end(occupancy=occupancy, until=dt.date(2026, 2, 28), actor=admin_user)
    with pytest.raises(EstatesError, match="该住户关系已结束"):
        occupancy_end_check(occupancy=occupancy, until=dt.date(2026, 3, 31))


def test_ownership_transfer_plan_says_what_the_transfer_does_and_writes_nothing(
    admin_user, unit, owner, company
):
    spouse = party_create(company=company, name="刘芳", actor=admin_user)
    buyer = NewParty(name="李娜", phones=("+86 138 0013 8000",))
    audit_rows = AuditEntry.objects.count()
    plan = ownership_transfer_plan(
        unit=unit, new_owners=[spouse, buyer, spouse], on=dt.date(2026, 3, 1), payer=buyer
    )
    assert [o.party for o in plan.closing] == [owner]
    assert plan.until == dt.date(2026, 2, 28)
    assert [o.name for o in plan.new_owners] == ["刘芳", "李娜"]
    assert plan.new_owners[1].phones == ("13800138000",)  # normalised, as it will be stored
    assert plan.payer is plan.new_owners[1]
    assert plan.paying_tenant is None
    assert AuditEntry.objects.count() == audit_rows
    assert not Party.objects.filter(name="李娜").exists()
    assert Occupancy.objects.get(party=owner).until is None


def test_ownership_transfer_creates_new_owners_in_the_same_transaction(
    admin_user, unit, owner, company
):
    spouse = party_create(company=company, name="刘芳", actor=admin_user)
    buyer = NewParty(name="李娜", phones=("13800138000",))
    opened = ownership_transfer(
        unit=unit, new_owners=[spouse, buyer], payer=buyer, on=dt.date(2026, 3, 1), actor=admin_user
    )
    assert [(o.party.name, o.is_payer) for o in opened] == [("刘芳", False), ("李娜", True)]
    created = AuditEntry.objects.get(object_id=str(opened[1].party_id), object_type="estates.party")
    assert created.estate_id == unit.estate_id
    entry = AuditEntry.objects.get(action=AuditAction.TRANSFER)
    assert [o["name"] for o in entry.after["owners"]] == ["刘芳", "李娜"]
    assert entry.before["owners"] == [
        {"party": owner.pk, "name": "王建国", "role": "owner", "is_payer": True}
    ]


def test_ownership_transfer_refused_creates_no_new_owner(admin_user, unit, owner):
    with pytest.raises(EstatesError, match="不能早于或等于现有产权的起始日期 2020-06-01"):
        ownership_transfer(
            unit=unit,
            new_owners=[NewParty(name="李娜")],
            on=dt.date(2020, 6, 1),
            actor=admin_user,
        )
    with pytest.raises(EstatesError, match="缴费人必须是新业主之一"):
        ownership_transfer(
            unit=unit,
            new_owners=[NewParty(name="李娜")],
            payer=NewParty(name="李娜"),  # another person of the same name
            on=dt.date(2026, 3, 1),
            actor=admin_user,
        )
    assert not Party.objects.filter(name="李娜").exists()
    assert Occupancy.objects.get(party=owner).until is None
