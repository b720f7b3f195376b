"""Alibaba Cloud SMS (阿里云短信服务, Dysmsapi 2017-05-25) through the official SDK.

Sending: `SendSms` with PhoneNumbers, SignName, TemplateCode, TemplateParam (JSON of the
message's params) and OutId = the outbox message id; the SDK signs with ACS3-HMAC-SHA256.
Delivery reports: the SmsReport "HTTP 批量推送" JSON list (phone_number, success, biz_id, out_id,
err_code, err_msg, report_time …). Alibaba does not sign these pushes, so the receiving URL must
carry the shared token (`?token=…`) from `PROPFEE_ALIYUN_SMS["CALLBACK_TOKEN"]`."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from propfee.core.personal_data import phone_is_demo
from propfee.messaging.providers.base import DeliveryReport, OutgoingMessage, SendResult
from propfee.messaging.providers.reports import beijing_time, json_list_body, shared_token_verify

logger = logging.getLogger("propfee.messaging.aliyun")

# Business codes (HTTP 200 body `Code`, or the error code of a 4xx/5xx answer) worth retrying
# later: flow control per number / per account and the provider's own faults.
RETRYABLE_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "ServiceUnavailable",
        "InternalError",
        "isp.SYSTEM_ERROR",
        "SignatureNonceUsed",
    }
)


class AliyunSmsBackend:
    """SMS through Alibaba Cloud; configured by `settings.PROPFEE_ALIYUN_SMS`."""

    name = "aliyun"
    channels = frozenset({"sms"})

    def __init__(self) -> None:
        self.config: dict[str, Any] = dict(getattr(settings, "PROPFEE_ALIYUN_SMS", {}))

    def _client(self) -> Any:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.utils_models import Config

        timeout_ms = int(self.config.get("TIMEOUT_MS") or 10_000)
        return Client(
            Config(
                access_key_id=self.config.get("ACCESS_KEY_ID") or "",
                access_key_secret=self.config.get("ACCESS_KEY_SECRET") or "",
                endpoint=self.config.get("ENDPOINT") or "dysmsapi.aliyuncs.com",
                protocol=self.config.get("PROTOCOL") or "https",
                region_id=self.config.get("REGION_ID") or "cn-hangzhou",
                connect_timeout=timeout_ms,
                read_timeout=timeout_ms,
            )
        )

    def send(self, message: OutgoingMessage) -> SendResult:
        from alibabacloud_dysmsapi20170525 import models as sms_models
        from alibabacloud_tea_openapi.exceptions import (
            AlibabaCloudException,
            ServerException,
            ThrottlingException,
        )
        from darabonba.exceptions import UnretryableException
        from darabonba.runtime import RuntimeOptions

        refused = _refuse_before_sending(message, self.config)
        if refused:
            return refused
        request = sms_models.SendSmsRequest(
            phone_numbers=message.recipient,
            sign_name=self.config["SIGN_NAME"],
            template_code=message.template_code,
            template_param=json.dumps(message.params, ensure_ascii=False)
            if message.params
            else None,
            out_id=str(message.message_id),
        )
        try:
            response = self._client().send_sms_with_options(
                request, RuntimeOptions(autoretry=False)
            )
        except ThrottlingException as exc:
            return SendResult(
                accepted=False, error=_describe(exc.code, exc.message), retryable=True
            )
        except ServerException as exc:
            return SendResult(
                accepted=False, error=_describe(exc.code, exc.message), retryable=True
            )
        except AlibabaCloudException as exc:
            return SendResult(
                accepted=False,
                error=_describe(exc.code, exc.message),
                retryable=str(exc.code) in RETRYABLE_CODES
                or str(exc.code).startswith("Throttling"),
            )
        except (UnretryableException, OSError) as exc:  # network: refused, reset, timed out
            logger.warning(
                "Alibaba Cloud SMS not reached for message %s: %s", message.message_id, exc
            )
            return SendResult(accepted=False, error=f"network: {exc}", retryable=True)
        body = response.body
        if body.code == "OK":
            # SendSms does not report the fee; cost stays unknown.
            return SendResult(accepted=True, provider_id=body.biz_id or "")
        return SendResult(
            accepted=False,
            error=_describe(body.code, body.message),
            retryable=body.code in RETRYABLE_CODES,
        )

    def callback_response(self) -> JsonResponse:
        """The answer the provider expects once its reports are taken (else it pushes again)."""
        return JsonResponse(
            {"code": 0, "msg": "接收成功"}, json_dumps_params={"ensure_ascii": False}
        )

    def parse_callback(self, request: HttpRequest) -> list[DeliveryReport]:
        shared_token_verify(request, self.config.get("CALLBACK_TOKEN") or "")
        reports = []
        for item in json_list_body(request):
            delivered = item.get("success") is True
            reports.append(
                DeliveryReport(
                    provider_id=str(item.get("biz_id") or ""),
                    delivered=delivered,
                    at=beijing_time(item.get("report_time")),
                    error="" if delivered else _describe(item.get("err_code"), item.get("err_msg")),
                )
            )
        return reports


def _describe(code: object, message: object) -> str:
    return f"{code}: {message}" if message else str(code or "")


def _refuse_before_sending(message: OutgoingMessage, config: dict[str, Any]) -> SendResult | None:
    """Failures known without asking the provider (never retryable)."""
    if not (config.get("ACCESS_KEY_ID") and config.get("ACCESS_KEY_SECRET")):
        return SendResult(accepted=False, error="阿里云短信未配置 AccessKey")
    if not config.get("SIGN_NAME"):
        return SendResult(accepted=False, error="阿里云短信未配置短信签名")
    if not message.template_code:
        return SendResult(accepted=False, error="短信模板未填写服务商模板编号")
    if phone_is_demo(message.recipient):
        return SendResult(accepted=False, error="演示号码不发送短信")
    return None
