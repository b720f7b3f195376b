"""The daily run: cases opened and closed exactly, stages entered on the expected day and never
skipped, a second run the same day creating nothing, holds, promises, approvals, collectors."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from propfee.collection.constants import (
    CaseCloseReason,
    CaseStatus,
    HoldKind,
    PlanStatus,
    PromiseStatus,
    TaskKind,
)
from propfee.collection.models import (
    Action,
    Case,
    CaseEvent,
    Hold,
    Installment,
    InstallmentPlan,
    Policy,
    Promise,
    Task,
)
from propfee.collection.services import case_stage_approve, estate_policy_set
from propfee.core.roles import Role

D = dt.date


def _counts():
    return (
        Case.objects.count(),
        Action.objects.count(),
        Task.objects.count(),
        CaseEvent.objects.count(),
    )


def _stage_days(case: Case) -> dict[str, dt.date]:
    """The day each stage was entered, from the case's timeline."""
    return {
        e.data["stage"]: timezone.localdate(e.happened_at)
        for e in CaseEvent.objects.filter(case=case, kind="stage")
    }


def _at(month: int, day: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, month, day, 10, 0))


def _days(start: dt.date, end: dt.date):
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def test_cases_open_for_tolerance_and_close_when_cleared(run, owing, pay):
    three = owing("101", months=[1, 2, 3])  # ¥300 overdue on 1 April
    small = owing("102", months=[3], principal_fen=3000)  # ¥30: below the ¥50 tolerance
    owing("103", months=[4])  # due 30 April: not overdue yet
    report = run(D(2026, 4, 1))
    assert report.cases_opened == 1
    case = Case.objects.get()
    assert case.unit == three and case.status == CaseStatus.OPEN
    assert (case.principal_overdue_fen, case.months_owed) == (30000, 3)
    assert case.oldest_due_date == D(2026, 1, 31) and case.opened_on == D(2026, 4, 1)
    assert case.policy_version.policy.code == "default"
    assert not Case.objects.filter(unit=small).exists()

    pay(26000, D(2026, 4, 2), unit=three)  # ¥40 left: under the tolerance
    report = run(D(2026, 4, 3))
    case.refresh_from_db()
    assert (case.status, case.close_reason, case.closed_on) == (
        CaseStatus.CLOSED,
        CaseCloseReason.BELOW_TOLERANCE,
        D(2026, 4, 3),
    )
    assert report.cases_closed == {"below_tolerance": 1}

    owing("104", months=[1, 2])
    run(D(2026, 4, 4))
    other = Case.objects.get(status=CaseStatus.OPEN)
    pay(30000, D(2026, 4, 5), unit=other.unit)  # principal and penalty, with credit left
    assert run(D(2026, 4, 6)).cases_closed == {"cleared": 1}
    other.refresh_from_db()
    assert other.close_reason == CaseCloseReason.CLEARED
    # Its open tasks are cancelled, and the timeline says why the case closed.
    assert not Task.objects.filter(case=other, status="open").exists()
    assert CaseEvent.objects.filter(case=other, kind="closed").count() == 1


