"""Choices and fixed values of the billing domain."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class TariffBasis(models.TextChoices):
    PER_M2_MONTH = "per_m2_month", _("按建筑面积每月")
    FIXED_PER_UNIT_MONTH = "fixed_per_unit_month", _("每户每月固定")
    PER_SPACE_MONTH = "per_space_month", _("每车位每月")


class BillingRunStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    POSTED = "posted", _("已入账")
    REVERSED = "reversed", _("已撤销")


class AllocationOrder(models.TextChoices):
    PENALTY_FIRST = "penalty_first", _("先违约金后本金")
    PRINCIPAL_FIRST = "principal_first", _("先本金后违约金")


# Months one bill covers (缴费周期): monthly, quarterly, half-yearly, yearly.
BILLING_CYCLES = (1, 3, 6, 12)
# Due days stop at 28 so that every month has one.
DUE_DAY_MAX = 28
DEFAULT_PENALTY_DAILY_RATE = Decimal("0.0005")  # 万分之五
RATE_PLACES = 4  # tariff rates in yuan, to 1/100 of a fen (2.3500 元/㎡·月)
