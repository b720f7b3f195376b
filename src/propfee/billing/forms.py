"""Forms of the billing pages: the run list's filters, choosing what to bill, the reversal, and
the fee set-up (收费项目, 收费标准, 合同条款)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from propfee.billing.constants import (
    BILLING_CYCLES,
    DEFAULT_PENALTY_DAILY_RATE,
    DUE_DAY_MAX,
    RATE_PLACES,
    AllocationOrder,
    BillingRunStatus,
    TariffBasis,
)
from propfee.billing.models import BillingRun, FeeItem
from propfee.billing.periods import PeriodError, period_label, period_parse
from propfee.core.models import User
from propfee.estates.constants import UnitType
from propfee.estates.selectors import estates_visible_to
from propfee.web.forms import BootstrapMixin, FilterForm

_PERIOD_HELP = _("格式 YYYY-MM，例如 2026-11")


def _estate_field(user: User, *, required: bool) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("项目"),
        queryset=estates_visible_to(user).order_by("code"),
        required=required,
        empty_label=None if required else _("全部项目"),
    )


def _period_clean(value: str) -> str:
    try:
        return period_label(period_parse(value))
    except PeriodError as error:
        raise forms.ValidationError(str(error)) from error


class BillingRunFilterForm(FilterForm):
    estate: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("项目"), queryset=None, required=False
    )
    period = forms.CharField(
        label=_("计费月份"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"placeholder": "2026-11"}),
    )
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部状态")), *BillingRunStatus.choices],
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["estate"] = _estate_field(user, required=False)
        self.fields["estate"].widget.attrs["class"] = "form-select"

    def clean_period(self) -> str:
        value = self.cleaned_data["period"].strip()
        return _period_clean(value) if value else ""

    def filter(self, runs: QuerySet[BillingRun]) -> QuerySet[BillingRun]:
        values = self.values()
        if "estate" in values:
            runs = runs.filter(estate=values["estate"])
        if "period" in values:
            runs = runs.filter(period_start=period_parse(values["period"]))
        if "status" in values:
            runs = runs.filter(status=values["status"])
        return runs


class BillingRunForm(BootstrapMixin, forms.Form):
    """Which estate to bill for which month. The estate is any the user may see; the id of one
    outside it is answered with 404 by the view, not with a form error."""

    estate = forms.IntegerField(label=_("项目"), widget=forms.Select)
    period = forms.CharField(
        label=_("计费月份"),
        max_length=7,
        help_text=_PERIOD_HELP,
        widget=forms.TextInput(attrs={"placeholder": "2026-11"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        estates = estates_visible_to(user).order_by("code")
        widget = cast(forms.Select, self.fields["estate"].widget)
        widget.choices = [(e.pk, f"{e.code} {e.name}") for e in estates]

    def clean_period(self) -> str:
        return _period_clean(self.cleaned_data["period"])


class BillingRunReverseForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(
        label=_("撤销原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


# --- fee set-up (收费设置) --------------------------------------------------------------------


class SetupEstateForm(forms.Form):
    """Which estate's fee set-up to show."""

    estate = forms.IntegerField(
        label=_("项目"), widget=forms.Select(attrs={"class": "form-select"})
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        widget = cast(forms.Select, self.fields["estate"].widget)
        widget.choices = [(e.pk, f"{e.code} {e.name}") for e in estates_visible_to(user)]


class _SetupForm(BootstrapMixin, forms.Form):
    """The set-up page shows three forms at once: each gets its own element ids."""

    id_prefix = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class FeeItemForm(_SetupForm):
    id_prefix = "fee-item"
    code = forms.CharField(
        label=_("项目编码"),
        max_length=32,
        help_text=_("字母或数字，例如 TCF"),
        widget=forms.TextInput(attrs={"placeholder": "TCF"}),
    )
    name = forms.CharField(
        label=_("收费项目"),
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": _("停车管理费")}),
    )


_DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class TariffForm(_SetupForm):
    """A new tariff, or a rate change (a new tariff from a later date)."""

    id_prefix = "tariff"

    fee_item = forms.ModelChoiceField(label=_("收费项目"), queryset=FeeItem.objects.none())
    unit_type = forms.ChoiceField(label=_("房屋类型"), choices=UnitType.choices)
    basis = forms.ChoiceField(label=_("计费方式"), choices=TariffBasis.choices)
    rate_yuan = forms.DecimalField(
        label=_("单价(元)"),
        min_value=Decimal("0.0001"),
        max_digits=12,
        decimal_places=RATE_PLACES,
        help_text=_("按面积计费时为每平方米每月的单价，最多4位小数"),
    )
    effective_from = forms.DateField(label=_("生效日期"), widget=_DATE_INPUT)
    effective_to = forms.DateField(label=_("截止日期"), required=False, widget=_DATE_INPUT)
    vacancy_discount_ratio = forms.DecimalField(
        label=_("空置优惠比例"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(1),
        max_digits=5,
        decimal_places=4,
        help_text=_("空置房屋减收的比例，0.3 表示按七折收取；不优惠请留空"),
    )

    def __init__(self, *args: Any, company_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["fee_item"])
        field.queryset = FeeItem.objects.filter(company_id=company_id).order_by("code")


class ContractVersionForm(_SetupForm):
    """New contract terms from the first day of a month."""

    id_prefix = "contract"

    effective_from = forms.DateField(
        label=_("生效日期"), help_text=_("须为某月1日"), widget=_DATE_INPUT
    )
    billing_cycle_months = forms.TypedChoiceField(
        label=_("缴费周期"),
        coerce=int,
        choices=[(months, _("%(months)s个月") % {"months": months}) for months in BILLING_CYCLES],
    )
    due_day = forms.IntegerField(label=_("缴费日"), min_value=1, max_value=DUE_DAY_MAX, initial=1)
    penalty_daily_rate = forms.DecimalField(
        label=_("违约金日费率"),
        min_value=Decimal(0),
        max_digits=8,
        decimal_places=6,
        initial=DEFAULT_PENALTY_DAILY_RATE,
        help_text=_("万分之五填 0.0005；不收违约金填 0"),
    )
    grace_days = forms.IntegerField(label=_("宽限天数"), min_value=0, initial=0)
    penalty_cap_ratio = forms.DecimalField(
        label=_("违约金上限比例"),
        required=False,
        min_value=Decimal("0.0001"),
        max_digits=6,
        decimal_places=4,
        help_text=_("违约金不超过欠费本金的比例，1 表示不超过本金；不设上限请留空"),
    )
    allocation_order = forms.ChoiceField(label=_("核销顺序"), choices=AllocationOrder.choices)
