"""The demo company's account history (演示账务): the 24 billing months up to a date billed through
the billing service, the payments each owner behaviour makes (recorded set-based with
`payments_record_bulk`), and a few waivers — the same seed, the same history.

Each unit's payments come from its own random stream (seed and unit code), so a unit's history
does not depend on the other units. Amounts are what a cashier would take: the month's bill, a
prepaid quarter or year, or a late payer's whole arrears with the 滞纳金 the engine says is due
that day; the pure engine (`ledger_replay`) answers "how much is owed now" while planning."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from propfee.billing.demo import billing_demo_setup
from propfee.billing.models import (
    BillingRun,
    Charge,
    Contract,
    ContractVersion,
    FeeItem,
    Tariff,
)
from propfee.billing.periods import period_label
from propfee.billing.services import billing_run_post
from propfee.core.models import User
from propfee.core.roles import Role
from propfee.estates.constants import PartyRole
from propfee.estates.demo import (
    DEMO_COMPANY_CODE,
    DEMO_HISTORY_START,
    DEMO_NOTE,
    DEMO_SEED,
    Behaviour,
    DemoError,
    demo_behaviour,
)
from propfee.estates.models import Company, Estate, Occupancy, Unit
from propfee.ledger.constants import Component
from propfee.ledger.engine import ChargeFacts, PaymentFacts, ledger_replay
from propfee.ledger.models import Allocation, Waiver, WaiverRequest
from propfee.ledger.selectors import account_facts
from propfee.ledger.services import waiver_create
from propfee.payments.constants import PaymentChannel
from propfee.payments.models import Payment, ReceiptCounter
from propfee.payments.services import PaymentRow, payments_record_bulk

#: How many billing months the demo's history covers, ending with the month of its date.
DEMO_HISTORY_MONTHS = 24
#: A chronically late owner pays, in each lump, only charges at least this old (so the arrears
#: they keep are always older than 90 days: the collection engine's material).
_LUMP_MIN_AGE = dt.timedelta(days=120)
_FACTS_CHUNK = 500
# Most demo waivers of each kind (a few, for the waiver pages and the statement's columns).
_WAIVERS_MAX = 6

Channel = PaymentChannel
# Channel weights by behaviour: online for those who pay on time, the front desk (POS, cash)
# for those who pay after a visit, bank transfer for the developer.
_CHANNELS: dict[str, dict[str, int]] = {
    "online": {
        Channel.WECHAT: 38,
        Channel.ALIPAY: 24,
        Channel.BANK_TRANSFER: 14,
        Channel.DIRECT_DEBIT: 8,
        Channel.POS: 8,
        Channel.CASH: 8,
    },
    "front_desk": {
        Channel.POS: 30,
        Channel.CASH: 25,
        Channel.BANK_TRANSFER: 20,
        Channel.WECHAT: 15,
        Channel.ALIPAY: 10,
    },
    "hardship": {Channel.CASH: 45, Channel.WECHAT: 35, Channel.ALIPAY: 20},
    "company": {Channel.BANK_TRANSFER: 1},
}


@dataclass
class DemoHistory:
    """What `demo_history_load` wrote."""

    as_of: dt.date
    periods: list[str] = field(default_factory=list)
    charges: int = 0
    charged_fen: int = 0
    payments: int = 0
    paid_fen: int = 0
    waivers: int = 0

    @property
    def months(self) -> int:
        return len(self.periods)


def demo_history_periods(*, as_of: dt.date, months: int = DEMO_HISTORY_MONTHS) -> list[dt.date]:
    """The first days of the `months` billing months ending with the month of `as_of`."""
    index = _month_index(as_of)
    return [dt.date(i // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 1)]


# --- one unit's payments ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Bill:
    """One billing month of a unit: its due date and the principal of its charges."""

    period_start: dt.date
    due_date: dt.date
    principal_fen: int


class _Account:
    """A unit's account while its payments are planned; the engine says what is owed."""

    def __init__(self, charges: list[ChargeFacts]) -> None:
        self.charges = sorted(charges, key=lambda c: (c.due_date, c.period_start, c.id))
        self.payments: list[PaymentFacts] = []
        totals: dict[tuple[dt.date, dt.date], int] = defaultdict(int)
        for charge in self.charges:
            totals[(charge.period_start, charge.due_date)] += charge.principal_fen
        self.bills = [_Bill(start, due, fen) for (start, due), fen in sorted(totals.items())]

    def pay(self, day: dt.date, amount_fen: int) -> None:
        n = len(self.payments) + 1
        self.payments.append(PaymentFacts(n, day, n, amount_fen))

    def owed(self, day: dt.date, *, due_by: dt.date) -> int:
        """Principal and 滞纳金 owed at the end of `day` on the charges due by `due_by`."""
        state = ledger_replay(charges=self.charges, payments=self.payments)
        return sum(
            state.charge_position(c.id, day).total_outstanding
            for c in self.charges
            if c.due_date <= due_by
        )


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