def test_default_ladder_timeline_never_skips(run, owing, manager, building_collector):
    unit = owing("201", months=[3], principal_fen=600000)  # ¥6,000 due 31 March
    for day in _days(D(2026, 4, 1), D(2026, 5, 13)):
        run(day)
    case = Case.objects.get(unit=unit)
    assert _stage_days(case) == {
        "reminder": D(2026, 4, 1),
        "phone": D(2026, 4, 3),
        "notice": D(2026, 4, 8),
        "visit": D(2026, 4, 15),
        "final_demand": D(2026, 4, 29),
    }
    # The lawyer letter needs a manager's approval: asked for on 13 May, not entered.
    assert (case.stage, case.pending_stage) == ("final_demand", "lawyer_letter")
    approval = Task.objects.get(case=case, kind=TaskKind.APPROVAL)
    assert approval.assigned_to == manager and approval.due_on == D(2026, 5, 15)
    run(D(2026, 5, 14))
    case.refresh_from_db()
    assert case.stage == "final_demand"  # still waiting
    case_stage_approve(case=case, actor=manager)
    run(D(2026, 5, 15))
    case.refresh_from_db()
    assert case.stage == "lawyer_letter" and case.stage_entered_on == D(2026, 5, 15)
    order = list(
        CaseEvent.objects.filter(case=case, kind="stage")
        .order_by("id")
        .values_list("data__stage", flat=True)
    )
    assert order == ["reminder", "phone", "notice", "visit", "final_demand", "lawyer_letter"]
    # Every action records the policy version it came from; tasks go to the building's
    # collector, due in working days (phone on Fri 3 April + 2 → Tue 7 April, 清明 4–6 April).
    assert set(Action.objects.values_list("policy_version", flat=True)) == {case.policy_version_id}
    phone = Task.objects.get(case=case, kind=TaskKind.PHONE, stage="phone")
    assert phone.assigned_to == building_collector and phone.due_on == D(2026, 4, 8)


def test_a_refused_stage_is_asked_for_again_only_after_30_days(
    run, owing, manager, building_collector
):
    unit = owing("202", months=[3], principal_fen=600000)
    for day in _days(D(2026, 4, 1), D(2026, 5, 13)):
        run(day)
    case = Case.objects.get(unit=unit)
    assert case.pending_stage == "lawyer_letter"
    with time_machine.travel(_at(5, 14), tick=False):
        case_stage_approve(case=case, actor=manager, approve=False, note="业主申请分期")
    for day in _days(D(2026, 5, 14), D(2026, 6, 12)):
        run(day)
    case.refresh_from_db()
    # Refused on 14 May: no new request for 30 days, and the case stays in 最后催告.
    assert (case.stage, case.pending_stage) == ("final_demand", "")
    assert Task.objects.filter(case=case, kind=TaskKind.APPROVAL).count() == 1
    run(D(2026, 6, 13))
    case.refresh_from_db()
    assert case.pending_stage == "lawyer_letter" and case.pending_since == D(2026, 6, 13)
    assert Task.objects.filter(case=case, kind=TaskKind.APPROVAL, status="open").count() == 1


def test_lawyer_letter_waits_for_amount_or_age(run, owing, manager):
    """¥300 owed: the ladder stops at the final demand (never skipped, never forced)."""
    unit = owing("202", months=[3], principal_fen=30000)
    for day in _days(D(2026, 4, 1), D(2026, 6, 30)):
        run(day)
    case = Case.objects.get(unit=unit)
    assert case.stage == "final_demand" and case.pending_stage == ""


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "fast",
            {"reminder": D(2026, 4, 3), "visit": D(2026, 4, 8)},
        ),
        (
            "standard4",
            {"reminder": D(2026, 4, 1), "notice": D(2026, 4, 8), "visit": D(2026, 4, 22)},
        ),
        (
            "fourweeks",
            {"reminder": D(2026, 4, 1), "phone": D(2026, 4, 8), "visit": D(2026, 4, 15)},
        ),
    ],
)
def test_presets_reach_their_stages_on_the_day(run, owing, estate, company, code, expected):
    run(D(2026, 3, 1))  # loads nothing owed; policies exist from here
    estate_policy_set(
        estate=estate, policy=Policy.objects.get(company=company, code=code), actor=None
    )
    unit = owing("301", months=[3], principal_fen=600000)
    for day in _days(D(2026, 4, 1), D(2026, 4, 28)):
        run(day)
    days = _stage_days(Case.objects.get(unit=unit))
    assert {k: v for k, v in days.items() if k in expected} == expected
    # 15th day → the lawyer letter asked for approval in the fast and four-week plans.
    if code in ("fast", "fourweeks"):
        assert Case.objects.get(unit=unit).pending_stage == "lawyer_letter"


