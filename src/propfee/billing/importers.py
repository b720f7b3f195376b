"""The charges import kind (应收): one row per charge (房屋 + 收费项目 + 计费开始), for taking over
the accounts of another system, with an optional 已缴金额 recorded as an opening-balance payment.

Every row is checked before anything is written: the unit exists and is in the actor's scope
(outside it reads as unknown), the fee item is one of the company's (by code or name), the dates
are valid and the period ends on or after it starts, the amount is above zero with at most two
decimals, 已缴金额 is not negative and not above the amount, no two rows share (unit, fee item,
period start), and no period overlaps another of the same unit and fee item, in the file or
already posted.

A charge is never edited after posting (design: Charge), so a row whose key already exists is
不变 when it says exactly what is posted (period end, amount, due date, opening payment), and an
error naming each cell that differs otherwise. Corrections are waivers or adjusting charges.

New charges are inserted as plain rows (COPY on PostgreSQL) with no billing run: `billing_run`
NULL marks a charge that no billing run created, and each has an audit row naming the file.
A 已缴金额 above zero is recorded through `payment_record` as a payment of channel 期初已缴,
received on the due date (today if that is later), designated to its charge and referenced
`期初-<charge id>`, so the ledger allocates it exactly like any payment and a re-import finds
it. Those payments go one by one (the ledger replays the unit after each); the charges do not."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError
from django.utils import timezone

from propfee.billing.models import Charge, FeeItem
from propfee.core.importing import (
    CellValue,
    ImportColumn,
    ImportContext,
    ImportKind,
    ImportPlan,
    ImportRow,
    RowAction,
    amount_fen_parser,
    cell_text,
    date_parse,
    import_kind_register,
    many_values,
    rows_insert,
)
from propfee.core.models import AuditAction
from propfee.core.money import format_yuan
from propfee.core.roles import Capability, role_can
from propfee.core.services import AuditBatch
from propfee.estates.importers.scope import ImportScope
from propfee.estates.models import Occupancy, Unit
from propfee.ledger.services import charges_reallocate
from propfee.payments.constants import PaymentChannel
from propfee.payments.models import Payment
from propfee.payments.services import PaymentError, payment_record

CHARGE_COLUMNS = (
    ImportColumn("房屋编码", "unit", True, "房屋编码，如 DEMO-3-1502；房屋需已存在", "DEMO-3-1502"),
    ImportColumn(
        "收费项目", "fee_item", True, "收费项目的编码或名称，如 WYF 或 物业费；需已设置", "物业费"
    ),
    ImportColumn("计费开始", "period_start", True, "计费期间的第一天", dt.date(2025, 1, 1)),
    ImportColumn(
        "计费结束", "period_end", True, "计费期间的最后一天，不能早于计费开始", dt.date(2025, 1, 31)
    ),
    ImportColumn("应收金额", "amount", True, "元，必须大于0，最多两位小数", "268.50"),
    ImportColumn("应缴日期", "due_date", True, "逾期从次日起计算", dt.date(2025, 1, 1)),
    ImportColumn(
        "已缴金额",
        "paid",
        False,
        "切换系统前已缴的金额（元），登记为“期初已缴”收款并核销到该笔应收；不能大于应收金额，"
        "未缴留空或填0",
        "100.00",
    ),
)

# The columns of the plain-row insert, in the order of `_charges_insert`'s tuples.
_INSERT_FIELDS = (
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
# A payer occupancy: (party id, since, until).
_PayerSpan = tuple[int, dt.date, dt.date | None]
OPENING_REFERENCE_PREFIX = "期初-"
_AMOUNT = amount_fen_parser()
_PAID = amount_fen_parser(allow_zero=True)
_FEE_ITEM_MAX = 64


def opening_reference(charge_id: int) -> str:
    """The reference (流水号) of the opening-balance payment of one charge."""
    return f"{OPENING_REFERENCE_PREFIX}{charge_id}"


def _unit_code_parse(value: CellValue) -> str:
    code = cell_text(value).strip().upper()
    if len(code) > 96:
        raise ValueError("不能超过96个字符")
    return code


def _fee_item_parse(value: CellValue) -> str:
    text = cell_text(value).strip()
    if len(text) > _FEE_ITEM_MAX:
        raise ValueError(f"不能超过{_FEE_ITEM_MAX}个字符")
    return text


def _day(value: dt.date) -> str:
    return value.isoformat()


@dataclass(slots=True)
class _ChargeDraft:
    number: int
    unit: Unit
    fee_item: FeeItem
    period_start: dt.date
    period_end: dt.date
    principal_fen: int
    due_date: dt.date
    paid_fen: int


def _fee_items_lookup(ctx: ImportContext) -> tuple[dict[str, FeeItem], set[str]]:
    """The company's fee items by upper-cased code and by name, and the names two items share."""
    by_key: dict[str, FeeItem] = {}
    names: dict[str, FeeItem] = {}
    shared: set[str] = set()
    for item in FeeItem.objects.filter(company=ctx.company).order_by("code"):
        by_key[item.code.upper()] = item
        if item.name in names:
            shared.add(item.name)
        names[item.name] = item
    for name, item in names.items():
        by_key.setdefault(name, item)
    return by_key, shared


