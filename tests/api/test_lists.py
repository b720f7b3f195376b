"""Lists: filters, pagination (50 by default, `?page_size=` up to 500), and query counts that do
not grow with the page size."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from propfee.estates.constants import UnitStatus, UnitType
from propfee.estates.models import Unit
from tests.factories import BuildingFactory, OccupancyFactory, PartyPhoneFactory, UnitFactory


def _codes(response) -> list[str]:
    assert response.status_code == 200, response.content.decode()
    return [row["code"] for row in response.json()["results"]]


def test_unit_filters(world, admin_user, client_for):
    tower = BuildingFactory(estate=world.estate, code="5")
    UnitFactory(building=tower, room="501", unit_type=UnitType.SHOP, status=UnitStatus.VACANT)
    client = client_for(admin_user)

    assert _codes(client.get("/api/v1/units/", {"estate": "WEST"})) == ["WEST-1-101"]
    assert _codes(client.get("/api/v1/units/", {"estate": "DEMO", "building": "5"})) == [
        "DEMO-5-501"
    ]
    assert _codes(client.get("/api/v1/units/", {"unit_type": "shop"})) == ["DEMO-5-501"]
    assert _codes(client.get("/api/v1/units/", {"status": "occupied"})) == [
        "DEMO-3-1502",
        "WEST-1-101",
    ]
    assert _codes(client.get("/api/v1/units/", {"q": "DEMO-5"})) == ["DEMO-5-501"]
    assert _codes(client.get("/api/v1/units/", {"q": "王建国", "estate": "DEMO"})) == [
        "DEMO-3-1502"
    ]
    buildings = client.get("/api/v1/buildings/", {"estate": "DEMO"}).json()["results"]
    assert [(b["estate"], b["code"]) for b in buildings] == [("DEMO", "3"), ("DEMO", "5")]


def test_unit_representation(world, admin_user, client_for):
    assert client_for(admin_user).get("/api/v1/units/DEMO-3-1502/").json() == {
        "code": "DEMO-3-1502",
        "estate": "DEMO",
        "building": "3",
        "entrance": "",
        "room": "1502",
        "floor": 15,
        "area_m2": "89.50",
        "unit_type": "residential",
        "unit_type_display": "住宅",
        "handover_date": "2020-06-01",
        "status": "occupied",
        "status_display": "已入住",
    }


def test_pagination(world, admin_user, client_for, units_bulk):
    units_bulk(world.building, 520)
    total = Unit.objects.count()
    client = client_for(admin_user)

    first = client.get("/api/v1/units/").json()
    assert (first["count"], len(first["results"])) == (total, 50)
    assert "page=2" in first["next"]
    assert len(client.get("/api/v1/units/", {"page_size": 10}).json()["results"]) == 10
    assert len(client.get("/api/v1/units/", {"page_size": 10000}).json()["results"]) == 500
    last = client.get("/api/v1/units/", {"page_size": 500, "page": 2}).json()
    assert len(last["results"]) == total - 500
    assert last["next"] is None
    assert client.get("/api/v1/units/", {"page": 99}).status_code == 404


def _query_count(client, url: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_query_counts_do_not_grow_with_page_size(
    world, collector, client_for, units_bulk, django_assert_max_num_queries
):
    # 150 units with an owner each, every owner with two phones.
    for unit in units_bulk(world.building, 150):
        party = OccupancyFactory(unit=unit).party
        PartyPhoneFactory(party=party, position=0)
        PartyPhoneFactory(party=party, position=1)
    client = client_for(collector)

    for url in ["/api/v1/units/", "/api/v1/parties/", "/api/v1/occupancies/"]:
        small = _query_count(client, url, {"page_size": 2})
        large = _query_count(client, url, {"page_size": 150})
        assert small == large, url

    # Session + user, scope, count, rows (+ phones for parties): a fixed handful.
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/v1/units/", {"page_size": 150}).json()["results"]) == 150
    with django_assert_max_num_queries(7):
        assert len(client.get("/api/v1/parties/", {"page_size": 150}).json()["results"]) == 150
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/occupancies/", {"page_size": 150})
        assert len(response.json()["results"]) == 150
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/v1/units/", {"q": "1", "page_size": 150}).json()["results"])


def test_parties_list_searches_by_phone_suffix(db, collector, owner, other_unit):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(collector)
    response = client.get("/api/v1/parties/", {"q": "5678"})
    assert response.status_code == 200
    assert [p["name"] for p in response.json()["results"]] == ["王建国"]
    response = client.get("/api/v1/parties/", {"q": "9999"})
    assert response.json()["results"] == []
