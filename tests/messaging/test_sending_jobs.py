"""Sending runs from the task worker (django-tasks) and from cron (`propfee messages send`)."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.core.management import call_command

from propfee.messaging.constants import Channel, MessageStatus
from propfee.messaging.services import message_queue
from propfee.messaging.tasks import messages_send
from tests.messaging.conftest import FRIDAY_10, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(unit, payer, owing, sms_template, backends):
    return message_queue(
        unit=unit,
        channel=Channel.SMS,
        template=sms_template,
        key="job-1",
        actor=None,
        now=FRIDAY_10,
    )


def test_the_task_sends_what_is_due(settings, queued, backends):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with time_machine.travel(FRIDAY_10, tick=False):
        result = messages_send.enqueue()
    assert result.return_value["sent"] == 1
    queued.refresh_from_db()
    assert queued.status == MessageStatus.SENT
    assert [m.message_id for m in backends[0].sent] == [queued.pk]


def test_the_command_sends_and_reports(queued, backends):
    out = io.StringIO()
    with time_machine.travel(FRIDAY_10, tick=False):
        call_command("messages", "send", stdout=out)
    assert "已发送 1 条" in out.getvalue()
    queued.refresh_from_db()
    assert queued.status == MessageStatus.SENT


def test_the_command_at_night_holds_instead_of_sending(queued, backends):
    out = io.StringIO()
    with time_machine.travel(at(2026, 3, 20, 23, 0), tick=False):
        call_command("messages", "send", stdout=out)
    assert "已发送 0 条，暂缓 1 条" in out.getvalue()
    queued.refresh_from_db()
    assert (queued.status, queued.next_attempt_at) == (MessageStatus.HELD, at(2026, 3, 21, 8))
    assert backends[0].sent == []
