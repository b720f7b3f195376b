"""Charge amounts worked by hand: exact Decimal arithmetic, one ROUND_HALF_UP at the end."""

from __future__ import annotations

from decimal import Decimal

from propfee.billing.constants import TariffBasis
from propfee.billing.pricing import charge_principal_fen

PER_M2 = TariffBasis.PER_M2_MONTH


def test_per_m2_rounds_half_up_once():
    # 89.50 ㎡ × 2.35 元 = 210.325 元 = 21032.5 分 → half up → 21033 分
    fen = charge_principal_fen(
        basis=PER_M2, rate_yuan=Decimal("2.35"), area_m2=Decimal("89.50"), months=1
    )
    assert fen == 21033


def test_rate_with_four_places():
    # 120.37 ㎡ × 1.8725 元 = 225.392825 元 = 22539.2825 分 → 22539 分
    fen = charge_principal_fen(
        basis=PER_M2, rate_yuan=Decimal("1.8725"), area_m2=Decimal("120.37"), months=1
    )
    assert fen == 22539


def test_three_months_round_once_not_per_month():
    # 3 × 21032.5 = 63097.5 分 → 63098 (rounding each month first would give 3 × 21033 = 63099)
    fen = charge_principal_fen(
        basis=PER_M2, rate_yuan=Decimal("2.35"), area_m2=Decimal("89.50"), months=3
    )
    assert fen == 63098


def test_fixed_and_per_space_ignore_area():
    # 80 元/车位·月 = 8000 分, whatever the space's area
    for basis in (TariffBasis.PER_SPACE_MONTH, TariffBasis.FIXED_PER_UNIT_MONTH):
        fen = charge_principal_fen(
            basis=basis, rate_yuan=Decimal("80"), area_m2=Decimal("12.50"), months=1
        )
        assert fen == 8000


def test_vacancy_discount():
    # 21032.5 × (1 − 0.3) = 14722.75 分 → 14723
    fen = charge_principal_fen(
        basis=PER_M2,
        rate_yuan=Decimal("2.35"),
        area_m2=Decimal("89.50"),
        months=1,
        vacant=True,
        vacancy_discount_ratio=Decimal("0.3"),
    )
    assert fen == 14723


def test_vacancy_ratio_ignored_for_occupied_units():
    fen = charge_principal_fen(
        basis=PER_M2,
        rate_yuan=Decimal("2.35"),
        area_m2=Decimal("89.50"),
        months=1,
        vacant=False,
        vacancy_discount_ratio=Decimal("0.3"),
    )
    assert fen == 21033


def test_pro_rating_by_days():
    # Handover on 2026-04-21: 21–30 April = 10 of 30 days.
    # 21032.5 × 10 ÷ 30 = 7010.8333… 分 → 7011
    fen = charge_principal_fen(
        basis=PER_M2,
        rate_yuan=Decimal("2.35"),
        area_m2=Decimal("89.50"),
        months=1,
        billed_days=10,
        period_days=30,
    )
    assert fen == 7011
