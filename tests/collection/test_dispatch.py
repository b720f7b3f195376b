"""The run's messages go through messaging (its key is the action's key, its guard applies) and
its documents through documents; each action is dispatched once."""

from __future__ import annotations

import datetime as dt

from propfee.collection.models import Action
from propfee.collection.services import dunning_dispatch
from propfee.documents.models import Document
from propfee.messaging.models import Message
from propfee.messaging.services import messaging_defaults_load
from tests.factories import OccupancyFactory, PartyPhoneFactory

D = dt.date


def _payer(unit, phone="13800138000"):
    occupancy = OccupancyFactory(unit=unit, party__name="李四", is_payer=True, since=D(2020, 1, 1))
    PartyPhoneFactory(party=occupancy.party, number=phone)
    return occupancy.party


def test_message_actions_are_queued_once(run, owing, company, manager):
    messaging_defaults_load(company=company, approve=True)
    unit = owing("101", months=[1, 2, 3])
    _payer(unit)
    run(D(2026, 4, 1), actor=manager, dispatch=True)
    action = Action.objects.get(kind="message")
    message = Message.objects.get()
    assert message.key == action.key and message.unit == unit
    assert message.channel == "sms" and message.recipient == "13800138000"
    assert message.stage == "reminder"
    action.refresh_from_db()
    assert action.dispatched_at is not None and action.detail["message"] == message.pk
    assert dunning_dispatch(actor=manager).messages == 0
    assert Message.objects.count() == 1


def test_a_failure_is_kept_on_the_action(run, owing, company, manager):
    unit = owing("102", months=[1, 2, 3])  # no approved template, no payer
    summary = dunning_dispatch(actor=manager)
    assert summary.messages == 0  # nothing dispatched yet: the run was told not to
    run(D(2026, 4, 1), actor=manager, dispatch=True)
    action = Action.objects.get(kind="message")
    assert "没有已审批的“reminder”阶段消息模板" in action.detail["error"]
    assert not Message.objects.exists()
    del unit


def test_document_actions_render_the_document(run, owing, company, manager):
    unit = owing("103", months=[1, 2, 3])
    _payer(unit)
    for day in (D(2026, 4, 1), D(2026, 4, 3), D(2026, 4, 8)):
        run(day, actor=manager, dispatch=True)
    action = Action.objects.get(kind="document")
    assert action.stage == "notice" and action.detail["document"] == "notice"
    document = Document.objects.get(pk=action.detail["document_id"])
    assert document.unit == unit and document.kind == "notice"
