"""Alibaba Cloud SMS through the official SDK against a local stand-in: the request is checked
field by field and its ACS3-HMAC-SHA256 signature recomputed here from the documented algorithm."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.test import RequestFactory

from propfee.messaging.providers import backend_for
from propfee.messaging.providers.aliyun import AliyunSmsBackend
from propfee.messaging.providers.base import CallbackRejected, OutgoingMessage
from tests.messaging.provider_server import provider_server  # noqa: F401

ACCESS_KEY_ID = "LTAI-test-key-id"
ACCESS_KEY_SECRET = "test-secret-for-signatures"
CALLBACK_TOKEN = "aliyun-callback-token-7f3a"


@pytest.fixture
def aliyun(settings, provider_server):  # noqa: F811
    settings.PROPFEE_ALIYUN_SMS = {
        "ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "SIGN_NAME": "阳光物业",
        "ENDPOINT": provider_server.address,
        "PROTOCOL": "http",
        "CALLBACK_TOKEN": CALLBACK_TOKEN,
    }
    settings.PROPFEE_MESSAGING = {"sms": "aliyun"}
    return provider_server


def _message(**overrides) -> OutgoingMessage:
    fields = {
        "message_id": 42,
        "channel": "sms",
        "recipient": "13812345678",
        "subject": "",
        "body": "【阳光物业】尊敬的业主，您的3-1502物业费1,234.50元已逾期，请及时缴纳。",
        "template_code": "SMS_468000123",
        "params": {"unit": "3-1502", "amount": "1234.50"},
    }
    fields.update(overrides)
    return OutgoingMessage(**fields)


def _acs3_signature(captured) -> tuple[str, str]:
    """(signed headers, signature) per Alibaba Cloud's V3 request signature (ACS3-HMAC-SHA256):
    canonical request = method, URI, sorted RFC 3986-encoded query, lower-cased sorted headers,
    signed header names, hex SHA-256 of the body; string to sign = algorithm + hex SHA-256 of it."""
    authorization = captured.headers["authorization"]
    algorithm, _, rest = authorization.partition(" ")
    assert algorithm == "ACS3-HMAC-SHA256"
    parts = dict(item.split("=", 1) for item in rest.split(","))
    signed_headers = parts["SignedHeaders"]
    canonical_query = "&".join(
        f"{_rfc3986(name)}={_rfc3986(value)}" for name, value in sorted(captured.query.items())
    )
    canonical_headers = "".join(
        f"{name}:{captured.headers[name].strip()}\n" for name in signed_headers.split(";")
    )
    hashed_payload = hashlib.sha256(captured.body).hexdigest()
    canonical_request = "\n".join(
        [
            captured.method,
            captured.path or "/",
            canonical_query,
            canonical_headers,
            signed_headers,
            hashed_payload,
        ]
    )
    string_to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical_request.encode()).hexdigest()
    signature = hmac.new(
        ACCESS_KEY_SECRET.encode(), string_to_sign.encode(), hashlib.sha256
    ).hexdigest()
    return signed_headers, signature


def _rfc3986(text: str) -> str:
    return quote(text, safe="-_.~")


def test_send_signs_and_carries_the_template(aliyun):
    aliyun.reply_json(
        {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5"}
    )

    result = backend_for("sms").send(_message())

    assert result.accepted is True
    assert result.provider_id == "900619746936498440^0"
    assert result.cost_fen is None  # SendSms does not report a fee
    [captured] = aliyun.requests
    assert captured.method == "POST"
    assert captured.headers["x-acs-action"] == "SendSms"
    assert captured.headers["x-acs-version"] == "2017-05-25"
    assert captured.query["PhoneNumbers"] == "13812345678"
    assert captured.query["SignName"] == "阳光物业"
    assert captured.query["TemplateCode"] == "SMS_468000123"
    assert json.loads(captured.query["TemplateParam"]) == {"unit": "3-1502", "amount": "1234.50"}
    assert captured.query["OutId"] == "42"
    assert captured.headers["x-acs-content-sha256"] == hashlib.sha256(captured.body).hexdigest()
    signed_headers, signature = _acs3_signature(captured)
    assert {"host", "x-acs-action", "x-acs-date", "x-acs-signature-nonce"} <= set(
        signed_headers.split(";")
    )
    assert captured.headers["authorization"] == (
        f"ACS3-HMAC-SHA256 Credential={ACCESS_KEY_ID},"
        f"SignedHeaders={signed_headers},Signature={signature}"
    )


def test_signature_check_detects_a_wrong_secret(aliyun):
    """The recomputation above is not vacuous: with another secret it disagrees."""
    aliyun.reply_json({"Code": "OK", "BizId": "1"})
    backend = AliyunSmsBackend()
    backend.config["ACCESS_KEY_SECRET"] = "another-secret"
    backend.send(_message())
    _signed, signature = _acs3_signature(aliyun.requests[0])
    assert f"Signature={signature}" not in aliyun.requests[0].headers["authorization"]


@pytest.mark.parametrize(
    ("status", "answer", "retryable"),
    [
        (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}, False),
        (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"}, True),
        (200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法"}, False),
        (
            400,
            {"Code": "Throttling.User", "Message": "Request was denied due to flow control."},
            True,
        ),
        (503, {"Code": "ServiceUnavailable", "Message": "The request has failed."}, True),
    ],
)
def test_provider_errors_become_send_results(aliyun, status, answer, retryable):
    aliyun.reply_json({**answer, "RequestId": "R1"}, status=status)

    result = AliyunSmsBackend().send(_message())

    assert result.accepted is False
    assert result.retryable is retryable
    assert answer["Code"] in result.error
    assert result.provider_id == ""


def test_network_failure_is_retryable(settings, aliyun):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.PROPFEE_ALIYUN_SMS = {
        **settings.PROPFEE_ALIYUN_SMS,
        "ENDPOINT": f"127.0.0.1:{closed_port}",
    }

    result = AliyunSmsBackend().send(_message())

    assert result.accepted is False
    assert result.retryable is True
    assert result.error.startswith("network:")


def test_missing_template_or_demo_number_is_refused_without_a_request(aliyun):
    assert AliyunSmsBackend().send(_message(template_code="")).accepted is False
    demo = AliyunSmsBackend().send(_message(recipient="10012345678"))
    assert demo.accepted is False and demo.retryable is False
    assert aliyun.requests == []


REPORT = [
    {
        "phone_number": "13812345678",
        "send_time": "2026-11-27 09:30:00",
        "report_time": "2026-11-27 09:30:05",
        "success": True,
        "err_code": "DELIVERED",
        "err_msg": "用户接收成功",
        "sms_size": "1",
        "biz_id": "900619746936498440^0",
        "out_id": "42",
    },
    {
        "phone_number": "13900001111",
        "send_time": "2026-11-27 09:30:00",
        "report_time": "2026-11-27 09:31:10",
        "success": False,
        "err_code": "MK:0001",
        "err_msg": "用户关机",
        "sms_size": "1",
        "biz_id": "900619746936498441^0",
        "out_id": "43",
    },
]


def _report_request(query: str = f"?token={CALLBACK_TOKEN}", body=None, **headers):
    payload = json.dumps(REPORT if body is None else body, ensure_ascii=False).encode()
    return RequestFactory().post(
        f"/messaging/callbacks/aliyun/{query}", payload, content_type="application/json", **headers
    )


def test_delivery_report_is_parsed(aliyun):
    reports = AliyunSmsBackend().parse_callback(_report_request())

    beijing = ZoneInfo("Asia/Shanghai")
    assert [(r.provider_id, r.delivered, r.at, r.error) for r in reports] == [
        ("900619746936498440^0", True, datetime(2026, 11, 27, 9, 30, 5, tzinfo=beijing), ""),
        (
            "900619746936498441^0",
            False,
            datetime(2026, 11, 27, 9, 31, 10, tzinfo=beijing),
            "MK:0001: 用户关机",
        ),
    ]
    response = AliyunSmsBackend().callback_response()
    assert json.loads(response.content) == {"code": 0, "msg": "接收成功"}


def test_token_in_header_is_accepted(aliyun):
    request = _report_request(query="", HTTP_X_PROPFEE_CALLBACK_TOKEN=CALLBACK_TOKEN)
    assert len(AliyunSmsBackend().parse_callback(request)) == 2


@pytest.mark.parametrize("query", ["", "?token=guessed", f"?token={CALLBACK_TOKEN}x"])
def test_forged_report_is_refused(aliyun, query):
    with pytest.raises(CallbackRejected):
        AliyunSmsBackend().parse_callback(_report_request(query=query))


def test_reports_are_refused_when_no_token_is_configured(settings, aliyun):
    settings.PROPFEE_ALIYUN_SMS = {**settings.PROPFEE_ALIYUN_SMS, "CALLBACK_TOKEN": ""}
    with pytest.raises(CallbackRejected):
        AliyunSmsBackend().parse_callback(_report_request(query="?token="))
