"""Forms of the billing pages: the run list's filters, choosing what to bill, the reversal."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from propfee.billing.constants import BillingRunStatus
from propfee.billing.models import BillingRun
from propfee.billing.periods import PeriodError, period_label, period_parse
from propfee.core.models import User
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
