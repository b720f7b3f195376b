"""payment_record: allocation as the engine says (with the arithmetic), idempotency on
(channel, reference) including two concurrent calls on PostgreSQL, designations, cash
references, gapless receipt numbers per estate and year, and who may record."""

from __future__ import annotations

import datetime as dt
import threading
from unittest import mock

import pytest
import time_machine
from django.db import connection

from propfee.core.models import AuditEntry
from propfee.core.roles import PermissionDenied, Role
from propfee.ledger.models import Allocation
from propfee.payments.constants import PaymentChannel, PaymentStatus
from propfee.payments.models import Payment, ReceiptCounter
from propfee.payments.services import PaymentError, PaymentRow, payment_record, payments_record_bulk
from tests.payments.conftest import current

D = dt.date


def test_a_late_payment_pays_penalty_then_principal(make_charge, pay):
    # P = 10000 due 01-31 at 万分之五: one day of penalty is 10000 × 0.0005 = 5 分.
    c1 = make_charge()
    # Received 02-10: days 02-01 … 02-10 accrue, 10 × 5 = 50 分 of penalty, paid first
    # (民法典 art. 561); the other 4050 − 50 = 4000 go to principal.
    first = pay(4050, D(2026, 2, 10))
    assert current(first) == [(c1.pk, "penalty", 50), (c1.pk, "principal", 4000)]
    # From 02-11 the penalty runs on 6000 → 3 分 a day; received 02-20: 10 × 3 = 30 more.
    # 6100 pays penalty 30, principal 6000 and leaves 70 as unapplied credit (预存).
    second = pay(6100, D(2026, 2, 20))
    assert current(second) == [(c1.pk, "penalty", 30), (c1.pk, "principal", 6000)]
    assert Allocation.objects.filter(payment=second).count() == 2
    assert first.status == PaymentStatus.RECORDED


def test_paid_the_day_after_due_and_oldest_first(make_charge, pay):
    c1, c2 = make_charge(1), make_charge(2)
    # 02-01: C1 accrued one day (5); C2 not due until 02-28, so it gets principal only.
    payment = pay(15005, D(2026, 2, 1))
    assert current(payment) == [
        (c1.pk, "penalty", 5),
        (c1.pk, "principal", 10000),
        (c2.pk, "principal", 5000),
    ]


def test_designated_charge_is_paid_first(make_charge, pay):
    _c1, c2 = make_charge(1), make_charge(2)
    payment = pay(10000, D(2026, 2, 28), designations=[c2.pk])
    assert payment.designations == [c2.pk]
    assert current(payment) == [(c2.pk, "principal", 10000)]


def test_designating_another_units_charge_is_refused(make_charge, pay, other_unit):
    foreign = make_charge(unit=other_unit)
    with pytest.raises(PaymentError, match="不属于该房屋"):
        pay(10000, D(2026, 2, 28), designations=[foreign.pk])
    assert not Payment.objects.exists()


def test_same_reference_twice_records_one_payment(make_charge, pay):
    make_charge()
    first = pay(10000, D(2026, 1, 20), reference="WX-42", channel=PaymentChannel.WECHAT)
    again = pay(10000, D(2026, 1, 20), reference="WX-42", channel=PaymentChannel.WECHAT)
    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    assert Allocation.objects.count() == 1
    assert AuditEntry.objects.filter(object_type="payments.payment").count() == 1
    assert ReceiptCounter.objects.get().last_number == 1


def test_same_reference_for_a_different_amount_is_refused(make_charge, pay):
    pay(10000, D(2026, 1, 20), reference="B-1")
    with pytest.raises(PaymentError, match="已登记为另一笔收款"):
        pay(9999, D(2026, 1, 20), reference="B-1")
    assert Payment.objects.count() == 1


def test_the_same_reference_on_another_channel_is_another_payment(pay):
    pay(10000, D(2026, 1, 20), reference="123", channel=PaymentChannel.WECHAT)
    pay(10000, D(2026, 1, 20), reference="123", channel=PaymentChannel.ALIPAY)
    assert Payment.objects.count() == 2


def test_non_cash_needs_a_reference_and_cash_gets_its_receipt_number(pay):
    with pytest.raises(PaymentError, match="流水号"):
        pay(10000, D(2026, 1, 20), reference=" ", channel=PaymentChannel.POS)
    cash = pay(
        10000, D(2026, 1, 20), reference="", channel=PaymentChannel.CASH, idempotency_key="k-1"
    )
    assert cash.reference == cash.receipt_no


def test_amount_must_be_positive(pay):
    for amount in (0, -1):
        with pytest.raises(PaymentError, match="大于0"):
            pay(amount, D(2026, 1, 20))


@time_machine.travel(dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC), tick=False)
def test_receipt_numbers_are_gapless_per_estate_and_year(pay, other_unit, make_user, estate):
    first = pay(100, D(2026, 1, 20))
    second = pay(200, D(2026, 1, 21))
    elsewhere = pay(300, D(2026, 1, 21), unit=other_unit)
    # A payment whose transaction fails gives its number back.
    with (
        mock.patch("propfee.payments.services.unit_reallocate", side_effect=RuntimeError),
        pytest.raises(RuntimeError),
    ):
        pay(400, D(2026, 1, 22))
    third = pay(500, D(2026, 1, 23))
    assert [first.receipt_no, second.receipt_no, third.receipt_no] == [
        "DEMO-2026-000001",
        "DEMO-2026-000002",
        "DEMO-2026-000003",
    ]
    assert elsewhere.receipt_no == "WEST-2026-000001"
    with time_machine.travel(dt.datetime(2027, 1, 2, 10, tzinfo=dt.UTC), tick=False):
        assert pay(600, D(2026, 12, 30)).receipt_no == "DEMO-2027-000001"


