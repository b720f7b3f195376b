"""房屋 pages: search, filters, pagination, the unit page with masked personal data, the audited
reveal, scope, and the number of queries a page costs."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import override_settings

from propfee.core.models import AuditAction, AuditEntry
from propfee.estates.services import unit_update
from tests.factories import OccupancyFactory, PartyPhoneFactory, UnitFactory

pytestmark = pytest.mark.django_db


def _unit_codes(html: str) -> list[str]:
    return re.findall(r'<td><a href="/units/[^"]+/">([^<]+)</a></td>', html)


# --- list, search, filters --------------------------------------------------------------


def test_unit_list_shows_units_in_scope_with_masked_payer_phone(
    signed_in, collector, unit, owner, other_unit
):
    page = signed_in(collector).get("/units/").text
    assert _unit_codes(page) == ["DEMO-3-1502"]
    assert "王建国" in page
    assert "100****5678" in page
    assert "10012345678" not in page


def test_search_by_phone_suffix_with_one_match_opens_the_unit(signed_in, collector, unit, owner):
    response = signed_in(collector).get("/units/", {"q": "5678"})
    assert response.status_code == 302
    assert response["Location"] == "/units/DEMO-3-1502/"


def test_search_by_phone_suffix_with_several_matches_lists_them(
    signed_in, collector, unit, owner, more_units
):
    # 10012345678 (王建国, 1502) and 10011115678 (钱二, 1601) both end in 5678.
    response = signed_in(collector).get("/units/", {"q": "5678"})
    assert response.status_code == 200
    assert _unit_codes(response.text) == ["DEMO-3-1502", "DEMO-3-1601"]


def test_search_by_owner_name_and_by_code(signed_in, collector, unit, owner, more_units):
    client = signed_in(collector)
    assert client.get("/units/", {"q": "王建国"})["Location"] == "/units/DEMO-3-1502/"
    assert _unit_codes(client.get("/units/", {"q": "DEMO-3"}).text) == [
        "DEMO-3-1502",
        "DEMO-3-1601",
    ]


def test_search_never_finds_units_outside_the_scope(signed_in, collector, other_unit):
    OccupancyFactory(unit=other_unit, party__name="孙西")
    response = signed_in(collector).get("/units/", {"q": "孙西"})
    assert response.status_code == 200
    assert _unit_codes(response.text) == []
    assert "没有符合条件的房屋" in response.text


def test_filters_by_building_type_and_status(signed_in, collector, building, unit, more_units):
    shop, flat = more_units
    client = signed_in(collector)
    estate_id = str(unit.estate_id)
    by_building = client.get("/units/", {"estate": estate_id, "building": str(building.pk)})
    assert _unit_codes(by_building.text) == ["DEMO-3-1502", "DEMO-3-1601"]
    assert _unit_codes(client.get("/units/", {"unit_type": "shop"}).text) == [shop.code]
    assert _unit_codes(client.get("/units/", {"status": "renovating"}).text) == [flat.code]
    # An invalid filter value is ignored, not an error page.
    assert len(_unit_codes(client.get("/units/", {"status": "bogus"}).text)) == 3


def test_building_choices_follow_the_estate(signed_in, collector, estate, building, more_units):
    client = signed_in(collector)
    options = client.get("/units/building-options/", {"estate": estate.pk}).text
    assert options.count("<option") == 3  # 全部楼栋, 3栋, 5栋
    assert "3栋" in options and "5栋" in options
    page = client.get("/units/", {"estate": estate.pk}).text
    assert f'<option value="{building.pk}">3栋</option>' in page


@override_settings(PROPFEE_PAGE_SIZE=2)
def test_pagination_keeps_the_filters(signed_in, collector, building):
    for room in ("101", "102", "103", "104", "105"):
        UnitFactory(building=building, room=room, status="vacant")
    UnitFactory(building=building, room="201")
    client = signed_in(collector)
    first = client.get("/units/", {"status": "vacant"}).text
    assert _unit_codes(first) == ["DEMO-3-101", "DEMO-3-102"]
    assert 'href="?status=vacant&amp;page=2"' in first
    assert "共 5 条" in first
    third = client.get("/units/", {"status": "vacant", "page": "3"}).text
    assert _unit_codes(third) == ["DEMO-3-105"]
    assert 'href="?status=vacant&amp;page=2"' in third
    assert 'href="?status=vacant&amp;export=xlsx"' in third


def test_htmx_request_gets_only_the_results(signed_in, collector, unit, owner, more_units):
    response = signed_in(collector).get(
        "/units/", {"q": "5678"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-results"
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert _unit_codes(response.text) == ["DEMO-3-1502", "DEMO-3-1601"]
    assert "HX-Request" in response["Vary"]


def test_htmx_search_with_one_match_redirects_the_browser(signed_in, collector, unit, owner):
    response = signed_in(collector).get(
        "/units/", {"q": "王建国"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-results"
    )
    assert response["HX-Redirect"] == "/units/DEMO-3-1502/"


# --- the unit page ---------------------------------------------------------------------


def test_unit_page_shows_attributes_and_masked_occupants(signed_in, collector, unit, owner, tenant):
    page = signed_in(collector).get("/units/DEMO-3-1502/").text
    assert "阳光花园" in page and "3栋" in page and "89.50" in page
    assert "王建国" in page and "李晓梅" in page and "过往业主住户" in page
    assert "100****5678" in page
    assert "10012345678" not in page
    assert "110***********1234" in page
    assert "110101199003071234" not in page
    assert "l***@example.com" in page
    assert page.count('hx-post="/units/DEMO-3-1502/occupants/') == 2


def test_unit_page_shows_history(signed_in, collector, manager, unit):
    unit_update(unit=unit, actor=manager, area_m2=Decimal("90.00"))
    page = signed_in(collector).get("/units/DEMO-3-1502/").text
    assert "变更记录" in page
    assert "建筑面积(㎡)：89.50 → 90.00" in page


def test_unit_outside_the_scope_is_not_found(signed_in, collector, other_unit):
    response = signed_in(collector).get("/units/WEST-1-101/")
    assert response.status_code == 404
    assert "页面不存在" in response.text


def test_reveal_shows_full_numbers_to_a_collector_and_is_audited(signed_in, collector, unit, owner):
    occupancy = owner.occupancies.get()
    url = f"/units/DEMO-3-1502/occupants/{occupancy.pk}/reveal/"
    response = signed_in(collector).post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "10012345678" in response.text
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert entry.actor == collector
    assert entry.object_type == "estates.party"
    assert entry.object_id == str(owner.pk)
    assert entry.estate_id == unit.estate_id
    assert "手机" in entry.note


def test_reveal_without_htmx_renders_the_page_with_the_numbers(signed_in, collector, unit, owner):
    occupancy = owner.occupancies.get()
    response = signed_in(collector).post(f"/units/DEMO-3-1502/occupants/{occupancy.pk}/reveal/")
    assert response.status_code == 200
    assert "<html" in response.text
    assert "10012345678" in response.text


def test_reveal_is_refused_to_finance(signed_in, finance, unit, owner):
    occupancy = owner.occupancies.get()
    client = signed_in(finance)
    page = client.get("/units/DEMO-3-1502/").text
    assert "100****5678" in page
    assert "/reveal/" not in page  # no 显示 button
    response = client.post(f"/units/DEMO-3-1502/occupants/{occupancy.pk}/reveal/")
    assert response.status_code == 403
    assert "10012345678" not in response.text
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_needs_a_post_and_the_occupant_of_that_unit(
    signed_in, collector, unit, owner, more_units
):
    client = signed_in(collector)
    occupancy = owner.occupancies.get()
    assert client.get(f"/units/DEMO-3-1502/occupants/{occupancy.pk}/reveal/").status_code == 405
    other = more_units[0].occupancies.get()
    assert client.post(f"/units/DEMO-3-1502/occupants/{other.pk}/reveal/").status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


# --- queries per page ------------------------------------------------------------------


def _many_units(building, count: int) -> None:
    for i in range(count):
        occupancy = OccupancyFactory(unit=UnitFactory(building=building, room=f"{2001 + i}"))
        PartyPhoneFactory(party=occupancy.party)
        PartyPhoneFactory(party=occupancy.party, position=1)


@pytest.mark.parametrize("rows", [1, 30])
def test_unit_list_queries_do_not_grow_with_rows(
    signed_in, collector, building, rows, django_assert_max_num_queries
):
    _many_units(building, rows)
    client = signed_in(collector)
    # session, user, scope, estate choice (clean and render), count, buildings, units,
    # current occupancies, phones.
    with django_assert_max_num_queries(10):
        response = client.get("/units/", {"estate": building.estate_id})
    assert len(_unit_codes(response.text)) == rows


@pytest.mark.parametrize("occupants", [1, 12])
def test_unit_page_queries_do_not_grow_with_occupants(
    signed_in, collector, manager, unit, occupants, django_assert_max_num_queries
):
    for i in range(occupants):
        occupancy = OccupancyFactory(unit=unit, is_payer=i == 0, role="co_owner" if i else "owner")
        PartyPhoneFactory(party=occupancy.party)
        unit_update(unit=unit, actor=manager, area_m2=Decimal(f"{90 + i}.00"))
    client = signed_in(collector)
    # session, user, scope, unit, occupancies, phones, history ids, history; the statement
    # (账户): charges, contract versions, payments, waivers, charge details; the unit's
    # waivers (减免与核销) and pending waiver requests.
    with django_assert_max_num_queries(20):
        response = client.get("/units/DEMO-3-1502/")
    assert response.text.count("/reveal/") == occupants * 2  # hx-post and action
