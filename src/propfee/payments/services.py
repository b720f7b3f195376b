"""Payment writes: record a payment (实收) idempotently on (channel, reference) with a gapless
receipt number, record many at once by the same rules (`payments_record_bulk`, set-based), and
reverse one (冲销). All re-allocate the unit through the ledger engine and write their audit rows
in the same transaction.

Locks, in the one order: the unit, then the estate's receipt counter."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from propfee.billing.models import Charge
from propfee.core.bulk import many_values, rows_insert
from propfee.core.models import AuditAction, User
from propfee.core.roles import Capability, PermissionDenied, require
from propfee.core.services import AuditBatch, audit_record, model_snapshot
from propfee.estates.models import Estate, Occupancy, Party, Unit
from propfee.estates.selectors import current_payer, estates_visible_to
from propfee.ledger.services import unit_reallocate, units_reallocate
from propfee.payments.constants import RECEIPT_SEQUENCE_DIGITS, PaymentChannel, PaymentStatus
from propfee.payments.models import Payment, ReceiptCounter

PAYMENT_FIELDS = (
    "unit",
    "payer",
    "amount_fen",
    "received_on",
    "channel",
    "reference",
    "designations",
    "receipt_no",
)
# The columns `payments_record_bulk` writes, in the order of its row tuples.
BULK_PAYMENT_FIELDS = (
    *PAYMENT_FIELDS[:7],
    "status",
    "receipt_no",
    "recorded_by",
    "created_at",
    "reverse_reason",
)

_CHANNEL_VALUES = frozenset(PaymentChannel.values)
_REFERENCE_MAX: int = Payment._meta.get_field("reference").max_length  # type: ignore[assignment]
_KEY_MAX: int = Payment._meta.get_field("idempotency_key").max_length  # type: ignore[assignment]

# Allowed status changes of a payment (anything else is a PaymentTransitionError).
PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    PaymentStatus.RECORDED: frozenset({PaymentStatus.REVERSED}),
    PaymentStatus.REVERSED: frozenset(),
}


class PaymentError(ValueError):
    """A payment write that the rules refuse; the message is for the user."""


class PaymentTransitionError(PaymentError):
    """A payment status change that PAYMENT_TRANSITIONS does not allow."""


def _transition(payment: Payment, status: str) -> None:
    if status not in PAYMENT_TRANSITIONS[payment.status]:
        raise PaymentTransitionError(
            f"收款状态为“{payment.get_status_display()}”，不能改为“{PaymentStatus(status).label}”"
        )
    payment.status = status


def _scope_require(actor: User | None, capability: str, estate_id: int) -> None:
    require(actor, capability)
    if actor is not None and not estates_visible_to(actor).filter(pk=estate_id).exists():
        raise PermissionDenied(capability)


def receipt_number_next(*, estate: Estate, year: int) -> str:
    """The next receipt number of `estate` for `year` (DEMO-2026-000123). Call it inside the
    transaction that uses the number: the counter row stays locked until it commits, and a
    rollback gives the number back, so issued numbers have no gaps."""
    return receipt_numbers_take(estate=estate, year=year, count=1)[0]


def receipt_numbers_take(*, estate: Estate, year: int, count: int) -> list[str]:
    """The next `count` receipt numbers of `estate` for `year`, in order, from one advance of
    the counter (the same rules as `receipt_number_next`)."""
    counter, _created = ReceiptCounter.objects.get_or_create(estate=estate, year=year)
    counter = ReceiptCounter.objects.select_for_update().get(pk=counter.pk)
    first = counter.last_number + 1
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return [
        f"{estate.code}-{year}-{n:0{RECEIPT_SEQUENCE_DIGITS}d}"
        for n in range(first, counter.last_number + 1)
    ]


def _payment_check(*, channel: str, amount_fen: int, reference: str, received_on: dt.date) -> str:
    """The rules every recorded payment meets; returns the reference stripped. Money cannot
    arrive after today (Asia/Shanghai): a future date is a typing error, and it would let the
    payment skip ahead of the ones received before it in the replay."""
    if channel not in _CHANNEL_VALUES:
        raise PaymentError(f"未知的收款方式：{channel}")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise PaymentError("收款金额必须大于0")
    if received_on > (today := timezone.localdate()):
        raise PaymentError(
            _("收款日期 %(day)s 晚于今天（%(today)s），不能登记。")
            % {"day": received_on.isoformat(), "today": today.isoformat()}
        )
    reference = reference.strip()
    if not reference and channel != PaymentChannel.CASH:
        raise PaymentError(f"{PaymentChannel(channel).label}收款必须填写流水号")
    if len(reference) > _REFERENCE_MAX:
        raise PaymentError("流水号过长")
    return reference


def _existing_by_key(key: str, *, unit: Unit, amount_fen: int, channel: str) -> Payment | None:
    """The payment already recorded under the idempotency key: a retry returns it. The same
    key for another unit, amount or channel is not a retry: refused."""
    payment = Payment.objects.filter(idempotency_key=key).first()
    if payment is not None and (
        payment.unit_id != unit.pk or payment.amount_fen != amount_fen or payment.channel != channel
    ):
        raise PaymentError(
            _("该提交已登记为另一笔收款（收据号 %(receipt_no)s），未重复登记。")
            % {"receipt_no": payment.receipt_no}
        )
    return payment


def _existing(channel: str, reference: str, *, unit: Unit, amount_fen: int) -> Payment | None:
    """The payment already recorded under (channel, reference): a retry returns it. The same
    reference for a different unit or amount is not a retry but a wrong reference: refused."""
    payment = Payment.objects.filter(channel=channel, reference=reference).first()
    if payment is not None and (payment.unit_id != unit.pk or payment.amount_fen != amount_fen):
        raise PaymentError(
            f"流水号 {reference} 已登记为另一笔收款（收据号 {payment.receipt_no}），请核对流水号"
        )
    return payment


@transaction.atomic
def payment_record(
    *,
    unit: Unit,
    amount_fen: int,
    received_on: dt.date,
    channel: str,
    reference: str,
    actor: User | None,
    designations: Sequence[int] = (),
    payer: Party | None = None,
    idempotency_key: str = "",
) -> Payment:
    """Record money received for `unit` and allocate it (核销) as the engine says.

    Idempotent on (channel, reference), and on `idempotency_key` when given: a second call with
    the same pair or key returns the payment recorded first and writes nothing. Non-cash
    payments need the bank/gateway reference; cash without one needs an `idempotency_key` (the
    front desk's form token; an import derives a reference instead), so that no retry records
    it twice, and gets its receipt number as reference. The received date cannot be after
    today. `designations` are the charges the payer picked, paid first in that order. The payer
    defaults to the unit's payer on `received_on`."""
    _scope_require(actor, Capability.RECORD_PAYMENTS, unit.estate_id)
    reference = _payment_check(
        channel=channel, amount_fen=amount_fen, reference=reference, received_on=received_on
    )
    key = idempotency_key.strip()
    if len(key) > _KEY_MAX:
        raise PaymentError(_("幂等键过长（最多 %(max)s 个字符）") % {"max": _KEY_MAX})
    if not reference and not key:
        raise PaymentError(
            _("未填写流水号的现金收款须提供幂等键（idempotency_key），以免重试时重复登记。")
        )

    def existing() -> Payment | None:
        if key and (
            found := _existing_by_key(key, unit=unit, amount_fen=amount_fen, channel=channel)
        ):
            return found
        return (
            _existing(channel, reference, unit=unit, amount_fen=amount_fen) if reference else None
        )

    if found := existing():
        return found
    # The unit first (the one lock order); a concurrent retry of the same payment waits here and
    # then finds the first one.
    Unit.objects.select_for_update().filter(pk=unit.pk).values_list("pk").get()
    if found := existing():
        return found
    chosen = list(dict.fromkeys(int(charge_id) for charge_id in designations))
    if chosen:
        owned = set(Charge.objects.filter(unit=unit, pk__in=chosen).values_list("pk", flat=True))
        if missing := [charge_id for charge_id in chosen if charge_id not in owned]:
            raise PaymentError(f"指定的应收不属于该房屋：{', '.join(map(str, missing))}")
    if payer is None:
        payer = current_payer(unit=unit, on=received_on)

    estate = Estate.objects.get(pk=unit.estate_id)
    try:
        # A savepoint, so that losing the race on (channel, reference) also gives back the
        # receipt number and leaves the outer transaction usable for the re-fetch.
        with transaction.atomic():
            receipt_no = receipt_number_next(estate=estate, year=timezone.localdate().year)
            payment = Payment.objects.create(
                unit=unit,
                payer=payer,
                amount_fen=amount_fen,
                received_on=received_on,
                channel=channel,
                reference=reference or receipt_no,
                designations=chosen,
                receipt_no=receipt_no,
                recorded_by=actor if actor is not None and actor.is_authenticated else None,
                idempotency_key=key,
            )
    except IntegrityError:
        if found := existing():
            return found
        raise

    unit_reallocate(unit=unit)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=payment,
        estate_id=unit.estate_id,
        after=model_snapshot(payment, PAYMENT_FIELDS),
        note=f"收款 {unit.code}",
    )
    return payment