class _UnitPlanner:
    """Plans one unit's payments by its behaviour: a list of (date, amount, channel)."""

    def __init__(
        self, *, rng: random.Random, account: _Account, as_of: dt.date, channels: str
    ) -> None:
        self.rng = rng
        self.account = account
        self.bills = account.bills
        self.as_of = as_of
        self.planned: list[tuple[dt.date, int, str]] = []
        weights = _CHANNELS[channels]
        # Most people stick to one way of paying.
        self.usual = rng.choices(list(weights), weights=list(weights.values()))[0]
        self._weights = weights

    def _channel(self) -> str:
        if self.rng.random() < 0.85:
            return self.usual
        return self.rng.choices(list(self._weights), weights=list(self._weights.values()))[0]

    def _pay(self, day: dt.date, amount_fen: int) -> None:
        if amount_fen <= 0 or day > self.as_of:
            return
        if self.planned and day < self.planned[-1][0]:
            day = self.planned[-1][0]  # one person's payments follow each other
        self.account.pay(day, amount_fen)
        self.planned.append((day, amount_fen, self._channel()))

    def _days_after(self, day: dt.date, low: int, high: int) -> dt.date:
        return day + dt.timedelta(days=self.rng.randint(low, high))

    def _settle(self, day: dt.date, *, due_by: dt.date | None = None, share: float = 1.0) -> None:
        """Pay what is owed on `day` on the charges due by `due_by` (all due so far), or the
        round hundred yuan below `share` of it."""
        if day > self.as_of:
            return
        owed = self.account.owed(day, due_by=due_by or day)
        if share < 1:
            owed = max(int(owed * share) // 10_000 * 10_000, min(owed, 10_000))
        self._pay(day, owed)

    def on_time(self, start: int = 0, end: int | None = None) -> None:
        """Every bill by its due date: monthly, or a quarter, half-year or year ahead (calendar
        blocks, so the block that runs past the last bill leaves prepaid credit, 预存)."""
        bills = self.bills[start:end]
        block = self.rng.choices([1, 3, 6, 12], weights=[55, 20, 10, 15])[0] if end is None else 1
        i = 0
        while i < len(bills):
            first = bills[i]
            months = 1 if block == 1 else block - (first.period_start.month - 1) % block
            covered = bills[i : i + months]
            amount = sum(b.principal_fen for b in covered)
            amount += (months - len(covered)) * covered[-1].principal_fen
            early = self.rng.randint(0, 10 if block == 1 else 20)
            self._pay(first.due_date - dt.timedelta(days=early), amount)
            i += months

    def sometimes_late(self) -> None:
        """Mostly on time; now and then one to three months late, then pays everything owed,
        滞纳金 included, some days after the month's reminder."""
        p_late = self.rng.uniform(0.12, 0.3)
        i = 0
        while i < len(self.bills):
            if self.rng.random() < p_late:
                i += self.rng.choice([1, 1, 2, 3])
                if i >= len(self.bills):
                    break
                self._settle(self._days_after(self.bills[i].due_date, 3, 25))
            else:
                self._pay(
                    self.bills[i].due_date - dt.timedelta(days=self.rng.randint(0, 10)),
                    self.bills[i].principal_fen,
                )
            i += 1

    def chronically_late(self) -> None:
        """Pays in lumps every four to seven months, after escalation, and only the charges at
        least four months old — often only part of them."""
        i = self.rng.randint(3, 7)
        while i < len(self.bills):
            day = self._days_after(self.bills[i].period_start, 3, 27)
            share = 1.0 if self.rng.random() < 0.6 else self.rng.uniform(0.5, 0.9)
            self._settle(day, due_by=day - _LUMP_MIN_AGE, share=share)
            i += self.rng.randint(4, 7)

    def disputing(self) -> None:
        """Paid on time until a service complaint, then withholds the fees."""
        self.on_time(0, self.rng.randint(3, 16))

    def hardship(self) -> None:
        """On time for a while, then every one to three months a round sum in cash, a third to
        three fifths of what was billed meanwhile: the arrears grow slowly."""
        start = self.rng.randint(0, 10)
        self.on_time(0, start)
        share = self.rng.uniform(0.3, 0.6)
        i = start
        while True:
            step = self.rng.randint(1, 3)
            if i + step >= len(self.bills):
                break
            billed = sum(b.principal_fen for b in self.bills[i : i + step])
            i += step
            day = self._days_after(self.bills[i].period_start, 1, 27)
            if day <= self.as_of:
                owed = self.account.owed(day, due_by=day)
                self._pay(day, min(max(int(billed * share) // 5_000 * 5_000, 5_000), owed))

    def vacant(self, *, developer: bool) -> None:
        """The developer settles the previous year's fees each June by bank transfer; half of
        the owners of empty flats do the same in a month of their choosing, the rest never."""
        if not developer and self.rng.random() < 0.5:
            return
        month = 6 if developer else self.rng.randint(1, 12)
        for bill in self.bills:
            if bill.period_start.month == month:
                day = self._days_after(bill.period_start, 5, 25)
                self._settle(day, due_by=dt.date(day.year - 1, 12, 31))

    def unreachable(self) -> None:
        """Paid a few months at first, then nothing: the owner no longer answers."""
        self.on_time(0, self.rng.randint(0, 6))


def _plan_unit(
    behaviour: str, *, rng: random.Random, account: _Account, as_of: dt.date, developer: bool
) -> list[tuple[dt.date, int, str]]:
    kinds: dict[str, str] = {
        Behaviour.CHRONICALLY_LATE: "front_desk",
        Behaviour.HARDSHIP: "hardship",
    }
    kind = kinds.get(behaviour, "company" if developer else "online")
    planner = _UnitPlanner(rng=rng, account=account, as_of=as_of, channels=kind)
    plans: dict[str, Callable[[], None]] = {
        Behaviour.ON_TIME: planner.on_time,
        Behaviour.SOMETIMES_LATE: planner.sometimes_late,
        Behaviour.CHRONICALLY_LATE: planner.chronically_late,
        Behaviour.DISPUTING: planner.disputing,
        Behaviour.HARDSHIP: planner.hardship,
        Behaviour.VACANT_OR_DEVELOPER: lambda: planner.vacant(developer=developer),
        Behaviour.UNREACHABLE: planner.unreachable,
    }
    plans[behaviour]()
    return planner.planned


def _digits(seed: int, key: str, count: int) -> str:
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=16).digest()
    return f"{int.from_bytes(digest, 'big') % 10**count:0{count}d}"


def demo_payment_reference(channel: str, day: dt.date, *, seed: int, key: str) -> str:
    """A made-up but well-formed reference for the channel (cash: none, the receipt number is
    used), the same for the same seed and key."""
    if channel == Channel.WECHAT:
        return f"4200{_digits(seed, key, 6)}{day:%Y%m%d}{_digits(seed, key + 'w', 10)}"
    if channel == Channel.ALIPAY:
        return f"{day:%Y%m%d}2200{_digits(seed, key, 16)}"
    if channel == Channel.BANK_TRANSFER:
        return f"BANK-{day:%Y%m%d}-{_digits(seed, key, 12)}"
    if channel == Channel.POS:
        return f"POS-{day:%Y%m%d}-{_digits(seed, key, 12)}"
    if channel == Channel.DIRECT_DEBIT:
        return f"DK-{day:%Y%m%d}-{_digits(seed, key, 12)}"
    return ""


def _payment_rows(
    *, company: Company, as_of: dt.date, seed: int
) -> tuple[list[PaymentRow], dict[int, str]]:
    """Every demo payment, in the order received (the order of the receipts), and the unit
    codes by id."""
    units = list(
        Unit.objects.filter(estate__company=company).order_by("code").values_list("pk", "code")
    )
    developer_units = set(
        Occupancy.objects.filter(
            unit__estate__company=company, role=PartyRole.DEVELOPER, is_payer=True
        ).values_list("unit_id", flat=True)
    )
    planned: list[tuple[dt.date, str, int, PaymentRow]] = []
    for start in range(0, len(units), _FACTS_CHUNK):
        chunk = units[start : start + _FACTS_CHUNK]
        facts = account_facts(unit_ids=[pk for pk, _code in chunk])
        for pk, code in chunk:
            if not facts[pk].charges:
                continue
            rng = random.Random(f"{seed}:history:{code}")
            payments = _plan_unit(
                demo_behaviour(code, seed),
                rng=rng,
                account=_Account(facts[pk].charges),
                as_of=as_of,
                developer=pk in developer_units,
            )
            for n, (day, amount_fen, channel) in enumerate(payments):
                key = f"{code}:{n}"
                at = dt.datetime.combine(day, dt.time(rng.randint(8, 20), rng.randint(0, 59)))
                row = PaymentRow(
                    unit_id=pk,
                    amount_fen=amount_fen,
                    received_on=day,
                    channel=channel,
                    reference=demo_payment_reference(channel, day, seed=seed, key=key),
                    recorded_at=timezone.make_aware(at),
                )
                planned.append((day, code, n, row))
    planned.sort(key=lambda item: item[:3])
    return [row for *_key, row in planned], dict(units)


# --- waivers ---------------------------------------------------------------------------------


def _waivers_add(*, company: Company, as_of: dt.date, seed: int, codes: dict[int, str]) -> int:
    """A few waivers through `waiver_create`, approved by the estate's manager (the company
    admin where no manager is scoped): 滞纳金 for owners in hardship, 30% of a month's fee for
    owners whose service complaint was upheld."""
    users = {u.username: u for u in User.objects.filter(company=company)}
    approver = {
        estate.pk: users.get("manager") if estate.code == "DEMO" else users.get("admin")
        for estate in Estate.objects.filter(company=company)
    }
    wanted: dict[str, list[int]] = {Behaviour.HARDSHIP: [], Behaviour.DISPUTING: []}
    for unit_id, code in sorted(codes.items(), key=lambda item: item[1]):
        behaviour = demo_behaviour(code, seed)
        if (
            behaviour in wanted
            and len(wanted[behaviour]) < _WAIVERS_MAX
            and random.Random(f"{seed}:waiver:{code}").random() < 0.4
        ):
            wanted[behaviour].append(unit_id)
    unit_ids = [*wanted[Behaviour.HARDSHIP], *wanted[Behaviour.DISPUTING]]
    facts = account_facts(unit_ids=unit_ids)
    estates = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "estate_id"))
    count = 0
    for unit_id in unit_ids:
        state = facts[unit_id].replay()
        positions = [p for p in state.positions(as_of) if p.days_overdue > 0]
        hardship = unit_id in wanted[Behaviour.HARDSHIP]
        if hardship:
            component, reason = Component.PENALTY, "业主经济困难，经项目经理批准减免滞纳金"
            candidates = [(p.penalty_outstanding, p.charge_id) for p in positions]
        else:
            component, reason = Component.PRINCIPAL, "服务问题经核实属实，减免当月物业费30%"
            candidates = [
                (min(p.principal_outstanding, (p.principal * 3 + 5) // 10), p.charge_id)
                for p in positions
            ]
        amount_fen, charge_id = max(candidates, default=(0, 0))
        if amount_fen <= 0:
            continue
        waiver_create(
            charge=Charge.objects.get(pk=charge_id),
            component=component,
            amount_fen=amount_fen,
            effective_on=as_of,
            reason=reason,
            actor=approver[estates[unit_id]],
        )
        count += 1
    return count


# --- load and delete -------------------------------------------------------------------------


@transaction.atomic
def demo_history_load(
    *,
    company: Company,
    as_of: dt.date | None = None,
    seed: int = DEMO_SEED,
    months: int = DEMO_HISTORY_MONTHS,
) -> DemoHistory:
    """Bill the demo company's estates for the `months` months ending with the month of
    `as_of` (today by default) through `billing_run_post`, record the payments its owners'
    behaviours make through `payments_record_bulk`, and add a few waivers. `months` 0 writes
    nothing. Raises DemoError for a date the demo's people and tariffs do not cover."""
    as_of = as_of or timezone.localdate()
    history = DemoHistory(as_of=as_of)
    periods = demo_history_periods(as_of=as_of, months=months)
    if not periods:
        return history
    if as_of > timezone.localdate():
        raise DemoError(
            f"演示账务的截止日期不能晚于今天：{as_of:%Y-%m-%d} / "
            f"The demo history cannot end after today: {as_of:%Y-%m-%d}"
        )
    if periods[0] < DEMO_HISTORY_START:
        first_ok = _month_index(DEMO_HISTORY_START) + months - 1
        earliest = f"{first_ok // 12}-{first_ok % 12 + 1:02d}-01"
        raise DemoError(
            f"演示账务从 {DEMO_HISTORY_START:%Y-%m} 起，{months} 个月的截止日期不能早于 "
            f"{earliest} / {months} months of demo history end on {earliest} at the earliest"
        )
    users = {u.username: u for u in User.objects.filter(company=company, role=Role.FINANCE)}
    finance = users.get("finance")
    billing_demo_setup(company)
    for period_start in periods:
        for estate in Estate.objects.filter(company=company).order_by("code"):
            run = billing_run_post(estate=estate, period=period_label(period_start), actor=finance)
            history.charges += run.charge_count
            history.charged_fen += run.total_fen
    history.periods = [period_label(p) for p in periods]

    rows, codes = _payment_rows(company=company, as_of=as_of, seed=seed)
    payments_record_bulk(rows=rows, actor=finance, note=f"{DEMO_NOTE}：收款记录（种子 {seed}）")
    history.payments = len(rows)
    history.paid_fen = sum(row.amount_fen for row in rows)
    history.waivers = _waivers_add(company=company, as_of=as_of, seed=seed, codes=codes)
    return history


@transaction.atomic
def demo_history_delete() -> bool:
    """Delete the demo company's account history (charges, payments, allocations, waivers,
    billing runs, tariffs, contracts, fee items and receipt counters), before the company
    itself is deleted. Audit rows stay. Returns False if there is no demo company."""
    company = Company.objects.filter(code=DEMO_COMPANY_CODE).first()
    if company is None:
        return False
    units = Unit.objects.filter(estate__company=company).values("pk")
    Allocation.objects.filter(charge__unit__in=units).delete()
    Allocation.objects.filter(payment__unit__in=units).delete()
    Waiver.objects.filter(charge__unit__in=units).delete()
    WaiverRequest.objects.filter(charge__unit__in=units).delete()
    Payment.objects.filter(unit__in=units).delete()
    Charge.objects.filter(unit__in=units).delete()
    estates = Estate.objects.filter(company=company).values("pk")
    ReceiptCounter.objects.filter(estate__in=estates).delete()
    BillingRun.objects.filter(estate__in=estates).delete()
    ContractVersion.objects.filter(contract__estate__in=estates).delete()
    Contract.objects.filter(estate__in=estates).delete()
    Tariff.objects.filter(estate__in=estates).delete()
    FeeItem.objects.filter(company=company).delete()
    return True
