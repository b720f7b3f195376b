"""The console backend: writes each message to the log instead of sending it, so the demo and a
fresh installation never contact anyone. Its delivery callbacks are signed with the SECRET_KEY.

A console delivery report is a JSON list `[{"provider_id": "console-42", "delivered": true,
"at": "2026-11-27T09:30:00+08:00", "error": ""}]` with header `X-Propfee-Signature:
<console_signature(body)>`; anything else is refused."""

from __future__ import annotations

import hmac
import logging
from datetime import datetime

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from propfee.core.personal_data import email_mask, phone_mask
from propfee.messaging.providers.base import (
    CallbackRejected,
    DeliveryReport,
    OutgoingMessage,
    SendResult,
)
from propfee.messaging.providers.reports import json_list_body

logger = logging.getLogger("propfee.messaging.console")

SIGNATURE_HEADER = "X-Propfee-Signature"
_SIGNATURE_SALT = "propfee.messaging.console.callback"


def console_signature(body: bytes) -> str:
    """The signature a console delivery callback must carry for `body` (HMAC-SHA256, SECRET_KEY)."""
    return salted_hmac(_SIGNATURE_SALT, body, algorithm="sha256").hexdigest()


def _masked(message: OutgoingMessage) -> str:
    if message.channel == "email":
        return email_mask(message.recipient)
    if message.channel == "sms":
        return phone_mask(message.recipient)
    return message.recipient[:6] + "…" if len(message.recipient) > 6 else message.recipient


class ConsoleBackend:
    """Accepts every message on every channel and logs it (recipient masked); never fails."""

    name = "console"
    channels = frozenset({"sms", "email", "wechat"})

    def send(self, message: OutgoingMessage) -> SendResult:
        provider_id = f"console-{message.message_id}"
        logger.info(
            "[%s] message %s to %s (%s): %s%s",
            message.channel,
            message.message_id,
            _masked(message),
            provider_id,
            f"{message.subject} — " if message.subject else "",
            message.body,
        )
        return SendResult(accepted=True, provider_id=provider_id, cost_fen=0)

    def callback_response(self) -> JsonResponse:
        return JsonResponse({"ok": True})

    def parse_callback(self, request: HttpRequest) -> list[DeliveryReport]:
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not hmac.compare_digest(given.encode(), console_signature(request.body).encode()):
            raise CallbackRejected("console callback signature missing or wrong")
        reports = []
        for item in json_list_body(request):
            provider_id = str(item.get("provider_id") or "")
            if not provider_id.startswith("console-"):
                raise CallbackRejected(f"not a console message id: {provider_id!r}")
            at = _parse_at(item.get("at"))
            reports.append(
                DeliveryReport(
                    provider_id=provider_id,
                    delivered=item.get("delivered") is True,
                    at=at,
                    error=str(item.get("error") or ""),
                )
            )
        return reports


def _parse_at(value: object) -> datetime:
    if not value:
        return timezone.now()
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise CallbackRejected(f"report time {value!r} is not ISO 8601") from exc
    if timezone.is_naive(at):
        raise CallbackRejected(f"report time {value!r} has no UTC offset")
    return at
