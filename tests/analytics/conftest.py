"""The report pages' book: the worked example of docs/definitions.md §5 (estate DEMO,
building 3, as of 2026-08-01), plus an unpaid charge in WEST and a second DEMO building.

unit A (DEMO-3-1502)
  Jan 10000 due 01-31 — paid 10000 received 01-31, recorded late (a backdated transfer)
  Feb 10000 due 02-28 — 4000 principal waived effective 02-28; 6000 owed
  Mar 10000 due 03-31 — paid 10000 on 03-31 (designated)
  Apr 10000 due 04-30 — paid 10000 on 04-30, then reversed; 10000 owed
  Jul 10000 due 07-31 — unpaid
unit B (DEMO-3-1503)
  2023-01 5000 due 2023-01-31 — unpaid
  Jan 20000 due 01-31 — 10690 paid 04-10: penalty 690, principal 10000; 10000 owed
  Mar 20000 due 03-31 — 5000 paid 03-31; 15000 owed
unit C (DEMO-5-101), building 5
  Mar 8000 due 03-31 — unpaid
unit W (WEST-1-101): Jan 30000 due 01-31 — unpaid
"""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.core.roles import Role
from propfee.ledger.constants import Component
from propfee.ledger.services import waiver_create
from propfee.payments.services import payment_reverse
from tests.factories import BuildingFactory, UnitFactory
from tests.payments.conftest import (  # noqa: F401
    ChargeFactory,
    contract,
    fee_item,
    finance,
    make_charge,
    manager,
    pay,
)

D = dt.date
AUG = D(2026, 8, 1)


@pytest.fixture
def book(unit, building, estate, other_unit, make_charge, fee_item, pay, manager):  # noqa: F811
    a = unit
    b = UnitFactory(building=building, room="1503")
    c = UnitFactory(building=BuildingFactory(estate=estate, code="5", name="5栋"), room="101")
    make_charge(1)
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
    make_charge(3, 8000, unit=c)
    make_charge(1, 30000, unit=other_unit)

    pay(10000, D(2026, 3, 31), designations=[a_mar.pk])
    pay(10000, D(2026, 1, 31))
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
    return {"a": a, "b": b, "c": c, "building5": c.building}


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def building_collector(make_user, book):
    """A collector assigned building 5 of DEMO only."""
    return make_user(Role.COLLECTOR, username="collector-b5", buildings=[book["building5"]])