def _payers(units: list[Unit]) -> dict[int, list[_PayerSpan]]:
    """Payer occupancies of the units, newest first per unit (the order `current_payer` picks
    from), in one query."""
    by_unit: dict[int, list[_PayerSpan]] = defaultdict(list)
    if not units:
        return by_unit
    rows = (
        Occupancy.objects.filter(unit_id__in=many_values(sorted({u.pk for u in units})))
        .filter(is_payer=True)
        .order_by("unit_id", "-since", "id")
        .values_list("unit_id", "party_id", "since", "until")
    )
    for unit_id, party_id, since, until in rows:
        by_unit[unit_id].append((party_id, since, until))
    return by_unit


def _payer_on(spans: list[_PayerSpan], day: dt.date) -> int | None:
    """`estates.selectors.current_payer` on `day`, over occupancies already loaded."""
    for party_id, since, until in spans:
        if since <= day and (until is None or until >= day):
            return party_id
    return None


def _charges_plan(ctx: ImportContext, rows: list[ImportRow]) -> ImportPlan:
    scope = ImportScope(ctx)
    if scope.limit_refused(ctx):
        return ImportPlan(actions={}, apply=lambda audit: None)
    limit = scope.limit
    columns = list(
        zip(
            rows,
            ctx.column(rows, "unit", _unit_code_parse),
            ctx.column(rows, "fee_item", _fee_item_parse),
            ctx.column(rows, "period_start", date_parse),
            ctx.column(rows, "period_end", date_parse),
            ctx.column(rows, "amount", _AMOUNT),
            ctx.column(rows, "due_date", date_parse),
            ctx.column(rows, "paid", _PAID, default=0),
            strict=True,
        )
    )
    units = scope.units_by_code({code for _, code, *_ in columns if code})
    fee_items, shared_names = _fee_items_lookup(ctx)
    may_pay = ctx.actor is None or role_can(ctx.actor, Capability.RECORD_PAYMENTS)

    seen: dict[tuple[int, int, dt.date], int] = {}
    drafts: list[_ChargeDraft] = []
    for row, code, item_text, start, end, amount_fen, due_date, paid_fen in columns:
        number = row.number
        unit = units.get(code) if code else None
        if code and unit is None:
            ctx.error(number, "unit", f"房屋编码不存在：{code}")
        elif unit is not None and limit is not None and unit.estate_id != limit.pk:
            ctx.error(number, "unit", f"不属于项目 {limit.code}：{code}")
            unit = None
        fee_item = None
        if item_text:
            fee_item = fee_items.get(item_text.upper()) or fee_items.get(item_text)
            if fee_item is None:
                ctx.error(number, "fee_item", f"收费项目不存在：{item_text}")
            elif item_text.upper() != fee_item.code.upper() and item_text in shared_names:
                ctx.error(number, "fee_item", f"有多个收费项目名为“{item_text}”，请填写编码")
                fee_item = None
        if start is not None and end is not None and end < start:
            ctx.error(number, "period_end", f"计费结束 {_day(end)} 早于计费开始 {_day(start)}")
        if amount_fen is not None and paid_fen is not None and paid_fen > amount_fen:
            ctx.error(
                number,
                "paid",
                f"已缴金额 {format_yuan(paid_fen)} 大于应收金额 {format_yuan(amount_fen)}",
            )
        if paid_fen and not may_pay:
            ctx.error(number, "paid", "您没有登记收款的权限，不能导入已缴金额")
        if unit is None or fee_item is None or start is None:
            continue
        first = seen.setdefault((unit.pk, fee_item.pk, start), number)
        if first != number:
            ctx.error(
                number,
                "",
                f"房屋 {unit.code} 的{fee_item.name}（计费开始 {_day(start)}）在文件中重复"
                f"（与第{first}行相同）",
            )
            continue
        if number in ctx.failed_rows or end is None or amount_fen is None or due_date is None:
            continue
        drafts.append(
            _ChargeDraft(number, unit, fee_item, start, end, amount_fen, due_date, paid_fen or 0)
        )

    actions: dict[int, str] = {}
    new = _drafts_check(ctx, drafts, actions)
    today = timezone.localdate()

    def apply(audit: AuditBatch) -> None:
        ids = _charges_insert(ctx, audit, new)
        for done, d in enumerate(new, start=1):
            if d.paid_fen:
                charge_id = ids[(d.unit.pk, d.fee_item.pk, d.period_start)]
                try:
                    payment_record(
                        unit=d.unit,
                        amount_fen=d.paid_fen,
                        received_on=min(d.due_date, today),
                        channel=PaymentChannel.OPENING_BALANCE,
                        reference=opening_reference(charge_id),
                        designations=[charge_id],
                        actor=ctx.actor,
                    )
                except PaymentError as exc:
                    # Every rule was checked above; only a concurrent change gets here.
                    raise IntegrityError(f"第{d.number}行：{exc}") from exc
            ctx.write_progress(done, len(new))
        if ids:
            # Units holding credit (预存) pay the new charges from it, as after a billing run.
            charges_reallocate(charges=Charge.objects.filter(pk__in=many_values(ids.values())))

    estate_ids = {d.unit.estate_id for d in new}
    return ImportPlan(actions=actions, apply=apply, estate_ids=estate_ids)


