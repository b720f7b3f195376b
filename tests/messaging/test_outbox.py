"""The outbox and its guard: idempotent queuing, contact hours (22:30 → 08:00 the next allowed
day), daily and weekly caps, the payer's own contacts only, retries with backoff, fallback to
the next channel, delivery reports."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from propfee.core.models import AuditEntry
from propfee.estates.models import Occupancy
from propfee.messaging.constants import Channel, MessageStatus
from propfee.messaging.models import Message
from propfee.messaging.providers.base import DeliveryReport, SendResult
from propfee.messaging.services import (
    MessagingError,
    delivery_report_apply,
    message_queue,
    messages_send_due,
    template_update,
)
from tests.factories import OccupancyFactory, PartyPhoneFactory
from tests.messaging.conftest import FRIDAY_10, at

pytestmark = pytest.mark.django_db

PHONE = "10012345678"


@pytest.fixture
def queue(unit, payer, owing, sms_template, backends):
    """queue(key, now=FRIDAY_10, **kwargs) → an SMS reminder for the unit's payer."""

    def make(key: str = "case-1/reminder/1/2026-03-20", now=FRIDAY_10, **kwargs):
        kwargs.setdefault("template", sms_template)
        kwargs.setdefault("channel", kwargs["template"].channel)
        return message_queue(unit=unit, key=key, actor=None, now=now, **kwargs)

    return make


def contacted(unit, payer, when, n=1):
    """n messages that reached the payer at `when` (for the caps)."""
    for i in range(n):
        Message.objects.create(
            company=unit.estate.company,
            unit=unit,
            party=payer,
            recipient=PHONE,
            channel=Channel.SMS,
            body="已发送",
            key=f"earlier-{when.isoformat()}-{i}",
            status=MessageStatus.SENT,
            queued_at=when,
            sent_at=when,
        )


def test_queue_stores_the_exact_text_for_the_payers_own_phone(queue, payer):
    message = queue()
    assert (message.status, message.next_attempt_at) == (MessageStatus.QUEUED, FRIDAY_10)
    assert (message.recipient, message.party, message.channel) == (PHONE, payer, Channel.SMS)
    assert message.body == (
        "尊敬的王建国：截至2026年3月20日，您的房屋阳光花园3栋1502"
        "2026年1月至2026年2月物业服务费尚有203.40元未缴纳，请于2026年4月4日前缴纳。安家物业"
    )
    assert message.params["amount"] == "203.40"


def test_the_same_key_queues_once(queue):
    first = queue()
    second = queue(now=FRIDAY_10 + dt.timedelta(hours=1))
    assert second.pk == first.pk
    assert Message.objects.count() == 1


def test_a_person_queuing_is_audited(unit, payer, owing, sms_template, manager, backends):
    message = message_queue(
        unit=unit,
        channel=Channel.SMS,
        template=sms_template,
        key="manual-1",
        actor=manager,
        now=FRIDAY_10,
    )
    entry = AuditEntry.objects.get(object_type="messaging.message")
    assert (entry.actor, entry.object_id, entry.estate_id) == (
        manager,
        str(message.pk),
        unit.estate_id,
    )


def test_only_approved_templates_send(queue, sms_template, manager):
    template_update(template=sms_template, actor=manager, name="改", subject="", body="您好{name}")
    with pytest.raises(MessagingError, match="尚未审批"):
        queue()
    assert not Message.objects.exists()


def test_a_queue_at_2230_is_held_until_0800_the_next_day(queue, backends):
    sms, _ = backends
    with time_machine.travel(at(2026, 3, 20, 22, 30), tick=False):
        message = queue(now=None)
        assert message.status == MessageStatus.HELD
        assert message.next_attempt_at == at(2026, 3, 21, 8, 0)
        assert "顺延至 2026-03-21 08:00" in message.error
        assert messages_send_due().sent == 0
    with time_machine.travel(at(2026, 3, 21, 7, 59), tick=False):
        assert messages_send_due().sent == 0
    with time_machine.travel(at(2026, 3, 21, 8, 0), tick=False):
        assert messages_send_due().sent == 1
    message.refresh_from_db()
    assert (message.status, message.sent_at) == (MessageStatus.SENT, at(2026, 3, 21, 8, 0))
    assert [m.message_id for m in sms.sent] == [message.pk]


def test_statutory_holidays_are_skipped(queue):
    # 2026-10-01 … 07 is the National Day holiday.
    message = queue(now=at(2026, 9, 30, 22, 30))
    assert message.next_attempt_at == at(2026, 10, 8, 8, 0)


def test_early_morning_waits_for_0800_the_same_day(queue):
    assert queue(now=at(2026, 3, 20, 7, 30)).next_attempt_at == at(2026, 3, 20, 8, 0)