def test_payer_defaults_to_the_units_payer(pay, owner):
    assert pay(100, D(2026, 1, 20)).payer == owner


def test_roles_that_may_record(pay, front_desk, finance, manager, collector, make_user):
    assert pay(100, D(2026, 1, 20), actor=front_desk).recorded_by == front_desk  # 前台收现金
    pay(100, D(2026, 1, 20), actor=finance)
    pay(100, D(2026, 1, 20), actor=manager)
    with pytest.raises(PermissionDenied):
        pay(100, D(2026, 1, 20), actor=collector)
    with pytest.raises(PermissionDenied):
        pay(100, D(2026, 1, 20), actor=make_user(Role.LEGAL, username="fawu"))


def test_finance_may_not_record_outside_its_estates(pay, other_unit, finance):
    with pytest.raises(PermissionDenied):
        pay(100, D(2026, 1, 20), unit=other_unit, actor=finance)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and concurrent inserts: PostgreSQL"
)
def test_two_concurrent_calls_record_one_payment(make_charge, unit):
    make_charge()
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            barrier.wait()
            payment = payment_record(
                unit=unit,
                amount_fen=10000,
                received_on=D(2026, 1, 20),
                channel=PaymentChannel.WECHAT,
                reference="WX-RACE",
                actor=None,
            )
            results.append(payment.pk)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    assert Payment.objects.count() == 1
    assert Allocation.objects.count() == 1
    assert ReceiptCounter.objects.get().last_number == 1


def test_concurrent_insert_race_is_resolved_by_refetching(make_charge, pay, unit):
    """The IntegrityError path: the pre-checks miss the other call's row (it commits between
    them and the insert); the savepoint rolls back and the existing payment is returned."""
    make_charge()
    first = pay(10000, D(2026, 1, 20), reference="WX-9", channel=PaymentChannel.WECHAT)
    real = Payment.objects.filter
    misses = iter([True, True])

    def filter_missing_once(*args, **kwargs):
        queryset = real(*args, **kwargs)
        if kwargs.get("reference") == "WX-9" and next(misses, False):
            return queryset.none()
        return queryset

    with mock.patch.object(Payment.objects, "filter", side_effect=filter_missing_once):
        again = pay(10000, D(2026, 1, 20), reference="WX-9", channel=PaymentChannel.WECHAT)
    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    assert ReceiptCounter.objects.get().last_number == 1  # the loser's number was given back


def test_query_count_does_not_grow_with_the_account(
    make_charge, pay, django_assert_max_num_queries
):
    for month in range(1, 13):
        make_charge(month)
    for day in range(1, 6):
        pay(1000, D(2026, 1, day))
    # About 19 statements (plus savepoints) for a year of charges and five earlier payments:
    # the replay loads the account in a fixed number of queries, never one per charge.
    with django_assert_max_num_queries(24):
        payment = pay(50000, D(2026, 6, 5))
    assert Allocation.objects.filter(payment=payment).count() >= 2


# --- dates after today, and cash without a reference ------------------------------------------

# 2026-11-27 17:30 UTC is already 11-28 01:30 in Shanghai: 11-28 is today, 11-29 tomorrow.
LATE_EVENING_UTC = dt.datetime(2026, 11, 27, 17, 30, tzinfo=dt.UTC)


@time_machine.travel(LATE_EVENING_UTC, tick=False)
def test_a_received_date_after_today_in_shanghai_is_refused(pay):
    assert pay(100, D(2026, 11, 28)).received_on == D(2026, 11, 28)
    with pytest.raises(PaymentError, match="收款日期 2026-11-29 晚于今天（2026-11-28），不能登记"):
        pay(100, D(2026, 11, 29))
    assert Payment.objects.count() == 1


@time_machine.travel(LATE_EVENING_UTC, tick=False)
def test_many_payments_at_once_refuse_a_date_after_today_too(unit, finance):
    rows = [
        PaymentRow(unit.pk, 100, D(2026, 11, 20), PaymentChannel.WECHAT, "W-1"),
        PaymentRow(unit.pk, 100, D(2026, 11, 29), PaymentChannel.WECHAT, "W-2"),
    ]
    with pytest.raises(PaymentError, match="晚于今天"):
        payments_record_bulk(rows=rows, actor=finance)
    assert not Payment.objects.exists()


def test_cash_without_a_reference_needs_an_idempotency_key(pay):
    with pytest.raises(PaymentError, match="幂等键"):
        pay(10000, D(2026, 1, 20), reference="", channel=PaymentChannel.CASH)
    assert not Payment.objects.exists()


def test_cash_recorded_again_with_its_key_is_recorded_once(pay, other_unit):
    cash = dict(reference="", channel=PaymentChannel.CASH, idempotency_key="desk-7")
    first = pay(10000, D(2026, 1, 20), **cash)
    assert pay(10000, D(2026, 1, 20), **cash) == first
    assert Payment.objects.count() == 1
    # The same key for another payment is a mistake, not a retry.
    with pytest.raises(PaymentError, match=f"另一笔收款（收据号 {first.receipt_no}）"):
        pay(20000, D(2026, 1, 20), **cash)
    with pytest.raises(PaymentError, match="另一笔收款"):
        pay(10000, D(2026, 1, 20), unit=other_unit, **cash)
    assert Payment.objects.count() == 1
