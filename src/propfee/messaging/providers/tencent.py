"""Tencent Cloud SMS (腾讯云短信, API 2021-01-11) through the official SDK.

Sending: `SendSms` with PhoneNumberSet (+86…), SmsSdkAppId, SignName, TemplateId,
TemplateParamSet (the message's params in order; numeric keys "1", "2", … are sorted as numbers)
and SessionContext = the outbox message id; the SDK signs with TC3-HMAC-SHA256.
Delivery reports: the 短信下发状态回调 JSON list (mobile, report_status SUCCESS/FAIL, sid,
user_receive_time, errmsg, description …). Tencent does not sign these callbacks, so the
callback URL must carry the shared token (`?token=…`) from
`PROPFEE_TENCENT_SMS["CALLBACK_TOKEN"]`."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from propfee.core.personal_data import phone_is_demo
from propfee.messaging.providers.base import DeliveryReport, OutgoingMessage, SendResult
from propfee.messaging.providers.reports import beijing_time, json_list_body, shared_token_verify

logger = logging.getLogger("propfee.messaging.tencent")

# Error codes worth retrying later: frequency limits, the provider's faults, the network.
RETRYABLE_CODES = frozenset(
    {
        "RequestLimitExceeded",
        "InternalError",
        "InternalError.Timeout",
        "InternalError.RequestTimeException",
        "InternalError.SendAndRecvFail",
        "ClientNetworkError",
        "ServerNetworkError",
        "LimitExceeded.DeliveryFrequencyLimit",
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        "LimitExceeded.PhoneNumberOneHourLimit",
        "LimitExceeded.PhoneNumberDailyLimit",
        "LimitExceeded.PhoneNumberSameContentDailyLimit",
    }
)


class TencentSmsBackend:
    """SMS through Tencent Cloud; configured by `settings.PROPFEE_TENCENT_SMS`."""

    name = "tencent"
    channels = frozenset({"sms"})

    def __init__(self) -> None:
        self.config: dict[str, Any] = dict(getattr(settings, "PROPFEE_TENCENT_SMS", {}))

    def _client(self) -> Any:
        from tencentcloud.common.credential import Credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111.sms_client import SmsClient

        http_profile = HttpProfile(
            protocol=self.config.get("PROTOCOL") or "https",
            endpoint=self.config.get("ENDPOINT") or "sms.tencentcloudapi.com",
            reqMethod="POST",
            reqTimeout=int(self.config.get("TIMEOUT_SECONDS") or 10),
        )
        # The region breaker would fail over to a fixed public endpoint: never wanted here.
        profile = ClientProfile(
            signMethod="TC3-HMAC-SHA256", httpProfile=http_profile, disable_region_breaker=True
        )
        credential = Credential(self.config["SECRET_ID"], self.config["SECRET_KEY"])
        return SmsClient(credential, self.config.get("REGION") or "ap-guangzhou", profile)

    def send(self, message: OutgoingMessage) -> SendResult:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )
        from tencentcloud.sms.v20210111 import models as sms_models

        refused = _refuse_before_sending(message, self.config)
        if refused:
            return refused
        request = sms_models.SendSmsRequest()
        request.PhoneNumberSet = [_e164(message.recipient)]
        request.SmsSdkAppId = str(self.config["SDK_APP_ID"])
        request.SignName = self.config["SIGN_NAME"]
        request.TemplateId = message.template_code
        request.TemplateParamSet = template_param_set(message.params)
        request.SessionContext = str(message.message_id)
        try:
            response = self._client().SendSms(request)
        except TencentCloudSDKException as exc:
            code = str(exc.get_code() or "")
            return SendResult(
                accepted=False,
                error=_describe(code, exc.get_message()),
                retryable=code in RETRYABLE_CODES,
            )
        statuses = response.SendStatusSet or []
        if not statuses:
            return SendResult(accepted=False, error="腾讯云短信未返回发送状态", retryable=True)
        status = statuses[0]
        if status.Code == "Ok":
            return SendResult(
                accepted=True,
                provider_id=status.SerialNo or "",
                cost_fen=self._cost_fen(status.Fee),
            )
        return SendResult(
            accepted=False,
            error=_describe(status.Code, status.Message),
            retryable=status.Code in RETRYABLE_CODES,
        )

    def _cost_fen(self, billed_messages: int | None) -> int | None:
        """Tencent reports how many SMS it billed (long messages count more than one); the price
        of one is known only if the operator configured it."""
        price = self.config.get("FEN_PER_MESSAGE")
        if billed_messages is None or not price:
            return None
        return int(billed_messages) * int(price)

    def callback_response(self) -> JsonResponse:
        """The answer the provider expects once its reports are taken (else it pushes again)."""
        return JsonResponse(
            {"result": 0, "errmsg": "OK"}, json_dumps_params={"ensure_ascii": False}
        )

    def parse_callback(self, request: HttpRequest) -> list[DeliveryReport]:
        shared_token_verify(request, self.config.get("CALLBACK_TOKEN") or "")
        reports = []
        for item in json_list_body(request):
            delivered = item.get("report_status") == "SUCCESS"
            error = ""
            if not delivered:
                error = _describe(item.get("errmsg"), item.get("description"))
            reports.append(
                DeliveryReport(
                    provider_id=str(item.get("sid") or ""),
                    delivered=delivered,
                    at=beijing_time(item.get("user_receive_time")),
                    error=error,
                )
            )
        return reports


def template_param_set(params: dict[str, str]) -> list[str]:
    """Tencent templates take positional parameters {1}, {2}, …: numeric keys in numeric order,
    other keys in the order given."""
    if params and all(key.isdigit() for key in params):
        return [str(params[key]) for key in sorted(params, key=int)]
    return [str(value) for value in params.values()]


def _e164(number: str) -> str:
    return number if number.startswith("+") else f"+86{number}"


def _describe(code: object, message: object) -> str:
    return f"{code}: {message}" if message else str(code or "")


def _refuse_before_sending(message: OutgoingMessage, config: dict[str, Any]) -> SendResult | None:
    """Failures known without asking the provider (never retryable)."""
    if not (config.get("SECRET_ID") and config.get("SECRET_KEY") and config.get("SDK_APP_ID")):
        return SendResult(accepted=False, error="腾讯云短信未配置 SecretId/SecretKey/SdkAppId")
    if not config.get("SIGN_NAME"):
        return SendResult(accepted=False, error="腾讯云短信未配置短信签名")
    if not message.template_code:
        return SendResult(accepted=False, error="短信模板未填写服务商模板编号")
    if phone_is_demo(message.recipient):
        return SendResult(accepted=False, error="演示号码不发送短信")
    return None