def test_due_messages_found_outside_hours_are_held_not_sent(queue, backends):
    sms, _ = backends
    message = queue()
    summary = messages_send_due(now=at(2026, 3, 20, 21, 0))
    assert (summary.sent, summary.held) == (0, 1)
    message.refresh_from_db()
    assert (message.status, message.next_attempt_at) == (MessageStatus.HELD, at(2026, 3, 21, 8))
    assert sms.sent == []


def test_contact_hours_cannot_be_widened_into_the_night(queue, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.PROPFEE_MESSAGE_HOURS = ("07:00", "23:00")
    with pytest.raises(ImproperlyConfigured):
        queue()


def test_a_unit_at_its_weekly_cap_gets_nothing_more(queue, unit, payer, backends):
    sms, _ = backends
    # Monday to Wednesday of the week of Friday 2026-03-20: 5 messages reached the payer.
    contacted(unit, payer, at(2026, 3, 16, 10), n=2)
    contacted(unit, payer, at(2026, 3, 17, 10), n=2)
    contacted(unit, payer, at(2026, 3, 18, 10), n=1)
    message = queue()
    assert message.status == MessageStatus.CANCELLED
    assert "达到每周上限 5 条" in message.error
    assert messages_send_due(now=FRIDAY_10).sent == 0
    assert sms.sent == []
    # Next Monday is a new week.
    assert queue(key="next-week", now=at(2026, 3, 23, 10)).status == MessageStatus.QUEUED


def test_the_weekly_cap_is_checked_again_when_sending(queue, unit, payer, backends):
    message = queue()
    contacted(unit, payer, at(2026, 3, 16, 10), n=5)
    summary = messages_send_due(now=FRIDAY_10)
    message.refresh_from_db()
    assert (summary.sent, summary.cancelled, message.status) == (0, 1, MessageStatus.CANCELLED)


def test_the_daily_cap_holds_the_rest_until_the_next_day(queue, backends):
    sms, _ = backends
    messages = [queue(key=f"k{i}") for i in range(3)]
    summary = messages_send_due(now=FRIDAY_10)
    assert (summary.sent, summary.held) == (2, 1)
    held = Message.objects.get(pk=messages[2].pk)
    assert (held.status, held.next_attempt_at) == (MessageStatus.HELD, at(2026, 3, 21, 8))
    assert "达到每日上限 2 条" in held.error
    # Queued later the same day, a fourth is held at once.
    assert queue(key="k3", now=FRIDAY_10 + dt.timedelta(hours=1)).status == MessageStatus.HELD
    assert messages_send_due(now=at(2026, 3, 21, 8)).sent == 2
    assert len(sms.sent) == 4


def test_a_third_party_recipient_is_refused(queue):
    with pytest.raises(MessagingError, match="只能发送到缴费人本人"):
        queue(recipient="13800138000")
    assert not Message.objects.exists()
    assert queue(recipient=PHONE).recipient == PHONE


def test_a_tenant_who_is_not_the_payer_is_never_messaged(queue, unit, payer):
    tenant = OccupancyFactory(unit=unit, role="tenant", is_payer=False, party__name="李租户")
    PartyPhoneFactory(party=tenant.party, number="10087654321")
    with pytest.raises(MessagingError):
        queue(recipient="10087654321")
    assert queue().recipient == PHONE


def test_a_message_is_cancelled_if_the_payer_changed_before_sending(queue, unit, payer, backends):
    sms, _ = backends
    message = queue()
    Occupancy.objects.filter(unit=unit, party=payer).update(until=dt.date(2026, 3, 19))
    new = OccupancyFactory(unit=unit, party__name="新业主", since=dt.date(2026, 3, 20))
    PartyPhoneFactory(party=new.party, number="10011112222")
    summary = messages_send_due(now=FRIDAY_10)
    message.refresh_from_db()
    assert (summary.cancelled, message.status) == (1, MessageStatus.CANCELLED)
    assert "不是该房屋当前缴费人" in message.error
    assert sms.sent == []


def test_retryable_failures_back_off_exponentially(queue, backends, settings):
    settings.PROPFEE_MESSAGE_RETRY_SECONDS = 60
    sms, _ = backends
    sms.results = [
        SendResult(accepted=False, error="throttled", retryable=True),
        SendResult(accepted=False, error="throttled", retryable=True),
    ]
    message = queue()
    assert messages_send_due(now=FRIDAY_10).retrying == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 1)
    assert message.next_attempt_at == FRIDAY_10 + dt.timedelta(seconds=60)
    assert "throttled" in message.error
    # Not before the backoff is over.
    assert messages_send_due(now=FRIDAY_10 + dt.timedelta(seconds=59)).retrying == 0
    second = FRIDAY_10 + dt.timedelta(seconds=60)
    assert messages_send_due(now=second).retrying == 1
    message.refresh_from_db()
    assert message.next_attempt_at == second + dt.timedelta(seconds=120)
    third = second + dt.timedelta(seconds=120)
    assert messages_send_due(now=third).sent == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.sent_at) == (MessageStatus.SENT, 3, third)
    assert message.provider == "sms-double" and message.cost_fen == 4
    assert len(sms.sent) == 3


