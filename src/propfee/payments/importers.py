"""The payments import kind (收款): one row per payment received, recorded with `payment_record`.

Every row is checked before anything is written: the unit exists and is in the actor's scope
(a unit outside it is reported as unknown), the amount is above zero with at most two decimals,
the date is valid and not in the future, the channel is one of 现金/POS/银行转账/微信/支付宝/代扣,
and the reference (流水号) is given for every channel but cash. The same (channel, reference)
twice in one file is an error naming both rows. A reference already recorded for the same unit
and amount is 不变 (a re-import records nothing); for another unit or amount it is an error.

The whole file is then written in one transaction, but row by row: each payment goes through
`payment_record`, because the ledger re-allocates (replays) the unit after every payment, which
a bulk insert would skip. This path is therefore per-row and slower than the bulk estates/units
imports; it is meant for bank statements and front-desk batches, not for millions of rows.

A cash row without a reference gets one derived from what it says: its unit, date and amount,
and which occurrence of that same (unit, date, amount) it is within the file (现金-<digest>-<n>).
Re-importing the file then finds every cash row recorded and records nothing, while two identical
cash payments in one file stay two payments."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass

from django.db import IntegrityError
from django.utils import timezone

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
    choice_parser,
    date_parse,
    import_kind_register,
    many_values,
)
from propfee.core.roles import Capability
from propfee.core.services import AuditBatch
from propfee.estates.importers.scope import ImportScope
from propfee.estates.models import Unit
from propfee.payments.constants import PaymentChannel
from propfee.payments.models import Payment
from propfee.payments.services import PaymentError, payment_record

PAYMENT_COLUMNS = (
    ImportColumn("房屋编码", "unit", True, "房屋编码，如 DEMO-3-1502；房屋需已存在", "DEMO-3-1502"),
    ImportColumn("金额", "amount", True, "收款金额（元），必须大于0，最多两位小数", "1200.00"),
    ImportColumn(
        "收款日期", "received_on", True, "收到款项的日期，不能晚于今天", dt.date(2026, 1, 15)
    ),
    ImportColumn("方式", "channel", True, "现金、POS、银行转账、微信、支付宝或代扣", "银行转账"),
    ImportColumn(
        "流水号",
        "reference",
        False,
        "银行或支付平台的流水号，同一方式下不能重复；现金可留空（按房屋、日期、金额生成，"
        "重复导入不会重复登记）",
        "BANK-20260115-0001",
        as_text=True,
    ),
)

_AMOUNT = amount_fen_parser()
_CHANNEL = choice_parser(PaymentChannel, exclude={PaymentChannel.OPENING_BALANCE})
_REFERENCE_MAX = 64


def _unit_code_parse(value: CellValue) -> str:
    code = cell_text(value).strip().upper()
    if len(code) > 96:
        raise ValueError("不能超过96个字符")
    return code


def _reference_parse(value: CellValue) -> str:
    text = cell_text(value).strip()
    if len(text) > _REFERENCE_MAX:
        raise ValueError(f"不能超过{_REFERENCE_MAX}个字符")
    return text


def cash_reference_derive(*, unit_code: str, received_on: dt.date, amount_fen: int, n: int) -> str:
    """The reference of the `n`-th (from 1) cash row of a file without one, for this unit, date
    and amount: the same file gives the same references, so a re-import records nothing."""
    key = f"{unit_code}|{received_on.isoformat()}|{amount_fen}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"现金-{digest}-{n}"


@dataclass(slots=True)
class _PaymentDraft:
    number: int
    unit: Unit
    amount_fen: int
    received_on: dt.date
    channel: str
    reference: str


def _payments_plan(ctx: ImportContext, rows: list[ImportRow]) -> ImportPlan:
    scope = ImportScope(ctx)
    today = timezone.localdate()
    columns = list(
        zip(
            rows,
            ctx.column(rows, "unit", _unit_code_parse),
            ctx.column(rows, "amount", _AMOUNT),
            ctx.column(rows, "received_on", date_parse),
            ctx.column(rows, "channel", _CHANNEL),
            ctx.column(rows, "reference", _reference_parse),
            strict=True,
        )
    )
    units = scope.units_by_code({code for _, code, *_ in columns if code})
    # Cash rows without a reference: derive one (see the module docstring).
    occurrences: Counter[tuple[str, dt.date, int]] = Counter()
    derived: dict[int, str] = {}
    for row, code, amount_fen, received_on, channel, reference in columns:
        if (
            channel == PaymentChannel.CASH
            and not reference
            and "reference" not in row.bad
            and code in units
            and amount_fen is not None
            and received_on is not None
        ):
            occurrences[(code, received_on, amount_fen)] += 1
            derived[row.number] = cash_reference_derive(
                unit_code=code,
                received_on=received_on,
                amount_fen=amount_fen,
                n=occurrences[(code, received_on, amount_fen)],
            )
    references = sorted({ref for *_, ref in columns if ref} | set(derived.values()))
    recorded: dict[tuple[str, str], Payment] = {}
    if references:
        for payment in Payment.objects.filter(reference__in=many_values(references)):
            recorded[(payment.channel, payment.reference)] = payment

    seen: dict[tuple[str, str], int] = {}
    actions: dict[int, str] = {}
    drafts: list[_PaymentDraft] = []
    for row, code, amount_fen, received_on, channel, reference in columns:
        unit = units.get(code) if code else None
        if code and unit is None:
            ctx.error(row.number, "unit", f"房屋编码不存在：{code}")
        if received_on is not None and received_on > today:
            ctx.error(row.number, "received_on", f"收款日期不能晚于今天：{received_on.isoformat()}")
        given = reference or ""
        if (
            channel is not None
            and not given
            and channel != PaymentChannel.CASH
            and "reference" not in row.bad
        ):
            label = PaymentChannel(channel).label
            ctx.error(row.number, "reference", f"{label}收款必须填写流水号")
        reference = given or derived.get(row.number, "")
        if channel is not None and given:
            first = seen.setdefault((channel, reference), row.number)
            if first != row.number:
                ctx.error(
                    row.number, "reference", f"流水号 {reference} 在文件中重复（与第{first}行相同）"
                )
        if channel is not None and reference:
            found = recorded.get((channel, reference))
            if found is not None and unit is not None and amount_fen is not None:
                if found.unit_id != unit.pk or found.amount_fen != amount_fen:
                    ctx.error(
                        row.number,
                        "reference",
                        f"流水号 {reference} 已登记为另一笔收款（收据号 {found.receipt_no}）",
                    )
                elif not ctx.row_failed(row.number):
                    actions[row.number] = RowAction.UNCHANGED
                    continue
        if (
            ctx.row_failed(row.number)
            or unit is None
            or amount_fen is None
            or received_on is None
            or channel is None
        ):
            continue
        actions[row.number] = RowAction.CREATE
        drafts.append(_PaymentDraft(row.number, unit, amount_fen, received_on, channel, reference))

    def apply(audit: AuditBatch) -> None:
        # payment_record writes each payment's own audit row; the import adds the summary row.
        for done, d in enumerate(drafts, start=1):
            try:
                payment_record(
                    unit=d.unit,
                    amount_fen=d.amount_fen,
                    received_on=d.received_on,
                    channel=d.channel,
                    reference=d.reference,
                    actor=ctx.actor,
                )
            except PaymentError as exc:
                # Only a concurrent change can get here (every rule was checked above): roll
                # the whole file back like any other conflicting write.
                raise IntegrityError(f"第{d.number}行：{exc}") from exc
            ctx.write_progress(done, len(drafts))

    estate_ids = {d.unit.estate_id for d in drafts}
    return ImportPlan(actions=actions, apply=apply, estate_ids=estate_ids)


PAYMENTS_IMPORT = import_kind_register(
    ImportKind("payments", "收款", PAYMENT_COLUMNS, Capability.RECORD_PAYMENTS, _payments_plan)
)

__all__ = ["PAYMENTS_IMPORT", "PAYMENT_COLUMNS"]
