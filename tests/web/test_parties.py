"""业主住户 list: search by name or phone suffix, masked personal data, scope."""

from __future__ import annotations

import re

import pytest

from tests.factories import OccupancyFactory, PartyPhoneFactory

pytestmark = pytest.mark.django_db


def _names(html: str) -> list[str]:
    return re.findall(r'<td class="text-nowrap">([^<]+?)(?: <span|</td>)', html)


def test_party_list_masks_phones_and_id_numbers(signed_in, collector, owner, tenant):
    page = signed_in(collector).get("/parties/").text
    assert _names(page) == ["李晓梅", "王建国"]
    assert "100****5678" in page and "100****4321" in page
    assert "10012345678" not in page
    assert "110***********1234" in page
    assert "110101199003071234" not in page
    # Only current occupancies are listed as the party's units.
    assert 'href="/units/DEMO-3-1502/">DEMO-3-1502</a>' in page


def test_party_search_by_phone_suffix_and_by_name(signed_in, collector, owner, tenant, more_units):
    client = signed_in(collector)
    assert _names(client.get("/parties/", {"q": "5678"}).text) == ["王建国", "钱二"]
    assert _names(client.get("/parties/", {"q": "4321"}).text) == ["李晓梅"]
    assert _names(client.get("/parties/", {"q": "晓梅"}).text) == ["李晓梅"]


def test_party_list_keeps_to_the_scope(signed_in, collector, owner, other_unit):
    outsider = OccupancyFactory(unit=other_unit, party__name="孙西").party
    PartyPhoneFactory(party=outsider, number="10099995678")
    page = signed_in(collector).get("/parties/", {"q": "5678"}).text
    assert _names(page) == ["王建国"]


def test_party_list_shows_only_units_in_scope(signed_in, collector, owner, other_unit):
    OccupancyFactory(unit=other_unit, party=owner, is_payer=False)
    page = signed_in(collector).get("/parties/").text
    assert "DEMO-3-1502" in page
    assert "WEST-1-101" not in page
