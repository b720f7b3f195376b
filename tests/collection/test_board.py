"""催收看板 (/collection/board/): open cases by stage, the approvals queue with the stage
decision (同意 / 不同意 with a reason), collector workload, and the overdue tasks list with its
filters and Excel export; all scoped to the manager's estates, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from propfee.collection.approvals import ApprovalError, case_stage_reject
from propfee.collection.constants import (
    CaseStatus,
    PlanStatus,
    PromiseStatus,
    StageKey,
    TaskKind,
    TaskStatus,
)
from propfee.collection.contacts import contact_record_create
from propfee.collection.manager_selectors import (
    approvals_queue,
    collector_workload,
    stage_funnel,
)
from propfee.collection.models import Case, CaseEvent, ContactRecord, InstallmentPlan, Promise, Task
from propfee.core.models import AuditEntry
from propfee.core.roles import PermissionDenied, Role
from propfee.ledger.constants import WaiverRequestStatus
from propfee.ledger.models import WaiverRequest
from tests.factories import BuildingFactory, UnitFactory

D = dt.date
TODAY = timezone.localdate()


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def make_case(company):
    """make_case(unit, stage, principal_fen, collector=None, **fields) → an open case."""

    def make(unit, stage="", principal_fen=10000, collector=None, **fields):
        return Case.objects.create(
            company=company,
            estate=unit.estate,
            unit=unit,
            stage=stage,
            collector=collector,
            principal_overdue_fen=principal_fen,
            months_owed=1,
            oldest_due_date=D(2026, 1, 31),
            opened_on=D(2026, 2, 1),
            **fields,
        )

    return make


def _task(case, kind=TaskKind.PHONE, due_on=TODAY, assigned_to=None, **fields):
    fields.setdefault("stage", case.stage)
    return Task.objects.create(
        case=case,
        unit=case.unit,
        kind=kind,
        title=f"{TaskKind(kind).label}：{case.unit.code}",
        due_on=due_on,
        assigned_to=assigned_to,
        **fields,
    )


def _awaiting_letter(case, manager):
    """What the run writes when a case meets the lawyer letter's conditions: the case waits
    for the stage and the manager gets an approval task."""
    case.pending_stage = StageKey.LAWYER_LETTER
    case.pending_since = TODAY - dt.timedelta(days=3)
    case.save()
    return _task(
        case,
        kind=TaskKind.APPROVAL,
        stage=StageKey.LAWYER_LETTER,
        due_on=TODAY - dt.timedelta(days=1),
        assigned_to=manager,
    )


@pytest.fixture
def board(make_case, make_user, estate, building, other_estate, manager, collector):
    """DEMO: 3 open cases (two in 电话沟通, one in 最后催告 waiting for the lawyer letter), one
    closed; WEST (out of the manager's scope): one open case."""
    units = [UnitFactory(building=building, room=f"{n}01") for n in range(1, 5)]
    phone1 = make_case(units[0], StageKey.PHONE, 10000, collector)
    phone2 = make_case(units[1], StageKey.PHONE, 25050, collector)
    final = make_case(units[2], StageKey.FINAL_DEMAND, 600000, collector)
    make_case(units[3], StageKey.VISIT, 99900, collector, status=CaseStatus.CLOSED)
    west = UnitFactory(building=BuildingFactory(estate=other_estate, code="9"), room="901")
    west_collector = make_user(Role.COLLECTOR, username="west1", estates=[other_estate])
    west_case = make_case(west, StageKey.PHONE, 77700, west_collector)
    approval = _awaiting_letter(final, manager)
    return {
        "phone1": phone1,
        "phone2": phone2,
        "final": final,
        "west": west_case,
        "approval": approval,
    }


def _row(funnel, stage):
    return next(r for r in funnel if r.stage == stage)


def test_funnel_counts_open_cases_and_principal_by_stage_in_scope(board, manager, other_estate):
    funnel = stage_funnel(user=manager)
    assert [r.stage for r in funnel] == list(StageKey.values)
    assert (_row(funnel, "phone").cases, _row(funnel, "phone").principal_fen) == (2, 35050)
    assert (_row(funnel, "final_demand").cases, _row(funnel, "final_demand").principal_fen) == (
        1,
        600000,
    )
    # The closed case and WEST's are left out.
    assert _row(funnel, "visit").cases == 0
    assert sum(r.cases for r in funnel) == 3
    assert _row(funnel, "phone").share == 100 and _row(funnel, "final_demand").share == 50
    # An estate outside the scope shows nothing rather than its cases.
    assert sum(r.cases for r in stage_funnel(user=manager, estate=other_estate)) == 0


def test_funnel_of_an_estate_and_of_the_admin(board, admin_user, estate, other_estate):
    everything = stage_funnel(user=admin_user)
    assert _row(everything, "phone").cases == 3
    west = stage_funnel(user=admin_user, estate=other_estate)
    assert (_row(west, "phone").cases, _row(west, "phone").principal_fen) == (1, 77700)


def test_approvals_queue_has_stage_approvals_plans_and_waivers(
    board, manager, make_user, estate, building, make_charge
):
    requester = make_user(Role.COLLECTOR, username="req1", estates=[estate])
    plan = InstallmentPlan.objects.create(
        unit=board["phone1"].unit, total_fen=30000, reason="经济困难", requested_by=requester
    )
    InstallmentPlan.objects.create(
        unit=board["phone2"].unit, total_fen=1000, reason="x", status=PlanStatus.ACTIVE
    )
    InstallmentPlan.objects.create(unit=board["west"].unit, total_fen=1000, reason="other estate")
    charge = make_charge(month=1, unit=board["phone2"].unit)
    waiver = WaiverRequest.objects.create(
        charge=charge, penalty_fen=500, effective_on=D(2026, 3, 1), reason="老人独居"
    )
    WaiverRequest.objects.create(
        charge=charge,
        penalty_fen=100,
        effective_on=D(2026, 3, 1),
        reason="done",
        status=WaiverRequestStatus.APPROVED,
    )
    # A decided approval (the case no longer waits) is not in the queue.
    _task(board["phone2"], kind=TaskKind.APPROVAL, stage=StageKey.LAWYER_LETTER)

    queue = approvals_queue(user=manager)
    assert [t.pk for t in queue.stages] == [board["approval"].pk]
    assert [p.pk for p in queue.plans] == [plan.pk]
    assert [w.pk for w in queue.waivers] == [waiver.pk]
    assert (queue.stages_total, queue.plans_total, queue.waivers_total, queue.total) == (1, 1, 1, 3)


def test_workload_per_collector(board, manager, collector, make_user, estate, make_case):
    make_user(Role.COLLECTOR, username="idle1", display_name="李闲", estates=[estate])
    phone1, phone2 = board["phone1"], board["phone2"]
    _task(phone1, assigned_to=collector)
    _task(phone2, assigned_to=collector, due_on=TODAY - dt.timedelta(days=2))
    _task(phone2, assigned_to=collector, status=TaskStatus.DONE)
    _task(board["west"], assigned_to=collector)  # outside the manager's scope
    contact_record_create(case=phone1, actor=collector, channel="phone", outcome="no_answer")
    old = contact_record_create(case=phone2, actor=collector, channel="phone", outcome="answered")
    ContactRecord.objects.filter(pk=old.pk).update(
        contacted_at=timezone.now() - dt.timedelta(days=10)
    )
    month = TODAY.replace(day=1)
    for status, on in (
        (PromiseStatus.PENDING, month),
        (PromiseStatus.KEPT, month),
        (PromiseStatus.KEPT, month),
        (PromiseStatus.BROKEN, month),
        (PromiseStatus.BROKEN, month - dt.timedelta(days=1)),  # last month
    ):
        Promise.objects.create(
            case=phone1, unit=phone1.unit, amount_fen=100, promised_on=on, status=status
        )

    loads = {c.collector.username: c for c in collector_workload(user=manager, today=TODAY)}
    assert set(loads) == {"collector1", "idle1"}  # west1 works another estate
    mine = loads["collector1"]
    assert (mine.open_cases, mine.open_tasks, mine.overdue_tasks) == (3, 2, 1)
    assert mine.contacts_week == 1
    assert (mine.promises_pending, mine.promises_kept, mine.promises_broken) == (1, 2, 1)
    idle = loads["idle1"]
    assert (idle.open_cases, idle.open_tasks, idle.contacts_week) == (0, 0, 0)
    # The manager's approval task is not a collector's workload.
    assert "manager1" not in loads


def test_board_page(signed_in, board, manager, collector):
    page = signed_in(manager).get(reverse("collection:board"))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-nav="board"' in text
    assert 'id="chart-stages"' in text and "echarts.min.js" in text and "charts.js" in text
    assert f'data-approval="{board["final"].pk}"' in text
    assert reverse("collection:stage_approve", args=[board["final"].pk]) in text
    assert reverse("web:waiver_request_list") in text
    assert 'data-collector="collector1"' in text and 'data-collector="west1"' not in text
    assert board["west"].unit.code not in text


def test_board_costs_the_same_queries_whatever_the_data(
    signed_in, board, manager, collector, make_case, building, django_assert_num_queries
):
    client = signed_in(manager)
    url = reverse("collection:board")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    # Session, user, scope, the estate filter, the funnel (1), the queues (6), the workload (5)…
    assert len(few.captured_queries) == 16
    for n in range(10):
        case = make_case(UnitFactory(building=building, room=f"8{n:02d}"), StageKey.NOTICE)
        _awaiting_letter(case, manager)
        _task(case, assigned_to=collector, due_on=TODAY - dt.timedelta(days=n + 1))
        contact_record_create(case=case, actor=collector, channel="visit", outcome="answered")
    with django_assert_num_queries(len(few.captured_queries)):
        text = client.get(url).content.decode()
    assert text.count("data-approval=") == 11


def test_overdue_tasks_list_filters_and_export(
    signed_in, board, manager, collector, make_user, estate, django_assert_num_queries
):
    helper = make_user(Role.COLLECTOR, username="helper1", estates=[estate])
    late_call = _task(board["phone1"], assigned_to=collector, due_on=TODAY - dt.timedelta(days=5))
    late_visit = _task(
        board["phone2"], kind=TaskKind.VISIT, assigned_to=helper, due_on=TODAY - dt.timedelta(1)
    )
    _task(board["phone2"], assigned_to=collector)  # due today: not overdue
    _task(board["phone2"], assigned_to=collector, due_on=D(2026, 1, 5), status=TaskStatus.DONE)
    _task(board["west"], due_on=TODAY - dt.timedelta(days=9))  # out of scope
    client = signed_in(manager)
    url = reverse("collection:overdue_tasks")

    text = client.get(url).content.decode()
    shown = [int(pk) for pk in re.findall(r'data-task="(\d+)"', text)]
    # The manager's own overdue approval is listed too, oldest due first.
    assert shown == [late_call.pk, board["approval"].pk, late_visit.pk]
    assert "data-days-late>5<" in text.replace("\n", "")

    def shown_for(**params):
        body = client.get(url, params).content.decode()
        return [int(pk) for pk in re.findall(r'data-task="(\d+)"', body)]

    assert shown_for(collector=helper.pk) == [late_visit.pk]
    assert shown_for(kind="visit") == [late_visit.pk]
    assert shown_for(kind="approval") == [board["approval"].pk]
    assert shown_for(estate=estate.pk, collector=collector.pk) == [late_call.pk]

    few = len(_queries(client, url))
    assert few == 7  # whatever the number of overdue tasks
    for n in range(5):
        _task(board["phone1"], assigned_to=collector, due_on=TODAY - dt.timedelta(days=n + 1))
    with django_assert_num_queries(few):
        client.get(url)

    response = client.get(url, {"export": "xlsx", "collector": helper.pk})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("房屋编码", "项目", "楼栋", "任务类型")
    assert len(rows) == 2 and rows[1][0] == board["phone2"].unit.code and rows[1][7] == 1


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return captured.captured_queries


def test_overdue_tasks_paginate(signed_in, board, manager, collector, settings):
    settings.PROPFEE_PAGE_SIZE = 2
    for n in range(3):
        _task(board["phone1"], assigned_to=collector, due_on=TODAY - dt.timedelta(days=n + 1))
    text = signed_in(manager).get(reverse("collection:overdue_tasks"), {"page": 2}).content
    assert 'data-total="4"' in text.decode() and text.decode().count("data-task=") == 2


def test_approving_a_lawyer_letter_from_the_board(signed_in, board, manager):
    case, approval = board["final"], board["approval"]
    client = signed_in(manager)
    url = reverse("collection:stage_approve", args=[case.pk])
    form = client.get(url).content.decode()
    assert "同意进入“律师函”阶段" in form and "审批意见" in form

    confirm = client.post(url, {"note": "证据齐全"}).content.decode()
    assert "data-confirm" in confirm and case.unit.code in confirm and "¥6,000.00" in confirm
    case.refresh_from_db()
    assert case.pending_stage == StageKey.LAWYER_LETTER  # nothing written before confirming

    response = client.post(url, {"note": "证据齐全", "confirm": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("collection:board")
    assert "下次运行催收批次时执行" in response.content.decode()
    case.refresh_from_db()
    approval.refresh_from_db()
    assert (case.pending_stage, case.approved_stage) == ("", StageKey.LAWYER_LETTER)
    assert approval.status == TaskStatus.DONE and approval.result == "同意：证据齐全"
    event = CaseEvent.objects.get(case=case, kind="approval")
    assert event.summary == "同意进入“律师函”阶段：证据齐全" and event.actor == manager
    assert AuditEntry.objects.filter(object_id=str(case.pk), note=event.summary).exists()
    # Decided: the queue is empty and the approval page is gone.
    assert approvals_queue(user=manager).stages_total == 0
    assert client.get(url).status_code == 404


def test_rejecting_needs_a_reason(signed_in, board, manager):
    case, approval = board["final"], board["approval"]
    client = signed_in(manager)
    url = reverse("collection:stage_reject", args=[case.pk])
    page = client.post(url, {"note": "  ", "confirm": "1"}).content.decode()
    assert "这个字段是必填项" in page or "必填" in page
    case.refresh_from_db()
    assert case.pending_stage == StageKey.LAWYER_LETTER

    client.post(url, {"note": "业主已申请分期，暂缓", "confirm": "1"})
    case.refresh_from_db()
    approval.refresh_from_db()
    assert (case.pending_stage, case.approved_stage, case.stage) == ("", "", "final_demand")
    assert approval.result == "不同意：业主已申请分期，暂缓"
    event = CaseEvent.objects.get(case=case, kind="approval")
    assert event.data == {"stage": "lawyer_letter", "approved": False}
    assert "业主已申请分期" in event.summary


def test_case_stage_reject_service_rules(board, manager, make_user, other_estate):
    case = board["final"]
    with pytest.raises(ApprovalError):
        case_stage_reject(case=case, actor=manager, reason=" ")
    outsider = make_user(Role.MANAGER, username="westmgr", estates=[other_estate])
    with pytest.raises(PermissionDenied):
        case_stage_reject(case=case, actor=outsider, reason="不同意")
    with pytest.raises(ApprovalError):
        case_stage_reject(case=board["phone1"], actor=manager, reason="没有待审批")
    case_stage_reject(case=case, actor=manager, reason="证据不足")
    case.refresh_from_db()
    assert case.pending_stage == ""


def test_who_may_open_the_board(signed_in, board, collector, make_user, other_estate):
    client = signed_in(collector)
    assert client.get(reverse("collection:board")).status_code == 403
    assert client.get(reverse("collection:overdue_tasks")).status_code == 403
    approve = reverse("collection:stage_approve", args=[board["final"].pk])
    assert client.post(approve, {"confirm": "1"}).status_code == 403
    assert 'data-nav="board"' not in client.get("/").content.decode()
    outsider = make_user(Role.MANAGER, username="westmgr", estates=[other_estate])
    assert signed_in(outsider).get(approve).status_code == 404


def test_the_run_asks_and_the_board_approves(signed_in, run, owing, manager, building_collector):
    """End to end with the real run: ¥6,000 owed reaches 最后催告, the run asks for the lawyer
    letter, the manager approves it on the board, and the next run enters it."""
    unit = owing("201", months=[3], principal_fen=600000)
    day = D(2026, 4, 1)
    while day <= D(2026, 5, 13):
        run(day)
        day += dt.timedelta(days=1)
    case = Case.objects.get(unit=unit)
    queue = approvals_queue(user=manager)
    assert [t.case_id for t in queue.stages] == [case.pk]
    client = signed_in(manager)
    client.post(reverse("collection:stage_approve", args=[case.pk]), {"confirm": "1"})
    run(D(2026, 5, 15))
    case.refresh_from_db()
    assert case.stage == StageKey.LAWYER_LETTER
