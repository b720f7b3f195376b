"""Writes through the API go through the services: the change, its audit row with the actor,
and the answer in the API's shapes (codes, decimal strings, ISO dates)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from propfee.core.models import AuditAction, AuditEntry
from propfee.core.roles import Role
from propfee.estates.models import Building, Estate, Occupancy, Party, Unit


def test_estate_create_and_update(admin_user, company, client_for):
    client = client_for(admin_user)
    response = client.post(
        "/api/v1/estates/", {"code": "NEW1", "name": "新项目", "city": "杭州"}, format="json"
    )
    assert response.status_code == 201
    assert response.json() == {"code": "NEW1", "name": "新项目", "city": "杭州", "address": ""}
    estate = Estate.objects.get(code="NEW1")
    assert estate.company == company
    entry = AuditEntry.objects.get(object_type="estates.estate", action=AuditAction.CREATE)
    assert entry.actor == admin_user
    assert entry.after["code"] == "NEW1"

    response = client.patch("/api/v1/estates/NEW1/", {"address": "文一路1号"}, format="json")
    assert response.status_code == 200
    estate.refresh_from_db()
    # A partial update keeps what it was not given.
    assert (estate.name, estate.city, estate.address) == ("新项目", "杭州", "文一路1号")
    entry = AuditEntry.objects.get(object_type="estates.estate", action=AuditAction.UPDATE)
    assert entry.before == {"address": ""}
    assert entry.after == {"address": "文一路1号"}


def test_building_create(world, staff, client_for):
    manager = staff(Role.MANAGER)
    response = client_for(manager).post(
        "/api/v1/buildings/", {"estate": "DEMO", "code": "9"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["estate"], body["code"], body["name"]) == ("DEMO", "9", "9栋")
    building = Building.objects.get(pk=body["id"])
    entry = AuditEntry.objects.get(action=AuditAction.CREATE)
    assert (entry.object_id, entry.actor, entry.estate_id) == (
        str(building.pk),
        manager,
        world.estate.pk,
    )


def test_unit_create_and_update(world, staff, client_for):
    manager = staff(Role.MANAGER)
    client = client_for(manager)
    body = {
        "estate": "DEMO",
        "building": "3",
        "room": "1601",
        "area_m2": "95.2",
        "unit_type": "residential",
        "handover_date": "2021-05-01",
    }
    response = client.post("/api/v1/units/", body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["code"] == "DEMO-3-1601"
    assert data["area_m2"] == "95.20"
    assert data["floor"] == 16
    assert data["handover_date"] == "2021-05-01"
    assert data["unit_type_display"] == "住宅"
    assert Unit.objects.get(code="DEMO-3-1601").area_m2 == Decimal("95.20")

    response = client.patch(
        "/api/v1/units/DEMO-3-1601/", {"area_m2": "96.00", "status": "vacant"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["area_m2"], response.json()["status"]) == ("96.00", "vacant")
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, object_type="estates.unit")
    assert entry.actor == manager
    assert entry.before == {"area_m2": "95.20", "status": "occupied"}
    assert entry.after == {"area_m2": "96.00", "status": "vacant"}


def test_party_create_update_and_audit(staff, client_for, company):
    service = staff(Role.CUSTOMER_SERVICE)
    client = client_for(service)
    response = client.post(
        "/api/v1/parties/", {"name": "赵六", "phones": ["10087654321"]}, format="json"
    )
    assert response.status_code == 201
    party = Party.objects.get(pk=response.json()["id"])
    assert party.company == company
    assert list(party.phones.values_list("number", flat=True)) == ["10087654321"]
    entry = AuditEntry.objects.get(object_type="estates.party", action=AuditAction.CREATE)
    assert entry.actor == service
    assert entry.after["phones"] == ["10087654321"]


def test_occupancy_create_and_end(world, staff, client_for):
    manager = staff(Role.MANAGER)
    client = client_for(manager)
    body = {
        "unit": "DEMO-3-1502",
        "party": world.buyer.pk,
        "role": "tenant",
        "since": "2026-01-01",
        "is_payer": True,
    }
    response = client.post("/api/v1/occupancies/", body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert (data["unit"], data["party"], data["is_payer"], data["until"]) == (
        "DEMO-3-1502",
        world.buyer.pk,
        True,
        None,
    )
    # The owner's payer flag moved to the tenant, recorded as its own audit row.
    owner_occ = Occupancy.objects.get(unit=world.unit, party=world.owner)
    assert owner_occ.is_payer is False
    actions = sorted(AuditEntry.objects.filter(actor=manager).values_list("action", flat=True))
    assert actions == [AuditAction.CREATE, AuditAction.UPDATE]

    current = client.get("/api/v1/occupancies/", {"unit": "DEMO-3-1502", "current": "true"})
    assert current.json()["count"] == 2

    response = client.post(
        f"/api/v1/occupancies/{data['id']}/end/", {"until": "2026-06-30"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["until"] == "2026-06-30"
    current = client.get("/api/v1/occupancies/", {"unit": "DEMO-3-1502", "current": "true"})
    assert [r["party"] for r in current.json()["results"]] == [world.owner.pk]
    past = client.get("/api/v1/occupancies/", {"current": "false"})
    assert [r["id"] for r in past.json()["results"]] == [data["id"]]


def test_ownership_transfer(world, staff, client_for):
    service = staff(Role.CUSTOMER_SERVICE)
    response = client_for(service).post(
        "/api/v1/units/DEMO-3-1502/transfer/",
        {"new_owners": [world.buyer.pk], "on": "2026-03-01", "note": "二手房过户"},
        format="json",
    )
    assert response.status_code == 200
    opened = response.json()
    assert [(o["party"], o["role"], o["is_payer"], o["since"]) for o in opened] == [
        (world.buyer.pk, "owner", True, "2026-03-01")
    ]
    old = Occupancy.objects.get(unit=world.unit, party=world.owner)
    assert old.until == dt.date(2026, 2, 28)
    entry = AuditEntry.objects.get(action=AuditAction.TRANSFER)
    assert (entry.actor, entry.object_id, entry.note) == (service, str(world.unit.pk), "二手房过户")


def test_refused_write_leaves_nothing(world, staff, client_for):
    response = client_for(staff(Role.COLLECTOR)).post(
        "/api/v1/units/",
        {"estate": "DEMO", "building": "3", "room": "1601", "area_m2": "95.20"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "没有权限：管理楼栋与房屋"
    assert not Unit.objects.filter(code="DEMO-3-1601").exists()
    assert AuditEntry.objects.count() == 0
