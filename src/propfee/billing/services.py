"""Billing writes: fee items, tariffs, contract versions, and billing runs (post, reverse).

Each service runs in one transaction, checks the actor's capability (`actor=None` is the system
itself) and writes its audit rows in the same transaction. A billing run is set-based: a fixed
number of queries whatever the number of units, and idempotent through the
`one_charge_per_period` key, so a repeated or concurrent run never bills anything twice."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from propfee.billing.constants import (
    BILLING_CYCLES,
    DEFAULT_PENALTY_DAILY_RATE,
    DUE_DAY_MAX,
    RATE_PLACES,
    AllocationOrder,
    BillingRunStatus,
    TariffBasis,
)
from propfee.billing.models import (
    BillingRun,
    Charge,
    Contract,
    ContractVersion,
    FeeItem,
    Tariff,
)
from propfee.billing.periods import month_end, period_label, period_parse
from propfee.billing.pricing import charge_principal_fen
from propfee.billing.selectors import (
    BuildingBilling,
    billing_cycle_starts,
    contract_terms_on,
    tariffs_in_force,
)
from propfee.core.bulk import rows_insert_new
from propfee.core.models import AuditAction, User
from propfee.core.roles import Capability, PermissionDenied, require
from propfee.core.services import AuditBatch, audit_record, model_snapshot
from propfee.estates.constants import UnitStatus, UnitType
from propfee.estates.models import Company, Estate, Occupancy, Unit
from propfee.estates.selectors import estates_visible_to
from propfee.ledger.models import Allocation, Waiver
from propfee.ledger.services import charges_reallocate

FEE_ITEM_FIELDS = ("code", "name")
TARIFF_FIELDS = (
    "fee_item",
    "estate",
    "unit_type",
    "basis",
    "rate_yuan",
    "effective_from",
    "effective_to",
    "vacancy_discount_ratio",
)
CONTRACT_VERSION_FIELDS = (
    "contract",
    "effective_from",
    "billing_cycle_months",
    "due_day",
    "penalty_daily_rate",
    "grace_days",
    "penalty_cap_ratio",
    "allocation_order",
)
_ONE_DAY = dt.timedelta(days=1)
CHARGE_INSERT_FIELDS = (
    "unit",
    "fee_item",
    "period_start",
    "period_end",
    "due_date",
    "principal_fen",
    "payer",
    "billing_run",
    "created_at",
)

# Allowed status changes of a billing run (anything else is a BillingRunTransitionError).
RUN_TRANSITIONS: dict[str, frozenset[str]] = {
    BillingRunStatus.DRAFT: frozenset({BillingRunStatus.POSTED}),
    BillingRunStatus.POSTED: frozenset({BillingRunStatus.REVERSED}),
    BillingRunStatus.REVERSED: frozenset(),
}


class BillingError(ValueError):
    """A write that the billing rules refuse; the message is for the user."""


class BillingRunTransitionError(BillingError):
    """A billing run status change that RUN_TRANSITIONS does not allow."""


def _estate_require(actor: User | None, estate: Estate) -> None:
    """The actor may manage billing, and on this estate."""
    require(actor, Capability.MANAGE_BILLING)
    if actor is not None and not estates_visible_to(actor).filter(pk=estate.pk).exists():
        raise PermissionDenied(Capability.MANAGE_BILLING)


def _run_transition(run: BillingRun, status: str) -> None:
    if status not in RUN_TRANSITIONS[run.status]:
        raise BillingRunTransitionError(
            f"计费批次状态为“{run.get_status_display()}”，"
            f"不能改为“{BillingRunStatus(status).label}”"
        )
    run.status = status


# --- fee items and tariffs ---------------------------------------------------------------


@transaction.atomic
def fee_item_create(*, company: Company, code: str, name: str, actor: User | None) -> FeeItem:
    require(actor, Capability.MANAGE_BILLING)
    code, name = code.strip().upper(), name.strip()
    if not code or not name:
        raise BillingError("收费项目的编码和名称不能为空")
    if FeeItem.objects.filter(company=company, code=code).exists():
        raise BillingError(f"收费项目编码已存在：{code}")
    item = FeeItem.objects.create(company=company, code=code, name=name)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=item,
        after=model_snapshot(item, FEE_ITEM_FIELDS),
    )
    return item


def _decimal_check(value: Decimal, *, places: int, label: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise BillingError(f"{label}必须是数字：{value}")
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise BillingError(f"{label}最多保留{places}位小数：{value}")
    return value


def _billed_from(*, estate: Estate, day: dt.date, fee_item: FeeItem | None = None) -> Q:
    """Charges of `estate` whose period reaches `day` or later (a change from `day` would alter
    what they were billed on)."""
    q = Q(unit__estate=estate, period_end__gte=day)
    if fee_item is not None:
        q &= Q(fee_item=fee_item)
    return q


@transaction.atomic
def tariff_create(
    *,
    fee_item: FeeItem,
    estate: Estate,
    unit_type: str,
    basis: str,
    rate_yuan: Decimal,
    effective_from: dt.date,
    effective_to: dt.date | None = None,
    vacancy_discount_ratio: Decimal | None = None,
    actor: User | None,
) -> Tariff:
    """A tariff from `effective_from`. A rate change is a new tariff: the current one ends the
    day before, and periods already billed keep the rate they were billed at (so the new one
    may neither start before the current one nor reach a billed period)."""
    _estate_require(actor, estate)
    if fee_item.company_id != estate.company_id:
        raise BillingError("收费项目与项目不属于同一物业公司")
    if unit_type not in UnitType.values:
        raise BillingError(f"未知的房屋类型：{unit_type}")
    if basis not in TariffBasis.values:
        raise BillingError(f"未知的计费方式：{basis}")
    if (basis == TariffBasis.PER_SPACE_MONTH) != (unit_type == UnitType.PARKING):
        raise BillingError("按车位计费只适用于车位，车位也只能按车位计费")
    _decimal_check(rate_yuan, places=RATE_PLACES, label="单价")
    if rate_yuan <= 0:
        raise BillingError(f"单价必须大于0：{rate_yuan}")
    if vacancy_discount_ratio is not None:
        _decimal_check(vacancy_discount_ratio, places=4, label="空置优惠比例")
        if not 0 <= vacancy_discount_ratio <= 1:
            raise BillingError(f"空置优惠比例应在0到1之间：{vacancy_discount_ratio}")
    if effective_to is not None and effective_to < effective_from:
        raise BillingError("截止日期不能早于生效日期")

    current = (
        Tariff.objects.select_for_update()
        .filter(fee_item=fee_item, estate=estate, unit_type=unit_type)
        .order_by("-effective_from")
        .first()
    )
    if current is not None and effective_from <= current.effective_from:
        raise BillingError(
            f"新收费标准须晚于现行标准的生效日期（{current.effective_from:%Y-%m-%d}），"
            "不能重叠或追溯调整"
        )
    billed = Charge.objects.filter(
        _billed_from(estate=estate, day=effective_from, fee_item=fee_item),
        unit__unit_type=unit_type,
    )
    if billed.exists():
        raise BillingError(
            f"{effective_from:%Y-%m-%d} 之后的期间已经计费，新收费标准不能追溯；"
            "请从尚未计费的月份开始生效"
        )
    if current is not None and (
        current.effective_to is None or current.effective_to >= effective_from
    ):
        before = model_snapshot(current, ["effective_to"])
        current.effective_to = effective_from - _ONE_DAY
        current.save(update_fields=["effective_to", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=current,
            estate_id=estate.pk,
            before=before,
            after=model_snapshot(current, ["effective_to"]),
        )
    tariff = Tariff.objects.create(
        fee_item=fee_item,
        estate=estate,
        unit_type=unit_type,
        basis=basis,
        rate_yuan=rate_yuan,
        effective_from=effective_from,
        effective_to=effective_to,
        vacancy_discount_ratio=vacancy_discount_ratio,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=tariff,
        estate_id=estate.pk,
        after=model_snapshot(tariff, TARIFF_FIELDS),
    )
    return tariff


# --- contracts -----------------------------------------------------------------------------


@transaction.atomic
def contract_version_create(
    *,
    estate: Estate,
    effective_from: dt.date,
    billing_cycle_months: int = 1,
    due_day: int = 1,
    penalty_daily_rate: Decimal = DEFAULT_PENALTY_DAILY_RATE,
    grace_days: int = 0,
    penalty_cap_ratio: Decimal | None = None,
    allocation_order: str = AllocationOrder.PENALTY_FIRST,
    actor: User | None,
) -> ContractVersion:
    """New contract terms for `estate` from `effective_from` (the first day of a month; the
    estate's contract is created with its first version). Terms change from their effective
    date only: a version may not start on or before the latest one, nor reach a billed period."""
    _estate_require(actor, estate)
    if effective_from.day != 1:
        raise BillingError("合同条款须从某月1日起生效")
    if billing_cycle_months not in BILLING_CYCLES:
        raise BillingError(
            f"缴费周期只能是{'、'.join(map(str, BILLING_CYCLES))}个月：{billing_cycle_months}"
        )
    if not 1 <= due_day <= DUE_DAY_MAX:
        raise BillingError(f"缴费日应在1到{DUE_DAY_MAX}日之间：{due_day}")
    _decimal_check(penalty_daily_rate, places=6, label="违约金日费率")
    if penalty_daily_rate < 0:
        raise BillingError("违约金日费率不能为负数")
    if grace_days < 0:
        raise BillingError("宽限天数不能为负数")
    if penalty_cap_ratio is not None:
        _decimal_check(penalty_cap_ratio, places=4, label="违约金上限比例")
        if penalty_cap_ratio <= 0:
            raise BillingError("违约金上限比例必须大于0")
    if allocation_order not in AllocationOrder.values:
        raise BillingError(f"未知的核销顺序：{allocation_order}")

    contract, created = Contract.objects.get_or_create(
        estate=estate, defaults={"name": f"{estate.name}物业服务合同"}
    )
    if created:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=contract,
            estate_id=estate.pk,
            after={"name": contract.name},
        )
    latest = (
        ContractVersion.objects.select_for_update()
        .filter(contract=contract)
        .order_by("-effective_from")
        .first()
    )
    if latest is not None and effective_from <= latest.effective_from:
        raise BillingError(
            f"合同条款须晚于最新版本的生效日期（{latest.effective_from:%Y-%m-%d}），"
            "不能重叠或追溯调整"
        )
    if Charge.objects.filter(_billed_from(estate=estate, day=effective_from)).exists():
        raise BillingError(
            f"{effective_from:%Y-%m-%d} 之后的期间已经计费，合同条款不能追溯；"
            "请从尚未计费的月份开始生效"
        )
    version = ContractVersion.objects.create(
        contract=contract,
        effective_from=effective_from,
        billing_cycle_months=billing_cycle_months,
        due_day=due_day,
        penalty_daily_rate=penalty_daily_rate,
        grace_days=grace_days,
        penalty_cap_ratio=penalty_cap_ratio,
        allocation_order=allocation_order,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=version,
        estate_id=estate.pk,
        after=model_snapshot(version, CONTRACT_VERSION_FIELDS),
    )
    return version


# --- billing runs --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChargeLine:
    """One charge a run would create."""

    unit_id: int
    unit_code: str
    building_code: str
    building_name: str
    fee_item_id: int
    fee_item_name: str
    period_start: dt.date
    period_end: dt.date
    due_date: dt.date
    principal_fen: int
    payer_id: int | None


@dataclass
class BillingPlan:
    """What billing `estate` for the month `period_start` comes to, before anything is written."""

    estate: Estate
    period_start: dt.date
    period_end: dt.date
    terms: ContractVersion
    cycle_start: bool
    unit_count: int = 0
    new_lines: list[ChargeLine] = field(default_factory=list)
    already_billed: int = 0


@dataclass(frozen=True)
class BillingPreview:
    """A billing run's outcome before it is posted: the units billed, the new charges and their
    total (overall and by building), and how many of the period's charges already exist."""

    estate: Estate
    period: str
    period_start: dt.date
    period_end: dt.date
    cycle_start: bool
    unit_count: int
    charge_count: int
    total_fen: int
    already_billed: int
    without_payer: int
    by_building: list[BuildingBilling]


# A payer occupancy as the run needs it: (party id, since, until).
PayerSpan = tuple[int, dt.date, dt.date | None]


def _payers_on(estate: Estate, start: dt.date, end: dt.date) -> dict[int, list[PayerSpan]]:
    """Payer occupancies of the estate's units overlapping [start, end], newest first per unit
    (the order `current_payer` picks from), in one query, as tuples (no model object each)."""
    rows = (
        Occupancy.objects.filter(unit__estate=estate, is_payer=True, since__lte=end)
        .filter(Q(until__isnull=True) | Q(until__gte=start))
        .order_by("unit_id", "-since", "id")
        .values_list("unit_id", "party_id", "since", "until")
    )
    by_unit: dict[int, list[PayerSpan]] = defaultdict(list)
    for unit_id, party_id, since, until in rows:
        by_unit[unit_id].append((party_id, since, until))
    return by_unit


def _payer_on(occupancies: list[PayerSpan], day: dt.date) -> int | None:
    """`estates.selectors.current_payer` on `day`, over occupancies already loaded."""
    for party_id, since, until in occupancies:
        if since <= day and (until is None or until >= day):
            return party_id
    return None


def _billing_plan(*, estate: Estate, period_start: dt.date) -> BillingPlan:
    """The charges of one month's run, computed in Python over one query each for the contract,
    the tariffs, the units, the payers and the charges that already exist."""
    terms = contract_terms_on(estate=estate, day=period_start)
    if terms is None:
        raise BillingError(
            f"项目“{estate.name}”在 {period_label(period_start)} 没有生效的物业服务合同"
        )
    months = terms.billing_cycle_months
    period_end = month_end(period_start, months)
    cycle_start = billing_cycle_starts(terms=terms, period_start=period_start)
    plan = BillingPlan(estate, period_start, period_end, terms, cycle_start)
    if not cycle_start:
        return plan

    # The tariff in force on the period's first day prices the whole period.
    tariffs: dict[str, list[Tariff]] = defaultdict(list)
    for tariff in tariffs_in_force(estate=estate, on=period_start):
        tariffs[tariff.unit_type].append(tariff)
    if not tariffs:
        return plan
    units = (
        Unit.objects.filter(
            estate=estate,
            unit_type__in=list(tariffs),
            handover_date__isnull=False,
            handover_date__lte=period_end,
        )
        .order_by("building__code", "code")
        .values_list(
            "pk",
            "code",
            "building__code",
            "building__name",
            "unit_type",
            "area_m2",
            "status",
            "handover_date",
        )
    )
    payers = _payers_on(estate, period_start, period_end)
    existing = set(
        Charge.objects.filter(unit__estate=estate, period_start=period_start).values_list(
            "unit_id", "fee_item_id"
        )
    )
    due_date = period_start.replace(day=terms.due_day)
    period_days = (period_end - period_start).days + 1
    billed_units: set[int] = set()
    for pk, code, b_code, b_name, unit_type, area, status, handover in units:
        assert handover is not None  # filtered above
        first_day = max(period_start, handover)
        payer_id = _payer_on(payers.get(pk, []), first_day)
        for tariff in tariffs[unit_type]:
            principal = charge_principal_fen(
                basis=tariff.basis,
                rate_yuan=tariff.rate_yuan,
                area_m2=area,
                months=months,
                vacant=status == UnitStatus.VACANT,
                vacancy_discount_ratio=tariff.vacancy_discount_ratio,
                billed_days=(period_end - first_day).days + 1,
                period_days=period_days,
            )
            if principal <= 0:
                continue
            billed_units.add(pk)
            if (pk, tariff.fee_item_id) in existing:
                plan.already_billed += 1
                continue
            plan.new_lines.append(
                ChargeLine(
                    pk,
                    code,
                    b_code,
                    b_name,
                    tariff.fee_item_id,
                    tariff.fee_item.name,
                    period_start,
                    period_end,
                    due_date,
                    principal,
                    payer_id,
                )
            )
    plan.unit_count = len(billed_units)
    return plan


def _by_building(lines: list[ChargeLine]) -> list[BuildingBilling]:
    totals: dict[tuple[str, str], list[int]] = {}
    for line in lines:
        entry = totals.setdefault((line.building_code, line.building_name), [0, 0])
        entry[0] += 1
        entry[1] += line.principal_fen
    return [BuildingBilling(code, name, n, fen) for (code, name), (n, fen) in totals.items()]


def billing_run_preview(*, estate: Estate, period: str, actor: User | None) -> BillingPreview:
    """What `billing_run_post` would create for `period` ("YYYY-MM"), without writing."""
    _estate_require(actor, estate)
    plan = _billing_plan(estate=estate, period_start=period_parse(period))
    return BillingPreview(
        estate=estate,
        period=period_label(plan.period_start),
        period_start=plan.period_start,
        period_end=plan.period_end,
        cycle_start=plan.cycle_start,
        unit_count=plan.unit_count,
        charge_count=len(plan.new_lines),
        total_fen=sum(line.principal_fen for line in plan.new_lines),
        already_billed=plan.already_billed,
        without_payer=sum(1 for line in plan.new_lines if line.payer_id is None),
        by_building=_by_building(plan.new_lines),
    )


@transaction.atomic
def billing_run_post(
    *, estate: Estate, period: str, actor: User | None, dry_run: bool = False
) -> BillingRun:
    """Bill `estate` for `period` ("YYYY-MM"): one charge per unit and fee item whose tariff is
    in force, for the units handed over by the period's end, pro-rated by days for a handover
    inside the period, less the vacancy discount; nothing in a month that does not start a
    billing cycle. Charges that already exist are left alone (a second run creates none), and
    the insert skips any key a concurrent run wrote first. `dry_run`: the unsaved draft run."""
    _estate_require(actor, estate)
    period_start = period_parse(period)
    if not dry_run:
        # Runs of one estate take turns, so the second sees what the first wrote.
        Estate.objects.select_for_update().filter(pk=estate.pk).values_list("pk").first()
    plan = _billing_plan(estate=estate, period_start=period_start)
    run = BillingRun(
        estate=estate,
        period_start=period_start,
        unit_count=plan.unit_count,
        charge_count=len(plan.new_lines),
        already_billed_count=plan.already_billed,
        total_fen=sum(line.principal_fen for line in plan.new_lines),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    if dry_run:
        return run
    run.save()
    now = timezone.now()
    # Plain tuples (COPY / executemany), not a model object per charge: at 1,000,000 units
    # building the objects cost many times the insert. Keys a concurrent run took are skipped.
    rows_insert_new(
        Charge,
        CHARGE_INSERT_FIELDS,
        [
            (
                line.unit_id,
                line.fee_item_id,
                line.period_start,
                line.period_end,
                line.due_date,
                line.principal_fen,
                line.payer_id,
                run.pk,
                now,
            )
            for line in plan.new_lines
        ],
        unique_fields=("unit", "fee_item", "period_start"),
    )
    # What was really inserted (a concurrent run may have taken some keys first).
    inserted = (
        list(
            Charge.objects.filter(billing_run=run).values_list(
                "unit_id", "fee_item_id", "pk", "principal_fen"
            )
        )
        if plan.new_lines
        else []
    )
    created = {(unit_id, item_id): (pk, fen) for unit_id, item_id, pk, fen in inserted}
    run.already_billed_count = plan.already_billed + len(plan.new_lines) - len(created)
    run.charge_count = len(created)
    run.total_fen = sum(fen for _pk, fen in created.values())
    _run_transition(run, BillingRunStatus.POSTED)
    run.save(update_fields=["status", "charge_count", "already_billed_count", "total_fen"])

    audit = AuditBatch(actor=actor, note=f"计费 {period_label(period_start)}")
    audit.add(
        action=AuditAction.CREATE,
        obj=run,
        estate_id=estate.pk,
        after={
            "period": period_label(period_start),
            "unit_count": run.unit_count,
            "charge_count": run.charge_count,
            "already_billed_count": run.already_billed_count,
            "total_fen": run.total_fen,
        },
    )
    label = period_label(period_start)
    for line in plan.new_lines:
        if (key := created.get((line.unit_id, line.fee_item_id))) is not None:
            audit.add_row(
                AuditAction.CREATE,
                "billing.charge",
                key[0],
                f"{line.unit_code} {line.fee_item_name} {label}",
                estate.pk,
                None,
                {"principal_fen": line.principal_fen, "billing_run": run.pk},
            )
    audit.write()
    # Units holding credit (预存) pay the new charges from it now (set-based selection; the
    # replay runs only for those units).
    if created:
        charges_reallocate(charges=Charge.objects.filter(billing_run=run))
    return run


def _allocated_charge_ids(run: BillingRun) -> set[int]:
    """Ids of the run's charges that any payment allocation (核销) or waiver touches.

    A current allocation or an active waiver means money or an approval rests on the charge.
    A superseded allocation counts too: it is the history of what a payment once paid, and
    deleting its charge would erase that history. `billing_run_reverse` refuses whenever the
    set is not empty."""
    charges = Charge.objects.filter(billing_run=run)
    allocated = Allocation.objects.filter(charge__in=charges).values_list("charge_id", flat=True)
    waived = Waiver.objects.filter(charge__in=charges).values_list("charge_id", flat=True)
    return set(allocated.distinct()) | set(waived.distinct())


@transaction.atomic
def billing_run_reverse(*, run: BillingRun, actor: User | None, reason: str) -> BillingRun:
    """Undo a posted run: delete its charges and mark it reversed, with the reason. Refused once
    any of its charges has an allocation; then corrections are waivers or adjusting charges."""
    _estate_require(actor, run.estate)
    reason = reason.strip()
    if not reason:
        raise BillingError("请填写撤销原因")
    run = BillingRun.objects.select_for_update().select_related("estate").get(pk=run.pk)
    if BillingRunStatus.REVERSED not in RUN_TRANSITIONS[run.status]:
        _run_transition(run, BillingRunStatus.REVERSED)  # raises, with the current status
    allocated = _allocated_charge_ids(run)
    if allocated:
        raise BillingError(
            f"该计费批次已有 {len(allocated)} 笔应收核销了收款或减免，不能撤销；"
            "请改用减免或调整应收"
        )
    charges = list(
        Charge.objects.filter(billing_run=run)
        .order_by("pk")
        .values_list("pk", "unit__code", "fee_item__name", "principal_fen")
    )
    Charge.objects.filter(billing_run=run).delete()
    _run_transition(run, BillingRunStatus.REVERSED)
    run.reversed_by = actor if actor is not None and actor.is_authenticated else None
    run.reversed_at = timezone.now()
    run.reverse_reason = reason[:500]
    run.save(update_fields=["status", "reversed_by", "reversed_at", "reverse_reason"])

    label = period_label(run.period_start)
    audit = AuditBatch(actor=actor, note=f"撤销计费 {label}：{reason}")
    audit.add(
        action=AuditAction.UPDATE,
        obj=run,
        estate_id=run.estate_id,
        before={"status": BillingRunStatus.POSTED},
        after={"status": BillingRunStatus.REVERSED, "deleted_charges": len(charges)},
    )
    for pk, unit_code, fee_item_name, principal_fen in charges:
        audit.add_row(
            AuditAction.DELETE,
            "billing.charge",
            pk,
            f"{unit_code} {fee_item_name} {label}",
            run.estate_id,
            {"principal_fen": principal_fen, "billing_run": run.pk},
            None,
        )
    audit.write()
    return run
