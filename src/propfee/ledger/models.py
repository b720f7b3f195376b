"""Ledger domain: Allocation 核销 (what part of a payment paid which component of a charge),
Waiver 减免 (an approved reduction of a charge, or a 坏账核销 write-off), the WaiverRequest staff
file for a manager to decide, and the approval limits per role. Allocations are computed by the
engine and stored; a re-allocation supersedes rows instead of deleting them, so history is kept."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.billing.models import Charge
from propfee.core.models import User
from propfee.core.money import MoneyField
from propfee.core.roles import Role
from propfee.ledger.constants import (
    Component,
    WaiverKind,
    WaiverRequestStatus,
    WaiverStatus,
    WriteOffReason,
)
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


class WaiverRequest(models.Model):
    """A request for a 减免 or a 坏账核销 of one charge (减免申请), filed by staff and decided once
    by a manager (or, for a write-off, by whoever holds WRITE_OFF). Approval writes one Waiver
    per component with an amount (`waiver_create`)."""

    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="waiver_requests")
    kind = models.CharField(
        _("类型"), max_length=16, choices=WaiverKind.choices, default=WaiverKind.WAIVER
    )
    principal_fen = MoneyField(_("本金"), default=0)
    penalty_fen = MoneyField(_("违约金"), default=0)
    effective_on = models.DateField(_("生效日期"))
    reason = models.CharField(_("原因"), max_length=500)
    write_off_reason = models.CharField(
        _("核销原因"), max_length=32, choices=WriteOffReason.choices, blank=True
    )
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=WaiverRequestStatus.choices,
        default=WaiverRequestStatus.PENDING,
    )
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now, editable=False)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("减免申请")
        verbose_name_plural = _("减免申请")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(principal_fen__gte=0) & Q(penalty_fen__gte=0),
                name="waiver_request_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(principal_fen__gt=0) | Q(penalty_fen__gt=0),
                name="waiver_request_amount_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "requested_at"], name="waiver_request_status_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.charge_id}"

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.penalty_fen


class Waiver(models.Model):
    """An approved reduction of one component of a charge (减免, or 坏账核销 by `kind`), effective
    at the end of `effective_on`; `approved_by` is the manager who approved it. A reversal
    (撤销) sets `status` and takes it out of the replay; the row is kept."""

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
    kind = models.CharField(
        _("类型"), max_length=16, choices=WaiverKind.choices, default=WaiverKind.WAIVER
    )
    request = models.ForeignKey(
        WaiverRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="waivers"
    )
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reversed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reversed_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    reverse_reason = models.CharField(_("撤销原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("减免")
        verbose_name_plural = _("减免")
        ordering = ["charge_id", "effective_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="waiver_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.charge_id} {self.component} {self.amount_fen}"


class WaiverApprovalLimit(models.Model):
    """A company's own approval limit (审批权限) for one role and component: the most that role
    may approve in 减免 on one charge, all its active 减免 of that component counted; NULL = no
    limit. Without a row the default of `DEFAULT_APPROVAL_LIMITS_FEN` applies."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="waiver_limits"
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    component = models.CharField(_("减免项"), max_length=16, choices=Component.choices)
    max_fen = MoneyField(_("每笔应收最多可批准"), null=True, blank=True)

    class Meta:
        verbose_name = _("减免审批权限")
        verbose_name_plural = _("减免审批权限")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "role", "component"], name="one_waiver_limit_per_role"
            ),
            models.CheckConstraint(
                condition=Q(max_fen__isnull=True) | Q(max_fen__gte=0),
                name="waiver_limit_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.role} {self.component} {self.max_fen}"