@dataclass(slots=True)
class _Posted:
    """The charges already posted for one (unit, fee item), sorted by period start, with the
    running maximum of their period ends (so one bisect finds an overlap)."""

    starts: list[dt.date]
    rows: list[tuple[int, dt.date, dt.date, int, dt.date]]
    reach: list[int]  # index of the row with the latest period end among rows[: i + 1]

    def overlapping(self, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
        i = bisect_right(self.starts, end) - 1
        if i < 0:
            return None
        _pk, first, last, _fen, _due = self.rows[self.reach[i]]
        return (first, last) if last >= start else None


def _posted_load(drafts: list[_ChargeDraft]) -> dict[tuple[int, int], _Posted]:
    """The posted charges of the drafts' units and fee items, in one query."""
    groups: dict[tuple[int, int], list[tuple[int, dt.date, dt.date, int, dt.date]]] = defaultdict(
        list
    )
    if drafts:
        rows = (
            Charge.objects.filter(
                unit_id__in=many_values(sorted({d.unit.pk for d in drafts})),
                fee_item_id__in=sorted({d.fee_item.pk for d in drafts}),
            )
            .order_by()
            .values_list(
                "pk",
                "unit_id",
                "fee_item_id",
                "period_start",
                "period_end",
                "principal_fen",
                "due_date",
            )
        )
        for pk, unit_id, item_id, start, end, fen, due in rows:
            groups[(unit_id, item_id)].append((pk, start, end, fen, due))
    posted: dict[tuple[int, int], _Posted] = {}
    for key, charges in groups.items():
        charges.sort(key=lambda c: c[1])
        reach: list[int] = []
        for i, charge in enumerate(charges):
            reach.append(i if not reach or charge[2] > charges[reach[-1]][2] else reach[-1])
        posted[key] = _Posted([c[1] for c in charges], charges, reach)
    return posted


def _overlaps_in_file(drafts: list[_ChargeDraft]) -> dict[int, _ChargeDraft]:
    """Rows whose period overlaps another row's of the same unit and fee item: row number →
    the row it overlaps (sorted by period start, each against the latest-ending row before it)."""
    groups: dict[tuple[int, int], list[_ChargeDraft]] = defaultdict(list)
    for d in drafts:
        groups[(d.unit.pk, d.fee_item.pk)].append(d)
    clashes: dict[int, _ChargeDraft] = {}
    for group in groups.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda d: (d.period_start, d.number))
        latest = group[0]
        for d in group[1:]:
            if d.period_start <= latest.period_end:
                clashes.setdefault(d.number, latest)
                clashes.setdefault(latest.number, d)
            if d.period_end > latest.period_end:
                latest = d
    return clashes


