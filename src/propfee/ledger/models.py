"""Ledger domain: Allocation 核销 (what part of a payment paid which component of a charge) and
Waiver 减免 (an approved reduction of a charge). Allocations are computed by the engine and
stored; a re-allocation supersedes rows instead of deleting them, so history is kept."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.billing.models import Charge
from propfee.core.models import User
from propfee.core.money import MoneyField
from propfee.ledger.constants import Component, WaiverStatus
from propfee.payments.models import Payment


class Allocation(models.Model):
    """Part of a payment applied to one component of one charge (核销明细). Current rows have
    `superseded_at` NULL; a replay that allocates a payment differently stamps its old rows and
    inserts new ones."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="allocations")
    component = models.CharField(_("核销项"), max_length=16, choices=Component.choices)
    amount_fen = MoneyField(_("金额"))
    created_at = models.DateTimeField(_("核销时间"), default=timezone.now, editable=False)
    superseded_at = models.DateTimeField(_("失效时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("核销")
        verbose_name_plural = _("核销")
        ordering = ["payment_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0), name="allocation_amount_positive"
            ),
        ]
        indexes = [
            models.Index(
                fields=["charge"],
                condition=Q(superseded_at__isnull=True),
                name="allocation_current_charge_idx",
            ),
            models.Index(
                fields=["payment"],
                condition=Q(superseded_at__isnull=True),
                name="allocation_current_pay_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.charge_id} {self.component} {self.amount_fen}"


class Waiver(models.Model):
    """An approved reduction of one component of a charge (减免), effective at the end of
    `effective_on`; `approved_by` is the manager who approved it."""

    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="waivers")
    component = models.CharField(_("减免项"), max_length=16, choices=Component.choices)
    amount_fen = MoneyField(_("金额"))
    effective_on = models.DateField(_("生效日期"))
    reason = models.CharField(_("减免原因"), max_length=500)
    approved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=WaiverStatus.choices, default=WaiverStatus.ACTIVE
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("减免")
        verbose_name_plural = _("减免")
        ordering = ["charge_id", "effective_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="waiver_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.charge_id} {self.component} {self.amount_fen}"
