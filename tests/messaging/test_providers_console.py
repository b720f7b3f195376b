"""The console backend (logs, contacts nobody; callbacks signed with the SECRET_KEY) and the
registry that picks a backend for each channel."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from propfee.messaging.providers import backend_for, backend_named
from propfee.messaging.providers.aliyun import AliyunSmsBackend
from propfee.messaging.providers.base import CallbackRejected, OutgoingMessage
from propfee.messaging.providers.console import (
    SIGNATURE_HEADER,
    ConsoleBackend,
    console_signature,
)
from propfee.messaging.providers.tencent import TencentSmsBackend
from propfee.messaging.providers.wechat import WeChatTemplateBackend


def _message(channel: str = "sms", recipient: str = "13812345678") -> OutgoingMessage:
    return OutgoingMessage(
        message_id=7,
        channel=channel,
        recipient=recipient,
        subject="缴费提醒" if channel == "email" else "",
        body="尊敬的业主，您的3-1502物业费1234.50元已逾期。",
    )


def test_console_accepts_and_logs_with_the_recipient_masked(caplog):
    with caplog.at_level(logging.INFO, logger="propfee.messaging.console"):
        result = ConsoleBackend().send(_message())

    assert (result.accepted, result.provider_id, result.cost_fen) == (True, "console-7", 0)
    [record] = caplog.records
    assert "138****5678" in record.getMessage()
    assert "13812345678" not in record.getMessage()
    assert "1234.50元已逾期" in record.getMessage()


def test_console_is_the_default_for_every_channel(settings):
    settings.PROPFEE_MESSAGING = {}
    for channel in ("sms", "email", "wechat"):
        assert isinstance(backend_for(channel), ConsoleBackend)


def test_registry_resolves_names_and_dotted_paths(settings):
    settings.PROPFEE_MESSAGING = {
        "sms": "tencent",
        "wechat": "wechat",
        "email": "propfee.messaging.providers.console.ConsoleBackend",
    }
    assert isinstance(backend_for("sms"), TencentSmsBackend)
    assert isinstance(backend_for("wechat"), WeChatTemplateBackend)
    assert isinstance(backend_for("email"), ConsoleBackend)
    assert isinstance(backend_named("aliyun"), AliyunSmsBackend)


def test_registry_refuses_unknown_names_and_wrong_channels(settings):
    settings.PROPFEE_MESSAGING = {"sms": "carrier-pigeon", "email": "aliyun"}
    with pytest.raises(ImproperlyConfigured):
        backend_for("sms")
    with pytest.raises(ImproperlyConfigured):
        backend_for("email")  # an SMS provider cannot send e-mail
    with pytest.raises(ImproperlyConfigured):
        backend_for("fax")


def _callback(body: bytes, signature: str | None):
    headers = (
        {}
        if signature is None
        else {"HTTP_" + SIGNATURE_HEADER.upper().replace("-", "_"): signature}
    )
    return RequestFactory().post(
        "/messaging/callbacks/console/", body, content_type="application/json", **headers
    )


REPORT = json.dumps(
    [
        {"provider_id": "console-7", "delivered": True, "at": "2026-11-27T09:30:00+08:00"},
        {
            "provider_id": "console-8",
            "delivered": False,
            "at": "2026-11-27T09:31:00+08:00",
            "error": "关机",
        },
    ],
    ensure_ascii=False,
).encode()


def test_signed_console_report_is_parsed():
    reports = ConsoleBackend().parse_callback(_callback(REPORT, console_signature(REPORT)))

    shanghai = timezone(timedelta(hours=8))
    assert [(r.provider_id, r.delivered, r.at, r.error) for r in reports] == [
        ("console-7", True, datetime(2026, 11, 27, 9, 30, tzinfo=shanghai), ""),
        ("console-8", False, datetime(2026, 11, 27, 9, 31, tzinfo=shanghai), "关机"),
    ]


def test_forged_console_report_is_refused(settings):
    tampered = REPORT.replace(b'"delivered": false', b'"delivered": true')
    with pytest.raises(CallbackRejected):
        ConsoleBackend().parse_callback(_callback(tampered, console_signature(REPORT)))
    with pytest.raises(CallbackRejected):
        ConsoleBackend().parse_callback(_callback(REPORT, None))
    signature = console_signature(REPORT)
    settings.SECRET_KEY = "another-installation-secret-key-0123456789abcdefghij"
    with pytest.raises(CallbackRejected):
        ConsoleBackend().parse_callback(_callback(REPORT, signature))
