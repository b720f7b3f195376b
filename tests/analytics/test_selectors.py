"""The report selectors (propfee.analytics.selectors) against the rates selectors they compose."""

from __future__ import annotations

import pytest

from propfee.analytics.selectors import arrears_list, collection_rate_rows, current_rate_trend
from propfee.ledger.rates import current_period_rate, overall_rate
from tests.analytics.conftest import AUG, D
from tests.factories import UnitFactory

pytestmark = pytest.mark.django_db


def _window(user, estate=None):
    return collection_rate_rows(
        user=user,
        period="2026-03",
        as_of=AUG,
        start=D(2026, 3, 1),
        end=D(2026, 4, 30),
        estate=estate,
    )


def test_building_rows_add_up_to_the_total(manager, book, estate):
    *buildings, total = _window(manager, estate)
    assert [row.label for row in buildings] == ["3栋", "5栋"]
    assert total.is_total and total.label == "合计"
    for kind in ("current", "clearance", "overall", "household"):
        parts = [getattr(row, kind) for row in buildings]
        whole = getattr(total, kind)
        assert sum(p.numerator for p in parts) == whole.numerator, kind
        assert sum(p.denominator for p in parts) == whole.denominator, kind
    assert (total.current.numerator, total.current.denominator) == (15000, 38000)
    assert (total.overall.numerator, total.overall.denominator) == (25000, 79000)
    assert (total.household.numerator, total.household.denominator) == (1, 3)


def test_the_total_is_what_the_rates_selectors_say(manager, book):
    [demo, total] = _window(manager)
    assert demo.label == "阳光花园"
    assert total.current == current_period_rate(user=manager, period="2026-03", as_of=AUG)
    assert total.overall == overall_rate(user=manager, start=D(2026, 3, 1), end=D(2026, 4, 30))


def test_trend_is_twelve_months_oldest_first(manager, book):
    trend = current_rate_trend(user=manager, period="2026-02", as_of=AUG, months=3)
    assert [point.period for point in trend] == ["2025-12", "2026-01", "2026-02"]
    assert [point.rate.percent for point in trend] == ["—", "66.67%", "0.00%"]
    # As of 01-30 the backdated January payment (received 01-31) has not arrived yet.
    [jan] = current_rate_trend(user=manager, period="2026-01", as_of=D(2026, 1, 30), months=1)
    assert jan.rate.numerator == 0


def test_arrears_list_ties_by_unit_code(manager, book, make_charge):
    twin = UnitFactory(building=book["building5"], room="100")  # owes what DEMO-5-101 owes
    make_charge(3, 8000, unit=twin)
    codes = [row.code for row in arrears_list(user=manager, as_of=AUG)]
    assert codes == ["DEMO-3-1503", "DEMO-3-1502", "DEMO-5-100", "DEMO-5-101"]
    codes = [row.code for row in arrears_list(user=manager, as_of=AUG, order="amount")]
    assert codes == ["DEMO-5-100", "DEMO-5-101", "DEMO-3-1502", "DEMO-3-1503"]
    codes = [row.code for row in arrears_list(user=manager, as_of=AUG, order="-days")]
    assert codes == ["DEMO-3-1503", "DEMO-3-1502", "DEMO-5-100", "DEMO-5-101"]


def test_arrears_list_unknown_order_falls_back_to_most_owed(manager, book):
    rows = arrears_list(user=manager, as_of=AUG, order="pk")
    assert [row.code for row in rows] == ["DEMO-3-1503", "DEMO-3-1502", "DEMO-5-101"]