@transaction.atomic
def payment_reverse(*, payment: Payment, actor: User | None, reason: str) -> Payment:
    """Reverse a recorded payment (冲销): it leaves the replay, so the unit is re-allocated and
    its allocations are superseded. The receipt number stays used (the receipt is voided)."""
    unit = Unit.objects.get(pk=payment.unit_id)
    _scope_require(actor, Capability.REVERSE_PAYMENTS, unit.estate_id)
    reason = reason.strip()
    if not reason:
        raise PaymentError("请填写冲销原因")
    Unit.objects.select_for_update().filter(pk=unit.pk).values_list("pk").get()
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    _transition(payment, PaymentStatus.REVERSED)
    payment.reversed_by = actor if actor is not None and actor.is_authenticated else None
    payment.reversed_at = timezone.now()
    payment.reverse_reason = reason[:500]
    payment.save(update_fields=["status", "reversed_by", "reversed_at", "reverse_reason"])
    unit_reallocate(unit=unit)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=payment,
        estate_id=unit.estate_id,
        before={"status": PaymentStatus.RECORDED},
        after={"status": PaymentStatus.REVERSED},
        note=f"冲销：{reason}"[:500],
    )
    return payment


# --- many payments at once ---------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRow:
    """One payment for `payments_record_bulk`: the arguments of `payment_record`, by id.

    `payer_id` None: the unit's payer on `received_on`. `recorded_at` None: now; a history
    (the demo, a migration from another system) gives the time it was really recorded, which
    also picks the receipt year."""

    unit_id: int
    amount_fen: int
    received_on: dt.date
    channel: str
    reference: str = ""
    designations: tuple[int, ...] = ()
    payer_id: int | None = None
    recorded_at: dt.datetime | None = None


