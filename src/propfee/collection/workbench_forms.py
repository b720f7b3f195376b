"""Forms of the collector's workbench: the contact record (催收记录表), the case list's filters,
rescheduling a task, a case's reason codes and its collector."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.collection.constants import (
    REASON_HANDLING,
    Attitude,
    ContactChannel,
    ContactOutcome,
    PromiseStatus,
    ReasonCode,
    Segment,
    StageKey,
    TaskKind,
)
from propfee.collection.models import Case
from propfee.collection.workbench_selectors import collectors_for
from propfee.core.identifiers import id_parse
from propfee.core.models import User
from propfee.core.money import yuan_to_fen
from propfee.core.uploads import UploadKind, upload_check
from propfee.estates.selectors import buildings_visible_to, estates_visible_to
from propfee.web.forms import BootstrapMixin, FilterForm


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (照片、录音)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ContactForm(BootstrapMixin, forms.Form):
    """催收记录表: what happened, and what is next."""

    channel = forms.ChoiceField(label=_("方式"), choices=ContactChannel.choices)
    outcome = forms.ChoiceField(label=_("结果"), choices=ContactOutcome.choices)
    attitude = forms.ChoiceField(
        label=_("态度"), required=False, choices=_blank("—") + Attitude.choices
    )
    reason_code = forms.ChoiceField(
        label=_("欠费原因"), required=False, choices=_blank("—") + ReasonCode.choices
    )
    note = forms.CharField(
        label=_("沟通内容"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    promise_amount = forms.DecimalField(
        label=_("承诺金额（元）"), required=False, min_value=Decimal("0.01"), decimal_places=2
    )
    promise_on = forms.DateField(
        label=_("承诺缴费日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    next_step = forms.CharField(label=_("下一步"), required=False, max_length=200)
    next_step_kind = forms.ChoiceField(
        label=_("下一步方式"),
        required=False,
        choices=_blank(_("按联系方式"))
        + [(k, TaskKind(k).label) for k in ("phone", "visit", "deliver")],
    )
    next_step_on = forms.DateField(
        label=_("下一步日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    attachments = MultipleFileField(
        label=_("附件（张贴通知照片、通话录音）"),
        required=False,
        widget=MultipleFileInput(
            attrs={
                "multiple": True,
                "accept": ".pdf,.jpg,.jpeg,.png,.mp3,.m4a,.wav,.amr,image/jpeg,image/png,audio/*",
            }
        ),
        help_text=_("PDF、JPG、PNG 或通话录音（MP3、M4A、WAV、AMR）"),
    )
    complete_task = forms.BooleanField(label=_("同时完成该任务"), required=False, initial=True)

    def __init__(self, *args: Any, with_task: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_task:
            del self.fields["complete_task"]
        self.fields["outcome"].widget.attrs["data-outcome"] = ""
        self.fields["reason_code"].widget.attrs["data-reason"] = ""

    def clean_attachments(self) -> list[Any]:
        files = self.cleaned_data.get("attachments") or []
        for file in files:
            upload_check(file, kind=UploadKind.ATTACHMENT)
        return files

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data is None:
            return {}
        amount, on = data.get("promise_amount"), data.get("promise_on")
        if (amount is None) != (on is None):
            raise forms.ValidationError(_("承诺缴费请同时填写金额和日期"))
        if data.get("outcome") == ContactOutcome.PROMISED and amount is None:
            self.add_error("promise_amount", _("结果为“承诺缴费”时请填写承诺金额和日期"))
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        amount = data.get("promise_amount")
        return {
            "channel": data["channel"],
            "outcome": data["outcome"],
            "attitude": data.get("attitude") or "",
            "reason_code": data.get("reason_code") or "",
            "note": data.get("note") or "",
            "next_step": data.get("next_step") or "",
            "next_step_on": data.get("next_step_on"),
            "next_step_kind": data.get("next_step_kind") or "",
            "promise_amount_fen": yuan_to_fen(amount) if amount is not None else None,
            "promise_on": data.get("promise_on"),
            "attachments": data.get("attachments") or [],
            "complete_task": bool(data.get("complete_task")),
        }


def reason_handling() -> dict[str, str]:
    """Reason code → recommended handling, as text for the form."""
    return {str(code): str(text) for code, text in REASON_HANDLING.items()}


class CaseFilterForm(FilterForm):
    q = forms.CharField(label=_("房屋编码"), required=False, max_length=64)
    estate: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("项目"), queryset=None, required=False, empty_label=_("全部项目")
    )
    building: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("楼栋"), queryset=None, required=False, empty_label=_("全部楼栋")
    )
    stage = forms.ChoiceField(
        label=_("催收阶段"), required=False, choices=_blank(_("全部阶段")) + StageKey.choices
    )
    segment = forms.ChoiceField(
        label=_("分类"), required=False, choices=_blank(_("全部分类")) + Segment.choices
    )
    collector: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("催收负责人"), queryset=None, required=False, empty_label=_("全部人员")
    )
    has_promise = forms.ChoiceField(
        label=_("承诺缴费"),
        required=False,
        choices=[("", _("不限")), ("yes", _("有待兑现承诺")), ("no", _("无承诺"))],
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["estate"]).queryset = estates_visible_to(
            user
        ).order_by("code")
        estate_id = id_parse(self.data.get("estate")) if self.is_bound else None
        buildings = buildings_visible_to(user).order_by("code")
        cast(forms.ModelChoiceField, self.fields["building"]).queryset = (
            buildings.filter(estate_id=estate_id) if estate_id else buildings
        )
        cast(forms.ModelChoiceField, self.fields["collector"]).queryset = collectors_for(user)

    def filter(self, cases: QuerySet[Case]) -> QuerySet[Case]:
        values = self.values()
        if values.get("q"):
            cases = cases.filter(unit__code__istartswith=values["q"].strip())
        for name, lookup in (
            ("estate", "estate"),
            ("building", "unit__building"),
            ("stage", "stage"),
            ("segment", "segment"),
            ("collector", "collector"),
        ):
            if name in values:
                cases = cases.filter(**{lookup: values[name]})
        if values.get("has_promise") in ("yes", "no"):
            pending = {"promises__status": PromiseStatus.PENDING}
            cases = (
                cases.filter(**pending).distinct()
                if values["has_promise"] == "yes"
                else cases.exclude(**pending)
            )
        return cases


class RescheduleForm(BootstrapMixin, forms.Form):
    due_on = forms.DateField(label=_("截止日期"), widget=forms.DateInput(attrs={"type": "date"}))
    appointment_at = forms.DateTimeField(
        label=_("预约时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    reason = forms.CharField(label=_("说明"), required=False, max_length=200)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        at = data.get("appointment_at")
        if at is not None and data.get("due_on") is None:
            data["due_on"] = timezone.localdate(at)
        return data


class ReasonCodesForm(forms.Form):
    reason_codes = forms.MultipleChoiceField(
        label=_("欠费原因"),
        required=False,
        choices=ReasonCode.choices,
        widget=forms.CheckboxSelectMultiple,
    )


class ReassignForm(BootstrapMixin, forms.Form):
    collector: forms.ModelChoiceField = forms.ModelChoiceField(label=_("催收负责人"), queryset=None)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["collector"]).queryset = collectors_for(user)


def today_default() -> dt.date:
    return timezone.localdate()


class MessageForm(BootstrapMixin, forms.Form):
    """单条消息: an e-mail a collector writes to the case's payer. `key` is drawn when the form
    is shown, so sending twice stores one message."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    subject = forms.CharField(label=_("标题"), max_length=200)
    body = forms.CharField(label=_("正文"), widget=forms.Textarea(attrs={"rows": 4}))
