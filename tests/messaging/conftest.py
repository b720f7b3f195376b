"""Messaging fixtures: a payer with a mobile number and an e-mail address, two overdue months
(物业费 2026-01 and 2026-02, 100.00 元 each, due at each month's end), approved SMS and
e-mail reminder templates, and backend doubles for SMS and e-mail."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from propfee.core.roles import Role
from propfee.messaging.constants import Channel
from propfee.messaging.services import template_approve, template_create
from tests.messaging.doubles import EmailDouble, SmsBackend
from tests.payments.conftest import contract, fee_item, make_charge, pay  # noqa: F401

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
AS_OF = dt.date(2026, 3, 20)


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """An aware Asia/Shanghai time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# A Friday inside contact hours.
FRIDAY_10 = at(2026, 3, 20, 10)


@pytest.fixture
def manager(make_user, estate):
    return make_user(Role.MANAGER, username="manager1", estates=[estate])


@pytest.fixture
def payer(owner):
    owner.email = "wang.jianguo@example.cn"
    owner.save()
    return owner


@pytest.fixture
def owing(make_charge):  # noqa: F811
    """Two overdue months: 2026-01 and 2026-02, 100.00 元 each."""
    return [make_charge(month=1), make_charge(month=2)]


@pytest.fixture
def backends(settings):
    settings.PROPFEE_MESSAGING = {
        "sms": "tests.messaging.doubles.SmsBackend",
        "email": "tests.messaging.doubles.EmailDouble",
        "wechat": "console",
    }
    SmsBackend.reset()
    EmailDouble.reset()
    return SmsBackend, EmailDouble


def _approved(company, author, *, channel, stage="reminder", subject="", body):
    """A template written and approved by `author` (templates serve the whole company: someone
    who covers every estate)."""
    template = template_create(
        company=company,
        name=f"{stage}-{channel}",
        channel=channel,
        stage=stage,
        subject=subject,
        body=body,
        actor=author,
    )
    return template_approve(template=template, actor=author)


@pytest.fixture
def sms_template(company, admin_user):
    return _approved(
        company,
        admin_user,
        channel=Channel.SMS,
        body="尊敬的{name}：截至{date}，您的房屋{unit}{periods}物业服务费尚有{amount}元未缴纳，"
        "请于{deadline}前缴纳。{company}",
    )


@pytest.fixture
def email_template(company, admin_user):
    return _approved(
        company,
        admin_user,
        channel=Channel.EMAIL,
        subject="物业服务费温馨提醒（{unit}）",
        body="尊敬的{name}：您的房屋{unit}尚有{amount}元物业服务费未缴纳。",
    )
