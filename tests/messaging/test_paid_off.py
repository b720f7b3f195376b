"""A reminder whose unit has paid since it was queued is not sent (已缴清，取消发送): at send
time a demand needs something overdue, a pre-due reminder anything outstanding; stages a
company names itself are not checked. One read for the whole batch."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.messaging.constants import Channel, MessageStatus
from propfee.messaging.models import Message
from propfee.messaging.selectors import units_owing
from propfee.messaging.services import (
    PAID_OFF_OUTSTANDING,
    PAID_OFF_OVERDUE,
    message_queue,
    messages_send_due,
)
from tests.factories import OccupancyFactory, PartyPhoneFactory, UnitFactory
from tests.messaging.conftest import FRIDAY_10, _approved, at

pytestmark = pytest.mark.django_db

TODAY = FRIDAY_10.date()
# What the unit owes on 2026-03-20 for January and February: principal 200.00 + penalty 3.40.
EVERYTHING = 20340


@pytest.fixture
def pre_due_template(company, manager):
    return _approved(
        company,
        manager,
        channel=Channel.SMS,
        stage="pre_due",
        body="尊敬的{name}：您的房屋{unit}物业服务费应缴日期为{due_date}，请按时缴纳。{company}",
    )


def _queue(unit, template, key="r-1", now=FRIDAY_10):
    return message_queue(
        unit=unit, channel=template.channel, template=template, key=key, actor=None, now=now
    )


def test_a_reminder_is_cancelled_when_the_unit_has_paid_everything(
    unit, payer, owing, sms_template, backends, pay
):
    sms, _ = backends
    message = _queue(unit, sms_template)
    pay(EVERYTHING, TODAY)
    summary = messages_send_due(now=FRIDAY_10)
    message.refresh_from_db()
    assert (message.status, message.error) == (MessageStatus.CANCELLED, PAID_OFF_OVERDUE)
    assert message.error.startswith("已缴清，取消发送")
    assert message.next_attempt_at is None and message.sent_at is None
    assert (summary.sent, summary.cancelled, summary.paid_off) == (0, 1, 1)
    assert "取消中已缴清 1 条" in str(summary)
    assert sms.sent == []


def test_a_part_payment_leaves_the_reminder_to_go_out(
    unit, payer, owing, sms_template, backends, pay
):
    message = _queue(unit, sms_template)
    pay(EVERYTHING - 1, TODAY)  # one fen of principal is still overdue
    assert messages_send_due(now=FRIDAY_10).sent == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_held_reminder_is_rechecked_when_its_time_comes(
    unit, payer, owing, sms_template, backends, pay
):
    sms, _ = backends
    message = _queue(unit, sms_template, now=at(2026, 3, 20, 22, 30))
    assert message.status == MessageStatus.HELD
    pay(EVERYTHING, dt.date(2026, 3, 20))
    summary = messages_send_due(now=at(2026, 3, 21, 8))
    message.refresh_from_db()
    assert (summary.paid_off, message.status) == (1, MessageStatus.CANCELLED)
    assert sms.sent == []


def test_a_payment_received_after_the_send_date_does_not_count(
    unit, payer, owing, sms_template, backends, pay
):
    # A bank transfer entered with a later received date: on the send date the unit still owes.
    message = _queue(unit, sms_template)
    pay(EVERYTHING + 100, dt.date(2026, 3, 23))
    assert messages_send_due(now=FRIDAY_10).sent == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_demand_needs_something_overdue_not_just_outstanding(
    unit, payer, make_charge, sms_template, backends
):
    make_charge(month=3)  # due 2026-03-31: outstanding, not yet overdue on 2026-03-20
    message = _queue(unit, sms_template)
    messages_send_due(now=FRIDAY_10)
    message.refresh_from_db()
    assert (message.status, message.error) == (MessageStatus.CANCELLED, PAID_OFF_OVERDUE)


def test_a_pre_due_reminder_goes_out_while_anything_is_outstanding(
    unit, payer, make_charge, pre_due_template, backends, pay
):
    make_charge(month=3)  # due 2026-03-31
    first = _queue(unit, pre_due_template, key="pre-1")
    assert messages_send_due(now=FRIDAY_10).sent == 1
    first.refresh_from_db()
    assert first.status == MessageStatus.SENT
    second = _queue(unit, pre_due_template, key="pre-2")
    pay(10000, TODAY)  # paid before the due date: nothing outstanding any more
    summary = messages_send_due(now=FRIDAY_10)
    second.refresh_from_db()
    assert (second.status, second.error) == (MessageStatus.CANCELLED, PAID_OFF_OUTSTANDING)
    assert summary.paid_off == 1


def test_a_stage_a_company_named_itself_is_not_checked(unit, payer, company, manager, backends):
    custom = _approved(
        company,
        manager,
        channel=Channel.SMS,
        stage="service_notice",
        body="尊敬的{name}：物业服务中心本周六上午开展消防演练，敬请留意。{company}",
    )
    message = _queue(unit, custom)  # the unit owes nothing at all
    assert messages_send_due(now=FRIDAY_10).sent == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_units_owing_tells_outstanding_from_overdue(unit, payer, make_charge, pay):
    other = UnitFactory(building=unit.building, room="1503")
    third = UnitFactory(building=unit.building, room="1504")
    make_charge(month=1)  # unit: overdue
    make_charge(month=3, unit=other)  # other: outstanding, not overdue
    make_charge(month=1, unit=third)  # third: paid in full
    pay(10240, TODAY, unit=third)
    owing = units_owing(unit_ids=[unit.pk, other.pk, third.pk], on=TODAY)
    assert owing.outstanding == {unit.pk, other.pk}
    assert owing.overdue == {unit.pk}
    # On the due date itself the March charge is not overdue yet; the day after it is.
    assert other.pk not in units_owing(unit_ids=[other.pk], on=dt.date(2026, 3, 31)).overdue
    assert other.pk in units_owing(unit_ids=[other.pk], on=dt.date(2026, 4, 1)).overdue


def _paid_units(n, building, make_charge, pay):
    """n units, each with a paid January charge and a payer with a mobile number."""
    units = []
    for i in range(n):
        unit = UnitFactory(building=building, room=f"{i + 1}01")
        occupancy = OccupancyFactory(unit=unit)
        PartyPhoneFactory(party=occupancy.party)
        make_charge(month=1, unit=unit)
        pay(10240, TODAY, unit=unit)
        units.append(unit)
    return units


@pytest.mark.parametrize("n", [3, 9])
def test_the_paid_check_costs_the_same_queries_for_any_batch(
    n, building, make_charge, sms_template, backends, pay, django_assert_num_queries
):
    units = _paid_units(n, building, make_charge, pay)
    for unit in units:
        _queue(unit, sms_template, key=f"paid-{unit.pk}")
    # claim (select, update; 2 + its savepoint pair) · batch, payers, phones, contact counts
    # (4) · units owing (1) · one update cancelling them all (1) · the empty second claim
    # (1 + its savepoint pair)
    with django_assert_num_queries(13):
        summary = messages_send_due(now=FRIDAY_10)
    assert (summary.paid_off, summary.sent) == (n, 0)
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.CANCELLED}
