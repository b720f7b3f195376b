"""The pure ledger engine: worked examples computed by hand, and property tests against a naive
day-by-day model. The worked examples are the ones explained in docs/definitions.md."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from propfee.core.money import round_half_up
from propfee.ledger.engine import (
    PENALTY,
    PENALTY_FIRST,
    PRINCIPAL,
    PRINCIPAL_FIRST,
    ChargeFacts,
    LedgerState,
    PaymentFacts,
    PenaltyTerms,
    PrincipalEvent,
    RateChange,
    WaiverFacts,
    WaiverLine,
    aging_bucket,
    ledger_replay,
    penalty_accrued,
)

D = date.fromisoformat
R05 = Decimal("0.0005")  # 万分之五


def charge(
    charge_id: int = 1,
    *,
    due: str = "2026-01-31",
    principal: int = 10000,
    period: str | None = None,
    **terms: object,
) -> ChargeFacts:
    return ChargeFacts(
        id=charge_id,
        fee_item="物业费",
        period_start=D(period) if period else D(due).replace(day=1),
        due_date=D(due),
        principal_fen=principal,
        terms=PenaltyTerms(**terms),  # type: ignore[arg-type]
    )


def pay(
    payment_id: int, on: str, amount: int, *, seq: int | None = None, designate: tuple = ()
) -> PaymentFacts:
    return PaymentFacts(
        id=payment_id,
        received_on=D(on),
        posted_seq=payment_id if seq is None else seq,
        amount_fen=amount,
        designations=designate,
    )


def lines(state: LedgerState) -> list[tuple[int, int, str, int]]:
    return [(a.payment_id, a.charge_id, a.component, a.amount_fen) for a in state.allocations]


# ---------------------------------------------------------------------------------------------
# Worked examples (P = 10000 fen = ¥100 and r = 0.0005 unless said: 5 fen a day)
# ---------------------------------------------------------------------------------------------


def test_simple_late_charge():
    # P = 30000, due 2026-01-31, as of 2026-03-02: days 02-01..03-02 = 28 + 2 = 30.
    # 30000 × 0.0005 × 30 = 450.
    c = charge(principal=30000)
    state = ledger_replay(charges=[c], payments=[], waivers=[])
    pos = state.charge_position(1, D("2026-03-02"))
    assert pos.penalty_accrued == 450
    assert pos.penalty_outstanding == 450
    assert pos.principal_outstanding == 30000
    assert pos.days_overdue == 30
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-03-02")) == 450


def test_rounding_once_not_per_day():
    # P = 1000: 1000 × 0.0005 = 0.5 fen a day. 3 days: Σ = 1.5 → half up → 2
    # (rounding each day would give 1 + 1 + 1 = 3). One day: 0.5 → 1. Four days: 2.0 → 2.
    c = charge(principal=1000)
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-02-01")) == 1
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-02-03")) == 2
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-02-04")) == 2


def test_paying_on_the_due_date_accrues_nothing():
    # Day counting starts on due + 1: paid 01-31 → Σ over no days = 0.
    state = ledger_replay(charges=[charge()], payments=[pay(1, "2026-01-31", 10000)], waivers=[])
    assert lines(state) == [(1, 1, PRINCIPAL, 10000)]
    pos = state.charge_position(1, D("2026-12-31"))
    assert (pos.penalty_accrued, pos.principal_outstanding, pos.days_overdue) == (0, 0, 0)


def test_paying_the_day_after_accrues_one_day():
    # Paid 02-01: day 02-01 still accrues on 10000 → 10000 × 0.0005 × 1 = 5.
    # 10005 pays penalty 5 first, then principal 10000.
    state = ledger_replay(charges=[charge()], payments=[pay(1, "2026-02-01", 10005)], waivers=[])
    assert lines(state) == [(1, 1, PENALTY, 5), (1, 1, PRINCIPAL, 10000)]
    pos = state.charge_position(1, D("2027-01-01"))
    assert pos.penalty_accrued == pos.penalty_paid == 5
    assert pos.total_outstanding == 0
    assert pos.days_overdue == 0


def test_exact_principal_the_day_after_leaves_a_sliver():
    # 10000 paid 02-01: penalty 5 first, principal 9995; 5 fen principal stays owed.
    # As of 03-03 (30 more days 02-02..03-03): Σ = 5 + 5 × 0.0005 × 30 = 5.075 → 5, all paid.
    state = ledger_replay(charges=[charge()], payments=[pay(1, "2026-02-01", 10000)], waivers=[])
    assert lines(state) == [(1, 1, PENALTY, 5), (1, 1, PRINCIPAL, 9995)]
    pos = state.charge_position(1, D("2026-03-03"))
    assert (pos.principal_outstanding, pos.penalty_accrued, pos.penalty_outstanding) == (5, 5, 0)
    assert pos.days_overdue == 31  # principal still outstanding: overdue


def test_grace_days():
    # g = 5: 02-01..02-05 are grace days; the first accruing day is 02-06.
    c = charge(grace_days=5)
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-02-05")) == 0
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-02-06")) == 5  # one day
    # 02-06..02-10 = 5 days × 5 = 25; grace days are not charged afterwards either.
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-02-10")) == 25
    # days_overdue counts from the due date, grace or not: 02-10 − 01-31 = 10.
    state = ledger_replay(charges=[c], payments=[], waivers=[])
    assert state.charge_position(1, D("2026-02-10")).days_overdue == 10


def test_rate_change_mid_arrears():
    # 0.0005 until 02-10, 0.0003 from 02-11. As of 02-20:
    # 02-01..02-10: 10 × 10000 × 0.0005 = 50; 02-11..02-20: 10 × 10000 × 0.0003 = 30; Σ = 80.
    rates = (RateChange(date.min, R05), RateChange(D("2026-02-11"), Decimal("0.0003")))
    c = charge(rates=rates)
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-02-20")) == 80
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-02-10")) == 50
    # On the day of the change the new rate already applies: 50 + 3 = 53.
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-02-11")) == 53
    # A payment on the change day, then more days: the walk carries on at the new rate.
    # 5000 principal paid 02-11 → 02-12..02-20 on 5000 at 0.0003 = 9 × 1.5 = 13.5;
    # Σ = 50 + 3 + 13.5 = 66.5 → 67.
    events = [PrincipalEvent(D("2026-02-11"), 5000)]
    assert penalty_accrued(c, principal_events=events, as_of=D("2026-02-20")) == 67


def test_rate_change_on_a_grace_day():
    # g = 5, new rate 0.0003 from 02-03 (a grace day): the first accruing day, 02-06, is
    # already at the new rate. As of 02-10: 5 days × 10000 × 0.0003 = 15.
    rates = (RateChange(date.min, R05), RateChange(D("2026-02-03"), Decimal("0.0003")))
    c = charge(rates=rates, grace_days=5)
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-02-10")) == 15


def test_no_rate_before_the_first_rate_change():
    # Contract rate only from 02-11: 02-01..02-10 carry no rate. As of 02-20: 10 × 5 = 50.
    c = charge(rates=(RateChange(D("2026-02-11"), R05),))
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-02-20")) == 50


def test_cap_reached():
    # k = 0.1: cap = 10000 × 0.1 = 1000, reached after 1000 / 5 = 200 days (2026-08-19).
    # As of 2026-11-27 (300 days): 1500 uncapped → 1000.
    c = charge(cap_ratio=Decimal("0.1"))
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-08-18")) == 995
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-08-19")) == 1000
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-11-27")) == 1000


def test_cap_is_the_whole_fen_not_above_k_times_p():
    # P = 10010, k = 0.05: k × P = 500.5 → cap 500 (never rounded up). 10010 × 0.0005 = 5.005 a
    # day; after 99 days Σ = 495.495 → 495; after 100 days Σ = 500.5 → 501 → capped at 500.
    c = charge(principal=10010, cap_ratio=Decimal("0.05"))
    assert c.penalty_cap_fen == 500
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-05-10")) == 495  # 99 days
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-05-11")) == 500  # capped
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-05-12")) == 500


def test_cap_at_a_fractional_k_times_p_is_floored():
    # P = 18448, k = 0.1: k × P = 1844.8 → 1844, not 1845. 9.224 a day; 200 days = 1844.8.
    c = charge(principal=18448, cap_ratio=Decimal("0.1"))
    assert c.penalty_cap_fen == 1844
    assert (
        penalty_accrued(c, principal_events=(), as_of=D("2026-08-18")) == 1836
    )  # 199 days: 1835.576
    assert penalty_accrued(c, principal_events=(), as_of=D("2026-08-19")) == 1844


def test_cap_with_a_penalty_waiver():
    # Cap 1000 (k = 0.1) reached; 300 waived on 2026-11-27 → outstanding 700 and stays 700:
    # the cap limits what accrues, a waiver reduces what is owed (cap − waived).
    c = charge(cap_ratio=Decimal("0.1"))
    w = WaiverFacts(1, 1, PENALTY, 300, D("2026-11-27"))
    state = ledger_replay(charges=[c], payments=[], waivers=[w])
    pos = state.charge_position(1, D("2027-06-30"))
    assert (pos.penalty_accrued, pos.penalty_waived, pos.penalty_outstanding) == (1000, 300, 700)


def test_partial_payment_mid_arrears():
    # 4050 paid 02-10: accrued 02-01..02-10 = 10 × 5 = 50 → penalty 50, principal 4000.
    # From 02-11 accrual is on 6000 (3 a day). As of 02-20: 50 + 10 × 3 = 80; paid 50 → 30 owed.
    state = ledger_replay(charges=[charge()], payments=[pay(1, "2026-02-10", 4050)], waivers=[])
    assert lines(state) == [(1, 1, PENALTY, 50), (1, 1, PRINCIPAL, 4000)]
    pos = state.charge_position(1, D("2026-02-20"))
    assert pos.penalty_accrued == 80
    assert (pos.penalty_paid, pos.penalty_outstanding) == (50, 30)
    assert pos.principal_outstanding == 6000


def test_penalty_waiver():
    # No payment. As of 02-20 accrued = 20 × 5 = 100; 60 waived on 02-20 → 40 owed.
    # As of 03-02: 02-21..03-02 = 8 + 2 = 10 more days → accrued 150, owed 150 − 60 = 90.
    w = WaiverFacts(1, 1, PENALTY, 60, D("2026-02-20"))
    state = ledger_replay(charges=[charge()], payments=[], waivers=[w])
    pos = state.charge_position(1, D("2026-02-20"))
    assert (pos.penalty_accrued, pos.penalty_waived, pos.penalty_outstanding) == (100, 60, 40)
    pos = state.charge_position(1, D("2026-03-02"))
    assert (pos.penalty_accrued, pos.penalty_outstanding) == (150, 90)
    # The day before the waiver it does not count yet.
    assert state.charge_position(1, D("2026-02-19")).penalty_waived == 0


def test_penalty_waiver_beyond_what_accrued_is_excess():
    # 200 waived on 02-20 when only 100 has accrued: 100 applied, 100 excess (not a credit
    # against penalty that accrues later).
    w = WaiverFacts(1, 1, PENALTY, 200, D("2026-02-20"))
    state = ledger_replay(charges=[charge()], payments=[], waivers=[w])
    assert state.waivers == (WaiverLine(1, 1, PENALTY, 100, 100),)
    assert state.charge_position(1, D("2026-03-02")).penalty_outstanding == 50  # 150 − 100


def test_principal_waiver():
    # 4000 principal waived on 02-10: 02-01..02-10 on 10000 = 50; 02-11..02-20 on 6000 = 30.
    w = WaiverFacts(1, 1, PRINCIPAL, 4000, D("2026-02-10"))
    state = ledger_replay(charges=[charge()], payments=[], waivers=[w])
    pos = state.charge_position(1, D("2026-02-20"))
    assert (pos.principal_waived, pos.principal_outstanding) == (4000, 6000)
    assert pos.penalty_accrued == 80


def test_principal_waiver_on_the_due_date():
    # Waived 4000 on 01-31: effective before the first accruing day, so 6000 accrues from 02-01.
    # As of 02-20: 20 × 6000 × 0.0005 = 60.
    w = WaiverFacts(1, 1, PRINCIPAL, 4000, D("2026-01-31"))
    state = ledger_replay(charges=[charge()], payments=[], waivers=[w])
    assert state.charge_position(1, D("2026-02-20")).penalty_accrued == 60


def test_waiver_applies_before_a_payment_the_same_day():
    # Penalty 50 accrued by 02-10; waived in full on 02-10; 10000 paid 02-10 pays principal only.
    w = WaiverFacts(1, 1, PENALTY, 50, D("2026-02-10"))
    state = ledger_replay(charges=[charge()], payments=[pay(1, "2026-02-10", 10000)], waivers=[w])
    assert lines(state) == [(1, 1, PRINCIPAL, 10000)]
    assert state.charge_position(1, D("2026-12-31")).total_outstanding == 0


def test_backdated_payment_reallocates_a_later_one():
    # C1 due 01-31, C2 due 02-28, both 10000.
    # A: 10140 received 02-28, entered first. Alone, A pays C1's penalty 28 × 5 = 140 (02-01..
    # 02-28) and its principal 10000.
    # B: 10000 received 01-20, entered later (a bank transfer found late). Replayed by date,
    # B pays C1's principal before it is due (no penalty), and A now pays C2 on its due date
    # (no penalty), leaving 140 unapplied.
    c1, c2 = charge(1), charge(2, due="2026-02-28")
    a = pay(1, "2026-02-28", 10140, seq=1)
    before = ledger_replay(charges=[c1, c2], payments=[a], waivers=[])
    assert lines(before) == [(1, 1, PENALTY, 140), (1, 1, PRINCIPAL, 10000)]

    b = pay(2, "2026-01-20", 10000, seq=2)
    after = ledger_replay(charges=[c1, c2], payments=[a, b], waivers=[])
    assert lines(after) == [(2, 1, PRINCIPAL, 10000), (1, 2, PRINCIPAL, 10000)]
    assert after.unapplied_by_payment == {2: 0, 1: 140}
    # The same as if the payments had arrived in date order.
    in_date_order = ledger_replay(charges=[c1, c2], payments=[b, a], waivers=[])
    assert after == in_date_order
    assert after.charge_position(1, D("2026-12-31")).penalty_accrued == 0


def test_designation_goes_first():
    # 10000 on 02-28 designating C2 (due that day): all to C2's principal; C1 untouched.
    c1, c2 = charge(1), charge(2, due="2026-02-28")
    state = ledger_replay(
        charges=[c1, c2], payments=[pay(1, "2026-02-28", 10000, designate=(2,))], waivers=[]
    )
    assert lines(state) == [(1, 2, PRINCIPAL, 10000)]
    assert state.charge_position(1, D("2026-02-28")).penalty_outstanding == 140
    # Without it: C1 first — penalty 140, then principal 9860.
    plain = ledger_replay(charges=[c1, c2], payments=[pay(1, "2026-02-28", 10000)], waivers=[])
    assert lines(plain) == [(1, 1, PENALTY, 140), (1, 1, PRINCIPAL, 9860)]


def test_designating_a_paid_charge_falls_through_to_the_default_order():
    # P1 settles C2 early (designated); P2 designates C2 again: nothing owed there, so it pays
    # C1 (penalty 02-01..02-10 = 50, then principal).
    c1, c2 = charge(1), charge(2, due="2026-02-28")
    payments = [
        pay(1, "2026-01-05", 10000, designate=(2,)),
        pay(2, "2026-02-10", 10050, designate=(2, 2)),
    ]
    state = ledger_replay(charges=[c1, c2], payments=payments, waivers=[])
    assert lines(state) == [(1, 2, PRINCIPAL, 10000), (2, 1, PENALTY, 50), (2, 1, PRINCIPAL, 10000)]


def test_principal_first_order():
    # 10000 on 02-10 with principal_first: principal 10000, penalty (50) stays owed and stops
    # growing. With penalty_first: penalty 50, principal 9950.
    c = charge(order=PRINCIPAL_FIRST)
    state = ledger_replay(charges=[c], payments=[pay(1, "2026-02-10", 10000)], waivers=[])
    assert lines(state) == [(1, 1, PRINCIPAL, 10000)]
    pos = state.charge_position(1, D("2026-12-31"))
    assert (pos.penalty_accrued, pos.penalty_outstanding, pos.principal_outstanding) == (50, 50, 0)
    assert pos.days_overdue == 334  # 2026-12-31 − 2026-01-31: penalty still owed
    c = charge(order=PENALTY_FIRST)
    state = ledger_replay(charges=[c], payments=[pay(1, "2026-02-10", 10000)], waivers=[])
    assert lines(state) == [(1, 1, PENALTY, 50), (1, 1, PRINCIPAL, 9950)]


def test_unapplied_credit():
    # 15000 on 01-10 (before due): principal 10000 (no penalty), 5000 unapplied credit.
    state = ledger_replay(charges=[charge()], payments=[pay(1, "2026-01-10", 15000)], waivers=[])
    assert lines(state) == [(1, 1, PRINCIPAL, 10000)]
    assert state.unapplied_credit_fen() == 5000
    assert state.unapplied_credit_fen(D("2026-01-09")) == 0
    assert state.unapplied_credit_fen(D("2026-01-10")) == 5000
    # A charge posted later is paid from that credit when the account is replayed.
    later = charge(2, due="2026-02-28")
    state = ledger_replay(
        charges=[charge(), later], payments=[pay(1, "2026-01-10", 15000)], waivers=[]
    )
    assert lines(state)[-1] == (1, 2, PRINCIPAL, 5000)
    assert state.unapplied_credit_fen() == 0


def test_two_payments_the_same_day_in_posted_order():
    # Both on 02-10, penalty then 50. Payment 2 was posted first (seq 1): it pays penalty 50
    # and principal 9950; payment 1 (seq 2) pays the last 50 and leaves 2950 unapplied.
    payments = [pay(1, "2026-02-10", 3000, seq=2), pay(2, "2026-02-10", 10000, seq=1)]
    state = ledger_replay(charges=[charge()], payments=payments, waivers=[])
    assert lines(state) == [(2, 1, PENALTY, 50), (2, 1, PRINCIPAL, 9950), (1, 1, PRINCIPAL, 50)]
    assert state.unapplied_by_payment == {2: 0, 1: 2950}
    assert state == ledger_replay(charges=[charge()], payments=payments[::-1], waivers=[])


def test_aging_buckets():
    assert [aging_bucket(n) for n in (0, 1, 90, 91, 180, 181, 365, 366, 730, 731, 1095)] == [
        None,
        "1-90",
        "1-90",
        "91-180",
        "91-180",
        "181-365",
        "181-365",
        "366-730",
        "366-730",
        "731-1095",
        "731-1095",
    ]
    assert aging_bucket(1096) == "1096+"


def test_bad_facts_are_refused():
    with pytest.raises(ValueError):
        ledger_replay(charges=[charge()], payments=[pay(1, "2026-01-01", 1, designate=(9,))])
    with pytest.raises(ValueError):
        ledger_replay(
            charges=[charge()],
            payments=[],
            waivers=[WaiverFacts(1, 9, PENALTY, 1, D("2026-01-01"))],
        )
    with pytest.raises(ValueError):
        PenaltyTerms(rates=(RateChange(date.min, R05), RateChange(date.min, R05)))
    with pytest.raises(TypeError):
        RateChange(date.min, 0.0005)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        penalty_accrued(
            charge(),
            principal_events=[PrincipalEvent(D("2026-02-01"), 10001)],
            as_of=D("2027-01-01"),
        )


# ---------------------------------------------------------------------------------------------
# The naive model: day by day, in Decimal, straight from the definition
# ---------------------------------------------------------------------------------------------


def naive_accrued(c: ChargeFacts, events: list[tuple[date, int]], as_of: date) -> int:
    """Σ_{t = due+g+1 .. as_of} outstanding(t) × r(t), rounded once, capped at k × P."""
    total = Decimal(0)
    t = c.due_date + timedelta(days=c.terms.grace_days + 1)
    with localcontext() as ctx:
        ctx.prec = 80
        while t <= as_of:
            outstanding = c.principal_fen - sum(a for on, a in events if on < t)
            in_force = [rc.daily_rate for rc in c.terms.rates if rc.effective_from <= t]
            rate = in_force[-1] if in_force else Decimal(0)
            total += outstanding * rate
            t += timedelta(days=1)
        accrued = round_half_up(total)
    if c.terms.cap_ratio is not None:
        # The cap is a ceiling: the largest whole fen not above k × P.
        accrued = min(accrued, math.floor(c.principal_fen * c.terms.cap_ratio))
    return accrued


BASE = date(2024, 1, 1)
# Mostly a narrow window, so that rate changes, payments, waivers and as_of dates often fall
# on the same day or next to each other (the edges), sometimes up to three years.
days = st.one_of(st.integers(0, 60), st.integers(0, 1100))
RATES = [
    Decimal("0"),
    Decimal("0.0003"),
    R05,
    Decimal("0.001"),
    Decimal("0.00033"),
    Decimal("1E-5"),
]


@st.composite
def terms_strategy(draw: st.DrawFn) -> PenaltyTerms:
    starts = draw(st.lists(days, min_size=0, max_size=3, unique=True))
    rates = [RateChange(date.min, draw(st.sampled_from(RATES)))]
    rates += [RateChange(BASE + timedelta(days=n), draw(st.sampled_from(RATES))) for n in starts]
    return PenaltyTerms(
        rates=tuple(rates),
        grace_days=draw(st.integers(0, 10)),
        cap_ratio=draw(st.sampled_from([None, Decimal("0.05"), Decimal("0.1"), Decimal("0.333")])),
        order=draw(st.sampled_from([PENALTY_FIRST, PRINCIPAL_FIRST])),
    )


@st.composite
def account_strategy(draw: st.DrawFn):
    n_charges = draw(st.integers(1, 5))
    charges = [
        ChargeFacts(
            id=i + 1,
            fee_item="物业费",
            period_start=BASE + timedelta(days=draw(days)),
            due_date=BASE + timedelta(days=draw(days)),
            principal_fen=draw(st.integers(1, 50000)),
            terms=draw(terms_strategy()),
        )
        for i in range(n_charges)
    ]
    ids = [c.id for c in charges]
    n_payments = draw(st.integers(0, 7))
    seqs = draw(st.permutations(range(n_payments)))  # posting order ≠ date order: backdating
    payments = [
        PaymentFacts(
            id=100 + i,
            received_on=BASE + timedelta(days=draw(days)),
            posted_seq=seqs[i],
            amount_fen=draw(st.integers(1, 60000)),
            designations=tuple(draw(st.lists(st.sampled_from(ids), max_size=3))),
        )
        for i in range(n_payments)
    ]
    waivers = [
        WaiverFacts(
            id=200 + i,
            charge_id=draw(st.sampled_from(ids)),
            component=draw(st.sampled_from([PRINCIPAL, PENALTY])),
            amount_fen=draw(st.integers(1, 20000)),
            effective_on=BASE + timedelta(days=draw(days)),
        )
        for i in range(draw(st.integers(0, 3)))
    ]
    return charges, payments, waivers


def replay_order(payments, waivers):
    """The replay's event order, written independently: by date, waivers before payments."""
    keyed = [((w.effective_on, 0, 0, w.id), w) for w in waivers]
    keyed += [((p.received_on, 1, p.posted_seq, p.id), p) for p in payments]
    return [event for _, event in sorted(keyed, key=lambda pair: pair[0])]


