"""The demo's account history (payments/demo.py): 24 months billed through the billing service,
payments by owner behaviour recorded set-based, a few waivers — deterministic for a seed, with
stored allocations the engine agrees with and arrears that reports and collection can work on.

The whole history (about 3,000 units × 24 months) is loaded once, in one test: it takes tens of
seconds. Determinism and the refusals use a few months only."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command

from propfee.billing.models import BillingRun, Charge
from propfee.collection.constants import CaseStatus, PlanStatus, PromiseStatus, StageKey
from propfee.collection.demo import demo_collection_load
from propfee.collection.models import (
    Case,
    ContactRecord,
    InstallmentPlan,
    LegalMatter,
    Promise,
    ServiceIssue,
)
from propfee.core.models import AuditEntry, User
from propfee.estates.demo import (
    DEMO_SEED,
    Behaviour,
    DemoError,
    demo_behaviour,
    demo_company_delete,
    demo_company_load,
)
from propfee.estates.models import Company, Unit
from propfee.ledger.constants import Component
from propfee.ledger.models import Allocation, Waiver
from propfee.ledger.rates import aging_summary, current_period_rate
from propfee.ledger.selectors import account_facts, allocations_current
from propfee.ledger.services import unit_reallocate
from propfee.payments.constants import PaymentChannel
from propfee.payments.demo import demo_history_delete, demo_history_load, demo_history_periods
from propfee.payments.models import Payment, ReceiptCounter

AS_OF = dt.date(2026, 11, 27)


def _load(*, months: int = 24, seed: int = DEMO_SEED):
    demo = demo_company_load(seed=seed)
    return demo_history_load(company=demo.company, as_of=AS_OF, seed=seed, months=months)


def _digest() -> str:
    """The history as plain values, independent of database ids."""
    parts = [
        sorted(
            Charge.objects.values_list(
                "unit__code", "fee_item__code", "period_start", "principal_fen"
            )
        ),
        sorted(
            Payment.objects.values_list(
                "unit__code", "received_on", "amount_fen", "channel", "reference", "receipt_no"
            )
        ),
        sorted(
            Allocation.objects.filter(superseded_at__isnull=True).values_list(
                "payment__receipt_no",
                "charge__unit__code",
                "charge__period_start",
                "component",
                "amount_fen",
            )
        ),
        sorted(
            Waiver.objects.values_list("charge__unit__code", "component", "amount_fen", "reason")
        ),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def test_periods_end_with_the_month_of_the_date():
    periods = demo_history_periods(as_of=dt.date(2026, 11, 27))
    assert len(periods) == 24
    assert (periods[0], periods[-1]) == (dt.date(2024, 12, 1), dt.date(2026, 11, 1))
    assert demo_history_periods(as_of=dt.date(2027, 1, 1), months=2) == [
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 1),
    ]
    assert demo_history_periods(as_of=AS_OF, months=0) == []


def test_same_seed_same_history(db):
    history = _load(months=2)
    assert history.periods == ["2026-10", "2026-11"]
    assert history.charges == Charge.objects.count() > 6000
    assert history.payments == Payment.objects.count() > 3000
    assert history.paid_fen == sum(Payment.objects.values_list("amount_fen", flat=True))
    first = _digest()

    assert demo_history_delete() is True and demo_company_delete() is True
    assert not Charge.objects.exists() and not Payment.objects.exists()
    assert not ReceiptCounter.objects.exists() and not Allocation.objects.exists()
    assert _load(months=2) == history
    assert _digest() == first


def test_refuses_dates_the_demo_does_not_cover(db):
    demo = demo_company_load()
    with pytest.raises(DemoError, match="不能早于 2026-11-01"):
        demo_history_load(company=demo.company, as_of=dt.date(2026, 10, 31))
    with pytest.raises(DemoError, match="不能晚于今天"):
        demo_history_load(company=demo.company, as_of=dt.date(2999, 1, 1))
    assert not Charge.objects.exists()
    empty = demo_history_load(company=demo.company, as_of=AS_OF, months=0)
    assert empty.months == 0 and not Charge.objects.exists()


def _behaviours() -> dict[str, list[int]]:
    by_behaviour: dict[str, list[int]] = defaultdict(list)
    for pk, code in Unit.objects.filter(charges__isnull=False).distinct().values_list("pk", "code"):
        by_behaviour[demo_behaviour(code)].append(pk)
    return by_behaviour


def test_the_whole_history(db):
    history = _load()
    assert history.months == 24 and history.periods[0] == "2024-12"
    assert BillingRun.objects.count() == 48  # two estates × 24 months, through billing_run_post
    assert Charge.objects.count() == history.charges > 70_000
    assert Payment.objects.count() == history.payments > 35_000

    # `propfee ledger verify` is clean, and the stored allocations are unit_reallocate's own.
    out = io.StringIO()
    call_command("ledger", "verify", stdout=out)
    assert "一致" in out.getvalue()
    sample = list(Unit.objects.filter(charges__isnull=False).distinct().order_by("pk")[::50])
    sample_ids = [u.pk for u in sample]
    stored, rows = allocations_current(unit_ids=sample_ids), Allocation.objects.count()
    for unit in sample:
        unit_reallocate(unit=unit)
    assert allocations_current(unit_ids=sample_ids) == stored
    assert Allocation.objects.count() == rows
    assert not Allocation.objects.filter(superseded_at__isnull=False).exists()

    # Receipt numbers: gapless per estate and year, up to the counter.
    numbers: dict[tuple[str, int], list[int]] = defaultdict(list)
    for receipt_no in Payment.objects.values_list("receipt_no", flat=True):
        code, year, n = receipt_no.rsplit("-", 2)
        numbers[(code, int(year))].append(int(n))
    assert {year for _code, year in numbers} == {2024, 2025, 2026}
    for counter in ReceiptCounter.objects.select_related("estate"):
        assert sorted(numbers[(counter.estate.code, counter.year)]) == list(
            range(1, counter.last_number + 1)
        )

    # Realistic channels, and some prepaid credit (预存) at the end.
    channels = Counter(Payment.objects.values_list("channel", flat=True))
    for channel in (
        PaymentChannel.WECHAT,
        PaymentChannel.ALIPAY,
        PaymentChannel.BANK_TRANSFER,
        PaymentChannel.CASH,
        PaymentChannel.POS,
    ):
        assert channels[channel] > 500
    assert channels[PaymentChannel.WECHAT] == max(channels.values())
    assert not Payment.objects.filter(received_on__gt=AS_OF).exists()

    # Each behaviour shows its pattern (statement figures from the engine, as of AS_OF).
    by_behaviour = _behaviours()
    facts = account_facts(unit_ids=[pk for pks in by_behaviour.values() for pk in pks])

    def overdue(unit_id: int) -> list:
        state = facts[unit_id].replay()
        return [p for p in state.positions(AS_OF) if p.days_overdue > 0]

    def oldest_days(unit_id: int) -> int:
        return max((p.days_overdue for p in overdue(unit_id)), default=0)

    on_time = by_behaviour[Behaviour.ON_TIME]
    assert len(on_time) > 1500 and all(not overdue(pk) for pk in on_time)
    credit = [pk for pk in on_time if facts[pk].replay().unapplied_credit_fen() > 0]
    assert len(credit) > 100  # paid a quarter or a year ahead

    late = by_behaviour[Behaviour.SOMETIMES_LATE]
    assert all(oldest_days(pk) <= 120 for pk in late)
    assert sum(1 for pk in late if overdue(pk)) > len(late) // 10
    paid_penalty = Allocation.objects.filter(
        component=Component.PENALTY, charge__unit_id__in=late
    ).values("charge__unit_id")
    assert paid_penalty.distinct().count() > len(late) // 2  # late, then paid the 滞纳金 too

    for behaviour in (Behaviour.CHRONICALLY_LATE, Behaviour.DISPUTING, Behaviour.HARDSHIP):
        assert all(oldest_days(pk) > 90 for pk in by_behaviour[behaviour]), behaviour
    chronic = by_behaviour[Behaviour.CHRONICALLY_LATE]
    assert all(Payment.objects.filter(unit_id=pk).exists() for pk in chronic[:20])
    assert all(oldest_days(pk) > 0 for pk in by_behaviour[Behaviour.VACANT_OR_DEVELOPER])
    assert all(oldest_days(pk) > 365 for pk in by_behaviour[Behaviour.UNREACHABLE])

    # A few waivers through the waiver service, approved by a manager.
    waivers = list(Waiver.objects.select_related("charge__unit", "approved_by"))
    assert 2 <= len(waivers) <= 12
    for waiver in waivers:
        behaviour = demo_behaviour(waiver.charge.unit.code)
        assert waiver.approved_by is not None
        if waiver.component == Component.PENALTY:
            assert behaviour == Behaviour.HARDSHIP
        else:
            assert behaviour == Behaviour.DISPUTING
    assert {w.component for w in waivers} == {Component.PENALTY, Component.PRINCIPAL}

    # The reports have material: every aging bucket up to two years, a plausible 当期收缴率.
    admin = User.objects.get(username="admin")
    buckets = {b.label: b for b in aging_summary(user=admin, as_of=AS_OF)}
    for label in ("1-90", "91-180", "181-365", "366-730"):
        assert buckets[label].units > 50, label
    rate = current_period_rate(user=admin, period="2026-11", as_of=AS_OF)
    assert rate.ratio is not None and Decimal("0.60") < rate.ratio < Decimal("0.98")

    # One audit row per payment, in the demo's batch.
    assert AuditEntry.objects.filter(object_type="payments.payment").count() == history.payments
    assert Company.objects.count() == 1

    # The collection history (collection/demo.py), on the same load: weekly runs over the last
    # 16 weeks leave open cases at six stages or more, each with its timeline; a kept and a
    # broken promise, a plan in good standing, a dispute, legal matters; the ledger untouched.
    collection = demo_collection_load(company=Company.objects.get(), as_of=AS_OF)
    stages = Counter(Case.objects.filter(status=CaseStatus.OPEN).values_list("stage", flat=True))
    assert collection.runs == 17 and stages == Counter(collection.stages)
    assert len(stages) >= 6, stages
    assert {StageKey.REMINDER, StageKey.LAWYER_LETTER, StageKey.LEGAL} <= set(stages)
    assert not Case.objects.filter(events__isnull=True).exists()
    assert {PromiseStatus.KEPT, PromiseStatus.BROKEN} <= set(
        Promise.objects.values_list("status", flat=True)
    )
    assert InstallmentPlan.objects.get().status == PlanStatus.ACTIVE
    assert ServiceIssue.objects.filter(is_dispute=True).count() == 1
    assert LegalMatter.objects.filter(case__stage=StageKey.LEGAL).exists()
    assert ContactRecord.objects.count() >= 3
    assert Payment.objects.count() == history.payments
    out = io.StringIO()
    call_command("ledger", "verify", stdout=out)
    assert "一致" in out.getvalue()
