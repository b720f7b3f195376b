"""Installment plans (分期): the schedule, request and approval, and the review's worked
examples — good standing within the grace days, default after them, completion with the
penalty waived."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from propfee.collection.constants import CaseStatus, HoldKind, PlanStatus, RestartKind
from propfee.collection.holds import active_holds
from propfee.collection.models import Case, CaseEvent, Hold, LimitationRestart
from propfee.collection.plans import (
    PlanError,
    installment_plan_approve,
    installment_plan_reject,
    installment_plan_request,
    installment_plans_review,
    installment_schedule,
)
from propfee.core.roles import PermissionDenied, Role
from propfee.core.submission import TOKEN_FIELD, submission_token_new
from propfee.ledger.constants import Component
from propfee.ledger.models import Waiver

D = dt.date
APPROVED_AT = dt.datetime(2026, 3, 1, 2, tzinfo=dt.UTC)  # 10:00 Beijing time, 2026-03-01


@pytest.fixture
def boss(make_user, estate):
    return make_user(Role.MANAGER, username="jingli", estates=[estate])


def test_equal_installments_with_the_remainder_last_on_month_ends():
    assert installment_schedule(total_fen=100000, count=3, first_due_on=D(2026, 1, 31)) == [
        (D(2026, 1, 31), 33333),
        (D(2026, 2, 28), 33333),
        (D(2026, 3, 31), 33334),
    ]


def test_a_schedule_must_add_up(unit, collector):
    with pytest.raises(PlanError, match="不一致"):
        installment_plan_request(
            unit=unit,
            total_fen=30000,
            schedule=[(D(2026, 3, 10), 10000), (D(2026, 4, 10), 10000)],
            reason="经济困难",
            actor=collector,
        )


def _plan(unit, collector, boss, **kwargs):
    plan = installment_plan_request(
        unit=unit,
        total_fen=30000,
        count=3,
        first_due_on=D(2026, 3, 10),
        reason="业主失业，申请分三期缴清",
        actor=collector,
        **kwargs,
    )
    with time_machine.travel(APPROVED_AT, tick=False):
        return installment_plan_approve(plan=plan, actor=boss, on=D(2026, 3, 1))


def test_approval_holds_the_case_and_restarts_the_clock(unit, collector, boss):
    plan = _plan(unit, collector, boss)
    assert plan.status == PlanStatus.ACTIVE
    holds = active_holds(unit_ids=[unit.pk], on=D(2026, 4, 1))[unit.pk]
    assert [(h.kind, h.ends_on) for h in holds] == [(HoldKind.INSTALLMENT, D(2026, 5, 15))]
    restart = LimitationRestart.objects.get(unit=unit, source_type="collection.installmentplan")
    assert (restart.kind, restart.occurred_on) == (RestartKind.ACKNOWLEDGEMENT, D(2026, 3, 1))
    # A second plan for the same unit is refused while this one runs.
    with pytest.raises(PlanError, match="已有"):
        installment_plan_request(
            unit=unit,
            total_fen=100,
            count=1,
            first_due_on=D(2026, 6, 1),
            reason="x",
            actor=collector,
        )


def test_only_a_manager_decides_and_never_their_own_request(unit, collector, boss):
    plan = installment_plan_request(
        unit=unit, total_fen=1000, count=1, first_due_on=D(2026, 3, 1), reason="x", actor=collector
    )
    with pytest.raises(PermissionDenied):
        installment_plan_approve(plan=plan, actor=collector)
    rejected = installment_plan_reject(plan=plan, actor=boss, reason="欠费不足三个月，无需分期")
    assert rejected.status == PlanStatus.REJECTED
    with pytest.raises(PlanError, match="不能再审批"):
        installment_plan_approve(plan=plan, actor=boss)
    mine = installment_plan_request(
        unit=unit, total_fen=1000, count=1, first_due_on=D(2026, 3, 1), reason="x", actor=boss
    )
    with pytest.raises(PlanError, match="自己"):
        installment_plan_approve(plan=mine, actor=boss)


def test_a_missed_installment_defaults_the_plan_the_day_after_the_grace_days(
    unit, company, collector, boss, make_charge, pay, estate
):
    make_charge(month=1, principal_fen=30000)
    case = Case.objects.create(company=company, estate=estate, unit=unit, opened_on=D(2026, 2, 5))
    plan = _plan(unit, collector, boss)  # 3 × ¥100 due 03-10, 04-10, 05-10; grace 5 days
    pay(10000, D(2026, 3, 9))  # the first installment
    # 04-15: the April installment is still within its grace (04-10 + 5 = 04-15).
    assert installment_plans_review(company=company, as_of=D(2026, 4, 15)).defaulted == []
    # 04-16: ¥200 has fallen due, ¥100 paid → defaulted, hold released that day.
    review = installment_plans_review(company=company, as_of=D(2026, 4, 16))
    assert review.defaulted == [plan.pk]
    plan.refresh_from_db()
    assert (plan.status, plan.ended_on) == (PlanStatus.DEFAULTED, D(2026, 4, 16))
    assert Hold.objects.get(plan=plan).released_on == D(2026, 4, 16)
    assert active_holds(unit_ids=[unit.pk], on=D(2026, 4, 16)) == {}
    event = CaseEvent.objects.get(case=case, kind="plan_defaulted")
    assert "应还 ¥200.00，实还 ¥100.00" in event.summary
    # A second review changes nothing.
    assert installment_plans_review(company=company, as_of=D(2026, 4, 17)).defaulted == []
    assert case.status == CaseStatus.OPEN


def test_payments_before_approval_do_not_count(unit, company, collector, boss, make_charge, pay):
    make_charge(month=1, principal_fen=30000)
    pay(10000, D(2026, 2, 27))
    plan = _plan(unit, collector, boss)
    assert installment_plans_review(company=company, as_of=D(2026, 3, 16)).defaulted == [plan.pk]


def test_completion_releases_the_hold_and_waives_the_penalty(
    unit, company, collector, boss, make_charge, pay
):
    charge = make_charge(month=1, principal_fen=30000)  # due 2026-01-31, 万分之五 a day
    plan = _plan(unit, collector, boss, waive_penalty_on_completion=True)
    pay(10000, D(2026, 3, 10))
    pay(10000, D(2026, 4, 10))
    pay(10000, D(2026, 5, 10))
    review = installment_plans_review(company=company, as_of=D(2026, 5, 11))
    assert review.completed == [plan.pk]
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    assert Hold.objects.get(plan=plan).released_on == D(2026, 5, 11)
    # Penalty first: the payments paid the penalty accrued to their dates and then principal,
    # so principal is still owed and its penalty is what the waiver clears.
    waiver = Waiver.objects.get(charge=charge)
    assert waiver.component == Component.PENALTY
    assert waiver.amount_fen == review.penalty_waived_fen > 0
    assert f"分期计划 #{plan.pk} 履行完毕" in waiver.reason


# --- pages -----------------------------------------------------------------------------------


def test_request_then_approve_through_the_pages(client, unit, collector, boss):
    from django.urls import reverse

    client.force_login(collector)
    response = client.post(
        reverse("collection:plan_new"),
        {
            "unit": unit.code,
            "total": "300.00",
            "count": "3",
            "first_due_on": "2026-03-10",
            "every_months": "1",
            "grace_days": "5",
            "reason": "业主失业，申请分三期",
            TOKEN_FIELD: submission_token_new(),
        },
        follow=True,
    )
    assert "已提交分期申请" in response.content.decode()
    plan = unit.installment_plans.get()
    assert [i.amount_fen for i in plan.installments.all()] == [10000, 10000, 10000]
    assert client.get(reverse("collection:plan_approve", args=[plan.pk])).status_code == 403

    client.force_login(boss)
    url = reverse("collection:plan_approve", args=[plan.pk])
    confirm = client.post(url, {"note": "同意"})
    assert "data-confirm" in confirm.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.REQUESTED  # not before the confirmation
    client.post(url, {"note": "同意", "confirm": "1"})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE


def test_the_plan_list_is_scoped_and_exports(client, unit, other_unit, collector, admin_user):
    from django.urls import reverse

    installment_plan_request(
        unit=other_unit,
        total_fen=1000,
        count=1,
        first_due_on=D(2026, 3, 1),
        reason="x",
        actor=admin_user,
    )
    client.force_login(collector)
    page = client.get(reverse("collection:plan_list")).content.decode()
    assert other_unit.code not in page
    client.force_login(admin_user)
    assert other_unit.code in client.get(reverse("collection:plan_list")).content.decode()
    export = client.get(reverse("collection:plan_list") + "?export=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_review_reads_every_plan_in_three_queries(
    unit, company, collector, boss, make_unit, django_assert_num_queries
):
    from propfee.collection.plans import installment_standings

    _plan(unit, collector, boss)
    _plan(make_unit("1601"), collector, boss)
    _plan(make_unit("1701"), collector, boss)
    with django_assert_num_queries(3):  # plans, installments, payments
        standings = installment_standings(company=company, as_of=D(2026, 3, 16))
    assert sorted((s.due_fen, s.paid_fen) for s in standings) == [(10000, 0)] * 3


def test_a_plan_request_posted_twice_from_one_form_is_one_plan(client, unit, collector):
    from django.urls import reverse

    client.force_login(collector)
    url = reverse("collection:plan_new")
    page = client.get(url).content.decode()
    assert f'name="{TOKEN_FIELD}"' in page and "data-submit-once" in page
    data = {
        "unit": unit.code,
        "total": "300.00",
        "count": "3",
        "first_due_on": "2026-03-10",
        "every_months": "1",
        "grace_days": "5",
        "reason": "业主失业，申请分三期",
        TOKEN_FIELD: submission_token_new(),
    }
    first = client.post(url, data)
    again = client.post(url, data, follow=True)
    assert unit.installment_plans.count() == 1
    assert again.redirect_chain[0][0] == first.url == reverse("collection:plan_list")
    assert "该表单已提交，未重复登记。" in again.content.decode()
