"""Django admin (superusers): templates and the outbox, read-only — every change goes through
the services and the pages, which check compliance and write the audit log."""

from __future__ import annotations

from django.contrib import admin

from propfee.core.admin import ReadOnlyAdmin as _ReadOnly
from propfee.messaging.exports import recipient_masked
from propfee.messaging.models import Message, MessageTemplate


@admin.register(MessageTemplate)
class MessageTemplateAdmin(_ReadOnly):
    list_display = ("name", "company", "channel", "stage", "language", "audience", "status")
    list_filter = ("channel", "status", "stage")


@admin.register(Message)
class MessageAdmin(_ReadOnly):
    list_display = (
        "id",
        "unit",
        "channel",
        "recipient_shown",
        "status",
        "queued_at",
        "sent_at",
        "provider",
    )
    list_filter = ("status", "channel")
    search_fields = ("unit__code", "key", "provider_id")
    raw_id_fields = ("unit", "party", "template", "fallback_of")
    # The recipient address is personal data: shown masked, as in the staff UI's outbox.
    exclude = ("recipient",)
    readonly_fields = ("recipient_shown",)

    @admin.display(description="接收人")
    def recipient_shown(self, message: Message) -> str:
        return recipient_masked(message)
