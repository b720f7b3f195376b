"""Ledger reads: the engine's facts for a set of units (charges with their contract's penalty
terms, recorded payments, active waivers) and the allocations stored as current, loaded a fixed
number of queries for any number of units; a unit's statement (对账单) and its penalty
reasonableness bound (违约金合理性); waiver requests and waivers in the user's scope."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from propfee.billing.models import Charge, ContractVersion
from propfee.core.bulk import many_values
from propfee.core.models import User
from propfee.core.money import fen_to_yuan, round_half_up
from propfee.core.roles import ROLE_CAPABILITIES, Capability, Role
from propfee.estates.models import Unit
from propfee.estates.selectors import units_visible_to
from propfee.ledger.constants import DEFAULT_APPROVAL_LIMITS_FEN, Component, WaiverStatus
from propfee.ledger.engine import (
    ChargeFacts,
    ChargePosition,
    LedgerState,
    PaymentFacts,
    PenaltyTerms,
    RateChange,
    WaiverFacts,
    ledger_replay,
)
from propfee.ledger.models import Allocation, Waiver, WaiverApprovalLimit, WaiverRequest
from propfee.payments.constants import PaymentStatus
from propfee.payments.models import Payment

#: (payment id, charge id, component, amount in fen): one allocation as compared and stored.
AllocationKey = tuple[int, int, str, int]


@dataclass
class AccountFacts:
    """Everything the engine needs to replay one unit's account (房屋账户)."""

    unit_id: int
    charges: list[ChargeFacts] = field(default_factory=list)
    payments: list[PaymentFacts] = field(default_factory=list)
    waivers: list[WaiverFacts] = field(default_factory=list)

    def replay(self, *, extra_waivers: Iterable[WaiverFacts] = ()) -> LedgerState:
        return ledger_replay(
            charges=self.charges,
            payments=self.payments,
            waivers=[*self.waivers, *extra_waivers],
        )


class _EstateTerms:
    """The penalty terms of an estate's charges. The daily rate follows every contract version
    over time (the engine's RateChange schedule); grace days, cap and allocation order are those
    of the version in force on the charge's first day, as billing prices a period (the first
    version for a charge older than the contract)."""

    def __init__(self, versions: list[ContractVersion]) -> None:
        rates = tuple(RateChange(v.effective_from, v.penalty_daily_rate) for v in versions)
        self._starts = [v.effective_from for v in versions]
        self._terms = [
            PenaltyTerms(
                rates=rates,
                grace_days=v.grace_days,
                cap_ratio=v.penalty_cap_ratio,
                order=v.allocation_order,  # type: ignore[arg-type]  # same values as the engine
            )
            for v in versions
        ]

    def on(self, day: dt.date) -> PenaltyTerms:
        if not self._terms:
            return PenaltyTerms(rates=())  # no contract: no penalty (it exists only by contract)
        return self._terms[max(bisect_right(self._starts, day) - 1, 0)]


def account_facts(
    *, unit_ids: Iterable[int], as_of: dt.date | None = None
) -> dict[int, AccountFacts]:
    """The engine's facts for each of `unit_ids`, in four queries whatever their number.

    With `as_of`, only the payments received and the waivers effective on or before it (every
    charge of the units is kept: see docs/definitions.md, "对账单 / Statement")."""
    ids = sorted(set(unit_ids))
    accounts = {unit_id: AccountFacts(unit_id) for unit_id in ids}
    if not ids:
        return accounts
    charges = list(
        Charge.objects.filter(unit_id__in=ids)
        .order_by()
        .values_list(
            "pk",
            "unit_id",
            "unit__estate_id",
            "fee_item_id",
            "period_start",
            "due_date",
            "principal_fen",
        )
    )
    estate_ids = {row[2] for row in charges}
    versions: dict[int, list[ContractVersion]] = defaultdict(list)
    for version in (
        ContractVersion.objects.filter(contract__estate_id__in=estate_ids)
        .order_by("effective_from")
        .select_related("contract")
    ):
        versions[version.contract.estate_id].append(version)
    terms = {estate_id: _EstateTerms(versions[estate_id]) for estate_id in estate_ids}
    for pk, unit_id, estate_id, fee_item_id, period_start, due_date, principal_fen in charges:
        accounts[unit_id].charges.append(
            ChargeFacts(
                id=pk,
                fee_item=str(fee_item_id),
                period_start=period_start,
                due_date=due_date,
                principal_fen=principal_fen,
                terms=terms[estate_id].on(period_start),
            )
        )
    payments = Payment.objects.filter(unit_id__in=ids, status=PaymentStatus.RECORDED)
    if as_of is not None:
        payments = payments.filter(received_on__lte=as_of)
    payment_rows = payments.order_by().values_list(
        "pk", "unit_id", "received_on", "amount_fen", "designations"
    )
    for pk, unit_id, received_on, amount_fen, designations in payment_rows:
        accounts[unit_id].payments.append(
            PaymentFacts(
                id=pk,
                received_on=received_on,
                posted_seq=pk,
                amount_fen=amount_fen,
                designations=tuple(int(charge_id) for charge_id in designations or ()),
            )
        )
    waivers = Waiver.objects.filter(charge__unit_id__in=ids, status=WaiverStatus.ACTIVE)
    if as_of is not None:
        waivers = waivers.filter(effective_on__lte=as_of)
    waiver_rows = waivers.order_by().values_list(
        "pk", "charge__unit_id", "charge_id", "component", "amount_fen", "effective_on"
    )
    for pk, unit_id, charge_id, component, amount_fen, effective_on in waiver_rows:
        accounts[unit_id].waivers.append(
            WaiverFacts(
                id=pk,
                charge_id=charge_id,
                component=component,  # type: ignore[arg-type]  # Component values
                amount_fen=amount_fen,
                effective_on=effective_on,
            )
        )
    return accounts


