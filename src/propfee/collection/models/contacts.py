"""Contact records (催收记录), their attachments, promises to pay (承诺缴费) and installment
plans (分期) with their installments."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.collection.constants import (
    Attitude,
    ContactChannel,
    ContactOutcome,
    PlanStatus,
    PromiseStatus,
    ReasonCode,
)
from propfee.collection.models.cases import Case, Task
from propfee.core.models import User
from propfee.core.money import MoneyField
from propfee.estates.models import Party, Unit


class ContactRecord(models.Model):
    """One contact with the payer (催收记录表): channel, outcome, attitude, reason, note and the
    next step. Kept forever: it is evidence."""

    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="contact_records")
    party = models.ForeignKey(
        Party,
        verbose_name=_("联系对象"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    channel = models.CharField(_("方式"), max_length=16, choices=ContactChannel.choices)
    outcome = models.CharField(_("结果"), max_length=32, choices=ContactOutcome.choices)
    attitude = models.CharField(_("态度"), max_length=16, choices=Attitude.choices, blank=True)
    reason_code = models.CharField(
        _("欠费原因"), max_length=24, choices=ReasonCode.choices, blank=True
    )
    note = models.TextField(_("沟通内容"), blank=True)
    next_step = models.CharField(_("下一步"), max_length=200, blank=True)
    next_step_on = models.DateField(_("下一步日期"), null=True, blank=True)
    contacted_at = models.DateTimeField(_("联系时间"), default=timezone.now)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("记录人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("催收记录")
        verbose_name_plural = _("催收记录")
        ordering = ["-contacted_at", "-id"]
        indexes = [models.Index(fields=["unit", "contacted_at"], name="contact_unit_time_idx")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.channel} {self.outcome}"


class ContactAttachment(models.Model):
    """A file kept with a contact record: a photo of a posted notice, a call recording."""

    contact = models.ForeignKey(ContactRecord, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("附件"), upload_to="contacts/%Y/%m/")
    description = models.CharField(_("说明"), max_length=200, blank=True)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("催收记录附件")
        verbose_name_plural = _("催收记录附件")

    def __str__(self) -> str:
        return self.file.name


class Promise(models.Model):
    """A promise to pay `amount_fen` by `promised_on` (承诺缴费). The run decides kept or broken
    after the date plus the policy's grace days."""

    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="promises"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="promises")
    contact = models.ForeignKey(
        ContactRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="promises"
    )
    amount_fen = MoneyField(_("承诺金额"))
    promised_on = models.DateField(_("承诺日期"))
    status = models.CharField(
        _("状态"), max_length=16, choices=PromiseStatus.choices, default=PromiseStatus.PENDING
    )
    decided_on = models.DateField(_("判定日期"), null=True, blank=True)
    paid_fen = MoneyField(_("期间实收"), default=0)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("缴费承诺")
        verbose_name_plural = _("缴费承诺")
        ordering = ["-promised_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="promise_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.amount_fen} @ {self.promised_on}"


class InstallmentPlan(models.Model):
    """An installment plan (分期还款协议): requested, approved by a manager, then in good standing
    until completed or defaulted (a missed installment after the grace days)."""

    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="plans"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="installment_plans")
    status = models.CharField(
        _("状态"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.REQUESTED
    )
    total_fen = MoneyField(_("分期总额"))
    reason = models.CharField(_("申请理由"), max_length=500)
    grace_days = models.PositiveSmallIntegerField(_("宽限天数"), default=5)
    waive_penalty_on_completion = models.BooleanField(_("履行完毕后减免违约金"), default=False)
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    #: The day of the debtor's written request (书面申请): an acknowledgement of the debt that
    #: restarts the limitation clock whether or not the plan is approved (诉讼时效规定 art. 14).
    requested_on = models.DateField(_("书面申请日期"), null=True, blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=500, blank=True)
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("分期计划")
        verbose_name_plural = _("分期计划")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(total_fen__gt=0), name="plan_total_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.get_status_display()}"


class Installment(models.Model):
    """One installment of a plan: `amount_fen` due on `due_on`. Paid-ness is decided from the
    ledger by the run (payments received since the plan started cover installments in order)."""

    plan = models.ForeignKey(InstallmentPlan, on_delete=models.CASCADE, related_name="installments")
    seq = models.PositiveSmallIntegerField(_("期数"))
    due_on = models.DateField(_("应还日期"))
    amount_fen = MoneyField(_("应还金额"))

    class Meta:
        verbose_name = _("分期明细")
        verbose_name_plural = _("分期明细")
        ordering = ["plan_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "seq"], name="installment_seq_unique"),
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0), name="installment_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}#{self.seq}"
