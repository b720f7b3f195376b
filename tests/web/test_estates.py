"""项目 and 楼栋 pages: counts, drill-down, scope."""

from __future__ import annotations

import re

import pytest

from tests.factories import BuildingFactory, UnitFactory

pytestmark = pytest.mark.django_db


def test_estate_list_shows_counts_in_scope(signed_in, collector, unit, more_units, other_unit):
    page = signed_in(collector).get("/estates/").text
    row = re.search(r'href="/estates/DEMO/">DEMO</a></td>(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'<td class="text-end">(\d+)</td>', row) == ["2", "3"]
    assert "/estates/WEST/" not in page


def test_estate_page_lists_buildings_with_unit_counts(signed_in, collector, unit, more_units):
    page = signed_in(collector).get("/estates/DEMO/").text
    assert "阳光花园" in page
    assert re.search(
        r'href="/estates/DEMO/buildings/3/">3</a></td>\s*<td>3栋</td>\s*'
        r'<td class="text-end">2</td>',
        page,
    )
    assert re.search(r'href="/estates/DEMO/buildings/5/">5</a>', page)


def test_building_page_lists_its_units(signed_in, collector, unit, owner, more_units):
    page = signed_in(collector).get("/estates/DEMO/buildings/3/").text
    assert "DEMO-3-1502" in page and "DEMO-3-1601" in page
    assert "DEMO-5-101" not in page
    assert "100****5678" in page


def test_building_page_of_the_committee_has_no_units(signed_in, committee, unit, owner):
    page = signed_in(committee).get("/estates/DEMO/buildings/3/").text
    assert "1 户" in page
    assert "DEMO-3-1502" not in page
    assert "王建国" not in page


def test_estate_and_building_outside_the_scope_are_not_found(
    signed_in, make_user, estate, other_unit
):
    scoped = make_user(buildings=[BuildingFactory(estate=estate, code="9")])
    UnitFactory(building=scoped.scopes.get().building, room="901")
    client = signed_in(scoped)
    assert client.get("/estates/WEST/").status_code == 404
    assert client.get("/estates/DEMO/buildings/1/").status_code == 404
    assert client.get("/estates/DEMO/buildings/9/").status_code == 200