@settings(max_examples=200, deadline=None)
@given(account_strategy())
def test_replay_properties(account):
    charges, payments, waivers = account
    state = ledger_replay(charges=charges, payments=payments, waivers=waivers)
    by_id = {c.id: c for c in charges}
    waiver_lines = {line.waiver_id: line for line in state.waivers}

    # Σ allocations + unapplied = Σ payments, payment by payment.
    for p in payments:
        allocated = sum(a.amount_fen for a in state.allocations if a.payment_id == p.id)
        assert all(a.amount_fen > 0 for a in state.allocations if a.payment_id == p.id)
        assert 0 <= state.unapplied_by_payment[p.id] <= p.amount_fen
        assert allocated + state.unapplied_by_payment[p.id] == p.amount_fen
    for w in waivers:
        line = waiver_lines[w.id]
        assert line.amount_fen >= 0 and line.excess_fen >= 0
        assert line.amount_fen + line.excess_fen == w.amount_fen

    # Walk the events in replay order: nothing is ever paid or waived beyond what was owed then.
    principal_events: dict[int, list[tuple[date, int]]] = {c.id: [] for c in charges}
    penalty_settled = dict.fromkeys(by_id, 0)
    principal_left = {c.id: c.principal_fen for c in charges}
    for event in replay_order(payments, waivers):
        if isinstance(event, WaiverFacts):
            day = event.effective_on
            reductions = [(event.charge_id, event.component, waiver_lines[event.id].amount_fen)]
        else:
            day = event.received_on
            reductions = [
                (a.charge_id, a.component, a.amount_fen)
                for a in state.allocations
                if a.payment_id == event.id
            ]
        for charge_id, component, amount in reductions:
            if component == PRINCIPAL:
                principal_left[charge_id] -= amount
                assert principal_left[charge_id] >= 0
                principal_events[charge_id].append((day, amount))
            else:
                penalty_settled[charge_id] += amount
                accrued_then = naive_accrued(by_id[charge_id], principal_events[charge_id], day)
                assert penalty_settled[charge_id] <= accrued_then
        if isinstance(event, PaymentFacts) and state.unapplied_by_payment[event.id]:
            # Credit is left only when nothing at all is owed.
            assert all(pos.total_outstanding == 0 for pos in state.positions(day))

    # Positions at random dates: nothing negative, and penalty equals the naive day-by-day sum.
    rng = random.Random(len(payments) * 31 + len(charges))
    dates = [BASE + timedelta(days=rng.randint(0, 1300)), BASE + timedelta(days=rng.randint(0, 70))]
    dates += [p.received_on for p in payments[:2]]
    for as_of in dates:
        for pos in state.positions(as_of):
            c = by_id[pos.charge_id]
            for value in (
                pos.principal_paid,
                pos.principal_waived,
                pos.principal_outstanding,
                pos.penalty_accrued,
                pos.penalty_paid,
                pos.penalty_waived,
                pos.penalty_outstanding,
                pos.days_overdue,
            ):
                assert value >= 0
            assert pos.principal_paid + pos.principal_waived + pos.principal_outstanding == (
                c.principal_fen
            )
            assert pos.penalty_paid + pos.penalty_waived + pos.penalty_outstanding == (
                pos.penalty_accrued
            )
            events_then = [(on, a) for on, a in principal_events[c.id] if on <= as_of]
            assert pos.penalty_accrued == naive_accrued(c, events_then, as_of)
            overdue = as_of > c.due_date and pos.total_outstanding > 0
            assert pos.days_overdue == ((as_of - c.due_date).days if overdue else 0)


