"""Delivery-report dates from the SMS providers (Alibaba Cloud's report_time, Tencent Cloud's
user_receive_time, both Beijing time) are clamped to [sent, now]: a report dated before the
message was sent, or further in the future than PROPFEE_DELIVERY_REPORT_SKEW_SECONDS, marks
the message delivered but never restarts the limitation clock; a date a little ahead (the
provider's clock running fast) is trusted and recorded as now."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine

from propfee.collection.models import LimitationRestart
from propfee.messaging.constants import MessageStatus
from propfee.messaging.models import Message
from propfee.messaging.services import message_queue, messages_send_due
from tests.messaging.conftest import FRIDAY_10

pytestmark = pytest.mark.django_db

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# Now: Saturday 21 March 2026, 12:00 in Beijing; the demand was sent on Friday at 10:00.
NOW = dt.datetime(2026, 3, 21, 12, 0, tzinfo=SHANGHAI)
TOKEN = "report-token-5b1e"


def _aliyun(provider_id: str, beijing: str) -> list[dict]:
    return [
        {
            "phone_number": "10012345678",
            "send_time": "2026-03-20 10:00:00",
            "report_time": beijing,
            "success": True,
            "err_code": "DELIVERED",
            "err_msg": "用户接收成功",
            "biz_id": provider_id,
        }
    ]


def _tencent(provider_id: str, beijing: str) -> list[dict]:
    return [
        {
            "user_receive_time": beijing,
            "nationcode": "86",
            "mobile": "10012345678",
            "report_status": "SUCCESS",
            "errmsg": "DELIVRD",
            "description": "用户短信送达成功",
            "sid": provider_id,
        }
    ]


FORMATS = {"aliyun": _aliyun, "tencent": _tencent}


@pytest.fixture
def sent_by(settings, unit, payer, owing, sms_template, backends):
    """sent_by(provider) → a demand sent at FRIDAY_10, as that provider's message."""
    settings.PROPFEE_ALIYUN_SMS = {"CALLBACK_TOKEN": TOKEN}
    settings.PROPFEE_TENCENT_SMS = {"CALLBACK_TOKEN": TOKEN}

    def make(provider: str) -> Message:
        message = message_queue(
            unit=unit, channel="sms", template=sms_template, key="d-1", actor=None, now=FRIDAY_10
        )
        messages_send_due(now=FRIDAY_10)
        Message.objects.filter(pk=message.pk).update(provider=provider, provider_id="p-1")
        message.refresh_from_db()
        assert message.status == MessageStatus.SENT and message.sent_at == FRIDAY_10
        return message

    return make


def _report(client, provider: str, beijing: str):
    body = json.dumps(FORMATS[provider]("p-1", beijing), ensure_ascii=False)
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            f"/messaging/callback/{provider}/",
            body,
            content_type="application/json",
            headers={"X-Propfee-Callback-Token": TOKEN},
        )
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_report_between_sending_and_now_restarts_the_clock_on_its_day(client, sent_by, provider):
    message = sent_by(provider)
    _report(client, provider, "2026-03-20 23:59:30")
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert message.delivered_at == dt.datetime(2026, 3, 20, 23, 59, 30, tzinfo=SHANGHAI)
    assert LimitationRestart.objects.get().occurred_on == dt.date(2026, 3, 20)


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_report_dated_before_sending_restarts_nothing(client, sent_by, provider):
    message = sent_by(provider)
    _report(client, provider, "2025-03-20 09:00:00")  # a year back: older evidence
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert message.delivered_at == FRIDAY_10  # clamped to the sending time
    assert "送达回执时间异常" in message.error
    assert not LimitationRestart.objects.exists()


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_report_dated_in_the_future_restarts_nothing(client, sent_by, provider):
    message = sent_by(provider)
    _report(client, provider, "2029-03-21 12:00:00")  # would move the clock by three years
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert message.delivered_at == NOW  # clamped to now
    assert "送达回执时间异常" in message.error
    assert not LimitationRestart.objects.exists()


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_clock_a_little_fast_is_within_the_skew(client, sent_by, provider, settings):
    message = sent_by(provider)
    _report(client, provider, "2026-03-21 12:04:00")
    message.refresh_from_db()
    assert message.delivered_at == NOW and message.error == ""
    assert LimitationRestart.objects.get().occurred_on == dt.date(2026, 3, 21)


def test_the_skew_is_a_setting(client, sent_by, settings):
    settings.PROPFEE_DELIVERY_REPORT_SKEW_SECONDS = 60
    sent_by("aliyun")
    _report(client, "aliyun", "2026-03-21 12:04:00")
    assert not LimitationRestart.objects.exists()