def allocations_current(*, unit_ids: Iterable[int]) -> dict[int, Counter[AllocationKey]]:
    """The stored current allocations of each unit, as a multiset of AllocationKey (one query)."""
    ids = sorted(set(unit_ids))
    stored: dict[int, Counter[AllocationKey]] = {unit_id: Counter() for unit_id in ids}
    rows = (
        Allocation.objects.filter(charge__unit_id__in=ids, superseded_at__isnull=True)
        .order_by()
        .values_list("charge__unit_id", "payment_id", "charge_id", "component", "amount_fen")
    )
    for unit_id, payment_id, charge_id, component, amount_fen in rows:
        stored[unit_id][(payment_id, charge_id, component, amount_fen)] += 1
    return stored


def allocations_expected(state: LedgerState) -> Counter[AllocationKey]:
    """The engine's allocations as a multiset of AllocationKey."""
    return Counter(
        (line.payment_id, line.charge_id, line.component, line.amount_fen)
        for line in state.allocations
    )


# --- statement (对账单) ------------------------------------------------------------------------

#: 诉讼时效: three years (民法典 art. 188) from the due date, or from the last restart event
#: (催告送达, 债务承认, 起诉) while the clock ran — see `propfee.collection.limitation`.
LIMITATION_YEARS = 3


def limitation_expires_on(due_date: dt.date) -> dt.date:
    """due_date + 3 years; 29 February goes to 28 February (the month has no such day)."""
    year = due_date.year + LIMITATION_YEARS
    try:
        return due_date.replace(year=year)
    except ValueError:
        return due_date.replace(year=year, day=28)


@dataclass(frozen=True)
class StatementLine:
    """One charge of a statement: what it is, and its engine position at the statement date."""

    fee_item: str
    period_start: dt.date
    period_end: dt.date
    due_date: dt.date
    position: ChargePosition
    limitation_expires_on: dt.date
    #: Σ outstanding principal × day since the due date (fen-days), for the penalty bound.
    principal_days: int = 0
    #: The contract's grace days for this charge (宽限天数).
    grace_days: int = 0

    def overdue_on(self, day: dt.date) -> bool:
        """Past its due date and the contract's grace days on `day` (a demand may claim it)."""
        return day > self.due_date + dt.timedelta(days=self.grace_days)

    @property
    def charge_id(self) -> int:
        return self.position.charge_id


@dataclass(frozen=True)
class Statement:
    """A unit's account (对账单) at the end of `as_of`; amounts in fen."""

    unit_code: str
    as_of: dt.date
    lines: tuple[StatementLine, ...]
    unapplied_credit_fen: int

    @property
    def principal_outstanding_fen(self) -> int:
        return sum(line.position.principal_outstanding for line in self.lines)

    @property
    def penalty_outstanding_fen(self) -> int:
        return sum(line.position.penalty_outstanding for line in self.lines)

    @property
    def total_outstanding_fen(self) -> int:
        return self.principal_outstanding_fen + self.penalty_outstanding_fen


def limitation_dates(*, unit_ids: list[int], as_of: dt.date) -> dict[int, dt.date]:
    """charge id → the day its limitation period ends as known on `as_of`, restart events
    included (five queries). The rule lives with the restart events in the collection app."""
    from propfee.collection.limitation import limitation_expiry  # collection builds on ledger

    positions = limitation_expiry(unit_ids=unit_ids, as_of=as_of)
    return {charge_id: position.expires_on for charge_id, position in positions.items()}


