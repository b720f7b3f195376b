"""What one charge costs: the tariff's rate multiplied out in exact Decimal fen and rounded
once, half up (the one rounding rule), after the vacancy discount and the pro-rating."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from propfee.billing.constants import TariffBasis
from propfee.core.money import FEN_PER_YUAN, round_half_up


# A run prices the same (tariff, area, vacancy, days) over and over: areas repeat across an
# estate, so a million units come to a few thousand distinct products.
@lru_cache(maxsize=65536)
def charge_principal_fen(
    *,
    basis: str,
    rate_yuan: Decimal,
    area_m2: Decimal,
    months: int,
    vacant: bool = False,
    vacancy_discount_ratio: Decimal | None = None,
    billed_days: int | None = None,
    period_days: int | None = None,
) -> int:
    """round_half_up(rate × 100 × months [× area] [× (1 − vacancy ratio)] [× billed ÷ period days]).

    Every factor stays exact until the single rounding at the end, so 89.50 ㎡ × 2.35 元 is
    21032.5 fen → 21033, never a sum of rounded parts. `billed_days`/`period_days` pro-rate a
    unit handed over inside the period (the days from handover to the period's end)."""
    amount = rate_yuan * FEN_PER_YUAN * months
    if basis == TariffBasis.PER_M2_MONTH:
        amount *= area_m2
    if vacant and vacancy_discount_ratio:
        amount *= 1 - vacancy_discount_ratio
    if billed_days is not None and period_days is not None and billed_days < period_days:
        amount = amount * billed_days / period_days
    return round_half_up(amount)
