"""Forms of 减免 and 坏账核销: the request on the unit page, the reversal (撤销), the decision of
a request and the 减免审批 list's filters. They parse what was typed; the rules (limits, what is
owed, who may) are the ledger services', whose refusals come back to these forms as errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from propfee.core.models import User
from propfee.core.money import yuan_to_fen
from propfee.core.roles import Role
from propfee.estates.selectors import estates_visible_to
from propfee.ledger.constants import Component, WaiverKind, WaiverRequestStatus, WriteOffReason
from propfee.ledger.models import WaiverRequest
from propfee.web.forms import FilterForm
from propfee.web.unit_forms import WriteForm


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _yuan_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=15,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        initial=Decimal("0.00"),
    )


class WaiverRequestForm(WriteForm):
    """申请减免 / 坏账核销 of one charge: how much principal and penalty (yuan), from which day,
    why; a write-off also says which of the write-off reasons applies."""

    kind = forms.ChoiceField(
        label=gettext_lazy("类型"),
        choices=WaiverKind.choices,
        initial=WaiverKind.WAIVER,
        widget=forms.RadioSelect,
    )
    principal = _yuan_field(gettext_lazy("减免本金(元)"))
    penalty = _yuan_field(gettext_lazy("减免滞纳金(元)"))
    effective_on = forms.DateField(
        label=gettext_lazy("生效日期"),
        widget=_date_input(),
        help_text=gettext_lazy("减免自该日终了起生效；本金减免后次日起不再计滞纳金。"),
    )
    write_off_reason = forms.ChoiceField(
        label=gettext_lazy("核销原因"),
        required=False,
        choices=[("", gettext_lazy("（坏账核销时必选）")), *WriteOffReason.choices],
    )
    reason = forms.CharField(
        label=gettext_lazy("原因说明"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, initial: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(
            *args, initial={"effective_on": timezone.localdate(), **(initial or {})}, **kwargs
        )
        self.fields["kind"].widget.attrs["class"] = "form-check-input"

    def clean_effective_on(self) -> Any:
        day = self.cleaned_data["effective_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("生效日期不能晚于今天。"))
        return day

    def fen(self, name: str) -> int:
        return int((self.cleaned_data.get(name) or Decimal(0)) * 100)


class ReasonForm(WriteForm):
    """A reason, required: 撤销原因 or 驳回原因 (the label is the caller's)."""

    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, label: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label


class ApproveForm(WriteForm):
    """批准 a request, with an optional note the requester will read."""

    note = forms.CharField(
        label=gettext_lazy("审批意见"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class WaiverRequestFilterForm(FilterForm):
    """The 减免审批 list's filters; without a status in the query the list shows 待审批."""

    estate: forms.ModelChoiceField = forms.ModelChoiceField(
        label=gettext_lazy("项目"), queryset=None, required=False
    )
    status = forms.ChoiceField(
        label=gettext_lazy("状态"),
        required=False,
        choices=[("", gettext_lazy("全部状态")), *WaiverRequestStatus.choices],
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("类型"),
        required=False,
        choices=[("", gettext_lazy("全部类型")), *WaiverKind.choices],
    )

    def __init__(self, data: Any, *, user: User, **kwargs: Any) -> None:
        data = data.copy() if data is not None else {}
        data.setdefault("status", WaiverRequestStatus.PENDING)
        super().__init__(data, **kwargs)
        estate = cast(forms.ModelChoiceField, self.fields["estate"])
        estate.queryset = estates_visible_to(user).order_by("code")
        estate.empty_label = _("全部项目")
        estate.widget.attrs["class"] = "form-select"

    def filter(self, requests: QuerySet[WaiverRequest]) -> QuerySet[WaiverRequest]:
        values = self.values()
        if "estate" in values:
            requests = requests.filter(charge__unit__estate_id=values["estate"].pk)
        if "status" in values:
            requests = requests.filter(status=values["status"])
        if "kind" in values:
            requests = requests.filter(kind=values["kind"])
        return requests


class WaiverLimitForm(WriteForm):
    """One role's approval limit for one component: an amount in yuan, or 不限."""

    role = forms.ChoiceField(choices=Role.choices, widget=forms.HiddenInput)
    component = forms.ChoiceField(choices=Component.choices, widget=forms.HiddenInput)
    unlimited = forms.BooleanField(label=gettext_lazy("不限金额"), required=False)
    max_yuan = forms.DecimalField(
        label=gettext_lazy("每笔应收最多（元）"),
        required=False,
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("unlimited") and data.get("max_yuan") is None:
            raise forms.ValidationError(_("请填写金额，或勾选“不限金额”。"))
        return data

    def max_fen(self) -> int | None:
        if self.cleaned_data["unlimited"]:
            return None
        return yuan_to_fen(self.cleaned_data["max_yuan"])
