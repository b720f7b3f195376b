"""Holds that pause escalation (暂停催收) and service issues raised while collecting
(物业服务问题跟进表)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.collection.constants import HoldKind, IssueCategory, IssueStatus
from propfee.collection.models.cases import Case
from propfee.collection.models.contacts import InstallmentPlan, Promise
from propfee.core.models import User
from propfee.estates.models import Unit


class ServiceIssue(models.Model):
    """A service problem an owner raised (服务问题): category, department, promised resolution
    date and status. `is_dispute` marks it as the reason the owner withholds payment; the policy
    decides whether that holds the case."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="service_issues")
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="service_issues"
    )
    category = models.CharField(_("问题类别"), max_length=24, choices=IssueCategory.choices)
    description = models.TextField(_("问题描述"))
    department = models.CharField(_("责任部门"), max_length=64)
    promised_on = models.DateField(_("承诺解决日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=IssueStatus.choices, default=IssueStatus.OPEN
    )
    is_dispute = models.BooleanField(_("因此拒缴"), default=False)
    resolution = models.TextField(_("处理结果"), blank=True)
    resolved_on = models.DateField(_("解决日期"), null=True, blank=True)
    raised_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("服务问题")
        verbose_name_plural = _("服务问题")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.get_category_display()}"


class Hold(models.Model):
    """A pause of escalation for a unit from `starts_on` to `ends_on` (inclusive; open-ended
    when NULL) unless released earlier. Promise and installment holds point at what holds them."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="holds")
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="holds"
    )
    kind = models.CharField(_("暂停类型"), max_length=16, choices=HoldKind.choices)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    promise = models.ForeignKey(
        Promise, null=True, blank=True, on_delete=models.CASCADE, related_name="holds"
    )
    plan = models.ForeignKey(
        InstallmentPlan, null=True, blank=True, on_delete=models.CASCADE, related_name="holds"
    )
    issue = models.ForeignKey(
        ServiceIssue, null=True, blank=True, on_delete=models.CASCADE, related_name="holds"
    )
    released_on = models.DateField(_("解除日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("暂停催收")
        verbose_name_plural = _("暂停催收")
        ordering = ["unit_id", "starts_on", "id"]
        indexes = [models.Index(fields=["unit", "released_on"], name="hold_unit_idx")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.kind}"
