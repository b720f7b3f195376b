"""Time the ledger engine on one long account: 10 years of monthly charges and 200 payments.

Reports the time of a full replay plus every charge's position (the penalty included), and of
the same penalties summed naively day by day in Decimal, for comparison. Pure Python: no
database. Design target: < 5 ms for the penalty of such an account.

    .venv/bin/python bench/bench_penalty.py [--repeat 200] [--seed 1]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from datetime import date, timedelta
from decimal import Decimal

from propfee.core.money import round_half_up
from propfee.ledger.engine import (
    PENALTY,
    PRINCIPAL,
    ChargeFacts,
    LedgerState,
    PaymentFacts,
    PenaltyTerms,
    RateChange,
    WaiverFacts,
    ledger_replay,
)

AS_OF = date(2026, 1, 31)


def account(seed: int) -> tuple[list[ChargeFacts], list[PaymentFacts], list[WaiverFacts]]:
    """120 monthly charges 2016-01..2025-12, 200 payments (20 of them backdated), 6 waivers.

    The payments fall short of the charges, so arrears and penalty build up over the years."""
    rng = random.Random(seed)
    # A contract that changed its rate twice and caps the penalty at 30 % of the principal.
    terms = PenaltyTerms(
        rates=(
            RateChange(date.min, Decimal("0.0005")),
            RateChange(date(2019, 7, 1), Decimal("0.0003")),
            RateChange(date(2023, 1, 1), Decimal("0.0004")),
        ),
        grace_days=5,
        cap_ratio=Decimal("0.3"),
    )
    charges = []
    for month in range(120):
        year, month0 = divmod(month, 12)
        period_start = date(2016 + year, month0 + 1, 1)
        charges.append(
            ChargeFacts(
                id=month + 1,
                fee_item="物业费",
                period_start=period_start,
                due_date=period_start + timedelta(days=14),
                principal_fen=rng.randint(20000, 60000),
                terms=terms,
            )
        )
    payments = []
    span = (AS_OF - date(2016, 1, 1)).days
    for i in range(200):
        received = date(2016, 1, 1) + timedelta(days=rng.randint(0, span))
        designations = (rng.randint(1, 120),) if rng.random() < 0.1 else ()
        payments.append(
            PaymentFacts(
                id=i + 1,
                received_on=received,
                posted_seq=i,
                amount_fen=rng.randint(8000, 36000),
                designations=designations,
            )
        )
    # Posting order is date order except 20 transfers entered late (backdated).
    payments.sort(key=lambda p: p.received_on)
    late = rng.sample(range(200), 20)
    payments = [
        PaymentFacts(
            p.id, p.received_on, 1000 + i if i in late else i, p.amount_fen, p.designations
        )
        for i, p in enumerate(payments)
    ]
    waivers = [
        WaiverFacts(
            id=i + 1,
            charge_id=rng.randint(1, 120),
            component=PENALTY if i % 2 else PRINCIPAL,
            amount_fen=rng.randint(100, 5000),
            effective_on=date(2016, 1, 1) + timedelta(days=rng.randint(0, span)),
        )
        for i in range(6)
    ]
    return charges, payments, waivers


def naive_penalties(state: LedgerState, charges, payments, waivers, as_of: date) -> list[int]:
    """Every charge's penalty summed day by day in Decimal, from the replay's reductions."""
    received = {p.id: p.received_on for p in payments}
    effective = {w.id: w.effective_on for w in waivers}
    events: dict[int, list[tuple[date, int]]] = {c.id: [] for c in charges}
    for line in state.allocations:
        if line.component == PRINCIPAL:
            events[line.charge_id].append((received[line.payment_id], line.amount_fen))
    for wl in state.waivers:
        if wl.component == PRINCIPAL and wl.amount_fen:
            events[wl.charge_id].append((effective[wl.waiver_id], wl.amount_fen))
    result = []
    for c in charges:
        total = Decimal(0)
        t = c.due_date + timedelta(days=c.terms.grace_days + 1)
        reductions = sorted(events[c.id])
        outstanding, k = c.principal_fen, 0
        while t <= as_of:
            while k < len(reductions) and reductions[k][0] < t:
                outstanding -= reductions[k][1]
                k += 1
            rate = [rc.daily_rate for rc in c.terms.rates if rc.effective_from <= t][-1]
            total += outstanding * rate
            t += timedelta(days=1)
        accrued = round_half_up(total)
        # The cap is a ceiling: the largest whole fen not above k × P.
        ratio = c.terms.cap_ratio
        result.append(
            accrued if ratio is None else min(accrued, math.floor(c.principal_fen * ratio))
        )
    return result


def timed(fn, repeat: int) -> tuple[float, float]:
    """(best, median) wall time of fn() in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    charges, payments, waivers = account(args.seed)
    state = ledger_replay(charges=charges, payments=payments, waivers=waivers)
    positions = state.positions(AS_OF)
    naive = naive_penalties(state, charges, payments, waivers, AS_OF)
    if [p.penalty_accrued for p in positions] != naive:
        raise SystemExit("the engine's penalty differs from the naive day-by-day sum")

    def full() -> None:
        ledger_replay(charges=charges, payments=payments, waivers=waivers).positions(AS_OF)

    replay_best, replay_median = timed(full, args.repeat)
    positions_best, positions_median = timed(lambda: state.positions(AS_OF), args.repeat)
    naive_best, naive_median = timed(
        lambda: naive_penalties(state, charges, payments, waivers, AS_OF), max(3, args.repeat // 50)
    )

    print(
        f"account: {len(charges)} charges, {len(payments)} payments, {len(waivers)} waivers, "
        f"{len(state.allocations)} allocation lines, as of {AS_OF}"
    )
    print(
        f"penalty accrued {sum(p.penalty_accrued for p in positions)} fen, "
        f"outstanding {sum(p.total_outstanding for p in positions)} fen"
    )
    print(f"replay + 120 positions : best {replay_best:.2f} ms, median {replay_median:.2f} ms")
    print(
        f"120 positions only     : best {positions_best:.2f} ms, median {positions_median:.2f} ms"
    )
    print(f"naive day by day       : best {naive_best:.1f} ms, median {naive_median:.1f} ms")
    print(f"ratio naive / replay   : {naive_median / replay_median:.0f}×  (target: replay < 5 ms)")


if __name__ == "__main__":
    main()
