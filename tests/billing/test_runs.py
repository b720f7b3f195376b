"""Billing runs: amounts, pro-rating, vacancy, cycles, rate changes, payers, idempotency,
reversal, permissions and a query count that does not grow with the number of units."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from propfee.billing.constants import BillingRunStatus, TariffBasis
from propfee.billing.models import BillingRun, Charge
from propfee.billing.services import (
    BillingError,
    BillingRunTransitionError,
    billing_run_post,
    billing_run_preview,
    billing_run_reverse,
    contract_version_create,
    tariff_create,
)
from propfee.core.models import AuditEntry
from propfee.core.roles import PermissionDenied
from propfee.estates.constants import UnitStatus, UnitType
from tests.factories import BuildingFactory, OccupancyFactory, PartyFactory, UnitFactory

# 89.50 ㎡ × 2.35 元 = 210.325 元 = 21032.5 分 → 21033 分 a month (see test_pricing).
FULL_MONTH = 21033
# One run with one fee item, savepoints included: scope check, estate lock, contract, tariffs,
# the plan's pairs and units, the run row, the charges' INSERT … SELECT (on SQLite plus the sum
# of what it inserted; PostgreSQL returns that from the INSERT itself), the run's update, its
# audit row, the units holding credit.
QUERIES_PER_RUN = 13 + (connection.vendor == "sqlite")


def test_charge_for_a_unit(estate, billable, unit, owner):
    run = billing_run_post(estate=estate, period="2026-03", actor=None)
    charge = Charge.objects.get()
    assert charge.principal_fen == FULL_MONTH
    assert (charge.period_start, charge.period_end) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert charge.due_date == dt.date(2026, 3, 5)  # the contract's due day, in advance
    assert charge.payer == owner
    assert charge.billing_run == run
    assert run.status == BillingRunStatus.POSTED
    assert (run.unit_count, run.charge_count, run.total_fen) == (1, 1, FULL_MONTH)


def test_pro_rated_for_a_handover_inside_the_period(estate, billable, building):
    UnitFactory(building=building, room="101", handover_date=dt.date(2026, 4, 21))
    billing_run_post(estate=estate, period="2026-04", actor=None)
    # 21 April to 30 April is 10 of April's 30 days: 21032.5 × 10 ÷ 30 = 7010.83 → 7011
    assert Charge.objects.get().principal_fen == 7011


def test_handover_on_the_first_day_is_a_full_month(estate, billable, building):
    UnitFactory(building=building, room="101", handover_date=dt.date(2026, 4, 1))
    billing_run_post(estate=estate, period="2026-04", actor=None)
    assert Charge.objects.get().principal_fen == FULL_MONTH


def test_units_not_handed_over_are_not_billed(estate, billable, building):
    UnitFactory(building=building, room="101", handover_date=dt.date(2026, 5, 1))
    UnitFactory(building=building, room="102", handover_date=None)
    run = billing_run_post(estate=estate, period="2026-04", actor=None)
    assert run.charge_count == 0
    assert not Charge.objects.exists()


def test_vacant_unit_gets_the_vacancy_discount(estate, billable, building):
    UnitFactory(building=building, room="101", status=UnitStatus.VACANT)
    billing_run_post(estate=estate, period="2026-03", actor=None)
    # 21032.5 × (1 − 0.3) = 14722.75 → 14723
    assert Charge.objects.get().principal_fen == 14723


def test_quarterly_cycle_bills_in_advance_at_cycle_starts_only(estate, tariff, unit):
    contract_version_create(
        estate=estate,
        effective_from=dt.date(2026, 1, 1),
        billing_cycle_months=3,
        due_day=1,
        actor=None,
    )
    billing_run_post(estate=estate, period="2026-04", actor=None)
    charge = Charge.objects.get()
    # 3 × 21032.5 = 63097.5 → 63098, for April–June, due on 1 April.
    assert charge.principal_fen == 63098
    assert (charge.period_start, charge.period_end) == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    assert charge.due_date == dt.date(2026, 4, 1)
    for month in ("2026-05", "2026-06"):
        run = billing_run_post(estate=estate, period=month, actor=None)
        assert run.charge_count == 0
        preview = billing_run_preview(estate=estate, period=month, actor=None)
        assert preview.cycle_start is False
    assert Charge.objects.count() == 1


def test_rate_change_mid_year_only_affects_later_periods(estate, fee_item, billable, unit):
    billing_run_post(estate=estate, period="2026-06", actor=None)
    tariff_create(
        fee_item=fee_item,
        estate=estate,
        unit_type=UnitType.RESIDENTIAL,
        basis=TariffBasis.PER_M2_MONTH,
        rate_yuan=Decimal("2.60"),
        effective_from=dt.date(2026, 7, 1),
        actor=None,
    )
    billing_run_post(estate=estate, period="2026-07", actor=None)
    amounts = dict(Charge.objects.values_list("period_start", "principal_fen"))
    # June keeps 2.35; July: 89.50 × 2.60 = 232.70 元 = 23270 分
    assert amounts == {dt.date(2026, 6, 1): FULL_MONTH, dt.date(2026, 7, 1): 23270}


def test_parking_space_and_property_fee_are_separate_charges(company, estate, billable, building):
    from propfee.billing.services import fee_item_create

    parking = fee_item_create(company=company, code="TCF", name="停车管理费", actor=None)
    tariff_create(
        fee_item=parking,
        estate=estate,
        unit_type=UnitType.PARKING,
        basis=TariffBasis.PER_SPACE_MONTH,
        rate_yuan=Decimal("80"),
        effective_from=dt.date(2026, 1, 1),
        actor=None,
    )
    UnitFactory(building=building, room="101")
    UnitFactory(
        building=building,
        room="B1-001",
        floor=-1,
        unit_type=UnitType.PARKING,
        area_m2=Decimal("12.5"),
    )
    run = billing_run_post(estate=estate, period="2026-03", actor=None)
    assert sorted(Charge.objects.values_list("principal_fen", flat=True)) == [8000, FULL_MONTH]
    assert run.total_fen == 8000 + FULL_MONTH


def test_payer_is_the_payer_at_period_start(estate, billable, unit):
    seller = PartyFactory(company=estate.company)
    buyer = PartyFactory(company=estate.company)
    OccupancyFactory(unit=unit, party=seller, since=dt.date(2020, 6, 1), until=dt.date(2026, 3, 10))
    OccupancyFactory(unit=unit, party=buyer, since=dt.date(2026, 3, 11))
    billing_run_post(estate=estate, period="2026-03", actor=None)
    billing_run_post(estate=estate, period="2026-04", actor=None)
    payers = dict(Charge.objects.values_list("period_start", "payer"))
    assert payers == {dt.date(2026, 3, 1): seller.pk, dt.date(2026, 4, 1): buyer.pk}


def test_no_contract_is_an_error(estate, tariff, unit):
    with pytest.raises(BillingError, match="在 2026-03 没有生效的物业服务合同"):
        billing_run_post(estate=estate, period="2026-03", actor=None)


def test_bad_period_is_an_error(estate, billable):
    with pytest.raises(ValueError, match="计费月份格式应为 YYYY-MM"):
        billing_run_post(estate=estate, period="2026-13", actor=None)


# --- idempotency --------------------------------------------------------------------------


def test_billing_twice_creates_nothing_new(estate, billable, building):
    for n in range(3):
        UnitFactory(building=building, room=f"10{n + 1}")
    first = billing_run_post(estate=estate, period="2026-03", actor=None)
    second = billing_run_post(estate=estate, period="2026-03", actor=None)
    assert (first.charge_count, first.already_billed_count) == (3, 0)
    assert (second.charge_count, second.already_billed_count, second.total_fen) == (0, 3, 0)
    assert Charge.objects.count() == 3
    assert set(Charge.objects.values_list("billing_run", flat=True)) == {first.pk}


def test_a_pre_existing_charge_is_kept_and_the_rest_are_created(
    estate, fee_item, billable, building
):
    units = [UnitFactory(building=building, room=f"10{n + 1}") for n in range(3)]
    imported = Charge.objects.create(
        unit=units[0],
        fee_item=fee_item,
        period_start=dt.date(2026, 3, 1),
        period_end=dt.date(2026, 3, 31),
        due_date=dt.date(2026, 3, 5),
        principal_fen=12345,
    )
    preview = billing_run_preview(estate=estate, period="2026-03", actor=None)
    assert (preview.charge_count, preview.already_billed) == (2, 1)
    run = billing_run_post(estate=estate, period="2026-03", actor=None)
    assert (run.charge_count, run.already_billed_count, run.total_fen) == (2, 1, 2 * FULL_MONTH)
    imported.refresh_from_db()
    assert imported.principal_fen == 12345 and imported.billing_run is None
    assert set(Charge.objects.filter(billing_run=run).values_list("unit", flat=True)) == {
        units[1].pk,
        units[2].pk,
    }


def test_dry_run_writes_nothing(estate, billable, unit):
    run = billing_run_post(estate=estate, period="2026-03", actor=None, dry_run=True)
    assert run.pk is None and run.status == BillingRunStatus.DRAFT
    assert (run.charge_count, run.total_fen) == (1, FULL_MONTH)
    assert not Charge.objects.exists() and not BillingRun.objects.exists()
    assert not AuditEntry.objects.filter(object_type__startswith="billing.charge").exists()


def test_preview_by_building(estate, billable, building):
    other = BuildingFactory(estate=estate, code="5", name="5栋")
    UnitFactory(building=building, room="101")
    UnitFactory(building=other, room="101")
    UnitFactory(building=other, room="102", status=UnitStatus.VACANT)
    preview = billing_run_preview(estate=estate, period="2026-03", actor=None)
    assert preview.unit_count == 3
    assert preview.total_fen == 2 * FULL_MONTH + 14723
    by_code = {b.building_code: (b.charge_count, b.total_fen) for b in preview.by_building}
    assert by_code == {"3": (1, FULL_MONTH), "5": (2, FULL_MONTH + 14723)}
    assert preview.without_payer == 3


def test_one_audit_row_for_the_run_and_the_charges_point_to_it(estate, billable, building, finance):
    for room in ("101", "102", "103"):
        UnitFactory(building=building, room=room)
    run = billing_run_post(estate=estate, period="2026-03", actor=finance)
    # One row per run, with its counts and total (decisions: a run of 1,000,000 units does not
    # write 1,000,000 audit rows); each charge is traced to the run through `billing_run`.
    summary = AuditEntry.objects.get(object_type="billing.billingrun")
    assert summary.object_id == str(run.pk)
    assert not AuditEntry.objects.filter(object_type="billing.charge").exists()
    assert summary.actor == finance and summary.note == "计费 2026-03"
    assert summary.after == {
        "period": "2026-03",
        "unit_count": 3,
        "charge_count": 3,
        "already_billed_count": 0,
        "total_fen": 3 * FULL_MONTH,
    }
    assert Charge.objects.filter(billing_run=run).count() == 3


# --- reversal -----------------------------------------------------------------------------


def test_reverse_deletes_the_charges_and_allows_billing_again(estate, billable, unit, finance):
    run = billing_run_post(estate=estate, period="2026-03", actor=finance)
    reversed_run = billing_run_reverse(run=run, actor=finance, reason="面积录入错误")
    assert reversed_run.status == BillingRunStatus.REVERSED
    assert reversed_run.reversed_by == finance and reversed_run.reverse_reason == "面积录入错误"
    assert not Charge.objects.exists()
    deleted = AuditEntry.objects.get(object_type="billing.charge", action="delete")
    assert deleted.before["principal_fen"] == FULL_MONTH
    again = billing_run_post(estate=estate, period="2026-03", actor=finance)
    assert again.charge_count == 1


def test_reverse_twice_is_refused(estate, billable, unit):
    run = billing_run_post(estate=estate, period="2026-03", actor=None)
    billing_run_reverse(run=run, actor=None, reason="重开")
    with pytest.raises(BillingRunTransitionError, match="计费批次状态为“已撤销”"):
        billing_run_reverse(run=run, actor=None, reason="重开")


def test_reverse_needs_a_reason(estate, billable, unit):
    run = billing_run_post(estate=estate, period="2026-03", actor=None)
    with pytest.raises(BillingError, match="请填写撤销原因"):
        billing_run_reverse(run=run, actor=None, reason="  ")
    assert Charge.objects.count() == 1


# --- permissions and scale ----------------------------------------------------------------


def test_collector_may_not_bill(estate, billable, unit, collector):
    with pytest.raises(PermissionDenied):
        billing_run_post(estate=estate, period="2026-03", actor=collector)
    with pytest.raises(PermissionDenied):
        billing_run_preview(estate=estate, period="2026-03", actor=collector)
    assert not Charge.objects.exists()


def test_finance_may_not_bill_outside_its_scope(other_estate, billable, finance):
    with pytest.raises(PermissionDenied):
        billing_run_post(estate=other_estate, period="2026-03", actor=finance)


@pytest.mark.parametrize("units", [20, 200])
def test_query_count_does_not_grow_with_units(
    estate, billable, building, finance, units, django_assert_num_queries
):
    for n in range(units):
        unit = UnitFactory(building=building, room=f"{n // 10 + 1}{n % 10 + 1:02d}")
        OccupancyFactory(unit=unit)
    # The same queries at 20 and 200 units: the charges are computed and inserted by the
    # database (one INSERT … SELECT per fee item), never a statement per unit or per batch.
    with django_assert_num_queries(QUERIES_PER_RUN):
        run = billing_run_post(estate=estate, period="2026-03", actor=finance)
    assert run.charge_count == units
    assert Charge.objects.filter(payer__isnull=True).count() == 0
    assert AuditEntry.objects.filter(object_type="billing.charge").count() == 0
