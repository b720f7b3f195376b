"""WeChat template messages against a local stand-in for api.weixin.qq.com: the access token is
fetched once and cached, refreshed after an expired-token answer, and delivery events are
accepted only with WeChat's signature."""

from __future__ import annotations

import hashlib
import socket
import time
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import cache
from django.test import RequestFactory

from propfee.messaging.providers import backend_for
from propfee.messaging.providers.base import CallbackRejected, OutgoingMessage
from propfee.messaging.providers.wechat import WeChatTemplateBackend
from tests.messaging.provider_server import provider_server  # noqa: F401

pytestmark = pytest.mark.django_db  # the callbacks' replay guard is a table

SERVER_TOKEN = "wechat-server-token-5521"
OPENID = "oia2TjuEGTNoeX76QEjQNrcURxG8"
TOKEN_PATH = "/cgi-bin/stable_token"
SEND_PATH = "/cgi-bin/message/template/send"


@pytest.fixture
def wechat(settings, provider_server):  # noqa: F811
    settings.PROPFEE_WECHAT = {
        "APP_ID": "wx0123456789abcdef",
        "APP_SECRET": "test-app-secret",
        "API_BASE": f"http://{provider_server.address}",
        "TEMPLATE_URL": "https://wuye.example.com/portal/",
        "CALLBACK_TOKEN": SERVER_TOKEN,
    }
    settings.PROPFEE_MESSAGING = {"wechat": "wechat"}
    cache.clear()
    yield provider_server
    cache.clear()


def _message(message_id: int = 42, **overrides) -> OutgoingMessage:
    fields = {
        "message_id": message_id,
        "channel": "wechat",
        "recipient": OPENID,
        "subject": "",
        "body": "您的3-1502物业费1234.50元已逾期，请及时缴纳。",
        "template_code": "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY",
        "params": {"thing1": "3-1502", "amount2": "1234.50元"},
    }
    fields.update(overrides)
    return OutgoingMessage(**fields)


def _paths(server) -> list[str]:
    return [r.path for r in server.requests]


def test_token_is_fetched_once_across_two_sends(wechat):
    wechat.reply_json({"access_token": "TOKEN-1", "expires_in": 7200})
    wechat.reply_json({"errcode": 0, "errmsg": "ok", "msgid": 200228332})
    wechat.reply_json({"errcode": 0, "errmsg": "ok", "msgid": 200228333})

    first = backend_for("wechat").send(_message(42))
    second = backend_for("wechat").send(_message(43))

    assert (first.accepted, first.provider_id) == (True, "200228332")
    assert (second.accepted, second.provider_id) == (True, "200228333")
    assert _paths(wechat) == [TOKEN_PATH, SEND_PATH, SEND_PATH]
    assert wechat.requests[0].json() == {
        "grant_type": "client_credential",
        "appid": "wx0123456789abcdef",
        "secret": "test-app-secret",
        "force_refresh": False,
    }
    assert [r.query["access_token"] for r in wechat.requests[1:]] == ["TOKEN-1", "TOKEN-1"]
    assert wechat.requests[1].json() == {
        "touser": OPENID,
        "template_id": "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY",
        "url": "https://wuye.example.com/portal/",
        "data": {"thing1": {"value": "3-1502"}, "amount2": {"value": "1234.50元"}},
        "client_msg_id": "propfee-42",
    }


def test_url_parameter_overrides_the_configured_link(wechat):
    wechat.reply_json({"access_token": "T", "expires_in": 7200})
    wechat.reply_json({"errcode": 0, "errmsg": "ok", "msgid": 5})
    link = "https://wuye.example.com/portal/bills/3-1502/"

    WeChatTemplateBackend().send(_message(params={"thing1": "3-1502", "_url": link}))

    sent = wechat.requests[1].json()
    assert sent["url"] == link
    assert sent["data"] == {"thing1": {"value": "3-1502"}}


def test_expired_token_is_refreshed_and_the_send_retried_once(wechat):
    wechat.reply_json({"access_token": "OLD", "expires_in": 7200})
    wechat.reply_json({"errcode": 42001, "errmsg": "access_token expired"})
    wechat.reply_json({"access_token": "NEW", "expires_in": 7200})
    wechat.reply_json({"errcode": 0, "errmsg": "ok", "msgid": 7})

    result = WeChatTemplateBackend().send(_message())

    assert (result.accepted, result.provider_id) == (True, "7")
    assert _paths(wechat) == [TOKEN_PATH, SEND_PATH, TOKEN_PATH, SEND_PATH]
    assert [r.query.get("access_token") for r in wechat.requests] == [None, "OLD", None, "NEW"]
    assert wechat.requests[2].json()["force_refresh"] is False
    # the new token is the cached one from now on
    wechat.reply_json({"errcode": 0, "errmsg": "ok", "msgid": 8})
    WeChatTemplateBackend().send(_message(43))
    assert wechat.requests[-1].query["access_token"] == "NEW"
    assert len(wechat.requests) == 5


def test_refused_token_handed_back_again_is_force_refreshed(wechat):
    wechat.reply_json({"access_token": "SAME", "expires_in": 7200})
    wechat.reply_json({"errcode": 40001, "errmsg": "invalid credential"})
    wechat.reply_json({"access_token": "SAME", "expires_in": 7000})
    wechat.reply_json({"access_token": "FRESH", "expires_in": 7200})
    wechat.reply_json({"errcode": 0, "errmsg": "ok", "msgid": 9})

    result = WeChatTemplateBackend().send(_message())

    assert result.accepted is True
    assert [r.json().get("force_refresh") for r in wechat.requests if r.path == TOKEN_PATH] == [
        False,
        False,
        True,
    ]
    assert wechat.requests[-1].query["access_token"] == "FRESH"