def test_second_run_same_day_creates_nothing(run, owing, building_collector):
    for room in ("101", "102", "103"):
        owing(room, months=[1, 2, 3])
    run(D(2026, 4, 1))
    first = run(D(2026, 4, 3))
    assert first.actions_total == 3 and first.tasks_created == 3
    before = _counts()
    again = run(D(2026, 4, 3), force=True)  # planned again in full
    assert _counts() == before
    assert (again.cases_opened, again.actions_total, again.tasks_created) == (0, 0, 0)
    assert again.unchanged_since is None and again.cases_open == 3
    quick = run(D(2026, 4, 3))  # nothing written since: answered from the last run
    assert _counts() == before
    assert quick.unchanged_since is not None and quick.cases_open == 3


def test_a_write_since_the_last_run_is_seen(run, owing, pay):
    unit = owing("111", months=[1, 2, 3])
    run(D(2026, 4, 3))
    pay(40000, D(2026, 4, 3), unit=unit)  # paid in full the same day
    report = run(D(2026, 4, 3))
    assert report.unchanged_since is None and report.cases_closed == {"cleared": 1}


def test_reminder_repeats_on_its_cadence(run, owing, estate, company):
    raw = Policy.objects.get(company=company, code="default").versions.get().definition
    raw = {
        **raw,
        "segments": {},
        "stages": [s for s in raw["stages"] if s["key"] in ("reminder", "notice")],
    }
    raw["stages"][1] = {**raw["stages"][1], "enter": {"after_previous_days": 20}}
    from propfee.collection.policies import policy_create

    policy = policy_create(company=company, code="r", name="只提醒", definition=raw, actor=None)
    estate_policy_set(estate=estate, policy=policy, actor=None)
    unit = owing("401", months=[3])
    for day in _days(D(2026, 4, 1), D(2026, 4, 30)):
        run(day)
    case = Case.objects.get(unit=unit)
    reminders = Action.objects.filter(case=case, stage="reminder").values_list("on_date", flat=True)
    assert sorted(reminders) == [D(2026, 4, 1), D(2026, 4, 8), D(2026, 4, 15)]  # ×3 in all
    assert case.stage == "notice" and case.stage_entered_on == D(2026, 4, 21)


def test_manual_hold_skips_with_reason_then_resumes(run, owing):
    unit = owing("501", months=[1, 2, 3])
    run(D(2026, 4, 1))
    case = Case.objects.get(unit=unit)
    Hold.objects.create(
        unit=unit,
        case=case,
        kind=HoldKind.MANUAL,
        starts_on=D(2026, 4, 2),
        ends_on=D(2026, 4, 5),
        reason="业主住院",
    )
    report = run(D(2026, 4, 3))
    assert report.skipped_by_hold == {"manual": 1}
    skipped = Action.objects.get(case=case, on_date=D(2026, 4, 3))
    assert skipped.status == "skipped"
    assert skipped.skip_reason == "暂停催收：人工暂停（至 2026-04-05），业主住院"
    assert not Task.objects.filter(case=case).exists()
    run(D(2026, 4, 6))
    case.refresh_from_db()
    assert case.stage == "phone" and case.stage_entered_on == D(2026, 4, 6)


def test_dispute_holds_only_when_the_policy_says_so(run, owing, company):
    unit = owing("502", months=[1, 2, 3])
    run(D(2026, 4, 1))
    Hold.objects.create(unit=unit, kind=HoldKind.DISPUTE, starts_on=D(2026, 4, 1))
    assert run(D(2026, 4, 3), dry_run=True).skipped_by_hold == {"dispute": 1}
    raw = Policy.objects.get(company=company, code="default").versions.get().definition
    edited = {**raw, "options": {**raw["options"], "dispute_holds": False}}
    preview = run(D(2026, 4, 3), dry_run=True, policy_override=edited)
    assert preview.skipped_by_hold == {} and preview.actions_by_stage == {"phone": 1}


