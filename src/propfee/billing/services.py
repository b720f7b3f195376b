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
from propfee.billing.runplan import (
    PlanBuilding,
    PlanRangeError,
    PlanTariff,
    plan_insert,
    plan_tariff,
    plan_totals,
)
from propfee.billing.selectors import (
    BuildingBilling,
    billing_cycle_starts,
    contract_terms_on,
    tariffs_in_force,
)
from propfee.core.models import AuditAction, User
from propfee.core.roles import Capability, PermissionDenied, require
from propfee.core.services import AuditBatch, audit_record, model_snapshot
from propfee.estates.constants import UnitType
from propfee.estates.models import Company, Estate
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
class BillingPlan:
    """What billing `estate` for the month `period_start` rests on: the contract terms, the
    period, whether the month starts a billing cycle and the tariffs in force (by fee item
    code). The charges themselves are computed in SQL (`runplan`)."""

    estate: Estate
    period_start: dt.date
    period_end: dt.date
    terms: ContractVersion
    cycle_start: bool
    tariffs: list[Tariff] = field(default_factory=list)

    @property
    def due_date(self) -> dt.date:
        return self.period_start.replace(day=self.terms.due_day)

    def plan_tariffs(self) -> list[PlanTariff]:
        try:
            return [plan_tariff(t, months=self.terms.billing_cycle_months) for t in self.tariffs]
        except PlanRangeError as exc:
            raise BillingError("收费标准的单价超出可计算的范围，请检查收费标准") from exc


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


def _payer_on(occupancies: list[PayerSpan], day: dt.date) -> int | None:
    """`estates.selectors.current_payer` on `day`, over occupancies already loaded (the charges
    import; a billing run picks the payer in SQL, by the same rule)."""
    for party_id, since, until in occupancies:
        if since <= day and (until is None or until >= day):
            return party_id
    return None


def _billing_plan(*, estate: Estate, period_start: dt.date) -> BillingPlan:
    """The contract terms and tariffs of one month's run (two queries)."""
    terms = contract_terms_on(estate=estate, day=period_start)
    if terms is None:
        raise BillingError(
            f"项目“{estate.name}”在 {period_label(period_start)} 没有生效的物业服务合同"
        )
    period_end = month_end(period_start, terms.billing_cycle_months)
    cycle_start = billing_cycle_starts(terms=terms, period_start=period_start)
    # The tariff in force on the period's first day prices the whole period.
    tariffs = list(tariffs_in_force(estate=estate, on=period_start)) if cycle_start else []
    return BillingPlan(estate, period_start, period_end, terms, cycle_start, tariffs)


def _plan_totals(plan: BillingPlan, *, by_building: bool, new: bool) -> list[PlanBuilding]:
    if not plan.tariffs:
        return []
    return plan_totals(
        estate_id=plan.estate.pk,
        period_start=plan.period_start,
        period_end=plan.period_end,
        tariffs=plan.plan_tariffs(),
        by_building=by_building,
        new=new,
    )


def billing_run_preview(*, estate: Estate, period: str, actor: User | None) -> BillingPreview:
    """What `billing_run_post` would create for `period` ("YYYY-MM"), without writing."""
    _estate_require(actor, estate)
    plan = _billing_plan(estate=estate, period_start=period_parse(period))
    buildings = _plan_totals(plan, by_building=True, new=True)
    return BillingPreview(
        estate=estate,
        period=period_label(plan.period_start),
        period_start=plan.period_start,
        period_end=plan.period_end,
        cycle_start=plan.cycle_start,
        unit_count=sum(b.units for b in buildings),
        charge_count=sum(b.new_count for b in buildings),
        total_fen=sum(b.new_total_fen for b in buildings),
        already_billed=sum(b.pairs - b.new_count for b in buildings),
        without_payer=sum(b.new_without_payer for b in buildings),
        by_building=[
            BuildingBilling(b.code, b.name, b.new_count, b.new_total_fen)
            for b in buildings
            if b.new_count
        ],
    )


@transaction.atomic
def billing_run_post(
    *, estate: Estate, period: str, actor: User | None, dry_run: bool = False
) -> BillingRun:
    """Bill `estate` for `period` ("YYYY-MM"): one charge per unit and fee item whose tariff is
    in force, for the units handed over by the period's end, pro-rated by days for a handover
    inside the period, less the vacancy discount; nothing in a month that does not start a
    billing cycle. Charges that already exist are left alone (a second run creates none), and
    the insert skips any key a concurrent run wrote first. `dry_run`: the unsaved draft run.

    Set-based: the charges are computed and inserted by the database (`runplan`, one
    `INSERT … SELECT` per fee item, so that a unit's charges are numbered in fee item order).
    The audit log gets one row for the run, with its counts and total; each charge points to
    the run (`billing_run`), which is how a charge is traced to the billing that created it."""
    _estate_require(actor, estate)
    period_start = period_parse(period)
    if not dry_run:
        # Runs of one estate take turns, so the second sees what the first wrote.
        Estate.objects.select_for_update().filter(pk=estate.pk).values_list("pk").first()
    plan = _billing_plan(estate=estate, period_start=period_start)
    # A dry run counts the new charges; a real run counts what its inserts wrote, so it only
    # needs the pairs and units of the plan (no look-up of existing charges).
    totals = _plan_totals(plan, by_building=False, new=dry_run)
    pairs = sum(t.pairs for t in totals)
    new_count = sum(t.new_count for t in totals)
    run = BillingRun(
        estate=estate,
        period_start=period_start,
        unit_count=sum(t.units for t in totals),
        charge_count=new_count,
        already_billed_count=pairs - new_count,
        total_fen=sum(t.new_total_fen for t in totals),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    if dry_run:
        return run
    run.save()
    inserted, total = 0, 0
    if pairs:
        # A unit's charges get their ids in fee item order (the engine's tie-break for charges
        # due the same day), so each fee item is one statement, in code order.
        by_item: dict[int, list[PlanTariff]] = defaultdict(list)
        for tariff in plan.plan_tariffs():
            by_item[tariff.fee_item_id].append(tariff)
        now = timezone.now()
        for tariffs in by_item.values():
            count, fen = plan_insert(
                estate_id=estate.pk,
                period_start=period_start,
                period_end=plan.period_end,
                due_date=plan.due_date,
                tariffs=tariffs,
                billing_run_id=run.pk,
                created_at=now,
            )
            inserted += count
            total += fen
    # What was really inserted: a concurrent writer may have taken some keys first.
    run.charge_count = inserted
    run.already_billed_count = pairs - inserted
    run.total_fen = total
    _run_transition(run, BillingRunStatus.POSTED)
    run.save(update_fields=["status", "charge_count", "already_billed_count", "total_fen"])
    audit_record(
        actor=actor,
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
        note=f"计费 {period_label(period_start)}",
    )
    # Units holding credit (预存) pay the new charges from it now (set-based selection; the
    # replay runs only for those units).
    if inserted:
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
