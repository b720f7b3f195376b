"""Choices and fixed values of the payments domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentChannel(models.TextChoices):
    CASH = "cash", _("现金")
    POS = "pos", _("POS")
    BANK_TRANSFER = "bank_transfer", _("银行转账")
    WECHAT = "wechat", _("微信")
    ALIPAY = "alipay", _("支付宝")
    DIRECT_DEBIT = "direct_debit", _("代扣")
    # Paid before the system took the account over (期初已缴): recorded only by the charges
    # import for its 已缴金额 column, never taken at the front desk or in a payments file.
    OPENING_BALANCE = "opening_balance", _("期初已缴")


# The channels money is taken through today: the front desk and the payments import.
RECEIVING_CHANNELS = tuple(c for c in PaymentChannel if c != PaymentChannel.OPENING_BALANCE)


class PaymentStatus(models.TextChoices):
    RECORDED = "recorded", _("已登记")
    REVERSED = "reversed", _("已冲销")


# Receipt numbers: <estate code>-<year>-<6-digit sequence>, e.g. DEMO-2026-000123.
RECEIPT_SEQUENCE_DIGITS = 6
