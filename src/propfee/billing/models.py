"""Billing domain: FeeItem 收费项目, Tariff 收费标准, Contract 物业服务合同 and its versions,
BillingRun 计费批次 and Charge 应收 (one fee item, one unit, one period)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.billing.constants import (
    BILLING_CYCLES,
    DEFAULT_PENALTY_DAILY_RATE,
    DUE_DAY_MAX,
    AllocationOrder,
    BillingRunStatus,
    TariffBasis,
)
from propfee.core.models import TimeStampedModel, User
from propfee.core.money import MoneyField
from propfee.estates.constants import UnitType
from propfee.estates.models import Company, Estate, Party, Unit


class FeeItem(TimeStampedModel):
    """A kind of fee a company bills (收费项目): 物业费, 停车管理费, 公摊水电费…"""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="fee_items")
    code = models.CharField(_("项目编码"), max_length=32)
    name = models.CharField(_("收费项目"), max_length=64)

    class Meta:
        verbose_name = _("收费项目")
        verbose_name_plural = _("收费项目")
        ordering = ["company_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="feeitem_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Tariff(TimeStampedModel):
    """What one fee item costs for one unit type of an estate from a date (收费标准).

    `rate_yuan` is in yuan with four places, because per-m² rates need fractions of a fen
    (2.3500 元/㎡·月); a charge multiplies it out and rounds once. A vacant unit (空置) pays
    the charge less `vacancy_discount_ratio` of it (0.3000: it pays 70%)."""

    fee_item = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="tariffs")
    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="tariffs")
    unit_type = models.CharField(_("房屋类型"), max_length=16, choices=UnitType.choices)
    basis = models.CharField(_("计费方式"), max_length=24, choices=TariffBasis.choices)
    rate_yuan = models.DecimalField(_("单价(元)"), max_digits=12, decimal_places=4)
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("截止日期"), null=True, blank=True)
    vacancy_discount_ratio = models.DecimalField(
        _("空置优惠比例"), max_digits=5, decimal_places=4, null=True, blank=True
    )

    class Meta:
        verbose_name = _("收费标准")
        verbose_name_plural = _("收费标准")
        ordering = ["estate_id", "fee_item_id", "unit_type", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["fee_item", "estate", "unit_type", "effective_from"],
                name="tariff_one_per_start",
            ),
            models.CheckConstraint(condition=Q(rate_yuan__gt=0), name="tariff_rate_positive"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="tariff_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(vacancy_discount_ratio__isnull=True)
                | Q(vacancy_discount_ratio__gte=0, vacancy_discount_ratio__lte=1),
                name="tariff_vacancy_ratio_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fee_item} · {self.get_unit_type_display()} · {self.rate_yuan}"


class Contract(TimeStampedModel):
    """The property-service contract of an estate (物业服务合同); its terms are versioned."""

    estate = models.OneToOneField(Estate, on_delete=models.PROTECT, related_name="contract")
    name = models.CharField(_("合同名称"), max_length=128)

    class Meta:
        verbose_name = _("物业服务合同")
        verbose_name_plural = _("物业服务合同")

    def __str__(self) -> str:
        return self.name


class ContractVersion(TimeStampedModel):
    """The contract's terms from `effective_from` (the first day of a month) until the next
    version: billing cycle, due day (bills are due in advance, on this day of the cycle's first
    month), penalty terms and the order in which a payment settles penalty and principal."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="versions")
    effective_from = models.DateField(_("生效日期"))
    billing_cycle_months = models.PositiveSmallIntegerField(_("缴费周期(月)"), default=1)
    due_day = models.PositiveSmallIntegerField(_("缴费日"), default=1)
    penalty_daily_rate = models.DecimalField(
        _("违约金日费率"), max_digits=8, decimal_places=6, default=DEFAULT_PENALTY_DAILY_RATE
    )
    grace_days = models.PositiveSmallIntegerField(_("宽限天数"), default=0)
    penalty_cap_ratio = models.DecimalField(
        _("违约金上限比例"), max_digits=6, decimal_places=4, null=True, blank=True
    )
    allocation_order = models.CharField(
        _("核销顺序"),
        max_length=16,
        choices=AllocationOrder.choices,
        default=AllocationOrder.PENALTY_FIRST,
    )

    class Meta:
        verbose_name = _("合同版本")
        verbose_name_plural = _("合同版本")
        ordering = ["contract_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "effective_from"], name="contractversion_one_per_start"
            ),
            models.CheckConstraint(
                condition=Q(billing_cycle_months__in=BILLING_CYCLES),
                name="contractversion_cycle_valid",
            ),
            models.CheckConstraint(
                condition=Q(due_day__gte=1, due_day__lte=DUE_DAY_MAX),
                name="contractversion_due_day_range",
            ),
            models.CheckConstraint(
                condition=Q(penalty_daily_rate__gte=0), name="contractversion_rate_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(penalty_cap_ratio__isnull=True) | Q(penalty_cap_ratio__gt=0),
                name="contractversion_cap_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract} · {self.effective_from:%Y-%m-%d}"


class BillingRun(models.Model):
    """One billing of one estate for one month (计费批次). A repeated run of a billed month is
    recorded too, with no new charges. Unsaved and `draft` when it was a dry run."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="billing_runs")
    period_start = models.DateField(_("计费月份"))
    status = models.CharField(
        _("状态"), max_length=16, choices=BillingRunStatus.choices, default=BillingRunStatus.DRAFT
    )
    unit_count = models.PositiveIntegerField(_("计费房屋数"), default=0)
    charge_count = models.PositiveIntegerField(_("新增应收笔数"), default=0)
    already_billed_count = models.PositiveIntegerField(_("已计费笔数"), default=0)
    total_fen = MoneyField(_("新增应收合计"), default=0)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("计费时间"), default=timezone.now)
    reversed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reversed_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    reverse_reason = models.CharField(_("撤销原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("计费批次")
        verbose_name_plural = _("计费批次")
        ordering = ["-period_start", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(total_fen__gte=0), name="billingrun_total_nonneg"),
        ]
        indexes = [models.Index(fields=["estate", "period_start"], name="billingrun_period_idx")]

    def __str__(self) -> str:
        return f"{self.estate} · {self.period_start:%Y-%m}"


class Charge(models.Model):
    """One fee item for one unit for one period (应收): principal, due date and payer.
    Never edited after posting; corrections are waivers or adjusting charges."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="charges")
    fee_item = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="charges")
    period_start = models.DateField(_("计费开始"))
    period_end = models.DateField(_("计费结束"))
    due_date = models.DateField(_("应缴日期"))
    principal_fen = MoneyField(_("应收金额"))
    payer = models.ForeignKey(
        Party,
        verbose_name=_("缴费人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="charges",
    )
    billing_run = models.ForeignKey(
        BillingRun, null=True, blank=True, on_delete=models.PROTECT, related_name="charges"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("应收")
        verbose_name_plural = _("应收")
        ordering = ["unit_id", "period_start", "fee_item_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "fee_item", "period_start"], name="one_charge_per_period"
            ),
            models.CheckConstraint(
                condition=Q(principal_fen__gt=0), name="charge_principal_positive"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="charge_period_ordered"
            ),
        ]
        indexes = [models.Index(fields=["unit", "due_date"], name="charge_unit_due_idx")]

    def __str__(self) -> str:
        return f"{self.unit_id} · {self.fee_item_id} · {self.period_start:%Y-%m}"