def _drafts_check(
    ctx: ImportContext, drafts: list[_ChargeDraft], actions: dict[int, str]
) -> list[_ChargeDraft]:
    """Compare the checked rows with the charges already posted for their units (one query, and
    one for their opening payments): an identical charge is 不变, a different one an error per
    differing cell, an overlapping period an error. Returns the rows to create."""
    posted = _posted_load(drafts)
    same_key: dict[int, tuple[int, dt.date, dt.date, int, dt.date]] = {}
    for d in drafts:
        group = posted.get((d.unit.pk, d.fee_item.pk))
        if group is not None:
            i = bisect_right(group.starts, d.period_start) - 1
            if i >= 0 and group.starts[i] == d.period_start:
                same_key[d.number] = group.rows[i]
    opening: dict[int, int] = {}
    if same_key:
        references = [opening_reference(found[0]) for found in same_key.values()]
        for reference, amount_fen in Payment.objects.filter(
            channel=PaymentChannel.OPENING_BALANCE, reference__in=many_values(references)
        ).values_list("reference", "amount_fen"):
            opening[int(reference.removeprefix(OPENING_REFERENCE_PREFIX))] = amount_fen
    in_file = _overlaps_in_file([d for d in drafts if d.number not in same_key])

    new: list[_ChargeDraft] = []
    for d in drafts:
        found = same_key.get(d.number)
        if found is not None:
            pk, _start, end, fen, due = found
            differs = [
                ("period_end", _day(end), _day(d.period_end)),
                ("amount", format_yuan(fen), format_yuan(d.principal_fen)),
                ("due_date", _day(due), _day(d.due_date)),
                ("paid", format_yuan(opening.get(pk, 0)), format_yuan(d.paid_fen)),
            ]
            failed = False
            for key, was, given in differs:
                if was != given:
                    ctx.error(d.number, key, f"与已有应收不同：已有 {was}，文件中为 {given}")
                    failed = True
            if not failed:
                actions[d.number] = RowAction.UNCHANGED
            continue
        group = posted.get((d.unit.pk, d.fee_item.pk))
        clash = group.overlapping(d.period_start, d.period_end) if group is not None else None
        if clash is not None:
            ctx.error(
                d.number,
                "period_start",
                f"计费期间与已有应收重叠（{_day(clash[0])} 至 {_day(clash[1])}）",
            )
            continue
        other = in_file.get(d.number)
        if other is not None:
            ctx.error(
                d.number,
                "period_start",
                f"计费期间与第{other.number}行重叠"
                f"（{_day(other.period_start)} 至 {_day(other.period_end)}）",
            )
            continue
        actions[d.number] = RowAction.CREATE
        new.append(d)
    return new


def _charges_insert(
    ctx: ImportContext, audit: AuditBatch, drafts: list[_ChargeDraft]
) -> dict[tuple[int, int, dt.date], int]:
    """Insert the new charges as plain rows, read their ids back by key, and audit each as a
    billing run does. Returns the ids by (unit, fee item, period start)."""
    if not drafts:
        return {}
    payers = _payers([d.unit for d in drafts])
    now = timezone.now()
    rows = [
        (
            d.unit.pk,
            d.fee_item.pk,
            d.period_start,
            d.period_end,
            d.due_date,
            d.principal_fen,
            _payer_on(payers.get(d.unit.pk, []), d.period_start),
            None,
            now,
        )
        for d in drafts
    ]
    # Plain inserts: a key some other write took since the check fails the whole import.
    rows_insert(Charge, _INSERT_FIELDS, rows)
    wanted = {(d.unit.pk, d.fee_item.pk, d.period_start) for d in drafts}
    ids: dict[tuple[int, int, dt.date], int] = {}
    for pk, unit_id, item_id, start in (
        Charge.objects.filter(
            unit_id__in=many_values(sorted({d.unit.pk for d in drafts})),
            fee_item_id__in=sorted({d.fee_item.pk for d in drafts}),
            billing_run__isnull=True,
        )
        .order_by()
        .values_list("pk", "unit_id", "fee_item_id", "period_start")
    ):
        if (unit_id, item_id, start) in wanted:
            ids[(unit_id, item_id, start)] = pk
    for d in drafts:
        after = {
            "fee_item": d.fee_item.pk,
            "period_start": _day(d.period_start),
            "period_end": _day(d.period_end),
            "due_date": _day(d.due_date),
            "principal_fen": d.principal_fen,
            "billing_run": None,
        }
        audit.add_row(
            AuditAction.CREATE,
            "billing.charge",
            ids[(d.unit.pk, d.fee_item.pk, d.period_start)],
            f"{d.unit.code} {d.fee_item.name} {_day(d.period_start)}",
            d.unit.estate_id,
            None,
            after,
        )
    return ids


CHARGES_IMPORT = import_kind_register(
    ImportKind(
        "charges",
        "应收",
        CHARGE_COLUMNS,
        Capability.MANAGE_BILLING,
        _charges_plan,
        estate_limit=True,
    )
)

__all__ = ["CHARGES_IMPORT", "CHARGE_COLUMNS", "opening_reference"]
