"""The billing run's SQL pricing (`billing.runplan`) against the Python definition
(`pricing.charge_principal_fen`): the same fen for every charge, on SQLite and PostgreSQL alike —
halves rounded up, pro-rating by days (leap years, quarters, years), vacancy discounts including
0 and 100 %, four-place rates, the largest area the field admits — and the payer rule."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from propfee.billing.constants import TariffBasis
from propfee.billing.models import Charge
from propfee.billing.periods import month_end, period_parse
from propfee.billing.pricing import charge_principal_fen
from propfee.billing.runplan import PlanRangeError, plan_tariff
from propfee.billing.services import (
    BillingError,
    billing_run_post,
    billing_run_preview,
    contract_version_create,
    fee_item_create,
    tariff_create,
)
from propfee.estates.constants import UnitStatus, UnitType
from tests.factories import OccupancyFactory, PartyFactory, UnitFactory

D = dt.date
M2 = TariffBasis.PER_M2_MONTH


def _tariffs(company, estate, *, start, residential, shop, office, vacancy=Decimal("0.3")):
    """物业费 for homes (per ㎡, vacancy discount), shops (fixed) and offices (per ㎡, vacant
    offices pay nothing); 停车管理费 per space."""
    wyf = fee_item_create(company=company, code="WYF", name="物业费", actor=None)
    tcf = fee_item_create(company=company, code="TCF", name="停车管理费", actor=None)
    made = {}
    for item, unit_type, basis, rate, ratio in (
        (wyf, UnitType.RESIDENTIAL, M2, residential, vacancy),
        (wyf, UnitType.SHOP, TariffBasis.FIXED_PER_UNIT_MONTH, shop, None),
        (wyf, UnitType.OFFICE, M2, office, Decimal("1")),
        (tcf, UnitType.PARKING, TariffBasis.PER_SPACE_MONTH, Decimal("80"), Decimal("0")),
    ):
        made[unit_type] = tariff_create(
            fee_item=item,
            estate=estate,
            unit_type=unit_type,
            basis=basis,
            rate_yuan=rate,
            effective_from=start,
            vacancy_discount_ratio=ratio,
            actor=None,
        )
    return made


def _expected(unit, tariff, *, months, period_start):
    period_end = month_end(period_start, months)
    first = max(period_start, unit.handover_date)
    return charge_principal_fen(
        basis=tariff.basis,
        rate_yuan=tariff.rate_yuan,
        area_m2=unit.area_m2,
        months=months,
        vacant=unit.status == UnitStatus.VACANT,
        vacancy_discount_ratio=tariff.vacancy_discount_ratio,
        billed_days=(period_end - first).days + 1,
        period_days=(period_end - period_start).days + 1,
    )


def _bill_and_compare(estate, tariffs, units, *, period, months):
    """Preview and post `period`; every unit's charge equals the Python pricing (no charge
    where that gives 0); preview, run and charges agree. Returns {unit pk: fen}."""
    start = period_parse(period)
    expected = {}
    for unit in units:
        unit.refresh_from_db()  # the area as the database holds it
        fen = _expected(unit, tariffs[unit.unit_type], months=months, period_start=start)
        if fen > 0:
            expected[unit.pk] = fen
    preview = billing_run_preview(estate=estate, period=period, actor=None)
    run = billing_run_post(estate=estate, period=period, actor=None)
    got = dict(Charge.objects.filter(billing_run=run).values_list("unit_id", "principal_fen"))
    assert got == expected
    assert (preview.charge_count, preview.total_fen) == (len(expected), sum(expected.values()))
    assert (run.charge_count, run.total_fen, run.unit_count) == (
        len(expected),
        sum(expected.values()),
        len(expected),
    )
    assert Charge.objects.filter(billing_run=run).exclude(period_start=start).count() == 0
    return got


@pytest.fixture
def monthly(estate):
    return contract_version_create(estate=estate, effective_from=D(2026, 1, 1), actor=None)


def test_hand_worked_amounts(company, estate, building, monthly):
    tariffs = _tariffs(
        company,
        estate,
        start=D(2026, 1, 1),
        residential=Decimal("2.35"),
        shop=Decimal("0.01"),
        office=Decimal("3.1234"),
    )
    cases = [
        # 89.50 × 2.35 = 21032.5 分, exactly half → 21033
        (UnitType.RESIDENTIAL, "89.50", UnitStatus.OCCUPIED, D(2020, 6, 1), 21033),
        # × 0.7 = 14722.75 → 14723
        (UnitType.RESIDENTIAL, "89.50", UnitStatus.VACANT, D(2020, 6, 1), 14723),
        # handed over 21 April: 10 of 30 days, 21032.5 × 10 ÷ 30 = 7010.833… → 7011
        (UnitType.RESIDENTIAL, "89.50", UnitStatus.OCCUPIED, D(2026, 4, 21), 7011),
        # 1 分 a month for 15 of 30 days is exactly ½ 分 → 1
        (UnitType.SHOP, "50.00", UnitStatus.OCCUPIED, D(2026, 4, 16), 1),
        # … and for 14 days 0.466… 分 → 0: no charge at all
        (UnitType.SHOP, "50.00", UnitStatus.OCCUPIED, D(2026, 4, 17), None),
        # a vacant office pays nothing (100 % discount): no charge
        (UnitType.OFFICE, "120.00", UnitStatus.VACANT, D(2020, 6, 1), None),
        # 120.37 × 3.1234 = 375.963658 元 → 37596 分
        (UnitType.OFFICE, "120.37", UnitStatus.OCCUPIED, D(2020, 6, 1), 37596),
        # a 0 % vacancy discount is no discount
        (UnitType.PARKING, "12.50", UnitStatus.VACANT, D(2020, 6, 1), 8000),
        # the largest area the field admits: 99,999,999.99 × 2.35 × 100 = 23,499,999,997.65 分
        (UnitType.RESIDENTIAL, "99999999.99", UnitStatus.OCCUPIED, D(2020, 6, 1), 23499999998),
    ]
    units = [
        UnitFactory(
            building=building,
            room=f"{n + 1}01",
            unit_type=unit_type,
            area_m2=Decimal(area),
            status=status,
            handover_date=handover,
        )
        for n, (unit_type, area, status, handover, _fen) in enumerate(cases)
    ]
    got = _bill_and_compare(estate, tariffs, units, period="2026-04", months=1)
    assert [got.get(u.pk) for u in units] == [fen for *_rest, fen in cases]


@pytest.mark.parametrize(
    ("months", "period", "seed"),
    [(1, "2028-02", 1), (3, "2026-04", 2), (12, "2028-01", 3), (1, "2026-11", 4)],
)
def test_random_units_match_the_python_pricing(company, estate, building, months, period, seed):
    """200 units of random areas, types, vacancy and handover days inside the period, with
    random four-place rates: the SQL gives the fen `charge_principal_fen` gives, every one.
    2028 is a leap year (February of 29 days, a year of 366)."""
    rng = random.Random(seed)
    start = period_parse(period)
    contract_version_create(
        estate=estate, effective_from=D(2026, 1, 1), billing_cycle_months=months, actor=None
    )
    tariffs = _tariffs(
        company,
        estate,
        start=D(2026, 1, 1),
        residential=Decimal(rng.randint(1, 99999)).scaleb(-4),
        shop=Decimal(rng.randint(1, 9999999)).scaleb(-4),
        office=Decimal(rng.randint(1, 999999)).scaleb(-4),
        vacancy=Decimal(rng.randint(1, 9999)).scaleb(-4),
    )
    period_days = (month_end(start, months) - start).days + 1
    units = []
    for n in range(200):
        handover = start + dt.timedelta(days=rng.randrange(period_days))
        units.append(
            UnitFactory(
                building=building,
                room=f"{n // 20 + 1}{n % 20 + 1:02d}",
                unit_type=rng.choice(list(UnitType)),
                area_m2=Decimal(rng.randint(1, 99999999)).scaleb(-2),
                status=rng.choice(list(UnitStatus)),
                handover_date=handover if rng.random() < 0.6 else D(2020, 6, 1),
            )
        )
    got = _bill_and_compare(estate, tariffs, units, period=period, months=months)
    assert len(got) > 150  # most units are billed: the comparison is not vacuous


def test_the_payer_is_the_payer_on_the_first_billed_day(estate, billable, building):
    """The latest payer occupancy covering the first billed day (the period's first day, or
    the handover day), as `estates.selectors.current_payer` picks it."""
    old, new, later = (PartyFactory(company=estate.company) for _ in range(3))
    sold = UnitFactory(building=building, room="101")
    OccupancyFactory(unit=sold, party=old, since=D(2020, 6, 1), until=D(2026, 3, 1))
    OccupancyFactory(unit=sold, party=new, since=D(2026, 3, 2))
    handed = UnitFactory(building=building, room="102", handover_date=D(2026, 3, 20))
    OccupancyFactory(unit=handed, party=old, since=D(2026, 1, 1), until=D(2026, 3, 19))
    OccupancyFactory(unit=handed, party=later, since=D(2026, 3, 20))
    nobody = UnitFactory(building=building, room="103")
    preview = billing_run_preview(estate=estate, period="2026-03", actor=None)
    assert preview.without_payer == 1
    billing_run_post(estate=estate, period="2026-03", actor=None)
    payers = dict(Charge.objects.values_list("unit_id", "payer_id"))
    assert payers == {sold.pk: old.pk, handed.pk: later.pk, nobody.pk: None}


def test_a_unit_type_with_two_fee_items_gets_both_in_fee_item_order(company, estate, monthly, unit):
    """Two tariffs for homes (物业费 and 垃圾清运费): two charges for the unit, the one of the
    fee item with the smaller code numbered first, and the unit counted once."""
    for code, name, rate in (("WYF", "物业费", "2.35"), ("LJF", "垃圾清运费", "0.5")):
        tariff_create(
            fee_item=fee_item_create(company=company, code=code, name=name, actor=None),
            estate=estate,
            unit_type=UnitType.RESIDENTIAL,
            basis=M2,
            rate_yuan=Decimal(rate),
            effective_from=D(2026, 1, 1),
            actor=None,
        )
    run = billing_run_post(estate=estate, period="2026-03", actor=None)
    charges = list(Charge.objects.order_by("pk").values_list("fee_item__code", "principal_fen"))
    # 89.50 × 0.5 = 44.75 元 = 4475 分
    assert charges == [("LJF", 4475), ("WYF", 21033)]
    assert (run.unit_count, run.charge_count, run.total_fen) == (1, 2, 4475 + 21033)


def test_an_absurd_rate_is_refused_not_overflowed(company, estate, monthly, unit):
    item = fee_item_create(company=company, code="WYF", name="物业费", actor=None)
    tariff = tariff_create(
        fee_item=item,
        estate=estate,
        unit_type=UnitType.RESIDENTIAL,
        basis=M2,
        rate_yuan=Decimal("99999999.9999"),
        effective_from=D(2026, 1, 1),
        actor=None,
    )
    with pytest.raises(PlanRangeError):
        plan_tariff(tariff, months=1)
    with pytest.raises(BillingError, match="单价超出可计算的范围"):
        billing_run_post(estate=estate, period="2026-03", actor=None)
    assert not Charge.objects.exists()
    # 9,999.9999 元/㎡ a month for a year is still within range.
    tariff.rate_yuan = Decimal("9999.9999")
    assert plan_tariff(tariff, months=12).occupied == divmod(99999999 * 12 * 10**4, 10**8)
