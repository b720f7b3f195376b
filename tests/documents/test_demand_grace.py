"""A demand claims a charge only after the contract's grace days: with 5 grace days, a bill
due 11-20 is claimable from 11-26, not on 11-25 (listed then as 本期应缴（未到期）)."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.billing.services import contract_version_create
from propfee.documents.claims import demand_for
from propfee.ledger.selectors import statement_for_unit
from tests.payments.conftest import START


@pytest.fixture
def contract(estate):  # 5 grace days instead of tests/payments/conftest's plain contract
    return contract_version_create(estate=estate, effective_from=START, grace_days=5, actor=None)


@pytest.mark.parametrize(
    ("day", "claimed"), [(dt.date(2026, 11, 25), 0), (dt.date(2026, 11, 26), 1)]
)
def test_grace_days_delay_the_claim(unit, make_charge, day, claimed):
    charge = make_charge(month=11, due_date=dt.date(2026, 11, 20))
    demand = demand_for(statement_for_unit(unit=unit, as_of=day), on=day, penalty_mode="contract")
    assert demand.claimed_charge_ids == ([charge.pk] if claimed else [])
    assert [line.charge_id for line in demand.not_due] == ([] if claimed else [charge.pk])
    # 11-26 is also the first day that accrues: one day × 5.
    assert demand.total_fen == (10005 if claimed else 0)
