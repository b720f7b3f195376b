"""Personal data through the API: masked in every list and read, shown in full only by
`reveal`, which is audit-logged with the actor."""

from __future__ import annotations

import pytest

from propfee.core.models import AuditAction, AuditEntry
from propfee.core.roles import Role
from tests.factories import OccupancyFactory, PartyPhoneFactory

PHONE = "13800138000"
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def resident(unit):
    occupancy = OccupancyFactory(
        unit=unit,
        party__name="陈静",
        party__email="chen.jing@example.com",
        party__id_number=ID_NUMBER,
    )
    PartyPhoneFactory(party=occupancy.party, number=PHONE, position=0)
    PartyPhoneFactory(party=occupancy.party, number="10012345678", position=1)
    return occupancy.party


def test_list_and_retrieve_mask_personal_data(resident, collector, client_for):
    client = client_for(collector)
    row = client.get("/api/v1/parties/").json()["results"][0]
    assert row["name"] == "陈静"
    assert row["phones"] == ["138****8000", "100****5678"]
    assert row["id_number"] == "110***********002X"
    assert row["email"] == "c***@example.com"
    detail = client.get(f"/api/v1/parties/{resident.pk}/").json()
    assert detail == row
    assert PHONE not in client.get("/api/v1/parties/").content.decode()


def test_reveal_returns_full_data_and_writes_an_audit_row(resident, estate, collector, client_for):
    response = client_for(collector).post(f"/api/v1/parties/{resident.pk}/reveal/")

    assert response.status_code == 200
    assert response.json() == {
        "id": resident.pk,
        "name": "陈静",
        "phones": [PHONE, "10012345678"],
        "email": "chen.jing@example.com",
        "id_number": ID_NUMBER,
    }
    entry = AuditEntry.objects.get()
    assert entry.action == AuditAction.REVEAL
    assert entry.actor == collector
    assert entry.object_type == "estates.party"
    assert entry.object_id == str(resident.pk)
    assert entry.estate_id == estate.pk
    assert "phones" in entry.note and "id_number" in entry.note


def test_each_reveal_is_logged(resident, collector, client_for):
    client = client_for(collector)
    for _ in range(3):
        assert client.post(f"/api/v1/parties/{resident.pk}/reveal/").status_code == 200
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL, actor=collector).count() == 3


def test_reveal_is_post_only(resident, collector, client_for):
    response = client_for(collector).get(f"/api/v1/parties/{resident.pk}/reveal/")
    assert response.status_code == 405
    assert AuditEntry.objects.count() == 0


def test_finance_cannot_reveal(resident, staff, client_for):
    response = client_for(staff(Role.FINANCE)).post(f"/api/v1/parties/{resident.pk}/reveal/")
    assert response.status_code == 403
    assert response.json()["detail"] == "没有权限：查看完整手机号与证件号"
    assert AuditEntry.objects.count() == 0


def test_create_and_update_answer_masked(admin_user, client_for):
    client = client_for(admin_user)
    body = {"name": "赵六", "phones": ["138 0013 8000"], "id_number": ID_NUMBER}
    created = client.post("/api/v1/parties/", body, format="json")
    assert created.status_code == 201
    assert created.json()["phones"] == ["138****8000"]
    assert created.json()["id_number"] == "110***********002X"

    party_id = created.json()["id"]
    updated = client.patch(
        f"/api/v1/parties/{party_id}/", {"phones": ["10087654321", PHONE]}, format="json"
    )
    assert updated.status_code == 200
    assert updated.json()["phones"] == ["100****4321", "138****8000"]
    revealed = client.post(f"/api/v1/parties/{party_id}/reveal/").json()
    assert revealed["phones"] == ["10087654321", PHONE]


def test_occupancies_name_the_party_without_personal_data(resident, collector, client_for):
    rows = client_for(collector).get("/api/v1/occupancies/").json()["results"]
    assert [(r["unit"], r["party_name"], r["role"]) for r in rows] == [
        ("DEMO-3-1502", "陈静", "owner")
    ]
    assert set(rows[0]) == {
        "id",
        "unit",
        "party",
        "party_name",
        "role",
        "role_display",
        "is_payer",
        "since",
        "until",
    }
