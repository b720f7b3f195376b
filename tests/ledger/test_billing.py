"""The ledger and billing together: a run whose charges are allocated cannot be reversed, and
credit (预存) is applied to the next month's charges when they are billed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from propfee.billing.constants import BillingRunStatus, TariffBasis
from propfee.billing.models import Charge
from propfee.billing.services import (
    BillingError,
    billing_run_post,
    billing_run_reverse,
    tariff_create,
)
from propfee.estates.constants import UnitType
from propfee.ledger.models import Allocation
from propfee.payments.services import payment_reverse
from tests.factories import UnitFactory
from tests.payments.conftest import current

D = dt.date
# 89.50 ㎡ × 2.35 元 = 21032.5 分 → 21033 分 a month; the contract bills due on the 1st.
MONTH = 21033


@pytest.fixture
def billable(fee_item, estate, contract):
    return tariff_create(
        fee_item=fee_item,
        estate=estate,
        unit_type=UnitType.RESIDENTIAL,
        basis=TariffBasis.PER_M2_MONTH,
        rate_yuan=Decimal("2.35"),
        effective_from=D(2026, 1, 1),
        actor=None,
    )


def test_reversal_is_refused_once_a_charge_is_allocated(estate, billable, unit, pay, finance):
    run = billing_run_post(estate=estate, period="2026-01", actor=None)
    payment = pay(MONTH, D(2026, 1, 1))
    with pytest.raises(BillingError, match="1 笔应收核销了收款或减免"):
        billing_run_reverse(run=run, actor=None, reason="重算")
    # Reversing the payment leaves only superseded history on the charge: still refused,
    # because deleting the charge would erase what the payment once paid.
    payment_reverse(payment=payment, actor=finance, reason="退票")
    with pytest.raises(BillingError, match="不能撤销"):
        billing_run_reverse(run=run, actor=None, reason="重算")
    run.refresh_from_db()
    assert run.status == BillingRunStatus.POSTED


def test_reversal_without_allocations_still_works(estate, billable, unit, pay):
    run = billing_run_post(estate=estate, period="2026-01", actor=None)
    billing_run_reverse(run=run, actor=None, reason="重算")
    assert not Charge.objects.exists()


def test_credit_pays_the_next_months_charge(estate, billable, unit, building, pay):
    no_credit_unit = UnitFactory(building=building, room="1601")
    billing_run_post(estate=estate, period="2026-01", actor=None)
    jan = Charge.objects.get(unit=unit)
    no_credit_charge = Charge.objects.get(unit=no_credit_unit)
    payment = pay(30000, D(2026, 1, 1))  # on the due date: no penalty; 8967 left as credit
    assert current(payment) == [(jan.pk, "principal", MONTH)]

    billing_run_post(estate=estate, period="2026-02", actor=None)

    feb = Charge.objects.get(unit=unit, period_start=D(2026, 2, 1))
    assert current(payment) == [(jan.pk, "principal", MONTH), (feb.pk, "principal", 30000 - MONTH)]
    # Only the missing row was added; January's row was kept as it was.
    assert not Allocation.objects.filter(superseded_at__isnull=False).exists()
    assert not Allocation.objects.filter(charge__unit=no_credit_unit).exists()
    assert no_credit_charge.allocations.count() == 0


def test_units_without_credit_are_not_replayed(estate, billable, unit, pay, monkeypatch):
    billing_run_post(estate=estate, period="2026-01", actor=None)
    pay(MONTH, D(2026, 1, 1))  # exactly the January charge: no credit
    calls: list[int] = []
    import propfee.ledger.services as ledger_services

    real = ledger_services.unit_reallocate
    monkeypatch.setattr(
        ledger_services, "unit_reallocate", lambda *, unit: calls.append(unit.pk) or real(unit=unit)
    )
    billing_run_post(estate=estate, period="2026-02", actor=None)
    assert calls == []


def test_a_charge_posted_out_of_order_reallocates(estate, billable, unit, pay):
    billing_run_post(estate=estate, period="2026-02", actor=None)
    feb = Charge.objects.get()
    payment = pay(MONTH, D(2026, 2, 1))
    assert current(payment) == [(feb.pk, "principal", MONTH)]

    billing_run_post(estate=estate, period="2026-01", actor=None)  # an older month, billed late

    jan = Charge.objects.get(period_start=D(2026, 1, 1))
    # January (due 01-01) is older, so the payment of 02-01 pays it first: 31 days on 21033 at
    # 万分之五 = 21033 × 0.0005 × 31 = 326.0115 → 326 of penalty, then 20707 of principal.
    assert current(payment) == [(jan.pk, "penalty", 326), (jan.pk, "principal", MONTH - 326)]