def test_promise_pauses_then_broken_promise_resumes(run, owing, building_collector):
    unit = owing("601", months=[1, 2, 3])
    run(D(2026, 4, 1))
    case = Case.objects.get(unit=unit)
    promise = Promise.objects.create(
        case=case, unit=unit, amount_fen=30000, promised_on=D(2026, 4, 8), created_at=_at(4, 2)
    )
    assert run(D(2026, 4, 3)).skipped_by_hold == {}  # the wait counts from the promise
    assert run(D(2026, 4, 5)).skipped_by_hold == {"promise": 1}
    run(D(2026, 4, 11))  # 8 April + 3 grace days: still pending
    promise.refresh_from_db()
    assert promise.status == PromiseStatus.PENDING
    case.refresh_from_db()
    assert case.stage == "reminder"
    report = run(D(2026, 4, 12))
    promise.refresh_from_db()
    assert (promise.status, promise.decided_on, promise.paid_fen) == (
        PromiseStatus.BROKEN,
        D(2026, 4, 12),
        0,
    )
    assert report.promises_broken == 1
    assert CaseEvent.objects.filter(case=case, kind="promise_broken").count() == 1
    follow_up = Task.objects.get(case=case, title="承诺缴费未兑现，请电话跟进")
    assert follow_up.assigned_to == building_collector
    # Escalation resumes: the wait for the next stage counts from the promise.
    case.refresh_from_db()
    assert case.stage == "phone" and case.stage_entered_on == D(2026, 4, 12)


def test_kept_promise(run, owing, pay):
    unit = owing("602", months=[1, 2, 3])
    run(D(2026, 4, 1))
    promise = Promise.objects.create(
        unit=unit, amount_fen=10000, promised_on=D(2026, 4, 8), created_at=_at(4, 2)
    )
    pay(10000, D(2026, 4, 9), unit=unit)
    assert run(D(2026, 4, 12)).promises_kept == 1
    promise.refresh_from_db()
    assert (promise.status, promise.paid_fen) == (PromiseStatus.KEPT, 10000)


def test_collectors_by_building_then_estate_balanced(run, owing, make_user, estate, building):
    estate_wide = make_user(Role.COLLECTOR, username="quanxiang", estates=[estate])
    make_user(Role.COLLECTOR, username="a", buildings=[building])
    make_user(Role.COLLECTOR, username="b", buildings=[building])
    for room in ("101", "102", "103", "104"):
        owing(room, months=[1, 2])
    run(D(2026, 4, 1))
    loads = sorted(Case.objects.values_list("collector__username", flat=True))
    assert loads == ["a", "a", "b", "b"]
    assert not Case.objects.filter(collector=estate_wide).exists()


def test_contact_cap_skips_messages(run, owing, company, estate):
    raw = Policy.objects.get(company=company, code="default").versions.get().definition
    reminder = next(s for s in raw["stages"] if s["key"] == "reminder")
    raw = {
        **raw,
        "options": {**raw["options"], "messages_per_week": 1},
        "segments": {},
        "stages": [{**reminder, "repeat": {"every_days": 3, "times": 3}}],
    }
    from propfee.collection.policies import policy_create

    estate_policy_set(
        estate=estate,
        policy=policy_create(company=company, code="cap", name="上限", definition=raw, actor=None),
        actor=None,
    )
    unit = owing("701", months=[3])
    run(D(2026, 4, 1))
    assert run(D(2026, 4, 4)).skipped_by_cap == 1  # 3 days later: the week's one is used
    case = Case.objects.get(unit=unit)
    skipped = Action.objects.get(case=case, on_date=D(2026, 4, 4))
    assert (skipped.status, skipped.skip_reason) == ("skipped", "已达每周联系上限（1 次）")
    assert run(D(2026, 4, 8)).actions_by_kind == {"message": 1}  # a new week window


