"""Arrears, aging and the four collection rates (propfee.ledger.rates), on a hand-worked book.

The book (docs/definitions.md, "收缴率 / Collection rates"), estate DEMO, building 3, all
charges 物业费 at 万分之五 a day, penalty first:

unit A (3-1502)
  Jan 10000 due 01-31 — paid 10000 received 01-31, recorded late (a backdated transfer)
  Feb 10000 due 02-28 — 4000 principal waived effective 02-28; 6000 owed
  Mar 10000 due 03-31 — paid 10000 on 03-31 (designated)
  Apr 10000 due 04-30 — paid 10000 on 04-30, then reversed; 10000 owed
  Jul 10000 due 07-31 — unpaid
unit B (3-1503)
  2023-01 5000 due 2023-01-31 — unpaid
  Jan 20000 due 01-31 — 10690 paid 04-10 (designated): penalty 69 days × 10 = 690,
                        principal 10000; 10000 owed
  Mar 20000 due 03-31 — 5000 paid 03-31 (designated); 15000 owed
estate WEST (another estate): Jan 30000 due 01-31 — unpaid
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from propfee.core.roles import Role
from propfee.estates.selectors import scope_for
from propfee.ledger.constants import Component
from propfee.ledger.engine import AGING_BUCKETS
from propfee.ledger.rates import (
    aging_summary,
    arrears_by_building,
    arrears_by_unit,
    arrears_clearance_rate,
    current_period_rate,
    household_rate,
    overall_rate,
    ratio,
)
from propfee.ledger.services import waiver_create
from propfee.payments.services import payment_reverse
from tests.factories import UnitFactory
from tests.payments.conftest import ChargeFactory

D = dt.date
AUG = D(2026, 8, 1)


@pytest.fixture
def book(unit, building, other_unit, make_charge, fee_item, pay, manager):
    a = unit
    b = UnitFactory(building=building, room="1503")
    a_jan = make_charge(1)
    a_feb = make_charge(2)
    a_mar = make_charge(3)
    a_apr = make_charge(4)
    make_charge(7)
    ChargeFactory(
        unit=b,
        fee_item=fee_item,
        period_start=D(2023, 1, 1),
        period_end=D(2023, 1, 31),
        due_date=D(2023, 1, 31),
        principal_fen=5000,
    )
    b_jan = make_charge(1, 20000, unit=b)
    b_mar = make_charge(3, 20000, unit=b)
    make_charge(1, 30000, unit=other_unit)

    pay(10000, D(2026, 3, 31), designations=[a_mar.pk])
    pay(10000, D(2026, 1, 31))  # backdated: received before the March payment, recorded after
    waiver_create(
        charge=a_feb,
        component=Component.PRINCIPAL,
        amount_fen=4000,
        effective_on=D(2026, 2, 28),
        reason="物业服务整改",
        actor=manager,
    )
    april = pay(10000, D(2026, 4, 30), designations=[a_apr.pk])
    payment_reverse(payment=april, actor=None, reason="银行退票")
    pay(5000, D(2026, 3, 31), unit=b, designations=[b_mar.pk])
    pay(10690, D(2026, 4, 10), unit=b, designations=[b_jan.pk])
    return {"a": a, "b": b, "a_jan": a_jan}


@pytest.fixture
def west_collector(make_user, other_estate):
    return make_user(Role.COLLECTOR, username="collector-west", estates=[other_estate])


# --- ratio -----------------------------------------------------------------------------------


def test_ratio_rounds_half_up_to_four_places():
    assert ratio(10000, 31000) == Decimal("0.3226")
    assert ratio(1, 8) == Decimal("0.1250")
    assert ratio(1, 20000) == Decimal("0.0001")  # 0.00005 → up
    assert ratio(1, 20001) == Decimal("0.0000")
    assert ratio(3, 3) == Decimal("1.0000")
    assert ratio(0, 0) is None


# --- arrears ---------------------------------------------------------------------------------


def test_arrears_by_unit_worked_example(book, collector):
    rows = arrears_by_unit(user=collector, as_of=AUG)
    assert [(r.code, r.principal_overdue_fen, r.months_owed) for r in rows] == [
        (book["b"].code, 5000 + 10000 + 15000, 3),
        (book["a"].code, 6000 + 10000 + 10000, 3),
    ]
    b, a = rows
    assert (b.oldest_due_date, b.days_overdue, b.bucket) == (D(2023, 1, 31), 1278, "1096+")
    assert (a.oldest_due_date, a.days_overdue, a.bucket) == (D(2026, 2, 28), 154, "91-180")


def test_arrears_as_of_an_earlier_date(book, collector):
    """On 03-15: A's January is paid (received 01-31), February owes 6000 after the waiver;
    B owes 2023-01 and January in full (its payment arrives 04-10)."""
    rows = {r.code: r for r in arrears_by_unit(user=collector, as_of=D(2026, 3, 15))}
    assert rows[book["a"].code].principal_overdue_fen == 6000
    assert rows[book["a"].code].months_owed == 1
    assert rows[book["b"].code].principal_overdue_fen == 25000
    # On 02-01 January is overdue: A paid it on 01-31 (recorded late), B did not.
    [b] = arrears_by_unit(user=collector, as_of=D(2026, 2, 1))
    assert (b.code, b.principal_overdue_fen, b.months_owed) == (book["b"].code, 25000, 2)
    # On the due date itself nothing of January is overdue yet.
    [b] = arrears_by_unit(user=collector, as_of=D(2026, 1, 31))
    assert b.principal_overdue_fen == 5000


def test_arrears_by_building(book, collector, estate):
    [row] = arrears_by_building(user=collector, estate=estate, as_of=AUG)
    assert (row.code, row.units, row.charges, row.principal_overdue_fen) == ("3", 2, 6, 56000)


def test_aging_summary_worked_example(book, collector):
    buckets = aging_summary(user=collector, as_of=AUG)
    assert [b.label for b in buckets] == [label for label, _, _ in AGING_BUCKETS]
    assert [(b.label, b.charges, b.units, b.principal_fen) for b in buckets] == [
        ("1-90", 1, 1, 10000),  # A Jul, 1 day
        ("91-180", 3, 2, 6000 + 10000 + 15000),  # A Feb 154, A Apr 93, B Mar 123 days
        ("181-365", 1, 1, 10000),  # B Jan, 182 days
        ("366-730", 0, 0, 0),
        ("731-1095", 0, 0, 0),
        ("1096+", 1, 1, 5000),  # B 2023-01, 1278 days
    ]
    assert (buckets[0].min_days, buckets[0].max_days, buckets[-1].max_days) == (1, 90, None)


# --- rates -----------------------------------------------------------------------------------


def test_current_period_rate(book, collector):
    march = current_period_rate(user=collector, period="2026-03", as_of=AUG)
    assert (march.numerator, march.denominator, march.ratio) == (15000, 30000, Decimal("0.5000"))
    # The waiver comes off the denominator; nothing paid.
    feb = current_period_rate(user=collector, period="2026-02", as_of=AUG)
    assert (feb.numerator, feb.denominator, feb.ratio) == (0, 6000, Decimal("0"))
    # The reversed payment does not count.
    apr = current_period_rate(user=collector, period="2026-04", as_of=AUG)
    assert (apr.numerator, apr.denominator) == (0, 10000)
    # The backdated payment counts from its received date.
    jan = current_period_rate(user=collector, period="2026-01", as_of=AUG)
    assert (jan.numerator, jan.denominator, jan.ratio) == (20000, 30000, Decimal("0.6667"))
    before = current_period_rate(user=collector, period="2026-01", as_of=D(2026, 1, 30))
    assert (before.numerator, before.ratio) == (0, Decimal("0"))
    assert current_period_rate(user=collector, period="2026-05", as_of=AUG).ratio is None


def test_arrears_clearance_rate(book, collector):
    """Opening 03-01 (as of 02-28): A Feb 6000 + B 2023 5000 + B Jan 20000 = 31000; collected in
    the window on them: B Jan principal 10000 (04-10)."""
    rate = arrears_clearance_rate(user=collector, start=D(2026, 3, 1), end=D(2026, 4, 30))
    assert (rate.numerator, rate.denominator, rate.ratio) == (10000, 31000, Decimal("0.3226"))


def test_overall_rate(book, collector):
    """Collected 03-01..04-30 on charges due ≤ 04-30: A Mar 10000 + B Mar 5000 + B Jan 10000
    (A Apr reversed) = 25000; ÷ (31000 opening + A Mar, A Apr, B Mar 40000) = 71000."""
    rate = overall_rate(user=collector, start=D(2026, 3, 1), end=D(2026, 4, 30))
    assert (rate.numerator, rate.denominator, rate.ratio) == (25000, 71000, Decimal("0.3521"))


def test_household_rate(book, collector):
    march = household_rate(user=collector, period="2026-03", as_of=AUG)
    assert (march.numerator, march.denominator, march.ratio) == (1, 2, Decimal("0.5000"))
    feb = household_rate(user=collector, period="2026-02", as_of=AUG)
    assert (feb.numerator, feb.denominator) == (0, 1)
    jan_early = household_rate(user=collector, period="2026-01", as_of=D(2026, 1, 30))
    assert (jan_early.numerator, jan_early.denominator) == (0, 2)
    jan = household_rate(user=collector, period="2026-01", as_of=AUG)
    assert (jan.numerator, jan.denominator) == (1, 2)


# --- scoping ---------------------------------------------------------------------------------


def test_a_collector_sees_only_their_estate(book, west_collector, admin_user, estate):
    [west] = arrears_by_unit(user=west_collector, as_of=AUG)
    assert (west.principal_overdue_fen, west.months_owed, west.bucket) == (30000, 1, "181-365")
    assert sum(b.principal_fen for b in aging_summary(user=west_collector, as_of=AUG)) == 30000
    jan = current_period_rate(user=west_collector, period="2026-01", as_of=AUG)
    assert (jan.numerator, jan.denominator) == (0, 30000)
    assert household_rate(user=west_collector, period="2026-03", as_of=AUG).denominator == 0
    # The company admin sees both estates, and can narrow to one.
    assert len(arrears_by_unit(user=admin_user, as_of=AUG)) == 3
    assert len(arrears_by_unit(user=admin_user, as_of=AUG, estate=estate)) == 2
    # Another estate's figures are empty for a scoped collector, not an error.
    assert arrears_by_unit(user=west_collector, as_of=AUG, estate=estate) == []


def test_a_building_scoped_collector(book, make_user, building):
    user = make_user(Role.COLLECTOR, username="collector-b3", buildings=[building])
    assert len(arrears_by_unit(user=user, as_of=AUG)) == 2


# --- query counts ----------------------------------------------------------------------------


def _counts(user, django_assert_num_queries):
    scope_for(user)  # the scope is read once per user and cached
    with django_assert_num_queries(1):
        arrears_by_unit(user=user, as_of=AUG)
    with django_assert_num_queries(1):
        aging_summary(user=user, as_of=AUG)
    with django_assert_num_queries(2):
        current_period_rate(user=user, period="2026-03", as_of=AUG)
    with django_assert_num_queries(2):
        arrears_clearance_rate(user=user, start=D(2026, 3, 1), end=D(2026, 4, 30))
    with django_assert_num_queries(3):
        overall_rate(user=user, start=D(2026, 3, 1), end=D(2026, 4, 30))
    with django_assert_num_queries(1):
        household_rate(user=user, period="2026-03", as_of=AUG)


def test_query_counts_are_constant(
    book, collector, building, make_charge, django_assert_num_queries
):
    _counts(collector, django_assert_num_queries)
    for room in range(2001, 2011):
        extra = UnitFactory(building=building, room=str(room))
        make_charge(1, unit=extra)
        make_charge(3, unit=extra)
    _counts(collector, django_assert_num_queries)
    assert len(arrears_by_unit(user=collector, as_of=AUG)) == 12


# --- CLI -------------------------------------------------------------------------------------


def _run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("report", *args, stdout=out)
    return out.getvalue()


def test_cli_aging_table_and_json(book, collector):
    table = _run("aging", "--as-of", "2026-08-01", "--user", collector.username)
    assert "账龄分析" in table and "欠费本金(元)" in table
    assert "91-180" in table and "310.00" in table and "合计" in table
    data = json.loads(
        _run("aging", "--estate", "demo", "--as-of", "2026-08-01", "--format", "json")
    )
    assert data["estate"] == "DEMO"
    assert [(b["label"], b["principal"]) for b in data["buckets"]][:3] == [
        ("1-90", "100.00"),
        ("91-180", "310.00"),
        ("181-365", "100.00"),
    ]
    assert data["total"] == "560.00"
    # Without --estate and --user the console sees every estate.
    everything = json.loads(_run("aging", "--as-of", "2026-08-01", "--format", "json"))
    assert everything["total"] == "860.00"


def test_cli_collection_rates(book, collector):
    args = ["--as-of", "2026-08-01", "--period", "2026-03", "--start", "2026-03-01"]
    args += ["--end", "2026-04-30", "--user", collector.username]
    data = json.loads(_run("collection-rate", *args, "--format", "json"))
    assert [(r["kind"], r["numerator"], r["denominator"], r["ratio"]) for r in data["rates"]] == [
        ("current_period", "150.00", "300.00", "0.5000"),
        ("arrears_clearance", "100.00", "310.00", "0.3226"),
        ("overall", "250.00", "710.00", "0.3521"),
        ("household", 1, 2, "0.5000"),
    ]
    table = _run("collection-rate", *args)
    for word in ("当期收缴率", "清欠率", "综合收缴率", "户数收缴率", "50.00%", "32.26%", "1 户"):
        assert word in table


def test_cli_rejects_unknown_estate_and_bad_period(book):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="项目不存在"):
        _run("aging", "--estate", "NOPE")
    with pytest.raises(CommandError, match="YYYY-MM"):
        _run("collection-rate", "--period", "2026-13")