@dataclass(frozen=True)
class BulkPayments:
    """What `payments_record_bulk` did: the new payments' ids in row order, how many rows were
    already recorded (a retry), and how many units' allocations changed."""

    payment_ids: list[int]
    existing: int
    units_reallocated: int


def _payers_on_days(rows: Sequence[PaymentRow]) -> dict[tuple[int, dt.date], int | None]:
    """`current_payer` of each (unit, received_on) of the rows without a payer, in one query."""
    wanted = {(row.unit_id, row.received_on) for row in rows if row.payer_id is None}
    if not wanted:
        return {}
    spans: dict[int, list[tuple[int, dt.date, dt.date | None]]] = defaultdict(list)
    occupancies = (
        Occupancy.objects.filter(
            unit_id__in=many_values(sorted({unit_id for unit_id, _day in wanted})), is_payer=True
        )
        .order_by("unit_id", "-since", "id")  # the order `current_payer` picks from
        .values_list("unit_id", "party_id", "since", "until")
    )
    for unit_id, party_id, since, until in occupancies:
        spans[unit_id].append((party_id, since, until))
    return {
        (unit_id, day): next(
            (
                party_id
                for party_id, since, until in spans[unit_id]
                if since <= day and (until is None or until >= day)
            ),
            None,
        )
        for unit_id, day in wanted
    }


def _bulk_existing(rows: Sequence[PaymentRow]) -> set[int]:
    """Indexes of the rows already recorded under their (channel, reference): skipped, as
    `payment_record` returns the first. The same pair for another unit or amount, or twice
    among the rows, is refused."""
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows):
        if row.reference:
            if (key := (row.channel, row.reference)) in seen:
                raise PaymentError(
                    f"流水号 {row.reference} 在本批收款中重复（第 {seen[key] + 1} 行）"
                )
            seen[key] = index
    if not seen:
        return set()
    found = Payment.objects.filter(
        reference__in=many_values(sorted({reference for _channel, reference in seen}))
    ).values_list("channel", "reference", "unit_id", "amount_fen", "receipt_no")
    existing = set()
    for channel, reference, unit_id, amount_fen, receipt_no in found:
        if (found_at := seen.get((channel, reference))) is None:
            continue
        row = rows[found_at]
        if row.unit_id != unit_id or row.amount_fen != amount_fen:
            raise PaymentError(
                f"流水号 {reference} 已登记为另一笔收款（收据号 {receipt_no}），请核对流水号"
            )
        existing.add(found_at)
    return existing


