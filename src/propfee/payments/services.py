"""Payment writes: record a payment (实收) idempotently on (channel, reference) with a gapless
receipt number, and reverse one (冲销). Both re-allocate the unit through the ledger engine and
write their audit row in the same transaction.

Locks, in the one order: the unit, then the estate's receipt counter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from propfee.billing.models import Charge
from propfee.core.models import AuditAction, User
from propfee.core.roles import Capability, PermissionDenied, require
from propfee.core.services import audit_record, model_snapshot
from propfee.estates.models import Estate, Party, Unit
from propfee.estates.selectors import current_payer, estates_visible_to
from propfee.ledger.services import unit_reallocate
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
    counter, _created = ReceiptCounter.objects.get_or_create(estate=estate, year=year)
    counter = ReceiptCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"{estate.code}-{year}-{counter.last_number:0{RECEIPT_SEQUENCE_DIGITS}d}"


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
) -> Payment:
    """Record money received for `unit` and allocate it (核销) as the engine says.

    Idempotent on (channel, reference): a second call with the same pair returns the payment
    recorded first and writes nothing. Non-cash payments need the bank/gateway reference; cash
    without one gets its receipt number as reference. `designations` are the charges the payer
    picked, paid first in that order. The payer defaults to the unit's payer on `received_on`."""
    _scope_require(actor, Capability.RECORD_PAYMENTS, unit.estate_id)
    if channel not in PaymentChannel.values:
        raise PaymentError(f"未知的收款方式：{channel}")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise PaymentError("收款金额必须大于0")
    reference = reference.strip()
    if not reference and channel != PaymentChannel.CASH:
        raise PaymentError(f"{PaymentChannel(channel).label}收款必须填写流水号")
    if len(reference) > Payment._meta.get_field("reference").max_length:  # type: ignore[operator]
        raise PaymentError("流水号过长")
    if reference and (existing := _existing(channel, reference, unit=unit, amount_fen=amount_fen)):
        return existing

    # The unit first (the one lock order); a concurrent retry of the same payment waits here and
    # then finds the first one.
    Unit.objects.select_for_update().filter(pk=unit.pk).values_list("pk").get()
    if reference and (existing := _existing(channel, reference, unit=unit, amount_fen=amount_fen)):
        return existing
    chosen = list(dict.fromkeys(int(charge_id) for charge_id in designations))
    if chosen:
        found = set(Charge.objects.filter(unit=unit, pk__in=chosen).values_list("pk", flat=True))
        if missing := [charge_id for charge_id in chosen if charge_id not in found]:
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
            )
    except IntegrityError:
        if reference and (
            existing := _existing(channel, reference, unit=unit, amount_fen=amount_fen)
        ):
            return existing
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
