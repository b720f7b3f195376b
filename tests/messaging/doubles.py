"""Test doubles of the channel Backend protocol (providers/base.py), named in
settings.PROPFEE_MESSAGING by dotted path like any backend. The registry makes a new instance
per use, so what they record and the results they are told to give live on the class."""

from __future__ import annotations

from typing import ClassVar

from django.http import HttpRequest

from propfee.messaging.providers.base import (
    CallbackRejected,
    DeliveryReport,
    OutgoingMessage,
    SendResult,
)


class RecordingBackend:
    """Accepts everything (unless told otherwise by `results`) and records what it was given."""

    name = "recording"
    channels = frozenset({"sms", "email", "wechat"})
    sent: ClassVar[list[OutgoingMessage]] = []
    results: ClassVar[list[SendResult]] = []

    def send(self, message: OutgoingMessage) -> SendResult:
        type(self).sent.append(message)
        if type(self).results:
            return type(self).results.pop(0)
        return SendResult(
            accepted=True, provider_id=f"rec-{message.message_id}-{len(self.sent)}", cost_fen=4
        )

    def parse_callback(self, request: HttpRequest) -> list[DeliveryReport]:
        raise CallbackRejected("no callbacks")

    @classmethod
    def reset(cls) -> None:
        cls.sent = []
        cls.results = []


class SmsBackend(RecordingBackend):
    """A second recorder, so SMS and e-mail can behave differently in one test."""

    name = "sms-double"
    sent: ClassVar[list[OutgoingMessage]] = []
    results: ClassVar[list[SendResult]] = []


class EmailDouble(RecordingBackend):
    name = "email-double"
    sent: ClassVar[list[OutgoingMessage]] = []
    results: ClassVar[list[SendResult]] = []


class HandshakeBackend(RecordingBackend):
    """A provider that checks the callback URL with a GET first (as WeChat does): the request
    must carry `signature` = HMAC-SHA256 of `echostr` under the key "test-token"."""

    name = "handshake"

    def callback_handshake(self, request: HttpRequest) -> str:
        import hashlib
        import hmac

        echo = request.GET.get("echostr", "")
        expected = hmac.new(b"test-token", echo.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.GET.get("signature", ""), expected):
            raise CallbackRejected("bad signature")
        return echo
