"""Billing fixtures: the 物业费 fee item, a residential tariff of 2.35 元/㎡·月 and a monthly
contract (due on the 1st) for the `estate` fixture, from 2026-01-01, and a finance user."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from propfee.billing.constants import TariffBasis
from propfee.billing.services import contract_version_create, fee_item_create, tariff_create
from propfee.core.roles import Role
from propfee.estates.constants import UnitType

START = dt.date(2026, 1, 1)


@pytest.fixture
def fee_item(company):
    return fee_item_create(company=company, code="WYF", name="物业费", actor=None)


@pytest.fixture
def tariff(fee_item, estate):
    return tariff_create(
        fee_item=fee_item,
        estate=estate,
        unit_type=UnitType.RESIDENTIAL,
        basis=TariffBasis.PER_M2_MONTH,
        rate_yuan=Decimal("2.35"),
        effective_from=START,
        vacancy_discount_ratio=Decimal("0.3"),
        actor=None,
    )


@pytest.fixture
def contract(estate):
    return contract_version_create(estate=estate, effective_from=START, due_day=5, actor=None)


@pytest.fixture
def billable(tariff, contract):
    """The estate is ready to bill: tariff and contract in force from 2026-01."""
    return tariff


@pytest.fixture
def finance(make_user, estate):
    return make_user(Role.FINANCE, username="finance1", estates=[estate])
