"""Tencent Cloud SMS through the official SDK against a local stand-in: the request is checked
field by field and its TC3-HMAC-SHA256 signature recomputed here from the documented algorithm."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import RequestFactory

from propfee.messaging.providers import backend_for
from propfee.messaging.providers.base import CallbackRejected, OutgoingMessage
from propfee.messaging.providers.tencent import TencentSmsBackend, template_param_set
from tests.messaging.provider_server import provider_server  # noqa: F401

SECRET_ID = "AKIDtestsecretid"
SECRET_KEY = "tencent-test-secret-key"
CALLBACK_TOKEN = "tencent-callback-token-91bd"


@pytest.fixture
def tencent(settings, provider_server):  # noqa: F811
    settings.PROPFEE_TENCENT_SMS = {
        "SECRET_ID": SECRET_ID,
        "SECRET_KEY": SECRET_KEY,
        "SDK_APP_ID": "1400006666",
        "SIGN_NAME": "阳光物业",
        "REGION": "ap-guangzhou",
        "ENDPOINT": provider_server.address,
        "PROTOCOL": "http",
        "FEN_PER_MESSAGE": 0,
        "CALLBACK_TOKEN": CALLBACK_TOKEN,
    }
    settings.PROPFEE_MESSAGING = {"sms": "tencent"}
    return provider_server


def _message(**overrides) -> OutgoingMessage:
    fields = {
        "message_id": 42,
        "channel": "sms",
        "recipient": "13812345678",
        "subject": "",
        "body": "【阳光物业】尊敬的业主，您的3-1502物业费1234.50元已逾期，请及时缴纳。",
        "template_code": "1234567",
        "params": {"2": "1234.50", "1": "3-1502"},
    }
    fields.update(overrides)
    return OutgoingMessage(**fields)


def _ok(fee: int = 1) -> dict:
    return {
        "Response": {
            "SendStatusSet": [
                {
                    "SerialNo": "5000:1045710669157053657849499619",
                    "PhoneNumber": "+8613812345678",
                    "Fee": fee,
                    "SessionContext": "42",
                    "Code": "Ok",
                    "Message": "send success",
                    "IsoCode": "CN",
                }
            ],
            "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
        }
    }


def _tc3_signature(captured, secret_key: str = SECRET_KEY) -> str:
    """The TC3-HMAC-SHA256 signature as documented by Tencent Cloud (API 3.0 签名方法 v3)."""
    timestamp = captured.headers["x-tc-timestamp"]
    date = datetime.fromtimestamp(int(timestamp), tz=UTC).strftime("%Y-%m-%d")
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{captured.headers['content-type']}\nhost:{captured.headers['host']}\n",
            "content-type;host",
            hashlib.sha256(captured.body).hexdigest(),
        ]
    )
    scope = f"{date}/sms/tc3_request"
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            timestamp,
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )

    def _hmac(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    secret_signing = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), "sms"), "tc3_request")
    return hmac.new(secret_signing, string_to_sign.encode(), hashlib.sha256).hexdigest()


def test_send_signs_and_carries_the_template(tencent):
    tencent.reply_json(_ok())

    result = backend_for("sms").send(_message())

    assert result.accepted is True
    assert result.provider_id == "5000:1045710669157053657849499619"
    assert result.cost_fen is None  # no price per message configured
    [captured] = tencent.requests
    assert captured.headers["x-tc-action"] == "SendSms"
    assert captured.headers["x-tc-version"] == "2021-01-11"
    assert captured.headers["x-tc-region"] == "ap-guangzhou"
    assert captured.headers["host"] == tencent.address
    assert captured.json() == {
        "PhoneNumberSet": ["+8613812345678"],
        "SmsSdkAppId": "1400006666",
        "SignName": "阳光物业",
        "TemplateId": "1234567",
        "TemplateParamSet": ["3-1502", "1234.50"],
        "SessionContext": "42",
    }
    date = datetime.fromtimestamp(int(captured.headers["x-tc-timestamp"]), tz=UTC).strftime(
        "%Y-%m-%d"
    )
    assert captured.headers["authorization"] == (
        f"TC3-HMAC-SHA256 Credential={SECRET_ID}/{date}/sms/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={_tc3_signature(captured)}"
    )
    assert (
        _tc3_signature(captured, secret_key="another-secret")
        not in (captured.headers["authorization"])
    )


def test_fee_is_priced_when_the_price_per_message_is_configured(settings, tencent):
    settings.PROPFEE_TENCENT_SMS = {**settings.PROPFEE_TENCENT_SMS, "FEN_PER_MESSAGE": 4}
    tencent.reply_json(_ok(fee=2))  # a long message billed as two

    assert TencentSmsBackend().send(_message()).cost_fen == 8


def _per_number_failure(code: str, message: str) -> dict:
    answer = _ok()
    answer["Response"]["SendStatusSet"][0].update(SerialNo="", Fee=0, Code=code, Message=message)
    return answer


@pytest.mark.parametrize(
    ("answer", "code", "retryable"),
    [
        (
            _per_number_failure("InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误"),
            "InvalidParameterValue.IncorrectPhoneNumber",
            False,
        ),
        (
            _per_number_failure("LimitExceeded.PhoneNumberThirtySecondLimit", "30秒内发送频率超限"),
            "LimitExceeded.PhoneNumberThirtySecondLimit",
            True,
        ),
        (
            {
                "Response": {
                    "Error": {"Code": "RequestLimitExceeded", "Message": "请求频率超限"},
                    "RequestId": "r1",
                }
            },
            "RequestLimitExceeded",
            True,
        ),
        (
            {
                "Response": {
                    "Error": {"Code": "AuthFailure.SignatureFailure", "Message": "签名错误"},
                    "RequestId": "r2",
                }
            },
            "AuthFailure.SignatureFailure",
            False,
        ),
    ],
)
def test_provider_errors_become_send_results(tencent, answer, code, retryable):
    tencent.reply_json(answer)

    result = TencentSmsBackend().send(_message())

    assert result.accepted is False
    assert result.retryable is retryable
    assert result.error.startswith(code)


def test_network_failure_is_retryable(settings, tencent):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.PROPFEE_TENCENT_SMS = {
        **settings.PROPFEE_TENCENT_SMS,
        "ENDPOINT": f"127.0.0.1:{closed_port}",
    }

    result = TencentSmsBackend().send(_message())

    assert result.accepted is False
    assert result.retryable is True
    assert result.error.startswith("ClientNetworkError")


def test_template_parameters_keep_their_positions():
    assert template_param_set({"10": "c", "2": "b", "1": "a"}) == ["a", "b", "c"]
    assert template_param_set({"unit": "3-1502", "amount": "12.00"}) == ["3-1502", "12.00"]


REPORT = [
    {
        "user_receive_time": "2026-11-27 09:30:05",
        "nationcode": "86",
        "mobile": "13812345678",
        "report_status": "SUCCESS",
        "errmsg": "DELIVRD",
        "description": "用户短信送达成功",
        "sid": "5000:1045710669157053657849499619",
    },
    {
        "user_receive_time": "2026-11-27 09:32:00",
        "nationcode": "86",
        "mobile": "13900001111",
        "report_status": "FAIL",
        "errmsg": "MN:0001",
        "description": "空号",
        "sid": "5000:1045710669157053657849499620",
    },
]


def _report_request(query: str = f"?token={CALLBACK_TOKEN}"):
    return RequestFactory().post(
        f"/messaging/callbacks/tencent/{query}",
        json.dumps(REPORT, ensure_ascii=False).encode(),
        content_type="application/json",
    )


def test_delivery_report_is_parsed(tencent):
    reports = TencentSmsBackend().parse_callback(_report_request())

    beijing = ZoneInfo("Asia/Shanghai")
    assert [(r.provider_id, r.delivered, r.at, r.error) for r in reports] == [
        (
            "5000:1045710669157053657849499619",
            True,
            datetime(2026, 11, 27, 9, 30, 5, tzinfo=beijing),
            "",
        ),
        (
            "5000:1045710669157053657849499620",
            False,
            datetime(2026, 11, 27, 9, 32, tzinfo=beijing),
            "MN:0001: 空号",
        ),
    ]
    assert json.loads(TencentSmsBackend().callback_response().content) == {
        "result": 0,
        "errmsg": "OK",
    }


@pytest.mark.parametrize("query", ["", "?token=", "?token=tencent-callback-token-91bc"])
def test_forged_report_is_refused(tencent, query):
    with pytest.raises(CallbackRejected):
        TencentSmsBackend().parse_callback(_report_request(query=query))
