"""A collector writes an e-mail to the case's payer from the case page: the wording guard
refuses a threat and shows why, a lawful text goes to the payer's own address."""

from __future__ import annotations

import pytest

from propfee.estates.models import Occupancy
from propfee.messaging.constants import MessageStatus
from propfee.messaging.models import Message

pytest_plugins = ["tests.collection.workbench_fixtures"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def case_with_email(make_case, wb_collector):
    case = make_case("0801", wb_collector)
    party = Occupancy.objects.get(unit=case.unit, is_payer=True).party
    party.email = "wang.jianguo@example.cn"
    party.save()
    return case


def _post(client, case, body, key="k1"):
    return client.post(
        f"/collection/cases/{case.pk}/message/",
        {"key": key, "subject": "物业费提醒", "body": body},
    )


def test_the_case_page_offers_the_email_form(client, case_with_email, wb_collector):
    client.force_login(wb_collector)
    page = client.get(f"/collection/cases/{case_with_email.pk}/").content.decode()
    assert "给缴费人发邮件" in page and f"/collection/cases/{case_with_email.pk}/message/" in page


def test_a_threat_is_refused_with_the_words_quoted(client, case_with_email, wb_collector):
    client.force_login(wb_collector)
    response = _post(client, case_with_email, "王先生，物业费再不交，我们就锁了您家的门禁卡。")
    assert response.status_code == 200
    page = response.content.decode()
    assert "以限制电梯、门禁" in page and "锁了您家的门禁卡" in page
    assert not Message.objects.exists()


def test_a_lawful_email_is_queued_for_the_payer_once(client, case_with_email, wb_collector):
    client.force_login(wb_collector)
    body = "王先生您好，您1-2月的物业费尚未缴纳，如有困难可以申请分期，谢谢。"
    response = _post(client, case_with_email, body)
    assert response.status_code == 302
    _post(client, case_with_email, body)  # sent twice: one message
    message = Message.objects.get()
    assert (message.body, message.recipient, message.status, message.queued_by) == (
        body,
        "wang.jianguo@example.cn",
        MessageStatus.QUEUED,
        wb_collector,
    )