@settings(max_examples=100, deadline=None)
@given(account_strategy(), st.randoms(use_true_random=False))
def test_replay_depends_only_on_dates_not_on_input_order(account, rnd):
    charges, payments, waivers = account
    state = ledger_replay(charges=charges, payments=payments, waivers=waivers)
    shuffled = [list(charges), list(payments), list(waivers)]
    for items in shuffled:
        rnd.shuffle(items)
    again = ledger_replay(charges=shuffled[0], payments=shuffled[1], waivers=shuffled[2])
    assert again == state
    assert again.positions(date(2027, 6, 30)) == state.positions(date(2027, 6, 30))


@settings(max_examples=100, deadline=None)
@given(account_strategy(), days)
def test_replay_is_causal(account, cut):
    # Payments and waivers up to a date are allocated the same whatever comes after it, so a
    # backdated payment changes only the allocations of payments after its date.
    charges, payments, waivers = account
    cut_date = BASE + timedelta(days=cut)
    full = ledger_replay(charges=charges, payments=payments, waivers=waivers)
    early = ledger_replay(
        charges=charges,
        payments=[p for p in payments if p.received_on <= cut_date],
        waivers=[w for w in waivers if w.effective_on <= cut_date],
    )
    early_ids = {p.id for p in payments if p.received_on <= cut_date}
    assert [a for a in full.allocations if a.payment_id in early_ids] == list(early.allocations)
    assert full.positions(cut_date) == early.positions(cut_date)


