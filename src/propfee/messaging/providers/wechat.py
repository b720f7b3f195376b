"""WeChat official-account template messages (公众号模板消息) over WeChat's HTTP API.

Sending: POST {API_BASE}/cgi-bin/message/template/send?access_token=… with touser (openid),
template_id, url, data ({"key": {"value": …}} from the message's params; the reserved param
"_url" overrides the configured link) and client_msg_id = "propfee-<message id>", so WeChat
itself drops a repeated send of the same message. The access token comes from
/cgi-bin/stable_token and is kept in Django's cache until shortly before it expires; when WeChat
answers 40001/40014/42001 the token is refreshed and the send retried once.
Delivery reports: the TEMPLATESENDJOBFINISH event WeChat pushes (XML) to the server URL, the
URL signed as sha1(sorted(token, timestamp, nonce)) in the query string. With an
EncodingAESKey configured (安全模式, the recommended mode) only encrypted events are accepted:
msg_signature = sha1(sorted(token, timestamp, nonce, Encrypt)) covers the body, which is
AES-256-CBC (key = base64(EncodingAESKey + "="), IV = its first 16 bytes, PKCS#7 padding to
32 bytes) of random(16) + length(4, big-endian) + the event XML + the AppID, and the AppID at
the tail must be ours. Without the key, plaintext events are accepted (明文模式: the body is
not signed). Either way a timestamp older than CALLBACK_MAX_AGE_SECONDS (default 300) is
refused, and each (timestamp, nonce) is accepted once (`replay.callback_nonce_claim`)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from propfee.messaging.providers.base import (
    CallbackRejected,
    DeliveryReport,
    OutgoingMessage,
    SendResult,
)
from propfee.messaging.replay import callback_nonce_claim

logger = logging.getLogger("propfee.messaging.wechat")

DEFAULT_API_BASE = "https://api.weixin.qq.com"
TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid / malformed / expired access_token
RETRYABLE_ERRORS = frozenset({-1, 45009, 45011, 45047, *TOKEN_ERRORS})  # busy, rate limits
# Refresh this many seconds before WeChat's own expiry, so a token never expires in flight.
TOKEN_MARGIN_SECONDS = 300
URL_PARAM = "_url"
AES_KEY_LENGTH = 43  # EncodingAESKey: 43 characters of base64, 32 bytes once "=" is added
AES_PADDING_BLOCK = 32


class WeChatError(Exception):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatTemplateBackend:
    """Template messages to an owner's openid; configured by `settings.PROPFEE_WECHAT`."""

    name = "wechat"
    channels = frozenset({"wechat"})

    def __init__(self) -> None:
        self.config: dict[str, Any] = dict(getattr(settings, "PROPFEE_WECHAT", {}))
        self.api_base = (self.config.get("API_BASE") or DEFAULT_API_BASE).rstrip("/")
        self.timeout = float(self.config.get("TIMEOUT_SECONDS") or 10)

    # -- access token -----------------------------------------------------------------------
    @property
    def _token_cache_key(self) -> str:
        return f"propfee:wechat:access_token:{self.config.get('APP_ID', '')}"

    def access_token(self, *, rejected: str = "") -> str:
        """The cached access token, or a new one from /cgi-bin/stable_token.

        `rejected` is a token WeChat has just refused: it is never returned again. The stable
        token endpoint hands every caller the same token, so several workers (or another system
        using the same official account) do not invalidate each other's tokens; a forced
        refresh is used only if WeChat returns the very token it has just refused."""
        if not rejected:
            cached = cache.get(self._token_cache_key)
            if cached:
                return str(cached)
        data = self._fetch_token(force_refresh=False)
        if rejected and data["access_token"] == rejected:
            data = self._fetch_token(force_refresh=True)
        token = str(data["access_token"])
        lifetime = int(data.get("expires_in") or 7200)
        cache.set(self._token_cache_key, token, timeout=max(60, lifetime - TOKEN_MARGIN_SECONDS))
        return token

    def _fetch_token(self, *, force_refresh: bool) -> dict[str, Any]:
        data = self._post(
            "/cgi-bin/stable_token",
            {
                "grant_type": "client_credential",
                "appid": self.config.get("APP_ID", ""),
                "secret": self.config.get("APP_SECRET", ""),
                "force_refresh": force_refresh,
            },
        )
        if not data.get("access_token"):
            raise WeChatError(int(data.get("errcode") or -1), str(data.get("errmsg") or ""))
        return data

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.api_base + path,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return json.loads(response.read().decode("utf-8"))

    # -- sending ------------------------------------------------------------------------------
    def send(self, message: OutgoingMessage) -> SendResult:
        if not (self.config.get("APP_ID") and self.config.get("APP_SECRET")):
            return SendResult(accepted=False, error="微信公众号未配置 AppID/AppSecret")
        if not message.template_code:
            return SendResult(accepted=False, error="微信模板消息未填写模板 ID")
        payload: dict[str, Any] = {
            "touser": message.recipient,
            "template_id": message.template_code,
            "data": {
                key: {"value": value} for key, value in message.params.items() if key != URL_PARAM
            },
            "client_msg_id": f"propfee-{message.message_id}",
        }
        link = message.params.get(URL_PARAM) or self.config.get("TEMPLATE_URL") or ""
        if link:
            payload["url"] = link
        try:
            result = self._send_with_token(payload)
        except WeChatError as exc:
            return SendResult(
                accepted=False, error=str(exc), retryable=exc.errcode in RETRYABLE_ERRORS
            )
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            logger.warning("WeChat not reached for message %s: %s", message.message_id, exc)
            return SendResult(accepted=False, error=f"network: {exc}", retryable=True)
        errcode = int(result.get("errcode") or 0)
        if errcode == 0:
            return SendResult(accepted=True, provider_id=str(result.get("msgid", "")))
        return SendResult(
            accepted=False,
            error=f"{errcode}: {result.get('errmsg', '')}",
            retryable=errcode in RETRYABLE_ERRORS,
        )

    def _send_with_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        token = self.access_token()
        result = self._post(f"/cgi-bin/message/template/send?access_token={token}", payload)
        if int(result.get("errcode") or 0) in TOKEN_ERRORS:
            cache.delete(self._token_cache_key)
            token = self.access_token(rejected=token)
            result = self._post(f"/cgi-bin/message/template/send?access_token={token}", payload)
        return result

    # -- delivery reports ---------------------------------------------------------------------
    def _max_age(self) -> int:
        return int(self.config.get("CALLBACK_MAX_AGE_SECONDS") or 300)

    def _verify_signature(self, request: HttpRequest) -> None:
        token = self.config.get("CALLBACK_TOKEN") or ""
        if not token:
            raise CallbackRejected("no WeChat server token is configured")
        timestamp = request.GET.get("timestamp", "")
        nonce = request.GET.get("nonce", "")
        signature = request.GET.get("signature", "")
        if not hmac.compare_digest(signature.encode(), _sha1(token, timestamp, nonce).encode()):
            raise CallbackRejected("WeChat signature missing or wrong")
        # A signed URL seen in a log or a proxy must not be usable later.
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > self._max_age():
            raise CallbackRejected("WeChat callback timestamp is stale")

    def callback_handshake(self, request: HttpRequest) -> str:
        """The `echostr` to answer when WeChat checks the server URL (GET), once verified."""
        self._verify_signature(request)
        return request.GET.get("echostr", "")

    def _aes_key(self) -> bytes | None:
        encoded = str(self.config.get("ENCODING_AES_KEY") or "")
        if not encoded:
            return None
        try:
            key = base64.b64decode(encoded + "=", validate=True)
        except binascii.Error:
            key = b""
        if len(encoded) != AES_KEY_LENGTH or len(key) != 32:
            raise CallbackRejected("the configured EncodingAESKey is not 43 base64 characters")
        return key

    def _event_xml(self, request: HttpRequest) -> bytes:
        """The event's XML: decrypted and checked in 安全模式, the body itself in 明文模式."""
        key = self._aes_key()
        if key is None:
            if request.GET.get("encrypt_type") == "aes":
                raise CallbackRejected("encrypted WeChat event but no EncodingAESKey configured")
            return request.body
        if request.GET.get("encrypt_type") != "aes":
            raise CallbackRejected("WeChat events must be encrypted (安全模式)")
        encrypted = (_xml(request.body).findtext("Encrypt") or "").strip()
        token = str(self.config.get("CALLBACK_TOKEN") or "")
        expected = _sha1(
            token, request.GET.get("timestamp", ""), request.GET.get("nonce", ""), encrypted
        )
        given = request.GET.get("msg_signature", "")
        if not encrypted or not hmac.compare_digest(given.encode(), expected.encode()):
            raise CallbackRejected("WeChat msg_signature missing or wrong")
        return wechat_decrypt(encrypted, key=key, app_id=str(self.config.get("APP_ID") or ""))

    def parse_callback(self, request: HttpRequest) -> list[DeliveryReport]:
        self._verify_signature(request)
        root = _xml(self._event_xml(request))
        if not callback_nonce_claim(
            provider=self.name,
            timestamp=int(request.GET["timestamp"]),
            nonce=request.GET.get("nonce", ""),
            max_age_seconds=self._max_age(),
        ):
            raise CallbackRejected("WeChat callback replayed (timestamp and nonce seen before)")
        if root.findtext("Event") != "TEMPLATESENDJOBFINISH":
            return []  # other events (subscribe, menu clicks …) carry no delivery report
        status = (root.findtext("Status") or "").strip()
        created = root.findtext("CreateTime") or ""
        at = datetime.fromtimestamp(int(created), tz=UTC) if created.isdigit() else None
        if at is None:
            raise CallbackRejected("WeChat event has no CreateTime")
        return [
            DeliveryReport(
                provider_id=(root.findtext("MsgID") or root.findtext("MsgId") or "").strip(),
                delivered=status == "success",
                at=at,
                error="" if status == "success" else status,
            )
        ]

    def callback_response(self) -> HttpResponse:
        """WeChat expects the plain text "success" (or an empty body)."""
        return HttpResponse("success", content_type="text/plain")


