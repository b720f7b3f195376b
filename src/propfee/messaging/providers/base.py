"""The contract between the outbox and a channel backend (SMS provider, email, WeChat, console).

The outbox renders a message, stores it, and hands an `OutgoingMessage` to the backend chosen for
its channel; the backend returns a `SendResult`. Providers that report delivery call back over
HTTP; `parse_callback` verifies the request (signature or shared token) and returns the
`DeliveryReport`s it carries, or raises `CallbackRejected`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from django.http import HttpRequest


class CallbackRejected(Exception):
    """A delivery callback that fails verification (forged, tampered or stale)."""


@dataclass(frozen=True)
class OutgoingMessage:
    message_id: int  # the outbox row's id: sent as the provider's out-id / session context
    channel: str  # "sms" | "email" | "wechat"
    recipient: str  # 11-digit mobile number, e-mail address or WeChat openid
    subject: str  # e-mail subject; empty for other channels
    body: str  # the exact rendered text, as stored in the outbox
    template_code: str = ""  # the provider's template id where the provider sends templates
    params: dict[str, str] = field(default_factory=dict)  # variables for provider templates


@dataclass(frozen=True)
class SendResult:
    accepted: bool
    provider_id: str = ""  # the provider's message id, to match delivery reports
    cost_fen: int | None = None
    error: str = ""
    retryable: bool = False  # a transient failure (network, throttling) worth retrying


@dataclass(frozen=True)
class DeliveryReport:
    provider_id: str
    delivered: bool
    at: datetime
    error: str = ""


class Backend(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> SendResult: ...

    def parse_callback(self, request: HttpRequest) -> list[DeliveryReport]: ...