def statements_for_units(
    *, unit_ids: Iterable[int], as_of: dt.date, codes: dict[int, str] | None = None
) -> dict[int, Statement]:
    """Each unit's statement (对账单) at the end of `as_of`: the engine's replay of all its
    charges against the payments received and waivers effective on or before `as_of`, with each
    charge's limitation expiry. A fixed number of queries for any number of units (batch
    printing reads hundreds at a time); `codes` (unit id → code) saves reading the codes."""
    ids = sorted(set(unit_ids))
    facts = account_facts(unit_ids=ids, as_of=as_of)
    expiry = limitation_dates(unit_ids=ids, as_of=as_of)
    details = {
        pk: (fee_item, period_end)
        for pk, fee_item, period_end in Charge.objects.filter(unit_id__in=many_values(ids))
        .order_by()
        .values_list("pk", "fee_item__name", "period_end")
    }
    if codes is None:
        codes = dict(Unit.objects.filter(pk__in=many_values(ids)).values_list("pk", "code"))
    statements = {}
    for unit_id in ids:
        account = facts[unit_id]
        state = account.replay()
        charges = {charge.id: charge for charge in account.charges}
        lines = []
        for position in state.positions(as_of):
            charge = charges[position.charge_id]
            fee_item, period_end = details[charge.id]
            lines.append(
                StatementLine(
                    fee_item=fee_item,
                    period_start=charge.period_start,
                    period_end=period_end,
                    due_date=charge.due_date,
                    position=position,
                    limitation_expires_on=expiry[charge.id],
                    principal_days=state.principal_days(charge.id, as_of),
                    grace_days=charge.terms.grace_days,
                )
            )
        statements[unit_id] = Statement(
            unit_code=codes.get(unit_id, ""),
            as_of=as_of,
            lines=tuple(lines),
            unapplied_credit_fen=state.unapplied_credit_fen(as_of),
        )
    return statements


def statement_for_unit(*, unit: Unit, as_of: dt.date) -> Statement:
    """The unit's statement at the end of `as_of` (see `statements_for_units`)."""
    return statements_for_units(unit_ids=[unit.pk], as_of=as_of, codes={unit.pk: unit.code})[
        unit.pk
    ]


def _yuan(fen: int) -> str:
    return str(fen_to_yuan(fen))


def statement_json(statement: Statement) -> dict[str, Any]:
    """The design's "Statement JSON": amounts as yuan strings ("1234.50"), dates ISO."""
    return {
        "unit": statement.unit_code,
        "as_of": statement.as_of.isoformat(),
        "charges": [
            {
                "id": line.charge_id,
                "fee_item": line.fee_item,
                "period_start": line.period_start.isoformat(),
                "period_end": line.period_end.isoformat(),
                "due_date": line.due_date.isoformat(),
                "principal": _yuan(line.position.principal),
                "principal_paid": _yuan(line.position.principal_paid),
                "principal_waived": _yuan(line.position.principal_waived),
                "principal_outstanding": _yuan(line.position.principal_outstanding),
                "penalty_accrued": _yuan(line.position.penalty_accrued),
                "penalty_paid": _yuan(line.position.penalty_paid),
                "penalty_waived": _yuan(line.position.penalty_waived),
                "penalty_outstanding": _yuan(line.position.penalty_outstanding),
                "days_overdue": line.position.days_overdue,
                "limitation_expires_on": line.limitation_expires_on.isoformat(),
            }
            for line in statement.lines
        ],
        "totals": {
            "principal_outstanding": _yuan(statement.principal_outstanding_fen),
            "penalty_outstanding": _yuan(statement.penalty_outstanding_fen),
            "total_outstanding": _yuan(statement.total_outstanding_fen),
            "unapplied_credit": _yuan(statement.unapplied_credit_fen),
        },
    }


# --- penalty reasonableness (违约金合理性) ------------------------------------------------------


@dataclass(frozen=True)
class PenaltyBound:
    """The penalty an account charges against the courts' yardstick: the loss of the unpaid
    principal at the 1-year LPR, plus 30% (docs/definitions.md §6, docs/compliance.md)."""

    claimed_fen: int
    bound_fen: int
    principal_days: int
    lpr_percent: Decimal
    multiplier: Decimal

    @property
    def exceeds(self) -> bool:
        return self.claimed_fen > self.bound_fen


def penalty_bound_settings() -> tuple[Decimal, Decimal]:
    """(1-year LPR in percent a year, multiplier) from settings."""
    lpr = Decimal(str(getattr(settings, "PROPFEE_PENALTY_LPR_PERCENT", "3.0")))
    multiplier = Decimal(str(getattr(settings, "PROPFEE_PENALTY_BOUND_MULTIPLIER", "1.3")))
    return lpr, multiplier