@settings(max_examples=300, deadline=None)
@given(
    terms_strategy(),
    st.integers(1, 10**7),
    days,
    st.lists(st.tuples(days, st.integers(1, 10**6)), max_size=6),
    days,
)
def test_penalty_accrued_equals_the_naive_day_by_day_sum(terms, principal, due, raw, as_of):
    c = ChargeFacts(1, "物业费", BASE, BASE + timedelta(days=due), principal, terms)
    events: list[tuple[date, int]] = []
    left = principal
    for offset, amount in raw:  # keep the reductions within the principal
        amount = min(amount, left)
        if amount:
            events.append((BASE + timedelta(days=offset), amount))
            left -= amount
    as_of_date = BASE + timedelta(days=as_of)
    fast = penalty_accrued(
        c, principal_events=[PrincipalEvent(on, a) for on, a in events], as_of=as_of_date
    )
    assert fast == naive_accrued(c, events, as_of_date)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 10**7),
    st.sampled_from([Decimal("0.05"), Decimal("0.1"), Decimal("0.333"), Decimal("0.0307")]),
    st.sampled_from(RATES[1:]),
    st.integers(0, 4000),
)
def test_penalty_never_exceeds_k_times_p(principal, k, rate, days_late):
    # The cap is a ceiling: whatever P, k, rate and day, the accrued penalty ≤ k × P exactly,
    # and once the cap binds it is the largest whole fen not above k × P.
    terms = PenaltyTerms(rates=(RateChange(date.min, rate),), cap_ratio=k)
    c = ChargeFacts(1, "物业费", BASE, BASE, principal, terms)
    accrued = penalty_accrued(c, principal_events=(), as_of=BASE + timedelta(days=days_late))
    assert accrued <= principal * k
    assert accrued <= c.penalty_cap_fen == math.floor(principal * k)
    uncapped = round_half_up(principal * rate * days_late)
    assert accrued == min(uncapped, math.floor(principal * k))
