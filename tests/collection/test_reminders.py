"""The reminder before the due date (缴费提醒): one message per unit with a charge due in the
pre_due stage's days that still has principal outstanding, through messaging, once per key;
a dry run writes nothing; the selection costs the same whatever the number of units."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from propfee.collection.models import Policy
from propfee.collection.policies import policy_export_yaml, policy_import_yaml
from propfee.collection.reminders import pre_due_key, pre_due_reminders
from propfee.core.models import AuditEntry
from propfee.messaging.constants import MessageStatus
from propfee.messaging.models import Message
from propfee.messaging.services import messaging_defaults_load
from tests.factories import OccupancyFactory, PartyPhoneFactory

D = dt.date
AS_OF = D(2026, 3, 27)  # a Friday
DUE = D(2026, 3, 30)  # three days later
FRIDAY_10 = dt.datetime(2026, 3, 27, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def at_ten():
    with time_machine.travel(FRIDAY_10, tick=False):
        yield


@pytest.fixture
def templates(company):
    messaging_defaults_load(company=company, approve=True)


@pytest.fixture
def billed(make_unit, make_charge, policies, templates):
    """billed(room, due_date=DUE, principal_fen=10000) → a unit with a payer (mobile
    13800138000) and a March charge due on `due_date`."""

    def make(room: str, due_date: dt.date = DUE, principal_fen: int = 10000, phone: str = ""):
        unit = make_unit(room)
        occupancy = OccupancyFactory(
            unit=unit, party__name=f"业主{room}", is_payer=True, since=D(2020, 1, 1)
        )
        PartyPhoneFactory(party=occupancy.party, number=phone or f"1380013{int(room):04d}")
        make_charge(month=3, principal_fen=principal_fen, unit=unit, due_date=due_date)
        return unit

    return make


def test_a_charge_due_in_three_days_gets_one_message(billed, company):
    unit = billed("101", principal_fen=12345)
    report = pre_due_reminders(company=company, as_of=AS_OF)
    assert (report.units, report.queued, report.already_queued, report.failed) == (1, 1, 0, 0)
    assert report.due_dates == ["2026-03-30"]
    assert report.by_status == {MessageStatus.QUEUED: 1}
    message = Message.objects.get()
    assert message.key == pre_due_key(unit.pk, DUE) == f"predue:{unit.pk}:2026-03-30"
    assert (message.unit, message.channel, message.stage) == (unit, "sms", "pre_due")
    assert message.template.stage == "pre_due" and message.recipient == "13800130101"
    assert message.deadline == DUE
    # The pre_due template, filled with the figures of the charge due.
    assert "尊敬的业主101" in message.body
    assert "2026年3月物业服务费共123.45元，应缴日期为2026年3月30日" in message.body
    assert AuditEntry.objects.filter(note__contains="缴费提醒排队 1 条").count() == 1


def test_a_second_call_queues_nothing_new(billed, company):
    billed("101")
    pre_due_reminders(company=company, as_of=AS_OF)
    again = pre_due_reminders(company=company, as_of=AS_OF)
    assert (again.units, again.queued, again.already_queued) == (1, 0, 1)
    assert Message.objects.count() == 1


def test_only_the_amount_due_then_is_reminded_of(billed, make_charge, company):
    """A unit that also owes an overdue month: the reminder speaks of the charge due, and a
    charge due on another day gets no reminder of its own."""
    unit = billed("101", principal_fen=10000)
    make_charge(month=2, principal_fen=9000, unit=unit)  # overdue since 28 February
    billed("102", due_date=DUE + dt.timedelta(days=1))
    billed("103", due_date=DUE - dt.timedelta(days=1))
    report = pre_due_reminders(company=company, as_of=AS_OF)
    assert (report.units, report.queued) == (1, 1)
    message = Message.objects.get()
    assert message.unit == unit and "共100.00元" in message.body


def test_a_paid_or_partly_paid_charge(billed, pay, company):
    paid = billed("101", principal_fen=10000)
    pay(10000, AS_OF, unit=paid)
    part = billed("102", principal_fen=10000)
    pay(4000, AS_OF - dt.timedelta(days=1), unit=part)
    report = pre_due_reminders(company=company, as_of=AS_OF)
    assert (report.units, report.queued) == (1, 1)
    message = Message.objects.get()
    assert message.unit == part and "共60.00元" in message.body


def test_dry_run_counts_and_writes_nothing(billed, company):
    billed("101")
    billed("102")
    audit_rows = AuditEntry.objects.count()
    report = pre_due_reminders(company=company, as_of=AS_OF, dry_run=True)
    assert (report.dry_run, report.units, report.queued) == (True, 2, 2)
    assert not Message.objects.exists()
    assert AuditEntry.objects.count() == audit_rows


def test_the_days_come_from_the_policy(billed, company):
    """A policy whose pre_due stage says 5 days reminds 5 days before, not 3."""
    policy = Policy.objects.get(company=company, is_default=True)
    text = policy_export_yaml(policy).replace("days_before_due: 3", "days_before_due: 5")
    policy_import_yaml(company=company, text=text, actor=None)
    billed("101")  # due in 3 days
    five = billed("102", due_date=AS_OF + dt.timedelta(days=5))
    report = pre_due_reminders(company=company, as_of=AS_OF)
    assert report.due_dates == ["2026-04-01"]
    assert list(Message.objects.values_list("unit", flat=True)) == [five.pk]


def test_a_unit_messaging_refuses_does_not_stop_the_others(billed, make_unit, company):
    billed("101")
    billed("102").occupancies.all().delete()  # no payer: messaging refuses
    report = pre_due_reminders(company=company, as_of=AS_OF)
    assert (report.units, report.queued, report.failed) == (2, 1, 1)
    assert "没有登记缴费人" in report.errors[0]


def test_the_contact_guard_applies(billed, company):
    """Outside contact hours the message waits in the outbox for the window to open."""
    billed("101")
    with time_machine.travel(dt.datetime(2026, 3, 27, 22, 30, tzinfo=FRIDAY_10.tzinfo)):
        report = pre_due_reminders(company=company, as_of=AS_OF)
    assert report.by_status == {MessageStatus.HELD: 1}
    assert Message.objects.get().status == MessageStatus.HELD


def test_without_an_approved_template_nothing_is_queued(make_unit, make_charge, policies, company):
    unit = make_unit("101")
    OccupancyFactory(unit=unit, is_payer=True, since=D(2020, 1, 1))
    make_charge(month=3, unit=unit, due_date=DUE)
    report = pre_due_reminders(company=company, as_of=AS_OF)
    assert (report.units, report.queued, report.failed) == (1, 0, 1)
    assert "没有已审批的“pre_due”阶段消息模板" in report.errors[0]
    assert not Message.objects.exists()


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def test_query_count_does_not_grow_with_units(billed, company, django_assert_num_queries):
    """The selection, the dry run and a repeat call cost the same for 5 units as for 50 (the
    queuing itself is messaging's, one message at a time)."""
    for room in range(101, 106):
        billed(str(room))
    dry_5 = _queries(lambda: pre_due_reminders(company=company, as_of=AS_OF, dry_run=True))
    pre_due_reminders(company=company, as_of=AS_OF)
    repeat_5 = _queries(lambda: pre_due_reminders(company=company, as_of=AS_OF))
    for room in range(106, 151):
        billed(str(room))
    pre_due_reminders(company=company, as_of=AS_OF)
    assert Message.objects.count() == 50
    with django_assert_num_queries(dry_5):
        report = pre_due_reminders(company=company, as_of=AS_OF, dry_run=True)
    assert (report.units, report.queued, report.already_queued) == (50, 0, 50)
    with django_assert_num_queries(repeat_5):
        assert pre_due_reminders(company=company, as_of=AS_OF).already_queued == 50
    assert dry_5 == repeat_5 == 5
