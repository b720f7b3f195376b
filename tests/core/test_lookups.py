"""The `__prefix` lookup: exact starts-with semantics on SQLite (a range) and PostgreSQL (LIKE)."""

import pytest

from propfee.estates.models import PartyPhone, Unit
from tests.factories import PartyPhoneFactory, UnitFactory


@pytest.mark.django_db
def test_prefix_matches_only_values_that_start_with_it(building):
    for room in ("1501", "1502", "15", "1601", "B1_001", "B1X001"):
        UnitFactory(building=building, room=room, floor=None)

    def codes(prefix: str) -> list[str]:
        return sorted(Unit.objects.filter(code__prefix=prefix).values_list("code", flat=True))

    assert codes("DEMO-3-15") == ["DEMO-3-15", "DEMO-3-1501", "DEMO-3-1502"]
    assert codes("DEMO-3-1502") == ["DEMO-3-1502"]
    assert codes("DEMO-3-B1_") == ["DEMO-3-B1_001"]  # `_` is not a wildcard
    assert codes("DEMO-3-%") == []  # nor is `%`
    assert codes("demo-3-15") == []  # codes are stored upper-case; the lookup is exact


@pytest.mark.django_db
def test_prefix_on_reversed_phone_numbers():
    PartyPhoneFactory(number="13800138000", number_reversed="00083100831")
    PartyPhoneFactory(number="13900139000", number_reversed="00093100931")
    found = PartyPhone.objects.filter(number_reversed__prefix="0008")
    assert [p.number for p in found] == ["13800138000"]
