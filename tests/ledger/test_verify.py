"""`propfee ledger verify`: clean after payments, a backdated payment, a reversal, a waiver and
billing with credit; exit status 1 with the mismatch printed after a row is tampered with."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from propfee.core.money import format_yuan
from propfee.ledger.models import Allocation
from propfee.ledger.services import waiver_create
from propfee.payments.services import payment_reverse
from tests.payments.conftest import current

D = dt.date


def verify() -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("ledger", "verify", "--chunk", "1", stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


@pytest.fixture
def history(make_charge, pay, other_unit, manager, finance):
    """Two units' worth of everything: late, backdated, reversed payments and a waiver."""
    c1, c2 = make_charge(1), make_charge(2)
    make_charge(1, unit=other_unit)
    pay(10140, D(2026, 2, 28))
    pay(10000, D(2026, 1, 20))  # backdated
    wrong = pay(500, D(2026, 3, 1))
    payment_reverse(payment=wrong, actor=finance, reason="重复")
    waiver_create(
        charge=c2,
        component="principal",
        amount_fen=100,
        effective_on=D(2026, 2, 28),
        reason="协商",
        actor=manager,
    )
    pay(3000, D(2026, 3, 1), unit=other_unit)
    return c1, c2


def test_clean_ledger_exits_zero(history):
    out, error = verify()
    assert error is None
    assert "核对 2 户：核销记录与重算结果一致" in out


def test_a_tampered_allocation_is_reported_and_exits_one(history, unit):
    _c1, c2 = history
    row = Allocation.objects.filter(charge=c2, superseded_at=None).get()
    Allocation.objects.filter(pk=row.pk).update(amount_fen=row.amount_fen + 1)
    out, error = verify()
    assert error is not None and error.returncode == 1
    assert f"不一致 房屋 {unit.code} 应收#{c2.pk}" in out
    assert f"应为 收款#{row.payment_id} 本金 ¥{format_yuan(row.amount_fen)}" in out
    assert f"已存 收款#{row.payment_id} 本金 ¥{format_yuan(row.amount_fen + 1)}" in out
    assert "1 户的核销记录与重算结果不一致" in out


def test_a_deleted_allocation_is_reported(make_charge, pay):
    c1 = make_charge()
    payment = pay(10000, D(2026, 1, 20))
    assert current(payment) == [(c1.pk, "principal", 10000)]
    Allocation.objects.filter(payment=payment).update(superseded_at=timezone.now())
    out, error = verify()
    assert error is not None
    assert "已存 （无）" in out