def test_installment_plan_holds_then_defaults(run, owing, pay):
    unit = owing("801", months=[1, 2, 3])
    run(D(2026, 4, 1))
    case = Case.objects.get(unit=unit)
    plan = InstallmentPlan.objects.create(
        case=case,
        unit=unit,
        status=PlanStatus.ACTIVE,
        total_fen=30000,
        reason="资金紧张",
        grace_days=5,
        decided_at=_at(4, 2),
    )
    Installment.objects.create(plan=plan, seq=1, due_on=D(2026, 4, 10), amount_fen=10000)
    Installment.objects.create(plan=plan, seq=2, due_on=D(2026, 5, 10), amount_fen=20000)
    assert run(D(2026, 4, 15)).skipped_by_hold == {"installment": 1}  # within the grace days
    pay(10000, D(2026, 4, 14), unit=unit)
    assert run(D(2026, 4, 20)).skipped_by_hold == {"installment": 1}  # first one paid
    report = run(D(2026, 5, 16))  # the second is 6 days late
    plan.refresh_from_db()
    assert (plan.status, plan.ended_on) == (PlanStatus.DEFAULTED, D(2026, 5, 16))
    assert report.plans_defaulted == 1 and report.skipped_by_hold == {}
    assert CaseEvent.objects.filter(case=case, kind="plan_defaulted").count() == 1
    assert Task.objects.filter(case=case, title="分期计划未按期还款，请电话跟进").count() == 1


def _active_plan(unit, case, installments):
    plan = InstallmentPlan.objects.create(
        case=case,
        unit=unit,
        status=PlanStatus.ACTIVE,
        total_fen=sum(amount for _, amount in installments),
        reason="资金紧张",
        grace_days=5,
        decided_at=_at(4, 2),
    )
    for seq, (due_on, amount) in enumerate(installments, start=1):
        Installment.objects.create(plan=plan, seq=seq, due_on=due_on, amount_fen=amount)
    Hold.objects.create(
        unit=unit, case=case, kind=HoldKind.INSTALLMENT, starts_on=D(2026, 4, 2), plan=plan
    )
    return plan


def test_dry_run_decides_a_defaulted_plan_like_the_run_and_writes_nothing(run, owing):
    from propfee.core.models import AuditEntry

    unit = owing("802", months=[1, 2, 3])
    run(D(2026, 4, 1))
    case = Case.objects.get(unit=unit)
    plan = _active_plan(unit, case, [(D(2026, 4, 10), 10000)])
    audits = AuditEntry.objects.count()
    dry = run(D(2026, 4, 16), dry_run=True)  # 04-10 + 5 days of grace < 04-16, nothing paid
    plan.refresh_from_db()
    assert (dry.plans_defaulted, plan.status) == (1, PlanStatus.ACTIVE)
    assert not CaseEvent.objects.filter(kind="plan_defaulted").exists()
    assert AuditEntry.objects.count() == audits
    real = run(D(2026, 4, 16))
    plan.refresh_from_db()
    assert (real.plans_defaulted, plan.status) == (1, PlanStatus.DEFAULTED)
    assert (real.events_created, real.tasks_created) == (dry.events_created, dry.tasks_created)
    assert Hold.objects.get(plan=plan).released_on == D(2026, 4, 16)
    event = CaseEvent.objects.get(case=case, kind="plan_defaulted")
    assert "应还 ¥100.00，实还 ¥0.00" in event.summary
    assert AuditEntry.objects.filter(object_id=str(plan.pk), note__contains="逾期未还").exists()


def test_a_paid_up_plan_completes_in_the_run_and_escalation_resumes(run, owing, pay):
    unit = owing("803", months=[1, 2, 3])
    run(D(2026, 4, 1))
    case = Case.objects.get(unit=unit)
    plan = _active_plan(unit, case, [(D(2026, 4, 10), 10000)])
    pay(10000, D(2026, 4, 9), unit=unit)  # the whole plan, the unit still owes two months
    report = run(D(2026, 4, 12))
    plan.refresh_from_db()
    assert (plan.status, plan.ended_on) == (PlanStatus.COMPLETED, D(2026, 4, 12))
    assert (report.plans_completed, report.plans_defaulted) == (1, 0)
    assert "installment" not in report.skipped_by_hold
    assert CaseEvent.objects.filter(case=case, kind="plan_completed").count() == 1
    assert Hold.objects.get(plan=plan).released_on == D(2026, 4, 12)