def penalty_bound(
    statement: Statement,
    *,
    lpr_percent: Decimal | None = None,
    multiplier: Decimal | None = None,
) -> PenaltyBound:
    """claimed = Σ (penalty accrued − penalty waived) over the statement's charges (paid or not:
    what the company charged); bound = round_half_up(Σ principal_days × LPR% × multiplier ÷
    (100 × 365)), rounded once. No query: the figures are the statement's."""
    default_lpr, default_multiplier = penalty_bound_settings()
    lpr = default_lpr if lpr_percent is None else lpr_percent
    factor = default_multiplier if multiplier is None else multiplier
    days = sum(line.principal_days for line in statement.lines)
    claimed = sum(
        line.position.penalty_accrued - line.position.penalty_waived for line in statement.lines
    )
    bound = round_half_up(Decimal(days) * lpr * factor / Decimal(36500))
    return PenaltyBound(
        claimed_fen=claimed,
        bound_fen=bound,
        principal_days=days,
        lpr_percent=lpr,
        multiplier=factor,
    )


def penalty_bound_for_unit(*, unit: Unit, as_of: dt.date) -> PenaltyBound:
    """The unit's penalty against the reasonableness bound at the end of `as_of`."""
    return penalty_bound(statement_for_unit(unit=unit, as_of=as_of))


def penalty_bound_warning(bound: PenaltyBound) -> str:
    """The warning shown with a statement whose penalty exceeds the bound ("" when it does not);
    Chinese, for the CLI (the web page words it in its template)."""
    if not bound.exceeds:
        return ""
    return (
        f"提示：计收违约金 ¥{fen_to_yuan(bound.claimed_fen)} 超过合理性上限 "
        f"¥{fen_to_yuan(bound.bound_fen)}（按一年期LPR {bound.lpr_percent}% × "
        f"{bound.multiplier} 计算的资金占用损失）。诉讼中法院可能依申请调减"
        "（民法典第585条；法释〔2023〕13号第65条）。"
    )


# --- waivers (减免) in the user's scope --------------------------------------------------------


def waiver_requests_visible_to(user: User) -> QuerySet[WaiverRequest]:
    """Waiver requests of the units `user` may see, newest first, with what a list shows."""
    return (
        WaiverRequest.objects.filter(charge__unit__in=units_visible_to(user).values("pk"))
        .select_related("charge__unit__estate", "charge__fee_item", "requested_by", "decided_by")
        .order_by("-requested_at", "-id")
    )


def unit_waivers(*, unit: Unit) -> QuerySet[Waiver]:
    """The unit's waivers (active and reversed), newest first, for its page."""
    return (
        Waiver.objects.filter(charge__unit_id=unit.pk)
        .select_related("charge__fee_item", "approved_by", "requested_by", "reversed_by")
        .order_by("-effective_on", "-id")
    )


def unit_waiver_requests(*, unit: Unit, status: str | None = None) -> QuerySet[WaiverRequest]:
    """The unit's waiver requests, newest first (optionally of one status)."""
    requests = WaiverRequest.objects.filter(charge__unit_id=unit.pk)
    if status is not None:
        requests = requests.filter(status=status)
    return requests.select_related("charge__fee_item", "requested_by").order_by(
        "-requested_at", "-id"
    )


# --- approval limits (减免审批权限) -----------------------------------------------------------


@dataclass(frozen=True)
class WaiverLimitRow:
    """One role's limit for one component on one charge: `max_fen` None = no limit, 0 = may
    approve nothing; `is_default` when the company has not set its own."""

    role: str
    component: str
    max_fen: int | None
    is_default: bool

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label)

    @property
    def component_label(self) -> str:
        return str(Component(self.component).label)


def waiver_limits_of(*, company_id: int) -> list[WaiverLimitRow]:
    """The limits of every role that may approve 减免, per component (one query)."""
    own = {
        (role, component): max_fen
        for role, component, max_fen in WaiverApprovalLimit.objects.filter(
            company_id=company_id
        ).values_list("role", "component", "max_fen")
    }
    rows = []
    for role in Role.values:
        if Capability.APPROVE_WAIVERS not in ROLE_CAPABILITIES[role]:
            continue
        for component in Component.values:
            key = (role, component)
            rows.append(
                WaiverLimitRow(
                    role=role,
                    component=component,
                    max_fen=own[key] if key in own else DEFAULT_APPROVAL_LIMITS_FEN.get(key, 0),
                    is_default=key not in own,
                )
            )
    return rows
