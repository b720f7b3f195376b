"""Contact windows and caps hold for calls and visits too, not only messages: a visit
appointment at 22:30 is refused, a call recorded at 21:30 is refused (window 08:00–21:00), and
after 6 unanswered calls in a day the 7th is refused (compliance-facts.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.collection.constants import ContactChannel, ContactOutcome
from propfee.collection.contacts import ContactError, contact_record_create, task_reschedule
from propfee.collection.models import ContactRecord

pytest.register_assert_rewrite("tests.collection.workbench_fixtures")
from tests.collection.workbench_fixtures import NOW  # noqa: E402

pytest_plugins = ["tests.collection.workbench_fixtures"]

SH = dt.timezone(dt.timedelta(hours=8))


def test_a_visit_appointment_at_half_past_ten_at_night_is_refused(
    make_case, make_task, wb_collector
):
    case = make_case("0101", wb_collector)
    task = make_task(case, kind="visit")
    late = dt.datetime(2026, 4, 16, 22, 30, tzinfo=SH)
    with pytest.raises(ContactError, match="22:00 至次日 08:00"):
        task_reschedule(task=task, actor=wb_collector, due_on=late.date(), appointment_at=late)
    fine = dt.datetime(2026, 4, 16, 19, 30, tzinfo=SH)
    task = task_reschedule(task=task, actor=wb_collector, due_on=fine.date(), appointment_at=fine)
    assert task.appointment_at == fine


def test_a_call_outside_the_window_is_refused(make_case, wb_collector):
    case = make_case("0101", wb_collector)
    with pytest.raises(ContactError, match="电话联系须在 08:00–21:00"):
        contact_record_create(
            case=case,
            actor=wb_collector,
            channel=ContactChannel.PHONE,
            outcome=ContactOutcome.NO_ANSWER,
            contacted_at=dt.datetime(2026, 4, 14, 21, 30, tzinfo=SH),
        )
    assert not ContactRecord.objects.exists()


def test_the_seventh_unanswered_call_of_a_day_is_refused(make_case, wb_collector):
    case = make_case("0101", wb_collector)
    for hour in range(8, 10):
        for minute in (0, 15, 30):
            contact_record_create(
                case=case,
                actor=wb_collector,
                channel=ContactChannel.PHONE,
                outcome=ContactOutcome.NO_ANSWER,
                contacted_at=dt.datetime(2026, 4, 15, hour, minute, tzinfo=SH),
            )
    with pytest.raises(ContactError, match="已达每日上限 6 次"):
        contact_record_create(case=case, actor=wb_collector, channel="phone", outcome="no_answer")
    # A visit is not a call, and tomorrow the count starts again.
    contact_record_create(case=case, actor=wb_collector, channel="visit", outcome="answered")
    assert ContactRecord.objects.filter(unit=case.unit).count() == 7
    assert NOW.date() == dt.date(2026, 4, 15)