def test_a_second_token_error_is_not_retried_again(wechat):
    wechat.reply_json({"access_token": "A", "expires_in": 7200})
    wechat.reply_json({"errcode": 40001, "errmsg": "invalid credential"})
    wechat.reply_json({"access_token": "B", "expires_in": 7200})
    wechat.reply_json({"errcode": 40001, "errmsg": "invalid credential"})

    result = WeChatTemplateBackend().send(_message())

    assert (result.accepted, result.retryable) == (False, True)
    assert _paths(wechat).count(SEND_PATH) == 2


def test_token_is_cached_until_shortly_before_it_expires(wechat):
    with time_machine.travel(datetime(2026, 11, 27, 1, 0, tzinfo=UTC), tick=False) as traveller:
        wechat.reply_json({"access_token": "T1", "expires_in": 7200})
        wechat.reply_json({"errcode": 0, "msgid": 1})
        WeChatTemplateBackend().send(_message(1))
        traveller.shift(7200 - 300 - 1)  # still inside the margin-shortened lifetime
        wechat.reply_json({"errcode": 0, "msgid": 2})
        WeChatTemplateBackend().send(_message(2))
        traveller.shift(2)  # five minutes before WeChat's expiry: fetch a new one
        wechat.reply_json({"access_token": "T2", "expires_in": 7200})
        wechat.reply_json({"errcode": 0, "msgid": 3})
        WeChatTemplateBackend().send(_message(3))

    assert _paths(wechat) == [TOKEN_PATH, SEND_PATH, SEND_PATH, TOKEN_PATH, SEND_PATH]
    assert wechat.requests[-1].query["access_token"] == "T2"


@pytest.mark.parametrize(
    ("errcode", "retryable"),
    [(43004, False), (40003, False), (40037, False), (45009, True), (-1, True)],
)
def test_send_errors_become_send_results(wechat, errcode, retryable):
    wechat.reply_json({"access_token": "T", "expires_in": 7200})
    wechat.reply_json({"errcode": errcode, "errmsg": "refused"})

    result = WeChatTemplateBackend().send(_message())

    assert (result.accepted, result.retryable) == (False, retryable)
    assert result.error == f"{errcode}: refused"


def test_network_failure_is_retryable(settings, wechat):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.PROPFEE_WECHAT = {
        **settings.PROPFEE_WECHAT,
        "API_BASE": f"http://127.0.0.1:{closed_port}",
    }

    result = WeChatTemplateBackend().send(_message())

    assert (result.accepted, result.retryable) == (False, True)


EVENT = """<xml>
<ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>
<FromUserName><![CDATA[oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName>
<CreateTime>{created}</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[{event}]]></Event>
<MsgID>200163836</MsgID>
<Status><![CDATA[{status}]]></Status>
</xml>"""


def _signed_query(timestamp: int, nonce: str = "1405397551", token: str = SERVER_TOKEN) -> str:
    signature = hashlib.sha1("".join(sorted([token, str(timestamp), nonce])).encode()).hexdigest()
    return f"?signature={signature}&timestamp={timestamp}&nonce={nonce}&openid={OPENID}"


def _event_request(query: str, *, created: int, event="TEMPLATESENDJOBFINISH", status="success"):
    body = EVENT.format(created=created, event=event, status=status).encode()
    return RequestFactory().post(
        f"/messaging/callbacks/wechat/{query}", body, content_type="text/xml"
    )


def test_delivery_event_is_parsed(wechat):
    now = int(time.time())
    [delivered] = WeChatTemplateBackend().parse_callback(
        _event_request(_signed_query(now), created=now)
    )
    [blocked] = WeChatTemplateBackend().parse_callback(
        _event_request(
            _signed_query(now, nonce="1405397552"), created=now, status="failed:user block"
        )
    )

    assert delivered.provider_id == "200163836"
    assert delivered.delivered is True
    assert delivered.at == datetime.fromtimestamp(now, tz=UTC)
    assert (blocked.delivered, blocked.error) == (False, "failed:user block")
    assert WeChatTemplateBackend().callback_response().content == b"success"


def test_other_events_carry_no_report(wechat):
    now = int(time.time())
    request = _event_request(_signed_query(now), created=now, event="subscribe")
    assert WeChatTemplateBackend().parse_callback(request) == []


def test_forged_or_stale_event_is_refused(wechat):
    now = int(time.time())
    forged = _signed_query(now, token="guessed-token")
    stale = _signed_query(now - 3600)
    for query in (forged, stale, ""):
        with pytest.raises(CallbackRejected):
            WeChatTemplateBackend().parse_callback(_event_request(query, created=now))


def test_server_url_handshake_echoes_only_when_signed(wechat):
    now = int(time.time())
    signed = RequestFactory().get(
        f"/messaging/callbacks/wechat/{_signed_query(now)}&echostr=abc123"
    )
    assert WeChatTemplateBackend().callback_handshake(signed) == "abc123"
    forged = RequestFactory().get(
        f"/messaging/callbacks/wechat/{_signed_query(now, token='x')}&echostr=abc123"
    )
    with pytest.raises(CallbackRejected):
        WeChatTemplateBackend().callback_handshake(forged)


def test_a_replayed_plaintext_event_is_refused(wechat):
    now = int(time.time())
    query = _signed_query(now, nonce="88120")
    assert len(WeChatTemplateBackend().parse_callback(_event_request(query, created=now))) == 1
    with pytest.raises(CallbackRejected, match="replayed"):
        WeChatTemplateBackend().parse_callback(_event_request(query, created=now))
