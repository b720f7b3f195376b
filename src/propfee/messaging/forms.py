"""Forms of the messaging pages: the template editor, the outbox filters, cancelling."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.core.models import User
from propfee.estates.selectors import estates_visible_to
from propfee.messaging.constants import (
    LANGUAGES,
    STAGE_LABELS,
    Audience,
    Channel,
    MessageStatus,
    TemplateStatus,
)
from propfee.messaging.models import Message, MessageTemplate
from propfee.web.forms import BootstrapMixin, FilterForm


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


class TemplateForm(BootstrapMixin, forms.Form):
    """A template's text; channel, stage, language and audience are fixed once created."""

    name = forms.CharField(label=_("模板名称"), max_length=64)
    channel = forms.ChoiceField(label=_("渠道"), choices=Channel.choices)
    stage = forms.ChoiceField(label=_("催收阶段"), choices=list(STAGE_LABELS.items()))
    language = forms.ChoiceField(label=_("语言"), choices=LANGUAGES)
    audience = forms.ChoiceField(label=_("发送对象"), choices=Audience.choices)
    subject = forms.CharField(label=_("标题（邮件）"), max_length=200, required=False)
    body = forms.CharField(label=_("正文"), widget=forms.Textarea(attrs={"rows": 8}))
    provider_template_code = forms.CharField(
        label=_("服务商模板编号"),
        max_length=64,
        required=False,
        help_text=_("短信服务商审核通过的模板编号（如 SMS_123456），邮件可不填"),
    )
    preview_unit = forms.CharField(label=_("预览房屋编码"), max_length=96, required=False)

    FIXED = ("channel", "stage", "language", "audience")

    def __init__(self, *args: Any, template: MessageTemplate | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if template is not None:
            for name in self.FIXED:
                self.fields[name].disabled = True
                self.fields[name].initial = getattr(template, name)
            for name in ("name", "subject", "body", "provider_template_code"):
                self.fields[name].initial = getattr(template, name)
        # Stage keys are free text in the database; keep a policy's own key selectable.
        stage = (self.data.get("stage") if self.is_bound else None) or (
            template.stage if template else None
        )
        if stage and stage not in STAGE_LABELS:
            self.fields["stage"].choices = [*self.fields["stage"].choices, (stage, stage)]


class TemplateFilterForm(FilterForm):
    channel = forms.ChoiceField(
        label=_("渠道"), required=False, choices=_blank(_("全部渠道")) + Channel.choices
    )
    stage = forms.ChoiceField(
        label=_("催收阶段"),
        required=False,
        choices=_blank(_("全部阶段")) + list(STAGE_LABELS.items()),
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=_blank(_("全部状态")) + TemplateStatus.choices
    )

    def filter(self, templates: QuerySet[MessageTemplate]) -> QuerySet[MessageTemplate]:
        values = self.values()
        for name in ("channel", "stage", "status"):
            if name in values:
                templates = templates.filter(**{name: values[name]})
        return templates


class OutboxFilterForm(FilterForm):
    q = forms.CharField(
        label=_("房屋编码"),
        required=False,
        max_length=96,
        widget=forms.TextInput(attrs={"placeholder": "DEMO-3-1502"}),
    )
    estate: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("项目"), queryset=None, required=False
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=_blank(_("全部状态")) + MessageStatus.choices
    )
    channel = forms.ChoiceField(
        label=_("渠道"), required=False, choices=_blank(_("全部渠道")) + Channel.choices
    )
    queued_from = forms.DateField(
        label=_("排队日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    queued_to = forms.DateField(
        label=_("排队日期至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["estate"] = forms.ModelChoiceField(
            label=_("项目"),
            queryset=estates_visible_to(user).order_by("code"),
            required=False,
            empty_label=_("全部项目"),
        )
        self.fields["estate"].widget.attrs["class"] = "form-select"

    def filter(self, messages: QuerySet[Message]) -> QuerySet[Message]:
        values = self.values()
        if "q" in values:
            messages = messages.filter(unit__code__startswith=values["q"].strip().upper())
        if "estate" in values:
            messages = messages.filter(unit__estate=values["estate"])
        if "status" in values:
            messages = messages.filter(status=values["status"])
        if "channel" in values:
            messages = messages.filter(channel=values["channel"])
        if "queued_from" in values:
            messages = messages.filter(queued_at__gte=_day_start(values["queued_from"]))
        if "queued_to" in values:
            end = _day_start(values["queued_to"] + dt.timedelta(days=1))
            messages = messages.filter(queued_at__lt=end)
        return messages


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class MessageCancelForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("取消原因"), max_length=200)
