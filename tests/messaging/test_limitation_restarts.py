"""A demand that reached the payer restarts the limitation clock (诉讼时效规定 art. 8; 民法典
arts. 137, 195): a delivered SMS/WeChat demand on its delivery day (Beijing time), an e-mail
demand the mail server accepted for the payer's own address on its sending day. Once per
message; never for a failed message, a pre-due reminder or the console backend."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.collection.constants import RestartKind
from propfee.collection.models import LimitationRestart
from propfee.core.models import AuditEntry
from propfee.messaging.constants import Channel, MessageStatus
from propfee.messaging.providers.base import DeliveryReport, SendResult
from propfee.messaging.services import (
    RESTART_SOURCE,
    delivery_report_apply,
    message_queue,
    messages_send_due,
)
from tests.messaging.conftest import FRIDAY_10, _approved

pytestmark = pytest.mark.django_db

UTC = dt.UTC
# 23:30 UTC on Friday 20 March is 07:30 on Saturday 21 March in Beijing.
LATE_UTC = dt.datetime(2026, 3, 20, 23, 30, tzinfo=UTC)


@pytest.fixture
def send(unit, payer, owing, backends):
    """send(template, key) → the message, queued and sent at FRIDAY_10 (refreshed)."""

    def make(template, key="d-1"):
        message = message_queue(
            unit=unit,
            channel=template.channel,
            template=template,
            key=key,
            actor=None,
            now=FRIDAY_10,
        )
        messages_send_due(now=FRIDAY_10)
        message.refresh_from_db()
        return message

    return make


def _delivered(message, *, delivered=True, at=LATE_UTC):
    return [
        DeliveryReport(
            provider_id=message.provider_id,
            delivered=delivered,
            at=at,
            error="" if delivered else "用户关机",
        )
    ]


def test_a_delivered_sms_demand_records_one_restart_on_its_beijing_day(send, sms_template, unit):
    message = send(sms_template)
    assert message.status == MessageStatus.SENT
    assert not LimitationRestart.objects.exists()  # sent is not yet delivered
    assert delivery_report_apply(provider="sms-double", reports=_delivered(message)) == 1
    restart = LimitationRestart.objects.get()
    assert (restart.unit, restart.kind, restart.occurred_on) == (
        unit,
        RestartKind.DEMAND,
        dt.date(2026, 3, 21),
    )
    assert (restart.source_type, restart.source_id) == (RESTART_SOURCE, message.pk)
    assert restart.description == f"温馨提醒短信已送达缴费人（100****5678）；消息 #{message.pk}"
    entry = AuditEntry.objects.get(object_type="collection.limitationrestart")
    assert entry.actor is None and entry.after == {"message_ids": [message.pk]}


def test_the_same_report_twice_records_one_restart(send, sms_template):
    message = send(sms_template)
    delivery_report_apply(provider="sms-double", reports=_delivered(message))
    assert delivery_report_apply(provider="sms-double", reports=_delivered(message)) == 0
    assert LimitationRestart.objects.count() == 1
    # Even a report that finds the message not yet marked (a retry racing the first) adds
    # nothing: the restart is unique per message.
    type(message).objects.filter(pk=message.pk).update(status=MessageStatus.SENT)
    assert delivery_report_apply(provider="sms-double", reports=_delivered(message)) == 1
    assert LimitationRestart.objects.count() == 1


def test_an_undeliverable_demand_records_nothing(send, sms_template):
    message = send(sms_template)
    delivery_report_apply(provider="sms-double", reports=_delivered(message, delivered=False))
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert not LimitationRestart.objects.exists()


def test_a_pre_due_reminder_is_not_a_demand(send, company, manager, make_charge):
    make_charge(month=3)  # due 2026-03-31: something outstanding for the reminder
    pre_due = _approved(
        company,
        manager,
        channel=Channel.SMS,
        stage="pre_due",
        body="尊敬的{name}：您的房屋{unit}物业服务费应缴日期为{due_date}，请按时缴纳。{company}",
    )
    message = send(pre_due)
    delivery_report_apply(provider="sms-double", reports=_delivered(message))
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert not LimitationRestart.objects.exists()


def test_the_console_backend_reached_nobody_and_restarts_nothing(send, sms_template, settings):
    settings.PROPFEE_MESSAGING = {"sms": "console"}
    message = send(sms_template)
    assert message.provider == "console"
    delivery_report_apply(provider="console", reports=_delivered(message))
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert not LimitationRestart.objects.exists()


def test_an_accepted_email_demand_restarts_on_its_sending_day(send, email_template, unit):
    message = send(email_template)
    # E-mail has no delivery report: it stays 已发送, and the acceptance counts.
    assert (message.status, message.channel) == (MessageStatus.SENT, Channel.EMAIL)
    restart = LimitationRestart.objects.get()
    assert (restart.unit, restart.kind, restart.occurred_on, restart.source_id) == (
        unit,
        RestartKind.DEMAND,
        dt.date(2026, 3, 20),
        message.pk,
    )
    assert "邮件已由邮件服务器接收" in restart.description and "应当到达" in restart.description
    assert "（w***@example.cn）" in restart.description
    assert "wang.jianguo@" not in restart.description


def test_a_refused_email_restarts_nothing(send, email_template, backends):
    _, email = backends
    email.results = [SendResult(accepted=False, error="550 用户不存在", retryable=False)]
    message = send(email_template)
    assert message.status == MessageStatus.FAILED
    assert not LimitationRestart.objects.exists()


def test_the_restart_moves_the_charges_limitation_clock(send, sms_template, unit, owing):
    from propfee.collection.limitation import limitation_expiry
    from propfee.ledger.selectors import limitation_expires_on

    message = send(sms_template)
    delivery_report_apply(provider="sms-double", reports=_delivered(message))
    january = limitation_expiry(unit_ids=[unit.pk], as_of=dt.date(2026, 3, 21))[owing[0].pk]
    assert january.clock_from == dt.date(2026, 3, 21)
    assert january.expires_on == limitation_expires_on(dt.date(2026, 3, 21))
    assert january.restart is not None and "温馨提醒短信已送达" in january.restart.description
