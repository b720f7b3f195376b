"""Payments domain: Payment 实收 (money received for one unit) and the per-estate, per-year
receipt counter that numbers receipts (收据) without gaps."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.core.models import User
from propfee.core.money import MoneyField
from propfee.estates.models import Estate, Party, Unit
from propfee.payments.constants import PaymentChannel, PaymentStatus


class Payment(models.Model):
    """Money received for one unit (实收). Never edited after recording except for its reversal
    (冲销); what it pays is in `ledger.Allocation`, recomputed by the engine.

    `designations` is the ordered list of charge ids the payer picked (指定账单), first paid
    first; `posted_seq` (the pk) orders payments received on the same day. A retry finds the
    payment by (channel, reference) or by `idempotency_key`."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="payments")
    payer = models.ForeignKey(
        Party,
        verbose_name=_("缴费人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    amount_fen = MoneyField(_("金额"))
    received_on = models.DateField(_("收款日期"))
    channel = models.CharField(_("收款方式"), max_length=16, choices=PaymentChannel.choices)
    reference = models.CharField(_("流水号"), max_length=64)
    # The caller's key of one recording (a form's one-time token): a cash payment without a
    # reference has nothing else that makes a retry find it.
    idempotency_key = models.CharField(
        _("幂等键"), max_length=64, blank=True, default="", db_default="", editable=False
    )
    designations = models.JSONField(_("指定账单"), default=list, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.RECORDED
    )
    receipt_no = models.CharField(_("收据号"), max_length=64, unique=True)
    recorded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, editable=False)
    reversed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reversed_at = models.DateTimeField(_("冲销时间"), null=True, blank=True)
    reverse_reason = models.CharField(_("冲销原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("实收")
        verbose_name_plural = _("实收")
        ordering = ["unit_id", "received_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "reference"], name="one_payment_per_reference"
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="one_payment_per_idempotency_key",
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=~Q(reference=""), name="payment_reference_required"),
        ]
        indexes = [models.Index(fields=["unit", "received_on"], name="payment_unit_received_idx")]

    def __str__(self) -> str:
        return f"{self.receipt_no} · {self.amount_fen}"

    @property
    def posted_seq(self) -> int:
        """Order of posting, for payments received on the same day: the pk only ever grows."""
        assert self.pk is not None
        return int(self.pk)


class ReceiptCounter(models.Model):
    """The last receipt number issued by one estate in one year (收据编号计数器). Locked with
    SELECT … FOR UPDATE and advanced in the payment's own transaction, so a rolled-back payment
    gives its number back and the numbers have no gaps."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    last_number = models.PositiveIntegerField(_("已用编号"), default=0)

    class Meta:
        verbose_name = _("收据编号")
        verbose_name_plural = _("收据编号")
        constraints = [
            models.UniqueConstraint(fields=["estate", "year"], name="one_receipt_counter_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.estate_id} · {self.year} · {self.last_number}"
