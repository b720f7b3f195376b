"""Django admin (superusers): templates and the outbox, read-only — every change goes through
the services and the pages, which check compliance and write the audit log."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from propfee.messaging.models import Message, MessageTemplate


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(MessageTemplate)
class MessageTemplateAdmin(_ReadOnly):
    list_display = ("name", "company", "channel", "stage", "language", "audience", "status")
    list_filter = ("channel", "status", "stage")


@admin.register(Message)
class MessageAdmin(_ReadOnly):
    list_display = ("id", "unit", "channel", "status", "queued_at", "sent_at", "provider")
    list_filter = ("status", "channel")
    search_fields = ("unit__code", "key", "provider_id")
    raw_id_fields = ("unit", "party", "template", "fallback_of")
