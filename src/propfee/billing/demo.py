"""The demo company's fee set-up: fee items, tariffs and contracts for its two estates (DEMO
阳光花园 and WEST), in force from the first month of the demo's billing history."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from propfee.billing.constants import AllocationOrder, TariffBasis
from propfee.billing.models import FeeItem
from propfee.billing.services import contract_version_create, fee_item_create, tariff_create
from propfee.estates.constants import UnitType
from propfee.estates.demo.constants import DEMO_HISTORY_START
from propfee.estates.models import Company, Estate

PROPERTY_FEE = ("WYF", "物业费")
PARKING_FEE = ("TCF", "停车管理费")

# estate code → (unit type, fee item code, basis, rate in yuan, vacancy discount ratio)
DEMO_TARIFFS: dict[str, list[tuple[str, str, str, Decimal, Decimal | None]]] = {
    "DEMO": [
        (UnitType.RESIDENTIAL, "WYF", TariffBasis.PER_M2_MONTH, Decimal("2.35"), Decimal("0.3")),
        (UnitType.SHOP, "WYF", TariffBasis.PER_M2_MONTH, Decimal("4.80"), None),
        (UnitType.OFFICE, "WYF", TariffBasis.PER_M2_MONTH, Decimal("3.50"), None),
        (UnitType.PARKING, "TCF", TariffBasis.PER_SPACE_MONTH, Decimal("80"), None),
    ],
    "WEST": [
        (UnitType.RESIDENTIAL, "WYF", TariffBasis.PER_M2_MONTH, Decimal("1.85"), Decimal("0.3")),
        (UnitType.PARKING, "TCF", TariffBasis.PER_SPACE_MONTH, Decimal("60"), None),
    ],
}
# estate code → (billing cycle in months, due day, grace days, penalty cap ratio)
DEMO_CONTRACTS: dict[str, tuple[int, int, int, Decimal | None]] = {
    "DEMO": (1, 1, 15, Decimal("1")),
    "WEST": (1, 1, 0, None),
}


@transaction.atomic
def billing_demo_setup(company: Company) -> dict[str, int]:
    """Create the demo fee items, tariffs and contracts for `company`'s demo estates (those of
    them that exist), as the system. Returns how many of each were created."""
    items = {
        code: FeeItem.objects.filter(company=company, code=code).first()
        or fee_item_create(company=company, code=code, name=name, actor=None)
        for code, name in (PROPERTY_FEE, PARKING_FEE)
    }
    counts = {"fee_items": len(items), "tariffs": 0, "contract_versions": 0}
    for estate in Estate.objects.filter(company=company, code__in=list(DEMO_TARIFFS)):
        for unit_type, item_code, basis, rate, vacancy in DEMO_TARIFFS[estate.code]:
            tariff_create(
                fee_item=items[item_code],
                estate=estate,
                unit_type=unit_type,
                basis=basis,
                rate_yuan=rate,
                effective_from=DEMO_HISTORY_START,
                vacancy_discount_ratio=vacancy,
                actor=None,
            )
            counts["tariffs"] += 1
        cycle, due_day, grace_days, cap = DEMO_CONTRACTS[estate.code]
        contract_version_create(
            estate=estate,
            effective_from=DEMO_HISTORY_START,
            billing_cycle_months=cycle,
            due_day=due_day,
            grace_days=grace_days,
            penalty_cap_ratio=cap,
            allocation_order=AllocationOrder.PENALTY_FIRST,
            actor=None,
        )
        counts["contract_versions"] += 1
    return counts
