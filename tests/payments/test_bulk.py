"""payments_record_bulk: the rules and result of one payment_record per row — allocations equal
to unit_reallocate's, gapless receipt numbers from the same counter, idempotency on
(channel, reference), the payer on the day, all-or-nothing refusals, one audit row per payment —
in a number of queries that does not grow with the rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from propfee.core.models import AuditEntry
from propfee.core.roles import PermissionDenied
from propfee.estates.constants import PartyRole
from propfee.ledger.models import Allocation
from propfee.ledger.selectors import allocations_current
from propfee.ledger.services import unit_reallocate
from propfee.payments.constants import PaymentChannel
from propfee.payments.models import Payment, ReceiptCounter
from propfee.payments.services import (
    PaymentError,
    PaymentRow,
    payment_record,
    payments_record_bulk,
)
from tests.factories import OccupancyFactory, UnitFactory
from tests.payments.conftest import current

D = dt.date


def _row(unit, amount_fen, received_on, reference, **kwargs):
    kwargs.setdefault("channel", PaymentChannel.BANK_TRANSFER)
    return PaymentRow(
        unit_id=unit.pk,
        amount_fen=amount_fen,
        received_on=received_on,
        reference=reference,
        **kwargs,
    )


def test_allocations_equal_what_unit_reallocate_stores(unit, make_charge, pay, finance):
    c1, c2, c3 = make_charge(1), make_charge(2), make_charge(3)
    pay(3000, D(2026, 1, 20))  # an earlier payment through the single path
    result = payments_record_bulk(
        rows=[
            # Late for January: 10 days of 万分之五 on the 7000 left = 35 分 of penalty first.
            _row(unit, 7035, D(2026, 2, 10), "B-1"),
            _row(unit, 10000, D(2026, 2, 27), "B-2"),
            _row(unit, 12000, D(2026, 3, 20), "B-3"),  # leaves 2000 of credit (预存)
        ],
        actor=finance,
    )
    assert result.existing == 0 and result.units_reallocated == 1
    first, second, third = Payment.objects.filter(pk__in=result.payment_ids).order_by("pk")
    assert result.payment_ids == [first.pk, second.pk, third.pk]
    assert current(first) == [(c1.pk, "penalty", 35), (c1.pk, "principal", 7000)]
    assert current(second) == [(c2.pk, "principal", 10000)]
    assert current(third) == [(c3.pk, "principal", 10000)]

    stored = allocations_current(unit_ids=[unit.pk])
    rows = Allocation.objects.count()
    unit_reallocate(unit=unit)
    assert allocations_current(unit_ids=[unit.pk]) == stored
    assert Allocation.objects.count() == rows
    assert not Allocation.objects.filter(superseded_at__isnull=False).exists()


def test_a_backdated_row_reallocates_later_payments_like_payment_record(
    unit, make_charge, pay, finance
):
    c1, c2 = make_charge(1), make_charge(2)
    later = pay(10000, D(2026, 2, 1))  # paid January's charge with 5 分 of penalty… first
    assert current(later) == [(c1.pk, "penalty", 5), (c1.pk, "principal", 9995)]
    payments_record_bulk(rows=[_row(unit, 10000, D(2026, 1, 30), "B-EARLY")], actor=finance)
    # …but a transfer received on 01-30 paid January on time, so the later one moves to February.
    assert current(later) == [(c2.pk, "principal", 10000)]
    assert Allocation.objects.filter(payment=later, superseded_at__isnull=False).count() == 2


def test_receipt_numbers_continue_the_counter_per_estate_and_year(
    unit, other_unit, make_charge, admin_user
):
    make_charge()
    payment_record(
        unit=unit,
        amount_fen=100,
        received_on=D(2026, 1, 5),
        channel=PaymentChannel.CASH,
        reference="",
        actor=None,
        idempotency_key="desk-1",
    )
    at_2025 = timezone.make_aware(dt.datetime(2025, 12, 30, 10, 0))
    result = payments_record_bulk(
        rows=[
            _row(unit, 100, D(2025, 12, 30), "", channel=PaymentChannel.CASH, recorded_at=at_2025),
            _row(unit, 200, D(2026, 1, 6), "W-1", channel=PaymentChannel.WECHAT),
            _row(other_unit, 300, D(2026, 1, 6), "W-2", channel=PaymentChannel.WECHAT),
            _row(unit, 400, D(2026, 1, 7), "W-3", channel=PaymentChannel.WECHAT),
        ],
        actor=admin_user,
    )
    year = timezone.localdate().year
    receipts = list(
        Payment.objects.filter(pk__in=result.payment_ids)
        .order_by("pk")
        .values_list("receipt_no", "reference")
    )
    assert receipts == [
        ("DEMO-2025-000001", "DEMO-2025-000001"),  # cash without a reference: its receipt number
        (f"DEMO-{year}-000002", "W-1"),  # after payment_record's 000001
        (f"WEST-{year}-000001", "W-2"),
        (f"DEMO-{year}-000003", "W-3"),
    ]
    assert ReceiptCounter.objects.get(estate__code="DEMO", year=year).last_number == 3
    # The single path goes on from the same counter.
    again = payment_record(
        unit=unit,
        amount_fen=100,
        received_on=D(2026, 1, 8),
        channel=PaymentChannel.CASH,
        reference="",
        actor=None,
        idempotency_key="desk-2",
    )
    assert again.receipt_no == f"DEMO-{year}-000004"


def test_retry_records_nothing_and_a_reused_reference_is_refused(unit, make_charge, finance):
    make_charge()
    rows = [_row(unit, 5000, D(2026, 1, 10), "B-1"), _row(unit, 5000, D(2026, 1, 20), "B-2")]
    first = payments_record_bulk(rows=rows, actor=finance)
    audit_rows = AuditEntry.objects.count()
    again = payments_record_bulk(rows=rows, actor=finance)
    assert again.payment_ids == [] and again.existing == 2
    assert Payment.objects.count() == 2 and len(first.payment_ids) == 2
    assert AuditEntry.objects.count() == audit_rows

    with pytest.raises(PaymentError, match="B-1 已登记为另一笔收款"):
        payments_record_bulk(rows=[_row(unit, 6000, D(2026, 1, 10), "B-1")], actor=finance)
    with pytest.raises(PaymentError, match="本批收款中重复"):
        payments_record_bulk(
            rows=[_row(unit, 1, D(2026, 1, 10), "B-9"), _row(unit, 2, D(2026, 1, 11), "B-9")],
            actor=finance,
        )
    assert Payment.objects.count() == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount_fen": 0}, "收款金额必须大于0"),
        ({"channel": "gold"}, "未知的收款方式"),
        ({"reference": ""}, "必须填写流水号"),
        ({"designations": (987654,)}, "指定的应收不属于该房屋"),
    ],
)
def test_one_bad_row_refuses_the_whole_batch(unit, make_charge, finance, changes, message):
    make_charge()
    good = _row(unit, 100, D(2026, 1, 10), "B-1")
    bad = _row(unit, 100, D(2026, 1, 11), "B-2")
    bad = PaymentRow(**{**bad.__dict__, **changes})
    with pytest.raises(PaymentError, match=message):
        payments_record_bulk(rows=[good, bad], actor=finance)
    assert not Payment.objects.exists() and not ReceiptCounter.objects.exists()


def test_who_may_record(unit, other_unit, make_charge, collector, finance):
    make_charge()
    with pytest.raises(PermissionDenied):
        payments_record_bulk(rows=[_row(unit, 100, D(2026, 1, 10), "B-1")], actor=collector)
    # finance is scoped to DEMO only: a WEST unit in the batch refuses it.
    with pytest.raises(PermissionDenied):
        payments_record_bulk(
            rows=[_row(unit, 100, D(2026, 1, 10), "B-1"), _row(other_unit, 1, D(2026, 1, 10), "X")],
            actor=finance,
        )
    assert not Payment.objects.exists()


def test_payer_on_the_day_and_one_audit_row_each(unit, make_charge, finance):
    make_charge()
    seller = OccupancyFactory(
        unit=unit, role=PartyRole.OWNER, is_payer=True, since=D(2020, 1, 1), until=D(2026, 1, 15)
    ).party
    buyer = OccupancyFactory(
        unit=unit, role=PartyRole.OWNER, is_payer=True, since=D(2026, 1, 16)
    ).party
    result = payments_record_bulk(
        rows=[_row(unit, 100, D(2026, 1, 10), "B-1"), _row(unit, 100, D(2026, 1, 20), "B-2")],
        actor=finance,
    )
    payers = list(
        Payment.objects.filter(pk__in=result.payment_ids).order_by("pk").values_list("payer_id")
    )
    assert payers == [(seller.pk,), (buyer.pk,)]
    entries = AuditEntry.objects.filter(object_type="payments.payment").order_by("object_id")
    assert [e.object_id for e in entries] == [str(pk) for pk in result.payment_ids]
    assert entries[0].after["payer"] == seller.pk and entries[0].after["reference"] == "B-1"
    assert entries[0].actor == finance and entries[0].note == f"收款 {unit.code}"


def test_queries_do_not_grow_with_the_rows(
    building, make_charge, finance, django_assert_max_num_queries
):
    def batch(prefix: str, units: int) -> list[PaymentRow]:
        rows = []
        for n in range(units):
            target = UnitFactory(building=building, room=f"{prefix}{n:02d}")
            make_charge(unit=target)
            rows += [_row(target, 4000, D(2026, 1, d), f"{prefix}-{n}-{d}") for d in (10, 20, 30)]
        return rows

    small, large = batch("5", 2), batch("6", 30)
    with django_assert_max_num_queries(30) as small_queries:
        payments_record_bulk(rows=small, actor=finance)
    with django_assert_max_num_queries(len(small_queries)) as large_queries:
        payments_record_bulk(rows=large, actor=finance)
    assert Payment.objects.count() == 96
    assert len(large_queries) <= len(small_queries)
