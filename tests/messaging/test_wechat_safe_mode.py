"""WeChat callbacks in 安全模式 (encrypted mode), built here as WeChat's servers build them: the
event XML encrypted with AES-256-CBC under a test EncodingAESKey, msg_signature over (token,
timestamp, nonce, Encrypt). A valid event is applied; a wrong signature, a tampered body,
another AppID, a plaintext body, a replayed (timestamp, nonce) and a stale timestamp are
refused with 403 and change nothing."""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import time

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from propfee.messaging.constants import MessageStatus
from propfee.messaging.models import Message
from propfee.messaging.services import message_queue, messages_send_due
from tests.messaging.conftest import FRIDAY_10

pytestmark = pytest.mark.django_db

APP_ID = "wx0123456789abcdef"
TOKEN = "wechat-server-token-5521"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"  # 43 characters, as WeChat issues them
URL = "/messaging/callback/wechat/"
EVENT = (
    "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>"
    "<FromUserName><![CDATA[oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName>"
    "<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>200163836</MsgID>"
    "<Status><![CDATA[success]]></Status></xml>"
)


def _sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def encrypt(xml: str, *, app_id: str = APP_ID, aes_key: str = AES_KEY) -> str:
    """WeChat's Encrypt: AES-256-CBC(random 16 + length + XML + AppID, PKCS#7 to 32)."""
    key = base64.b64decode(aes_key + "=")
    message = xml.encode()
    plain = os.urandom(16) + struct.pack(">I", len(message)) + message + app_id.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def signed(
    encrypted: str,
    *,
    timestamp: int | None = None,
    nonce: str = "1320562132",
    msg_signature: str | None = None,
) -> tuple[str, bytes]:
    """(query, body) of a 安全模式 push."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    query = (
        f"?signature={_sha1(TOKEN, stamp, nonce)}&timestamp={stamp}&nonce={nonce}"
        f"&openid=oia2TjuEGTNoeX76QEjQNrcURxG8&encrypt_type=aes"
        f"&msg_signature={msg_signature or _sha1(TOKEN, stamp, nonce, encrypted)}"
    )
    body = (
        f"<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    ).encode()
    return query, body


@pytest.fixture
def wechat_message(settings, unit, payer, owing, sms_template, backends):
    """A message WeChat accepted as msgid 200163836; WeChat configured in 安全模式."""
    settings.PROPFEE_WECHAT = {
        "APP_ID": APP_ID,
        "APP_SECRET": "test-app-secret",
        "CALLBACK_TOKEN": TOKEN,
        "ENCODING_AES_KEY": AES_KEY,
    }
    message = message_queue(
        unit=unit, channel="sms", template=sms_template, key="w-1", actor=None, now=FRIDAY_10
    )
    messages_send_due(now=FRIDAY_10)
    Message.objects.filter(pk=message.pk).update(provider="wechat", provider_id="200163836")
    return message


def _post(client, query: str, body: bytes):
    return client.post(URL + query, body, content_type="text/xml")


def _status(message) -> str:
    return Message.objects.get(pk=message.pk).status


def test_a_valid_encrypted_event_is_applied(client, wechat_message):
    response = _post(client, *signed(encrypt(EVENT.format(created=int(time.time())))))
    assert (response.status_code, response.content) == (200, b"success")
    assert _status(wechat_message) == MessageStatus.DELIVERED


def test_a_wrong_msg_signature_is_refused(client, wechat_message):
    encrypted = encrypt(EVENT.format(created=int(time.time())))
    response = _post(client, *signed(encrypted, msg_signature="0" * 40))
    assert response.status_code == 403
    assert _status(wechat_message) == MessageStatus.SENT


def test_a_body_swapped_under_a_valid_signature_is_refused(client, wechat_message):
    now = int(time.time())
    query, _ = signed(encrypt(EVENT.format(created=now)), timestamp=now)
    _, other_body = signed(encrypt(EVENT.format(created=now)), timestamp=now)
    assert _post(client, query, other_body).status_code == 403
    assert _status(wechat_message) == MessageStatus.SENT


def test_an_event_for_another_appid_or_key_is_refused(client, wechat_message):
    event = EVENT.format(created=int(time.time()))
    other_app = encrypt(event, app_id="wxffffffffffffffff")
    other_key = encrypt(event, aes_key="A" * 43)
    assert _post(client, *signed(other_app, nonce="1")).status_code == 403
    assert _post(client, *signed(other_key, nonce="2")).status_code == 403
    assert _status(wechat_message) == MessageStatus.SENT


def test_a_plaintext_event_is_refused_in_safe_mode(client, wechat_message):
    stamp = str(int(time.time()))
    query = f"?signature={_sha1(TOKEN, stamp, '7')}&timestamp={stamp}&nonce=7"
    response = _post(client, query, EVENT.format(created=stamp).encode())
    assert response.status_code == 403
    assert _status(wechat_message) == MessageStatus.SENT


def test_a_replayed_nonce_is_refused(client, wechat_message):
    query, body = signed(encrypt(EVENT.format(created=int(time.time()))))
    assert _post(client, query, body).status_code == 200
    Message.objects.filter(pk=wechat_message.pk).update(status=MessageStatus.SENT)
    assert _post(client, query, body).status_code == 403
    assert _status(wechat_message) == MessageStatus.SENT


def test_a_stale_timestamp_is_refused(client, wechat_message):
    old = int(time.time()) - 301
    response = _post(client, *signed(encrypt(EVENT.format(created=old)), timestamp=old))
    assert response.status_code == 403
    assert _status(wechat_message) == MessageStatus.SENT
