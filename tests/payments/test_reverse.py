"""payment_reverse: the state machine, re-allocation of the later payments, history kept,
and who may reverse."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.core.models import AuditEntry
from propfee.core.roles import PermissionDenied
from propfee.ledger.models import Allocation
from propfee.payments.constants import PaymentStatus
from propfee.payments.services import PaymentError, PaymentTransitionError, payment_reverse
from tests.payments.conftest import current

D = dt.date


def test_reversal_reallocates_the_later_payment(make_charge, pay, finance):
    c1, c2 = make_charge(1), make_charge(2)
    early = pay(10000, D(2026, 1, 20))  # C1 principal, before due
    late = pay(10000, D(2026, 2, 28))  # C2 principal, on its due date
    assert current(late) == [(c2.pk, "principal", 10000)]

    payment_reverse(payment=early, actor=finance, reason="银行退票")

    early.refresh_from_db()
    assert early.status == PaymentStatus.REVERSED
    assert early.reversed_by == finance
    assert current(early) == []
    # Replayed without it: on 02-28 C1 has accrued 28 × 5 = 140, paid first, then 9860 of
    # C1's principal; C2 gets nothing.
    assert current(late) == [(c1.pk, "penalty", 140), (c1.pk, "principal", 9860)]
    # History kept: both payments' old rows are still there, stamped.
    superseded = Allocation.objects.filter(superseded_at__isnull=False)
    assert sorted(superseded.values_list("payment_id", "charge_id", "amount_fen")) == sorted(
        [(early.pk, c1.pk, 10000), (late.pk, c2.pk, 10000)]
    )
    assert AuditEntry.objects.filter(object_id=str(early.pk), note__contains="银行退票").exists()


def test_reversing_twice_is_refused(pay, finance):
    payment = pay(100, D(2026, 1, 20))
    payment_reverse(payment=payment, actor=finance, reason="重复登记")
    with pytest.raises(PaymentTransitionError, match="已冲销"):
        payment_reverse(payment=payment, actor=finance, reason="再次")


def test_reversal_needs_a_reason(pay, finance):
    payment = pay(100, D(2026, 1, 20))
    with pytest.raises(PaymentError, match="冲销原因"):
        payment_reverse(payment=payment, actor=finance, reason="  ")


def test_front_desk_records_but_may_not_reverse(pay, front_desk, manager):
    payment = pay(100, D(2026, 1, 20), actor=front_desk)
    with pytest.raises(PermissionDenied):
        payment_reverse(payment=payment, actor=front_desk, reason="收错")
    payment_reverse(payment=payment, actor=manager, reason="收错")
