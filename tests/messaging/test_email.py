"""The e-mail backend delivers through a real SMTP server (aiosmtpd on 127.0.0.1): the
Chinese subject and body arrive exactly as stored in the outbox; refusals are classified."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller

from propfee.messaging.constants import Channel, MessageStatus
from propfee.messaging.services import message_queue, messages_send_due
from tests.messaging.conftest import FRIDAY_10

pytestmark = pytest.mark.django_db


class Mailbox:
    """An aiosmtpd handler that keeps every message, or refuses recipients with `refuse`."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse = ""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.PROPFEE_MESSAGING = {"email": "smtp"}
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "物业服务中心 <service@anjia.example.cn>"
    yield mailbox
    controller.stop()


@pytest.fixture
def queued(unit, payer, owing, email_template):
    return message_queue(
        unit=unit,
        channel=Channel.EMAIL,
        template=email_template,
        key="email-1",
        actor=None,
        now=FRIDAY_10,
    )


def test_an_email_reaches_a_real_smtp_server_in_chinese(smtp_server, queued):
    summary = messages_send_due(now=FRIDAY_10)
    assert summary.sent == 1
    [(mail_from, rcpt_tos, content)] = smtp_server.received
    assert mail_from == "service@anjia.example.cn"
    assert rcpt_tos == ["wang.jianguo@example.cn"]
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    # (A folded header may start with the folding space.)
    assert parsed["Subject"].strip() == "物业服务费温馨提醒（阳光花园3栋1502）"
    assert (
        parsed.get_content().strip()
        == "尊敬的王建国：您的房屋阳光花园3栋1502尚有203.40元物业服务费未缴纳。"
    )
    assert parsed["X-Propfee-Message"] == str(queued.pk)
    queued.refresh_from_db()
    assert queued.status == MessageStatus.SENT and queued.provider == "smtp"
    # The provider id is the Message-ID the server received.
    assert parsed["Message-ID"].strip("<>") == queued.provider_id
    assert queued.subject == parsed["Subject"].strip()


def test_a_refused_recipient_fails_without_retry(smtp_server, queued):
    smtp_server.refuse = "550 5.1.1 mailbox unavailable"
    summary = messages_send_due(now=FRIDAY_10)
    queued.refresh_from_db()
    assert (summary.failed, queued.status, queued.attempts) == (1, MessageStatus.FAILED, 1)
    assert "拒收" in queued.error
    assert smtp_server.received == []


def test_a_temporary_refusal_is_retried(smtp_server, queued):
    smtp_server.refuse = "451 4.3.0 try again later"
    summary = messages_send_due(now=FRIDAY_10)
    queued.refresh_from_db()
    assert (summary.retrying, queued.status) == (1, MessageStatus.QUEUED)


def test_no_server_listening_is_retried(settings, queued):
    settings.PROPFEE_MESSAGING = {"email": "smtp"}
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _free_port(), 2
    summary = messages_send_due(now=FRIDAY_10)
    queued.refresh_from_db()
    assert (summary.retrying, queued.status) == (1, MessageStatus.QUEUED)
    assert "无法连接邮件服务器" in queued.error
