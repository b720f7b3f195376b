"""The demo fee set-up: both demo estates get tariffs and a contract, and bill."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from propfee.billing.demo import billing_demo_setup
from propfee.billing.models import Charge, FeeItem, Tariff
from propfee.billing.selectors import contract_terms_on
from propfee.billing.services import billing_run_post
from propfee.estates.constants import UnitType
from tests.factories import BuildingFactory, EstateFactory, UnitFactory


def test_demo_setup(company):
    demo = EstateFactory(company=company, code="DEMO", name="阳光花园")
    west = EstateFactory(company=company, code="WEST", name="西湖苑")
    counts = billing_demo_setup(company)
    assert counts == {"fee_items": 2, "tariffs": 6, "contract_versions": 2}
    assert set(FeeItem.objects.values_list("name", flat=True)) == {"物业费", "停车管理费"}
    shop = Tariff.objects.get(estate=demo, unit_type=UnitType.SHOP)
    assert shop.rate_yuan == Decimal("4.8000")
    terms = contract_terms_on(estate=west, day=dt.date(2026, 3, 1))
    assert terms is not None and terms.billing_cycle_months == 1 and terms.due_day == 1

    space = UnitFactory(
        building=BuildingFactory(estate=demo, code="P"),
        room="B1-001",
        floor=-1,
        unit_type=UnitType.PARKING,
        area_m2=Decimal("12.5"),
    )
    billing_run_post(estate=demo, period="2026-03", actor=None)
    assert Charge.objects.get(unit=space).principal_fen == 8000  # 80 元/车位·月
