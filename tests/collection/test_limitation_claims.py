"""诉讼时效 as the law counts it:

- A legal matter's filing and its end restart only the charges it claims (those overdue when it
  was prepared). Payment order prepared 2026-03-01 claims January (due 01-31) and February
  (due 02-28); filed 04-01, closed 09-01. July (due 07-31) fell due after the filing and was
  never claimed: its clock still runs from its due date (expires 2029-07-31), while January's
  runs from the close (2029-09-01).
- A debtor's written request for an installment plan is an acknowledgement (诉讼时效规定
  art. 14): it restarts the clock on the request date, approved or not."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.collection.constants import LegalKind, LegalStatus, RestartKind
from propfee.collection.legal import legal_matter_advance, legal_matter_create
from propfee.collection.limitation import limitation_expiry
from propfee.collection.models import LimitationRestart
from propfee.collection.plans import installment_plan_reject, installment_plan_request
from propfee.core.roles import Role

D = dt.date


@pytest.fixture
def legal(make_user, estate):
    return make_user(Role.LEGAL, username="fawu", estates=[estate])


@pytest.fixture
def boss(make_user, estate):
    return make_user(Role.MANAGER, username="jingli", estates=[estate])


def test_a_matter_restarts_only_the_charges_it_claims(unit, make_charge, legal, boss):
    january, february, july = make_charge(month=1), make_charge(month=2), make_charge(month=7)
    matter = legal_matter_create(
        unit=unit, kind=LegalKind.PAYMENT_ORDER, claim_fen=20000, actor=legal, on=D(2026, 3, 1)
    )
    assert set(matter.claimed_charges.values_list("pk", flat=True)) == {january.pk, february.pk}
    legal_matter_advance(
        matter=matter, to_status=LegalStatus.APPROVED, actor=boss, on=D(2026, 3, 5)
    )
    legal_matter_advance(
        matter=matter, to_status=LegalStatus.FILED, actor=legal, on=D(2026, 4, 1), docket_no="督1"
    )
    legal_matter_advance(matter=matter, to_status=LegalStatus.CLOSED, actor=legal, on=D(2026, 9, 1))

    positions = limitation_expiry(unit_ids=[unit.pk], as_of=D(2026, 12, 1))
    assert positions[january.pk].expires_on == D(2029, 9, 1)
    assert positions[february.pk].expires_on == D(2029, 9, 1)
    assert positions[january.pk].restart.description == "支付令程序终结"
    assert positions[july.pk].expires_on == D(2029, 7, 31)
    assert positions[july.pk].restart is None
    for restart in LimitationRestart.objects.filter(kind=RestartKind.FILING):
        assert set(restart.charges.values_list("pk", flat=True)) == {january.pk, february.pk}


def test_a_written_plan_request_restarts_the_clock_even_when_rejected(
    unit, make_charge, collector, boss, time_machine
):
    time_machine.move_to(dt.datetime(2026, 6, 20, 2, tzinfo=dt.UTC))
    january = make_charge(month=1)
    plan = installment_plan_request(
        unit=unit,
        total_fen=10000,
        count=2,
        first_due_on=D(2026, 7, 10),
        reason="业主书面申请分两期缴清",
        requested_on=D(2026, 6, 15),
        actor=collector,
    )
    assert plan.requested_on == D(2026, 6, 15)
    installment_plan_reject(plan=plan, actor=boss, reason="分期期限过长")
    position = limitation_expiry(unit_ids=[unit.pk], as_of=D(2026, 12, 1))[january.pk]
    assert position.expires_on == D(2029, 6, 15)
    assert position.restart.kind == RestartKind.ACKNOWLEDGEMENT
    assert "书面申请分期" in position.restart.description
    evidence = LimitationRestart.objects.get(source_type="collection.installmentplan.request")
    assert evidence.source_id == plan.pk


def test_a_plan_request_cannot_be_dated_in_the_future(unit, make_charge, collector, time_machine):
    from propfee.collection.plans import PlanError

    time_machine.move_to(dt.datetime(2026, 6, 20, 2, tzinfo=dt.UTC))
    make_charge(month=1)
    with pytest.raises(PlanError, match="不能晚于今天"):
        installment_plan_request(
            unit=unit,
            total_fen=10000,
            count=1,
            first_due_on=D(2026, 7, 10),
            reason="x",
            requested_on=D(2026, 6, 21),
            actor=collector,
        )
