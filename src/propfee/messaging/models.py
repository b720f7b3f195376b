"""Messaging models: MessageTemplate 消息模板 (per channel, stage and language, approved before
use) and Message 消息记录 (the outbox: the exact text sent, to whom, when, and what happened)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.core.models import TimeStampedModel, User
from propfee.core.money import MoneyField
from propfee.estates.models import Company, Party, Unit
from propfee.messaging.constants import (
    DEFAULT_LANGUAGE,
    Audience,
    Channel,
    MessageStatus,
    TemplateStatus,
)


class MessageTemplate(TimeStampedModel):
    """A message text with named variables ({name}, {amount}, …) for one channel, collection
    stage and language. Only an approved template sends; any edit returns it to draft."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("模板名称"), max_length=64)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    stage = models.CharField(_("催收阶段"), max_length=32)
    language = models.CharField(_("语言"), max_length=16, default=DEFAULT_LANGUAGE)
    audience = models.CharField(
        _("发送对象"), max_length=16, choices=Audience.choices, default=Audience.PAYER
    )
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(_("正文"))
    # SMS providers send pre-registered templates; this is the provider's id for this text.
    provider_template_code = models.CharField(_("服务商模板编号"), max_length=64, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=TemplateStatus.choices, default=TemplateStatus.DRAFT
    )
    approved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("消息模板")
        verbose_name_plural = _("消息模板")
        ordering = ["company_id", "stage", "channel", "language", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "channel", "stage", "language", "audience"],
                name="one_template_per_channel_stage",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(approved_at__isnull=False),
                name="approved_template_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.status == TemplateStatus.APPROVED


class Message(models.Model):
    """One message of the outbox (消息记录): the exact rendered text, its recipient (always
    the payer's own contact), the channel and provider, and its life: queued → sent →
    delivered, or held (contact hours, daily cap), failed, cancelled. `key` makes queuing
    idempotent; `fallback_channels` are tried in order when this one finally fails."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="messages")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="messages")
    recipient = models.CharField(_("接收人"), max_length=254)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    stage = models.CharField(_("催收阶段"), max_length=32, blank=True)
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(_("正文"))
    params = models.JSONField(_("模板变量"), default=dict, blank=True)
    deadline = models.DateField(_("缴费期限"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    provider = models.CharField(_("服务商"), max_length=32, blank=True)
    provider_id = models.CharField(_("服务商消息编号"), max_length=128, blank=True)
    cost_fen = MoneyField(_("费用(分)"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"), null=True, blank=True)
    not_before = models.DateTimeField(_("最早发送时间"), null=True, blank=True)
    error = models.CharField(_("说明"), max_length=500, blank=True)
    key = models.CharField(_("幂等键"), max_length=200)
    fallback_channels = models.JSONField(_("备用渠道"), default=list, blank=True)
    fallback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="fallbacks"
    )
    queued_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queued_at = models.DateTimeField(_("排队时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("消息记录")
        verbose_name_plural = _("消息记录")
        ordering = ["-queued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "key"], name="message_key_unique"),
            models.CheckConstraint(
                condition=Q(cost_fen__isnull=True) | Q(cost_fen__gte=0),
                name="message_cost_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="message_due_idx"),
            models.Index(fields=["unit", "sent_at"], name="message_unit_sent_idx"),
            models.Index(fields=["provider", "provider_id"], name="message_provider_idx"),
            models.Index(fields=["queued_at"], name="message_queued_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.unit} ({self.get_status_display()})"


class CallbackNonce(models.Model):
    """One provider callback's (timestamp, nonce), seen once (回调防重放): a second request
    carrying the same pair is a replay and is refused. Rows older than twice the accepted
    callback age are deleted as new ones arrive (an older request is refused as stale)."""

    provider = models.CharField(_("服务商"), max_length=32)
    timestamp = models.BigIntegerField(_("回调时间戳"))
    nonce = models.CharField(_("随机数"), max_length=128)
    seen_at = models.DateTimeField(_("收到时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("回调防重放记录")
        verbose_name_plural = _("回调防重放记录")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "timestamp", "nonce"], name="callbacknonce_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} · {self.timestamp} · {self.nonce}"
