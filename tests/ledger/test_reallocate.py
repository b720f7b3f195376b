"""unit_reallocate: stored allocations follow the engine; a backdated payment re-allocates
only the later payments and the superseded rows are kept; re-runs change nothing; contract
versions over time give the penalty rate schedule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from propfee.billing.services import contract_version_create
from propfee.ledger.engine import ledger_replay
from propfee.ledger.models import Allocation
from propfee.ledger.selectors import account_facts, allocations_current, allocations_expected
from propfee.ledger.services import unit_reallocate
from tests.payments.conftest import current

D = dt.date


def test_a_backdated_payment_reallocates_the_later_one(make_charge, pay, unit):
    c1, c2 = make_charge(1), make_charge(2)
    # Z, on 01-05, 1000 of C1's principal before it is due.
    z = pay(1000, D(2026, 1, 5))
    # A, 10140 on 02-28: C1 has accrued 28 days on 9000 = 28 × 4.5 = 126, then 9000 principal;
    # the other 1014 go to C2's principal (due that day: no penalty).
    a = pay(10140, D(2026, 2, 28))
    assert current(a) == [
        (c1.pk, "penalty", 126),
        (c1.pk, "principal", 9000),
        (c2.pk, "principal", 1014),
    ]
    z_rows = set(Allocation.objects.filter(payment=z).values_list("pk", flat=True))

    # B, 10000 received 01-20 but entered now: replayed by date it pays C1's last 9000 before
    # the due date (no penalty ever) and 1000 of C2; A then pays C2's other 9000 and leaves
    # 1140 as credit.
    b = pay(10000, D(2026, 1, 20))
    assert current(b) == [(c1.pk, "principal", 9000), (c2.pk, "principal", 1000)]
    assert current(a) == [(c2.pk, "principal", 9000)]
    # Z was before B: its rows are untouched (same rows, not superseded).
    assert (
        set(Allocation.objects.filter(payment=z, superseded_at=None).values_list("pk", flat=True))
        == z_rows
    )
    # A's old rows are kept, superseded.
    assert sorted(
        Allocation.objects.filter(payment=a, superseded_at__isnull=False).values_list(
            "charge_id", "component", "amount_fen"
        )
    ) == sorted([(c1.pk, "penalty", 126), (c1.pk, "principal", 9000), (c2.pk, "principal", 1014)])
    # The same as entering the payments in date order.
    facts = account_facts(unit_ids=[unit.pk])[unit.pk]
    assert allocations_current(unit_ids=[unit.pk])[unit.pk] == allocations_expected(
        ledger_replay(charges=facts.charges, payments=facts.payments)
    )
    assert facts.replay().unapplied_credit_fen() == 1140


def test_reallocating_again_changes_nothing(make_charge, pay, unit, django_assert_max_num_queries):
    make_charge(1)
    pay(4050, D(2026, 2, 10))
    rows = list(Allocation.objects.order_by("pk").values_list("pk", "superseded_at"))
    with django_assert_max_num_queries(8):
        unit_reallocate(unit=unit)
    assert list(Allocation.objects.order_by("pk").values_list("pk", "superseded_at")) == rows


def test_contract_versions_give_the_rate_schedule(estate, make_charge, pay):
    # A new rate of 万分之三 from 03-01 (the version is created before any charge of March).
    contract_version_create(
        estate=estate,
        effective_from=D(2026, 3, 1),
        penalty_daily_rate=Decimal("0.0003"),
        actor=None,
    )
    c1 = make_charge(1)
    # Paid 03-10: 02-01 … 02-28 at 5 a day = 140, 03-01 … 03-10 at 3 a day = 30 → 170.
    payment = pay(10170, D(2026, 3, 10))
    assert current(payment) == [(c1.pk, "penalty", 170), (c1.pk, "principal", 10000)]


def test_principal_first_contract(estate, make_charge, pay, contract):
    contract.allocation_order = "principal_first"
    contract.save()
    c1 = make_charge(1)
    payment = pay(10000, D(2026, 2, 10))
    assert current(payment) == [(c1.pk, "principal", 10000)]