def _sha1(*parts: str) -> str:
    """WeChat's signature: SHA-1 of the parts sorted and joined."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _xml(body: bytes) -> ElementTree.Element:
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise CallbackRejected("WeChat events carry no DOCTYPE")
    try:
        return ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise CallbackRejected("WeChat event is not XML") from exc


def wechat_decrypt(encrypted: str, *, key: bytes, app_id: str) -> bytes:
    """The message inside WeChat's `Encrypt` (安全模式): AES-256-CBC with IV = key[:16], PKCS#7
    padding to 32 bytes, plaintext random(16) + length(4) + message + AppID; refused unless
    the padding is sound and the AppID at the tail is `app_id`."""
    try:
        data = base64.b64decode(encrypted, validate=True)
    except binascii.Error as exc:
        raise CallbackRejected("WeChat Encrypt is not base64") from exc
    if not data or len(data) % AES_PADDING_BLOCK:
        raise CallbackRejected("WeChat Encrypt has a wrong length")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= AES_PADDING_BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise CallbackRejected("WeChat Encrypt does not decrypt with our EncodingAESKey")
    content = plain[16:-pad]
    length = int.from_bytes(content[:4], "big")
    message, tail = content[4 : 4 + length], content[4 + length :]
    if len(message) != length or not app_id or not hmac.compare_digest(tail, app_id.encode()):
        raise CallbackRejected("WeChat event is not addressed to our AppID")
    return message
