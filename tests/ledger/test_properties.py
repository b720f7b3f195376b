"""Property: whatever payments arrive, in whatever order, backdated or reversed, and whatever
waivers are approved and then reversed (撤销), the stored current allocations equal a fresh
replay, no payment is allocated beyond its amount, and no allocation is negative."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from propfee.ledger.constants import WaiverStatus
from propfee.ledger.models import Allocation, Waiver
from propfee.ledger.selectors import account_facts, allocations_current, allocations_expected
from propfee.ledger.services import LedgerError, waiver_create, waiver_reverse
from propfee.payments.models import Payment
from propfee.payments.services import payment_reverse

payments = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=25000),  # amount in fen
        st.integers(min_value=0, max_value=120),  # days after 2026-01-01
        st.booleans(),  # reversed afterwards
    ),
    min_size=1,
    max_size=6,
)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(events=payments)
def test_stored_allocations_always_equal_a_replay(make_charge, pay, unit, events):
    with transaction.atomic():
        charges = [make_charge(month) for month in (1, 2, 3)]
        recorded = []
        for amount, offset, reverse in events:
            payment = pay(amount, dt.date(2026, 1, 1) + dt.timedelta(days=offset))
            recorded.append((payment, reverse))
        for payment, reverse in recorded:
            if reverse:
                payment_reverse(payment=payment, actor=None, reason="测试")

        facts = account_facts(unit_ids=[unit.pk])[unit.pk]
        assert allocations_current(unit_ids=[unit.pk])[unit.pk] == allocations_expected(
            facts.replay()
        )
        current = Allocation.objects.filter(superseded_at__isnull=True)
        assert not current.filter(amount_fen__lte=0).exists()
        for payment in Payment.objects.all():
            allocated = current.filter(payment=payment).aggregate(s=Sum("amount_fen"))["s"] or 0
            assert allocated <= payment.amount_fen
            if payment.status == "reversed":
                assert allocated == 0
        assert {a.charge_id for a in current} <= {c.pk for c in charges}
        transaction.set_rollback(True)


waivers = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # which charge
        st.sampled_from(["principal", "penalty"]),
        st.integers(min_value=1, max_value=12000),  # amount in fen
        st.integers(min_value=0, max_value=120),  # days after 2026-01-01
        st.booleans(),  # reversed afterwards
    ),
    min_size=1,
    max_size=5,
)


def _check_ledger(unit, charges) -> None:
    facts = account_facts(unit_ids=[unit.pk])[unit.pk]
    state = facts.replay()
    assert allocations_current(unit_ids=[unit.pk])[unit.pk] == allocations_expected(state)
    # Taking a waiver out only raises what is owed, so the waivers left never exceed it.
    assert all(line.excess_fen == 0 for line in state.waivers)
    current = Allocation.objects.filter(superseded_at__isnull=True)
    assert not current.filter(amount_fen__lte=0).exists()
    for payment in Payment.objects.all():
        allocated = current.filter(payment=payment).aggregate(s=Sum("amount_fen"))["s"] or 0
        assert allocated <= payment.amount_fen
    assert {a.charge_id for a in current} <= {c.pk for c in charges}


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(events=payments, reductions=waivers)
def test_waivers_and_their_reversal_keep_the_ledger_a_replay(
    make_charge, pay, unit, events, reductions
):
    with transaction.atomic():
        charges = [make_charge(month) for month in (1, 2, 3)]
        for amount, offset, _reverse in events:
            pay(amount, dt.date(2026, 1, 1) + dt.timedelta(days=offset))
        approved = []
        for index, component, amount, offset, reverse in reductions:
            try:
                waiver = waiver_create(
                    charge=charges[index],
                    component=component,
                    amount_fen=amount,
                    effective_on=dt.date(2026, 1, 1) + dt.timedelta(days=offset),
                    reason="测试",
                    actor=None,
                )
            except LedgerError:
                continue  # more than was owed that day: refused, nothing written
            approved.append((waiver, reverse))
            _check_ledger(unit, charges)
        for waiver, reverse in approved:
            if reverse:
                waiver_reverse(waiver=waiver, actor=None, reason="测试撤销")
                _check_ledger(unit, charges)
        active = Waiver.objects.filter(status=WaiverStatus.ACTIVE).count()
        assert active == sum(1 for _, reverse in approved if not reverse)
        transaction.set_rollback(True)
