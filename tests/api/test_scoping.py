"""Scoping through the API: what lies outside a user's estates/buildings/company is 404 (its
existence not disclosed), lists hold only what is in scope, whatever the role may do."""

from __future__ import annotations

import pytest

from propfee.core.models import AuditEntry
from propfee.core.roles import Role
from propfee.estates.models import Occupancy
from tests.factories import (
    BuildingFactory,
    CompanyFactory,
    EstateFactory,
    OccupancyFactory,
    UnitFactory,
    UserFactory,
)


def _codes(response) -> list[str]:
    assert response.status_code == 200, response.content.decode()
    return [row["code"] for row in response.json()["results"]]


def test_collector_of_demo_gets_404_for_a_unit_of_west(world, collector, client_for):
    client = client_for(collector)
    assert client.get("/api/v1/units/DEMO-3-1502/").status_code == 200
    assert client.get("/api/v1/units/WEST-1-101/").status_code == 404
    assert client.get("/api/v1/estates/WEST/").status_code == 404
    assert _codes(client.get("/api/v1/units/")) == ["DEMO-3-1502"]
    assert _codes(client.get("/api/v1/estates/")) == ["DEMO"]


def test_out_of_scope_is_404_before_the_capability_check(world, staff, client_for):
    west_owner = OccupancyFactory(unit=world.other_unit).party
    finance = client_for(staff(Role.FINANCE))
    # Finance may not reveal: 403 on a party it can see, 404 on one it cannot.
    assert finance.post(f"/api/v1/parties/{world.owner.pk}/reveal/").status_code == 403
    assert finance.post(f"/api/v1/parties/{west_owner.pk}/reveal/").status_code == 404
    collector = client_for(staff(Role.COLLECTOR))
    assert collector.patch("/api/v1/units/WEST-1-101/", {"status": "vacant"}).status_code == 404
    assert collector.patch("/api/v1/units/DEMO-3-1502/", {"status": "vacant"}).status_code == 403
    manager = client_for(staff(Role.MANAGER))
    response = manager.patch("/api/v1/units/WEST-1-101/", {"status": "vacant"}, format="json")
    assert response.status_code == 404
    response = manager.post(
        "/api/v1/units/WEST-1-101/transfer/",
        {"new_owners": [world.buyer.pk], "on": "2026-03-01"},
        format="json",
    )
    assert response.status_code == 404
    assert AuditEntry.objects.count() == 0


def test_building_scoped_collector_sees_only_that_building(world, make_user, client_for):
    tower = BuildingFactory(estate=world.estate, code="5")
    UnitFactory(building=tower, room="501")
    collector = make_user(Role.COLLECTOR, username="tower-collector", buildings=[tower])
    client = client_for(collector)

    assert _codes(client.get("/api/v1/units/")) == ["DEMO-5-501"]
    assert client.get("/api/v1/units/DEMO-3-1502/").status_code == 404
    assert [b["code"] for b in client.get("/api/v1/buildings/").json()["results"]] == ["5"]
    # The estate of the building is visible (to name it), the other estate is not.
    assert _codes(client.get("/api/v1/estates/")) == ["DEMO"]
    assert client.get("/api/v1/parties/").json()["count"] == 0
    assert client.get(f"/api/v1/parties/{world.owner.pk}/").status_code == 404
    assert client.get("/api/v1/occupancies/").json()["count"] == 0
    assert _codes(client.get("/api/v1/units/?q=DEMO-3")) == []


def test_user_of_another_company_sees_nothing(world, client_for):
    rival = CompanyFactory(code="RIVAL", name="对手物业")
    EstateFactory(company=rival, code="RIV")
    admin = UserFactory(company=rival, role=Role.ADMIN, username="rival-admin")
    client = client_for(admin)

    assert _codes(client.get("/api/v1/estates/")) == ["RIV"]
    assert _codes(client.get("/api/v1/units/")) == []
    assert client.get("/api/v1/units/DEMO-3-1502/").status_code == 404
    assert client.get("/api/v1/estates/DEMO/").status_code == 404
    assert client.get(f"/api/v1/parties/{world.owner.pk}/").status_code == 404
    assert client.get(f"/api/v1/parties/{world.buyer.pk}/").status_code == 404
    assert client.post(f"/api/v1/parties/{world.owner.pk}/reveal/").status_code == 404
    assert client.get("/api/v1/parties/").json()["count"] == 0
    # Nor can it link another company's party or create units in another company's estate.
    body = {"estate": "DEMO", "building": "3", "room": "1", "area_m2": "50.00"}
    response = client.post("/api/v1/units/", body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "楼栋不存在：DEMO-3"
    transfer = {"new_owners": [world.buyer.pk], "on": "2026-03-01"}
    response = client.post("/api/v1/units/DEMO-3-1502/transfer/", transfer, format="json")
    assert response.status_code == 404
    assert AuditEntry.objects.count() == 0


def test_user_without_company_or_scope_sees_nothing(world, client_for):
    loner = UserFactory(company=None, role=Role.MANAGER, username="loner")
    client = client_for(loner)
    assert client.get("/api/v1/estates/").json()["count"] == 0
    assert client.get("/api/v1/units/").json()["count"] == 0
    assert client.get("/api/v1/units/DEMO-3-1502/").status_code == 404


def test_search_stays_in_scope(world, collector, client_for):
    west_occupancy = OccupancyFactory(unit=world.other_unit, party__name="王建国")
    assert west_occupancy.party.name == world.owner.name
    client = client_for(collector)
    # Both units have an occupant named 王建国; the collector of DEMO finds only DEMO's.
    assert _codes(client.get("/api/v1/units/", {"q": "王建国"})) == ["DEMO-3-1502"]
    assert _codes(client.get("/api/v1/units/", {"q": "WEST"})) == []
    # Phone suffix search (the owner's phone ends in 5678).
    assert _codes(client.get("/api/v1/units/", {"q": "5678"})) == ["DEMO-3-1502"]


def test_scoped_user_links_a_new_party_but_not_one_linked_elsewhere(world, staff, client_for):
    """A new party (no unit yet) can be linked by a scoped user; a party that lives only in
    another estate cannot be named, and is reported as not found."""
    west_owner = OccupancyFactory(unit=world.other_unit).party
    client = client_for(staff(Role.CUSTOMER_SERVICE))
    created = client.post("/api/v1/parties/", {"name": "新租户"}, format="json")
    assert created.status_code == 201
    party_id = created.json()["id"]
    body = {"unit": "DEMO-3-1502", "party": party_id, "role": "tenant", "since": "2026-01-01"}
    assert client.post("/api/v1/occupancies/", body, format="json").status_code == 201
    assert client.get(f"/api/v1/parties/{party_id}/").status_code == 200

    body["party"] = west_owner.pk
    response = client.post("/api/v1/occupancies/", body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == f"业主/住户不存在：{west_owner.pk}"
    assert not Occupancy.objects.filter(party=west_owner, unit=world.unit).exists()


@pytest.mark.parametrize("bad", ["abc", "0", "999999"])
def test_unknown_or_malformed_party_id_is_404(world, admin_user, client_for, bad):
    assert client_for(admin_user).get(f"/api/v1/parties/{bad}/").status_code == 404
