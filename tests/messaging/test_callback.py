"""/messaging/callback/<provider>/: verified by the provider's backend (here the console
backend, whose reports are signed with an HMAC of the SECRET_KEY), applied, 200; 403 when
forged; 404 for a provider that does not exist."""

from __future__ import annotations

import json

import pytest

from propfee.messaging.constants import Channel, MessageStatus
from propfee.messaging.models import Message
from propfee.messaging.providers.console import SIGNATURE_HEADER, console_signature
from propfee.messaging.services import message_queue, messages_send_due
from tests.messaging.conftest import FRIDAY_10

pytestmark = pytest.mark.django_db

URL = "/messaging/callback/console/"


@pytest.fixture
def sent(settings, unit, payer, owing, sms_template):
    settings.PROPFEE_MESSAGING = {"sms": "console"}
    message = message_queue(
        unit=unit, channel=Channel.SMS, template=sms_template, key="cb-1", actor=None, now=FRIDAY_10
    )
    messages_send_due(now=FRIDAY_10)
    message.refresh_from_db()
    assert (message.status, message.provider) == (MessageStatus.SENT, "console")
    return message


def _report(message, delivered=True):
    return json.dumps(
        [
            {
                "provider_id": message.provider_id,
                "delivered": delivered,
                "at": "2026-03-20T10:00:07+08:00",
                "error": "" if delivered else "用户关机",
            }
        ]
    ).encode()


def test_a_signed_report_marks_the_message_delivered(client, sent):
    body = _report(sent)
    response = client.post(
        URL,
        body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: console_signature(body)},
    )
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED
    assert sent.delivered_at.isoformat() == "2026-03-20T02:00:07+00:00"


def test_a_forged_report_is_refused_with_403_and_changes_nothing(client, sent):
    body = _report(sent)
    forged = client.post(
        URL, body, content_type="application/json", headers={SIGNATURE_HEADER: "0" * 64}
    )
    unsigned = client.post(URL, body, content_type="application/json")
    # A valid signature of another body does not cover this one.
    other = _report(sent, delivered=False)
    tampered = client.post(
        URL,
        other,
        content_type="application/json",
        headers={SIGNATURE_HEADER: console_signature(body)},
    )
    assert [forged.status_code, unsigned.status_code, tampered.status_code] == [403, 403, 403]
    assert Message.objects.get(pk=sent.pk).status == MessageStatus.SENT


def test_an_unknown_provider_is_404_and_get_is_not_allowed(client, sent):
    assert (
        client.post(
            "/messaging/callback/nosuch/", b"[]", content_type="application/json"
        ).status_code
        == 404
    )
    assert client.get(URL).status_code == 405


def test_the_documented_plural_address_works_too(client, sent):
    body = _report(sent)
    response = client.post(
        "/messaging/callbacks/console/",
        body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: console_signature(body)},
    )
    assert response.status_code == 200
    assert Message.objects.get(pk=sent.pk).status == MessageStatus.DELIVERED


def test_the_callback_needs_no_csrf_token(sent):
    from django.test import Client

    body = _report(sent)
    response = Client(enforce_csrf_checks=True).post(
        URL,
        body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: console_signature(body)},
    )
    assert response.status_code == 200


def test_a_url_check_by_get_is_answered_only_when_verified(client):
    import hashlib
    import hmac

    url = "/messaging/callback/tests.messaging.doubles.HandshakeBackend/"
    signature = hmac.new(b"test-token", b"12345", hashlib.sha256).hexdigest()
    ok = client.get(url, {"echostr": "12345", "signature": signature})
    assert (ok.status_code, ok.text) == (200, "12345")
    assert client.get(url, {"echostr": "12345", "signature": "forged"}).status_code == 403