def test_after_the_last_attempt_it_falls_back_to_email(queue, backends, settings, email_template):
    settings.PROPFEE_MESSAGE_MAX_ATTEMPTS = 2
    sms, email = backends
    sms.results = [SendResult(accepted=False, error="网络超时", retryable=True)] * 2
    message = queue(fallback_channels=[Channel.EMAIL])
    messages_send_due(now=FRIDAY_10)
    summary = messages_send_due(now=FRIDAY_10 + dt.timedelta(minutes=1))
    # The fallback is due at once and goes out in the same pass.
    assert (summary.failed, summary.fallbacks, summary.sent) == (1, 1, 1)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 2)
    fallback = message.fallbacks.get()
    assert (fallback.channel, fallback.recipient) == (Channel.EMAIL, "wang.jianguo@example.cn")
    assert fallback.key == f"{message.key}>email"
    assert fallback.subject == "物业服务费温馨提醒（阳光花园3栋1502）"
    assert fallback.status == MessageStatus.SENT and fallback.provider == "email-double"
    assert [m.subject for m in email.sent] == [fallback.subject]


def test_an_undeliverable_number_fails_at_once_and_falls_back(queue, backends, email_template):
    sms, _ = backends
    sms.results = [SendResult(accepted=False, error="空号", retryable=False)]
    message = queue(fallback_channels=[Channel.EMAIL])
    summary = messages_send_due(now=FRIDAY_10)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 1)
    assert (summary.failed, summary.fallbacks) == (1, 1)
    assert message.fallbacks.get().status == MessageStatus.SENT


def test_without_a_fallback_template_the_failure_says_so(queue, backends):
    sms, _ = backends
    sms.results = [SendResult(accepted=False, error="空号", retryable=False)]
    message = queue(fallback_channels=[Channel.EMAIL])
    messages_send_due(now=FRIDAY_10)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "备用渠道没有已审批的模板" in message.error
    assert not message.fallbacks.exists()


def test_a_payer_without_a_phone_is_reached_by_the_fallback_channel(queue, payer, email_template):
    payer.phones.all().delete()
    message = queue(fallback_channels=[Channel.EMAIL])
    assert (message.channel, message.template) == (Channel.EMAIL, email_template)
    payer.email = ""
    payer.save()
    with pytest.raises(MessagingError, match="没有登记可用的"):
        queue(key="other", fallback_channels=[Channel.EMAIL])


def test_delivery_reports_mark_delivered_or_fall_back(queue, backends, email_template):
    first = queue(key="a")
    second = queue(key="b", fallback_channels=[Channel.EMAIL])
    messages_send_due(now=FRIDAY_10)
    first.refresh_from_db()
    second.refresh_from_db()
    delivered_at = FRIDAY_10 + dt.timedelta(seconds=5)
    reports = [
        DeliveryReport(provider_id=first.provider_id, delivered=True, at=delivered_at),
        DeliveryReport(
            provider_id=second.provider_id, delivered=False, at=delivered_at, error="关机"
        ),
        DeliveryReport(provider_id="unknown", delivered=True, at=delivered_at),
    ]
    assert delivery_report_apply(provider="sms-double", reports=reports) == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.delivered_at) == (MessageStatus.DELIVERED, delivered_at)
    assert second.status == MessageStatus.FAILED and "关机" in second.error
    assert second.fallbacks.get().channel == Channel.EMAIL
    # Applying the same reports again changes nothing; another provider's ids never match.
    assert delivery_report_apply(provider="sms-double", reports=reports) == 0
    assert delivery_report_apply(provider="aliyun", reports=reports[:1]) == 0


def test_a_backend_that_raises_is_a_retryable_failure(queue, settings):
    settings.PROPFEE_MESSAGING = {"sms": "no.such.Backend"}
    message = queue()
    summary = messages_send_due(now=FRIDAY_10)
    message.refresh_from_db()
    assert (summary.retrying, message.status, message.attempts) == (1, MessageStatus.QUEUED, 1)


def test_sending_costs_one_write_per_message_and_a_fixed_number_of_reads(queue, settings, backends):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.PROPFEE_MESSAGE_CAP_DAY = settings.PROPFEE_MESSAGE_CAP_WEEK = 100

    def sending(n: int, start: int) -> int:
        for i in range(n):
            queue(key=f"q-{start + i}")
        with CaptureQueriesContext(connection) as queries:
            assert messages_send_due(now=FRIDAY_10).sent == n
        return len(queries)

    four, eight = sending(4, 0), sending(8, 100)
    assert eight - four == 4
