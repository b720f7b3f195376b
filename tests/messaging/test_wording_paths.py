"""The wording guard on every path a message leaves by: template approval, queuing (a template
approved under older rules), sending (a message queued under older rules is failed, not
sent), and a one-off e-mail a collector writes."""

from __future__ import annotations

import pytest

from propfee.core.models import AuditEntry
from propfee.messaging.constants import Channel, MessageStatus
from propfee.messaging.models import Message, MessageTemplate
from propfee.messaging.services import (
    MessagingError,
    TemplateProblems,
    message_compose,
    message_queue,
    messages_send_due,
    template_approve,
    template_create,
)
from tests.messaging.conftest import FRIDAY_10

pytestmark = pytest.mark.django_db

# Wordings the first guard (停水/停电 and a list of fixed words) let through.
ACCESS_THREAT = "逾期未缴的，您的门禁卡将于月底失效，缴清后重新开通。"
TRADITIONAL_THREAT = "如仍不繳納，本公司將對貴戶的水電採取限制措施。"


def test_approval_refuses_a_threat_phrased_in_other_words(company, manager):
    template = template_create(
        company=company,
        name="提醒",
        channel=Channel.SMS,
        stage="reminder",
        body="尊敬的{name}：" + TRADITIONAL_THREAT,
        actor=manager,
    )
    with pytest.raises(TemplateProblems) as refused:
        template_approve(template=template, actor=manager)
    [problem] = refused.value.problems
    assert problem.code == "utility_threat"
    assert problem.excerpt == "對貴戶的水電採取限制"
    assert "“對貴戶的水電採取限制”" in problem.message and "第九百四十四条" in problem.message
    template.refresh_from_db()
    assert not template.is_approved


def _approved_under_older_rules(template: MessageTemplate, body: str) -> None:
    """A template text approved before the guard learned to refuse it."""
    MessageTemplate.objects.filter(pk=template.pk).update(body=body)


def test_a_template_approved_under_older_rules_is_refused_when_queuing(
    unit, payer, owing, sms_template, backends
):
    _approved_under_older_rules(sms_template, "尊敬的{name}：" + ACCESS_THREAT)
    with pytest.raises(TemplateProblems) as refused:
        message_queue(
            unit=unit,
            channel=Channel.SMS,
            template=sms_template,
            key="k-1",
            actor=None,
            now=FRIDAY_10,
        )
    assert [p.code for p in refused.value.problems] == ["access_threat"]
    assert not Message.objects.exists()


def test_a_message_queued_under_older_rules_is_failed_at_send_time_not_sent(
    unit, payer, owing, sms_template, backends
):
    sms, _ = backends
    message = message_queue(
        unit=unit, channel=Channel.SMS, template=sms_template, key="k-1", actor=None, now=FRIDAY_10
    )
    # Queued (and its template approved) before the guard knew this wording.
    Message.objects.filter(pk=message.pk).update(body=message.body + ACCESS_THREAT)
    _approved_under_older_rules(sms_template, sms_template.body + ACCESS_THREAT)

    summary = messages_send_due(now=FRIDAY_10)

    assert (summary.sent, summary.failed, summary.refused) == (0, 1, 1)
    assert sms.sent == []
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error.startswith("发送前措辞检查未通过，未发送：")
    assert "门禁卡将于月底失效" in message.error
    assert "措辞检查未通过 1 条" in str(summary)


def test_a_clean_message_is_still_sent(unit, payer, owing, sms_template, backends):
    sms, _ = backends
    message_queue(
        unit=unit, channel=Channel.SMS, template=sms_template, key="k-1", actor=None, now=FRIDAY_10
    )
    assert messages_send_due(now=FRIDAY_10).sent == 1
    assert len(sms.sent) == 1


def test_a_one_off_email_with_a_threat_is_refused_and_nothing_is_stored(
    unit, payer, owing, collector, backends
):
    with pytest.raises(TemplateProblems) as refused:
        message_compose(
            unit=unit,
            subject="物业费提醒",
            body="王先生您好，物业费再不交，我们将联系您的工作单位协助催缴。",
            actor=collector,
            key="one-off-1",
            now=FRIDAY_10,
        )
    [problem] = refused.value.problems
    assert problem.code == "third_party_disclosure"
    assert problem.excerpt == "联系您的工作单位"
    assert not Message.objects.exists()


def test_a_lawful_one_off_email_goes_to_the_payer_and_is_sent(
    unit, payer, owing, collector, backends
):
    _, email = backends
    message = message_compose(
        unit=unit,
        subject="物业费提醒",
        body="王先生您好，您2026年1-2月物业费尚未缴纳，如有困难可申请分期，谢谢。",
        actor=collector,
        key="one-off-1",
        now=FRIDAY_10,
    )
    assert (message.status, message.recipient, message.template) == (
        MessageStatus.QUEUED,
        payer.email,
        None,
    )
    assert AuditEntry.objects.filter(object_type="messaging.message", actor=collector).exists()
    assert messages_send_due(now=FRIDAY_10).sent == 1
    assert [m.body for m in email.sent] == [message.body]


def test_a_one_off_message_goes_by_email_only(unit, payer, owing, collector, backends):
    with pytest.raises(MessagingError, match="邮件"):
        message_compose(
            unit=unit,
            channel=Channel.SMS,
            body="您好，请缴纳物业费。",
            actor=collector,
            key="one-off-1",
            now=FRIDAY_10,
        )