@transaction.atomic
def payments_record_bulk(
    *, rows: Sequence[PaymentRow], actor: User | None, note: str = ""
) -> BulkPayments:
    """Record many payments at once, set-based, with the rules and result of calling
    `payment_record` once per row in the order given: the same checks, idempotency on
    (channel, reference), gapless receipt numbers per estate and year from the same counter,
    and the allocations the engine gives each unit (`units_reallocate`, the same rows
    `unit_reallocate` stores). A few queries per estate and year and per 500 units, not per
    payment; one audit row per payment in one batch. All or nothing: one bad row refuses all."""
    references = [
        _payment_check(
            channel=row.channel,
            amount_fen=row.amount_fen,
            reference=row.reference,
            received_on=row.received_on,
        )
        for row in rows
    ]
    rows = [replace(row, reference=ref) for row, ref in zip(rows, references, strict=True)]
    unit_ids = sorted({row.unit_id for row in rows})
    if not unit_ids:
        return BulkPayments([], 0, 0)
    require(actor, Capability.RECORD_PAYMENTS)
    # The units first (the one lock order), then the receipt counters.
    units = {
        pk: (estate_id, code)
        for pk, estate_id, code in Unit.objects.select_for_update()
        .filter(pk__in=many_values(unit_ids))
        .order_by("pk")
        .values_list("pk", "estate_id", "code")
    }
    if missing_units := [unit_id for unit_id in unit_ids if unit_id not in units]:
        raise PaymentError(f"房屋不存在：{', '.join(map(str, missing_units))}")
    estate_ids = {estate_id for estate_id, _code in units.values()}
    if actor is not None:
        visible = set(
            estates_visible_to(actor).filter(pk__in=estate_ids).values_list("pk", flat=True)
        )
        if estate_ids - visible:
            raise PermissionDenied(Capability.RECORD_PAYMENTS)
    designated = {charge_id for row in rows for charge_id in row.designations}
    if designated:
        charge_units = dict(
            Charge.objects.filter(pk__in=many_values(sorted(designated))).values_list(
                "pk", "unit_id"
            )
        )
        for row in rows:
            if missing := [c for c in row.designations if charge_units.get(c) != row.unit_id]:
                raise PaymentError(f"指定的应收不属于该房屋：{', '.join(map(str, missing))}")

    existing = _bulk_existing(rows)
    new_rows = [row for index, row in enumerate(rows) if index not in existing]
    now = timezone.now()
    # Receipt numbers in row order within each estate and year, one counter advance each.
    wanted: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, row in enumerate(new_rows):
        year = timezone.localdate(row.recorded_at or now).year
        wanted[(units[row.unit_id][0], year)].append(index)
    estates = {e.pk: e for e in Estate.objects.filter(pk__in=estate_ids)}
    receipt_nos: list[str] = [""] * len(new_rows)
    for estate_id, year in sorted(wanted):
        indexes = wanted[(estate_id, year)]
        numbers = receipt_numbers_take(estate=estates[estate_id], year=year, count=len(indexes))
        for index, number in zip(indexes, numbers, strict=True):
            receipt_nos[index] = number

    payers = _payers_on_days(new_rows)
    recorded_by = actor.pk if actor is not None and actor.is_authenticated else None
    inserted = [
        (
            row.unit_id,
            row.payer_id if row.payer_id is not None else payers[(row.unit_id, row.received_on)],
            row.amount_fen,
            row.received_on,
            row.channel,
            row.reference or receipt_no,
            list(dict.fromkeys(row.designations)),
            PaymentStatus.RECORDED,
            receipt_no,
            recorded_by,
            row.recorded_at or now,
            "",
        )
        for row, receipt_no in zip(new_rows, receipt_nos, strict=True)
    ]
    # Inserted in row order, so the pks (posted_seq) order them as one call per row would.
    rows_insert(Payment, BULK_PAYMENT_FIELDS, inserted)
    pks = dict(
        Payment.objects.filter(receipt_no__in=many_values(receipt_nos)).values_list(
            "receipt_no", "pk"
        )
    )
    payment_ids = [pks[number] for number in receipt_nos]

    reallocated = units_reallocate(unit_ids={row.unit_id for row in new_rows})
    audit = AuditBatch(actor=actor, note=note or f"批量收款 {len(new_rows)} 笔")
    for payment_id, values in zip(payment_ids, inserted, strict=True):
        unit_id, payer_id, amount_fen, received_on, channel, reference, chosen = values[:7]
        receipt_no = values[8]
        estate_id, code = units[unit_id]
        audit.add_row(
            AuditAction.CREATE,
            "payments.payment",
            payment_id,
            f"{receipt_no} · {amount_fen}",
            estate_id,
            None,
            {
                "unit": unit_id,
                "payer": payer_id,
                "amount_fen": amount_fen,
                "received_on": received_on.isoformat(),
                "channel": channel,
                "reference": reference,
                "designations": chosen,
                "receipt_no": receipt_no,
            },
            note=f"收款 {code}",
        )
    audit.write()
    return BulkPayments(payment_ids, len(existing), reallocated)
