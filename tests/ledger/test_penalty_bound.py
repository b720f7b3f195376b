"""The penalty reasonableness bound (违约金合理性, docs/definitions.md §6), by hand:

    claimed = Σ (penalty accrued − penalty waived)
    bound   = round_half_up( Σ principal-days × LPR% × multiplier ÷ 36500 )

P = 10000 分 due 2026-01-31 at 万分之五 a day (5 分 a day on the full principal); LPR 3.0%,
multiplier 1.3 (the settings' defaults): one day of the full principal is worth
10000 × 3.9 ÷ 36500 = 1.0685 分 against 5 分 of penalty."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from propfee.ledger.selectors import (
    penalty_bound,
    penalty_bound_for_unit,
    statement_for_unit,
    statement_json,
)
from propfee.ledger.services import waiver_create

D = dt.date


def waive(charge, fen, on, actor, component="penalty"):
    return waiver_create(
        charge=charge,
        component=component,
        amount_fen=fen,
        effective_on=on,
        reason="协商减免",
        actor=actor,
    )


def test_thirty_days_unpaid(make_charge, unit):
    make_charge()
    bound = penalty_bound_for_unit(unit=unit, as_of=D(2026, 3, 2))
    # 02-01 … 03-02 = 30 days × 10000 = 300000 fen-days; 300000 × 3.0 × 1.3 ÷ 36500 = 32.05.
    assert (bound.principal_days, bound.claimed_fen, bound.bound_fen) == (300000, 150, 32)
    assert (bound.lpr_percent, bound.multiplier) == (Decimal("3.0"), Decimal("1.3"))
    assert bound.exceeds


def test_not_overdue_claims_nothing(make_charge, unit):
    make_charge()
    bound = penalty_bound_for_unit(unit=unit, as_of=D(2026, 1, 31))
    assert (bound.principal_days, bound.claimed_fen, bound.bound_fen) == (0, 0, 0)
    assert not bound.exceeds


def test_a_principal_reduction_shortens_the_loss(make_charge, unit, manager):
    c1 = make_charge()
    waive(c1, 4000, D(2026, 2, 10), manager, component="principal")
    bound = penalty_bound_for_unit(unit=unit, as_of=D(2026, 2, 20))
    # 10 days on 10000 + 10 days on 6000 = 160000; penalty 10 × 5 + 10 × 3 = 80;
    # 160000 × 3.9 ÷ 36500 = 17.10 → 17.
    assert (bound.principal_days, bound.claimed_fen, bound.bound_fen) == (160000, 80, 17)


def test_a_penalty_waiver_brings_the_claim_within_the_bound(make_charge, unit, manager):
    c1 = make_charge()
    waive(c1, 100, D(2026, 2, 20), manager)
    bound = penalty_bound_for_unit(unit=unit, as_of=D(2026, 3, 2))
    assert (bound.claimed_fen, bound.bound_fen) == (50, 32)  # 150 − 100
    waive(c1, 20, D(2026, 3, 2), manager)
    bound = penalty_bound_for_unit(unit=unit, as_of=D(2026, 3, 2))
    assert (bound.claimed_fen, bound.bound_fen, bound.exceeds) == (30, 32, False)


def test_penalty_paid_is_still_claimed_and_the_loss_stops_with_the_principal(
    make_charge, pay, unit
):
    make_charge()
    pay(10150, D(2026, 3, 2))  # penalty 150, principal 10000
    bound = penalty_bound_for_unit(unit=unit, as_of=D(2026, 3, 31))
    assert (bound.principal_days, bound.claimed_fen, bound.bound_fen) == (300000, 150, 32)


def test_lpr_and_multiplier_are_settings(make_charge, unit, settings):
    make_charge()
    statement = statement_for_unit(unit=unit, as_of=D(2026, 3, 2))
    # At 15% the yardstick is 300000 × 15 × 1.3 ÷ 36500 = 160.27 → 160 ≥ 150: no warning.
    assert penalty_bound(statement, lpr_percent=Decimal("15")).bound_fen == 160
    assert not penalty_bound(statement, lpr_percent=Decimal("15")).exceeds
    settings.PROPFEE_PENALTY_LPR_PERCENT = "3.45"
    settings.PROPFEE_PENALTY_BOUND_MULTIPLIER = "1"
    # 300000 × 3.45 ÷ 36500 = 28.36 → 28.
    assert penalty_bound(statement).bound_fen == 28


def _cli(*args: str) -> str:
    out = io.StringIO()
    call_command("statement", *args, stdout=out)
    return out.getvalue()


def test_statement_table_warns_and_json_keeps_its_shape(make_charge, unit):
    make_charge()
    table = _cli("DEMO-3-1502", "--as-of", "2026-03-02")
    assert "提示：计收违约金 ¥1.50 超过合理性上限 ¥0.32" in table
    assert "一年期LPR 3.0% × 1.3" in table
    assert "民法典第585条" in table
    data = json.loads(_cli("DEMO-3-1502", "--as-of", "2026-03-02", "--format", "json"))
    assert data == statement_json(statement_for_unit(unit=unit, as_of=D(2026, 3, 2)))
    assert set(data) == {"unit", "as_of", "charges", "totals"}
    assert "提示" not in _cli("DEMO-3-1502", "--as-of", "2026-01-31")


@pytest.mark.parametrize("as_of", [D(2026, 2, 1), D(2026, 5, 31)])
def test_the_bound_is_linear_in_the_principal_days(make_charge, unit, as_of):
    make_charge()
    bound = penalty_bound_for_unit(unit=unit, as_of=as_of)
    days = (as_of - D(2026, 1, 31)).days
    assert bound.principal_days == 10000 * days
    assert bound.claimed_fen == 5 * days
