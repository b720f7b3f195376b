"""The collector's workbench: 今日任务 (content, order, route by building and floor, visit slots,
masked phones and the audited reveal), the contact record form (record + promise + hold +
follow-up task + timeline, attachments with SHA-256, completing the task, immutability), cases
(list, filters, Excel export, detail with the ledger's figures, reasons, reassigning), scoping
and the role matrix, and the pinned query counts."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve
from openpyxl import load_workbook

from propfee.collection.constants import (
    ContactOutcome,
    HoldKind,
    PromiseStatus,
    ReasonCode,
    StageKey,
    TaskKind,
    TaskStatus,
)
from propfee.collection.contacts import (
    ContactError,
    case_reassign,
    contact_record_create,
    promise_create,
    task_complete,
)
from propfee.collection.models import (
    CaseEvent,
    ContactAttachment,
    ContactRecord,
    Hold,
    Promise,
    Task,
)
from propfee.collection.workbench_selectors import collector_day, floor_of, visit_slots
from propfee.core.models import AuditAction, AuditEntry
from propfee.core.roles import PermissionDenied, Role
from tests.factories import UnitFactory

pytest.register_assert_rewrite("tests.collection.workbench_fixtures")
from tests.collection.workbench_fixtures import NOW, TODAY  # noqa: E402

pytest_plugins = ["tests.collection.workbench_fixtures"]

D = dt.date
SH = dt.timezone(dt.timedelta(hours=8))


# ---- 今日任务 -----------------------------------------------------------------------------


def test_day_lists_due_and_overdue_by_priority_then_due_date(
    make_case, make_task, wb_collector, wb_manager
):
    low_today = make_task(make_case("101", wb_collector, priority=50))
    low_yesterday = make_task(
        make_case("102", wb_collector, priority=50), due_on=TODAY - dt.timedelta(days=1)
    )
    high_today = make_task(make_case("103", wb_collector, priority=90))
    upcoming = make_task(
        make_case("104", wb_collector, priority=99), due_on=TODAY + dt.timedelta(days=3)
    )
    make_task(make_case("105", wb_collector), due_on=TODAY + dt.timedelta(days=4))  # too far
    make_task(make_case("106", wb_manager))  # someone else's
    done = make_task(make_case("107", wb_collector, priority=99))
    done.status = TaskStatus.DONE
    done.save()

    day = collector_day(user=wb_collector, collector=wb_collector, today=TODAY)

    assert [d.task for d in day.due] == [high_today, low_yesterday, low_today]
    assert [d.task for d in day.upcoming] == [upcoming]
    first = day.due[0]
    assert first.owed_fen == 20150  # the case's snapshot: ¥200 principal + ¥1.50 penalty
    assert first.days_overdue == (TODAY - D(2026, 1, 31)).days == 74
    assert first.payer.name == "王建国"
    assert day.due[1].overdue_task and not day.due[0].overdue_task


def test_today_page_shows_the_list_masked_with_reveal(client, make_case, make_task, wb_collector):
    case = make_case("1503", wb_collector, phone="10012345678")
    make_task(case)
    client.force_login(wb_collector)
    page = client.get("/collection/today/")
    assert page.status_code == 200
    html = page.content.decode()
    assert case.unit.code in html and "王建国" in html
    assert "100****5678" in html and "10012345678" not in html
    assert "¥201.50" in html and ">74<" in html
    assert f'hx-post="/collection/cases/{case.pk}/reveal/"' in html
    assert "今日任务" in html


def test_reveal_shows_the_phone_with_a_tel_link_and_is_audited(
    client, make_case, make_task, wb_collector
):
    case = make_case("1503", wb_collector, phone="10012345678")
    task = make_task(case)
    client.force_login(wb_collector)
    response = client.post(
        f"/collection/cases/{case.pk}/reveal/", {"row": task.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="tel:10012345678"' in html
    assert f'id="payer-{case.pk}-{task.pk}"' in html
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert entry.actor == wb_collector
    assert entry.object_type == "estates.party"
    assert entry.estate_id == case.estate_id
    assert entry.note == "查看：手机"


def test_reveal_needs_the_capability_and_the_scope(
    client, make_user, make_case, wb_collector, other_estate, estate
):
    case = make_case("1503", wb_collector, phone="10012345678")
    elsewhere = make_user(Role.COLLECTOR, username="west", estates=[other_estate])
    client.force_login(elsewhere)
    assert client.post(f"/collection/cases/{case.pk}/reveal/").status_code == 404
    client.force_login(make_user(Role.FINANCE, username="fin", estates=[estate]))
    assert client.post(f"/collection/cases/{case.pk}/reveal/").status_code == 403
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_visits_make_a_route_by_building_and_floor(
    make_case, make_task, wb_collector, second_building
):
    for room in ("1503", "302", "1501"):
        make_task(make_case(room, wb_collector), kind=TaskKind.VISIT)
    make_task(make_case("801", wb_collector, in_building=second_building), kind=TaskKind.DELIVER)
    make_task(make_case("901", wb_collector), kind=TaskKind.PHONE)  # a call: not walked
    day = collector_day(user=wb_collector, collector=wb_collector, today=TODAY)
    route = [
        (b.building_name, [(f.floor, [d.task.unit.room for d in f.items]) for f in b.floors])
        for b in day.route
    ]
    assert route == [
        ("3栋", [(3, ["302"]), (15, ["1501", "1503"])]),
        ("5栋", [(8, ["801"])]),
    ]


def test_floor_is_read_from_the_room_when_not_recorded(building):
    assert floor_of(UnitFactory(building=building, room="1503", floor=None)) == 15
    assert floor_of(UnitFactory(building=building, room="B-0302", floor=None)) == 3
    assert floor_of(UnitFactory(building=building, room="12", floor=None)) == 1
    assert floor_of(UnitFactory(building=building, room="商铺", floor=None)) is None
    assert floor_of(UnitFactory(building=building, room="1602", floor=7)) == 7


def test_visit_slots_follow_the_working_day_calendar():
    wednesday_morning = dt.datetime(2026, 4, 15, 10, 0, tzinfo=SH)
    slots = visit_slots(wednesday_morning)
    assert [(s.starts_at.replace(tzinfo=None), s.is_rest_day) for s in slots] == [
        (dt.datetime(2026, 4, 15, 18, 30), False),
        (dt.datetime(2026, 4, 18, 10, 0), True),
    ]
    # Friday 8 May 2026, late: Saturday 9 May is an adjusted workday (调休), so the next rest
    # day is Sunday, and the next evening is Saturday's.
    late_friday = dt.datetime(2026, 5, 8, 21, 30, tzinfo=SH)
    slots = visit_slots(late_friday)
    assert [(s.starts_at.replace(tzinfo=None), s.is_rest_day) for s in slots] == [
        (dt.datetime(2026, 5, 9, 18, 30), False),
        (dt.datetime(2026, 5, 10, 10, 0), True),
    ]


def test_manager_looks_at_a_collectors_day(client, make_case, make_task, wb_collector, wb_manager):
    task = make_task(make_case("1503", wb_collector))
    client.force_login(wb_manager)
    own = client.get("/collection/today/").content.decode()
    assert task.unit.code not in own
    theirs = client.get(f"/collection/today/?collector={wb_collector.pk}").content.decode()
    assert task.unit.code in theirs and "李催收" in theirs
    # A collector cannot look at someone else's list: the filter is ignored.
    client.force_login(wb_collector)
    mine = client.get(f"/collection/today/?collector={wb_manager.pk}").content.decode()
    assert task.unit.code in mine


def test_today_costs_the_same_queries_for_few_or_many_tasks(
    client, make_case, make_task, wb_collector
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/collection/today/").status_code == 200
        return len(queries)

    client.force_login(wb_collector)
    for room in ("101", "102"):
        make_task(make_case(room, wb_collector, phone=f"100000001{room}"), kind=TaskKind.VISIT)
    few = count()
    for room in ("201", "202", "203", "301", "302", "303", "401"):
        case = make_case(room, wb_collector, phone=f"100000002{room}")
        make_task(case, kind=TaskKind.VISIT if room < "300" else TaskKind.PHONE)
        make_task(case, due_on=TODAY + dt.timedelta(days=1))
    assert count() == few <= 12


# ---- 催收记录表 ---------------------------------------------------------------------------


def test_contact_form_records_promise_hold_follow_up_and_completes_the_task(
    client, make_case, make_task, wb_collector, media
):
    case = make_case("1503", wb_collector, phone="10012345678")
    task = make_task(case)
    photo = b"\xff\xd8\xff photo of the notice on the door"
    client.force_login(wb_collector)
    response = client.post(
        f"/collection/cases/{case.pk}/contact/",
        {
            "task": task.pk,
            "next": "today",
            "channel": "phone",
            "outcome": ContactOutcome.PROMISED,
            "attitude": "cooperative",
            "reason_code": ReasonCode.FORGOT,
            "note": "业主称工作忙忘记缴费，答应月底前缴清",
            "promise_amount": "200.00",
            "promise_on": "2026-04-30",
            "next_step": "确认是否到账",
            "next_step_on": "2026-05-06",
            "complete_task": "on",
            "attachments": [SimpleUploadedFile("notice.jpg", photo, "image/jpeg")],
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/collection/today/"

    contact = ContactRecord.objects.get()
    assert (contact.case, contact.task, contact.recorded_by) == (case, task, wb_collector)
    assert contact.party.name == "王建国"  # the payer, whom the collector called
    assert (contact.outcome, contact.reason_code) == (ContactOutcome.PROMISED, ReasonCode.FORGOT)
    attachment = ContactAttachment.objects.get(contact=contact)
    assert attachment.sha256 == hashlib.sha256(photo).hexdigest()
    assert attachment.file.read() == photo

    promise = Promise.objects.get()
    assert (promise.amount_fen, promise.promised_on, promise.contact) == (
        20000,
        D(2026, 4, 30),
        contact,
    )
    assert promise.status == PromiseStatus.PENDING
    hold = Hold.objects.get()
    assert (hold.kind, hold.promise, hold.starts_on) == (HoldKind.PROMISE, promise, TODAY)
    assert hold.ends_on == D(2026, 5, 3)  # the promised date + 3 grace days (no policy yet)

    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.done_by == wb_collector
    follow_up = Task.objects.get(status=TaskStatus.OPEN)
    assert (follow_up.title, follow_up.due_on, follow_up.kind) == (
        "确认是否到账",
        D(2026, 5, 6),
        TaskKind.PHONE,
    )
    assert follow_up.assigned_to == wb_collector

    case.refresh_from_db()
    assert case.reason_codes == [ReasonCode.FORGOT]
    kinds = set(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == {"contact", "promise", "reason", "task_created", "task_done"}
    audited = set(AuditEntry.objects.values_list("object_type", "action"))
    assert {
        ("collection.contactrecord", AuditAction.CREATE),
        ("collection.promise", AuditAction.CREATE),
        ("collection.task", AuditAction.CREATE),
        ("collection.task", AuditAction.UPDATE),
        ("collection.case", AuditAction.UPDATE),
    } <= audited


def test_contact_form_shows_errors_and_writes_nothing(client, make_case, wb_collector, media):
    case = make_case("1503", wb_collector)
    client.force_login(wb_collector)
    response = client.post(
        f"/collection/cases/{case.pk}/contact/",
        {"channel": "phone", "outcome": ContactOutcome.PROMISED},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "请填写承诺金额和日期" in response.content.decode()
    bad_file = client.post(
        f"/collection/cases/{case.pk}/contact/",
        {
            "channel": "visit",
            "outcome": "answered",
            "attachments": [SimpleUploadedFile("run.exe", b"MZ", "application/octet-stream")],
        },
        HTTP_HX_REQUEST="true",
    )
    assert "此文件（run.exe）实际为 EXE 可执行程序" in bad_file.content.decode()
    assert not ContactRecord.objects.exists() and not CaseEvent.objects.exists()


def test_contact_form_on_the_case_page(client, make_case, wb_collector):
    case = make_case("1503", wb_collector)
    client.force_login(wb_collector)
    form = client.get(f"/collection/cases/{case.pk}/contact/", HTTP_HX_REQUEST="true")
    assert form.status_code == 200
    html = form.content.decode()
    assert "催收记录表" in html and 'name="promise_amount"' in html
    assert "同时完成该任务" not in html  # no task: nothing to complete
    # 有异议 offers a service issue and 要求分期 an installment request, for this unit.
    assert f'data-when="disputed" href="/collection/issues/new/?unit={case.unit.code}"' in html
    assert 'data-when="installment_requested" href="/collection/plans/new/?unit=' in html
    # The recommended handling of each reason code, for the form to show when one is chosen.
    handling = json.loads(
        html.split('id="reason-handling" type="application/json">')[1].split("<")[0]
    )
    assert handling[ReasonCode.FORGOT] == "短信或微信提醒，提供线上缴费方式"
    response = client.post(
        f"/collection/cases/{case.pk}/contact/", {"channel": "visit", "outcome": "no_answer"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/collection/cases/{case.pk}/"
    assert ContactRecord.objects.get().outcome == "no_answer"


def test_a_contact_record_is_never_changed_a_correction_is_a_new_record(make_case, wb_collector):
    case = make_case("1503", wb_collector)
    first = contact_record_create(
        case=case, actor=wb_collector, channel="phone", outcome="answered", note="业主同意缴费"
    )
    correction = contact_record_create(
        case=case, actor=wb_collector, channel="phone", outcome="rejected", note="更正：业主拒接"
    )
    first.refresh_from_db()
    assert (first.outcome, first.note) == ("answered", "业主同意缴费")
    assert correction.pk != first.pk
    assert ContactRecord.objects.filter(case=case).count() == 2
    # No page edits or deletes a record.
    for path in (f"/collection/contacts/{first.pk}/edit/", f"/collection/contacts/{first.pk}/"):
        with pytest.raises(Resolver404):
            resolve(path)


def test_a_new_promise_replaces_the_pending_one(make_case, wb_collector):
    case = make_case("1503", wb_collector)
    old = promise_create(case=case, amount_fen=5000, promised_on=D(2026, 4, 20), actor=wb_collector)
    new = promise_create(
        case=case, amount_fen=20000, promised_on=D(2026, 4, 30), actor=wb_collector
    )
    old.refresh_from_db()
    assert old.status == PromiseStatus.CANCELLED
    assert Hold.objects.get(promise=old).released_on == TODAY
    assert Hold.objects.get(promise=new).released_on is None
    with pytest.raises(ContactError, match="不能早于今天"):
        promise_create(case=case, amount_fen=100, promised_on=D(2026, 4, 1), actor=wb_collector)


def test_completing_a_task_once(client, make_case, make_task, wb_collector):
    task = make_task(make_case("1503", wb_collector))
    client.force_login(wb_collector)
    response = client.post(f"/collection/tasks/{task.pk}/done/", {"result": "已上门，业主不在"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.result, task.done_by) == (
        TaskStatus.DONE,
        "已上门，业主不在",
        wb_collector,
    )
    with pytest.raises(ContactError, match="不能重复完成"):
        task_complete(task=task, actor=wb_collector)
    assert CaseEvent.objects.filter(kind="task_done").count() == 1


def test_rescheduling_a_visit_with_an_appointment(client, make_case, make_task, wb_collector):
    task = make_task(make_case("1503", wb_collector), kind=TaskKind.VISIT)
    client.force_login(wb_collector)
    client.post(
        f"/collection/tasks/{task.pk}/reschedule/",
        {"due_on": "2026-04-18", "appointment_at": "2026-04-18T10:30", "next": "today"},
    )
    task.refresh_from_db()
    assert task.due_on == D(2026, 4, 18)
    assert task.appointment_at == dt.datetime(2026, 4, 18, 10, 30, tzinfo=SH)
    day = collector_day(user=wb_collector, collector=wb_collector, today=TODAY)
    assert [d.task for d in day.upcoming] == [task]


# ---- cases -------------------------------------------------------------------------------


def test_case_page_shows_ledger_figures_timeline_and_tasks(
    client, make_case, make_task, wb_collector
):
    case = make_case("1503", wb_collector, phone="10012345678")
    make_task(case, title="请电话联系业主")
    contact_record_create(
        case=case, actor=wb_collector, channel="phone", outcome="no_answer", note="无人接听"
    )
    client.force_login(wb_collector)
    page = client.get(f"/collection/cases/{case.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    # The ledger's own figures: ¥200 principal overdue and the penalty accrued to today.
    from propfee.ledger.selectors import statement_for_unit

    statement = statement_for_unit(unit=case.unit, as_of=TODAY)
    assert statement.principal_outstanding_fen == 20000
    assert "data-principal>¥200.00<" in html
    penalty = statement.penalty_outstanding_fen
    assert penalty > 0 and f"data-penalty>¥{penalty // 100}.{penalty % 100:02d}<" in html
    assert "无人接听" in html and "请电话联系业主" in html
    assert "100****5678" in html and "10012345678" not in html


def test_reason_codes_show_their_handling(client, make_case, wb_collector):
    case = make_case("1503", wb_collector)
    client.force_login(wb_collector)
    client.post(
        f"/collection/cases/{case.pk}/reasons/",
        {"reason_codes": [ReasonCode.HARDSHIP, ReasonCode.SERVICE]},
    )
    case.refresh_from_db()
    assert case.reason_codes == [ReasonCode.SERVICE, ReasonCode.HARDSHIP]
    html = client.get(f"/collection/cases/{case.pk}/").content.decode()
    assert "可协商分期或申请减免违约金" in html


def test_case_list_filters_and_scope(
    client, make_case, wb_collector, wb_manager, other_estate, make_user
):
    promised = make_case("1503", wb_collector, stage=StageKey.VISIT, priority=80)
    plain = make_case("302", wb_manager, stage=StageKey.PHONE, priority=20)
    promise_create(case=promised, amount_fen=100, promised_on=D(2026, 4, 30), actor=wb_collector)
    west = make_case("101", None, in_building=_building(other_estate))
    client.force_login(wb_collector)

    def rows(query: str = "") -> list[str]:
        html = client.get(f"/collection/cases/{query}").content.decode()
        return [
            code
            for code in (promised.unit.code, plain.unit.code, west.unit.code)
            if f">{code}<" in html
        ]

    assert rows() == [promised.unit.code, plain.unit.code]  # by priority; WEST out of scope
    assert rows("?stage=phone") == [plain.unit.code]
    assert rows("?has_promise=yes") == [promised.unit.code]
    assert rows("?has_promise=no") == [plain.unit.code]
    assert rows(f"?collector={wb_manager.pk}") == [
        promised.unit.code,
        plain.unit.code,
    ]  # not a manager: ignored? no
    assert rows(f"?q={plain.unit.code}") == [plain.unit.code]
    assert client.get(f"/collection/cases/{west.pk}/").status_code == 404
    assert (
        client.post(
            f"/collection/cases/{west.pk}/contact/", {"channel": "phone", "outcome": "answered"}
        ).status_code
        == 404
    )


def _building(estate):
    from tests.factories import BuildingFactory

    return BuildingFactory(estate=estate, code="1", name="1栋")


def test_building_scoped_collector_sees_only_their_building(
    client, make_case, make_user, building, second_building, wb_collector
):
    mine = make_case("1503", wb_collector)
    other = make_case("801", wb_collector, in_building=second_building)
    louzhang = make_user(Role.COLLECTOR, username="louzhang", buildings=[building])
    client.force_login(louzhang)
    assert client.get(f"/collection/cases/{mine.pk}/").status_code == 200
    assert client.get(f"/collection/cases/{other.pk}/").status_code == 404


def test_case_list_export_reads_back(client, make_case, wb_collector):
    case = make_case("1503", wb_collector, phone="10012345678")
    case.reason_codes = [ReasonCode.FORGOT]
    case.save()
    client.force_login(wb_collector)
    response = client.get("/collection/cases/?export=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    row = dict(zip(header, rows[1], strict=True))
    assert row["房屋编码"] == case.unit.code
    assert row["缴费人"] == "王建国"
    assert row["缴费人手机"] == "100****5678"
    assert row["逾期本金"] == 200
    assert row["催收阶段"] == "电话沟通"
    assert row["欠费原因"] == "遗忘/繁忙"
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT).count() == 1


def test_case_list_costs_the_same_queries_for_few_or_many_cases(client, make_case, wb_collector):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/collection/cases/").status_code == 200
        return len(queries)

    client.force_login(wb_collector)
    make_case("101", wb_collector, phone="10000000101")
    few = count()
    for room in ("201", "202", "203", "204", "205"):
        make_case(room, wb_collector, phone=f"100000002{room[-2:]}")
    assert count() == few <= 14


def test_manager_reassigns_a_case_with_its_open_tasks(
    client, make_case, make_task, wb_collector, wb_manager, make_user, estate
):
    case = make_case("1503", wb_collector)
    task = make_task(case)
    other = make_user(Role.COLLECTOR, username="cuishou2", estates=[estate])
    client.force_login(wb_collector)
    assert (
        client.post(f"/collection/cases/{case.pk}/collector/", {"collector": other.pk}).status_code
        == 403
    )
    client.force_login(wb_manager)
    client.post(f"/collection/cases/{case.pk}/collector/", {"collector": other.pk})
    case.refresh_from_db()
    task.refresh_from_db()
    assert case.collector == other and task.assigned_to == other
    assert CaseEvent.objects.filter(case=case, kind="reassign").exists()
    west = make_user(Role.COLLECTOR, username="west2", estates=[])
    with pytest.raises(ContactError):
        case_reassign(case=case, actor=wb_manager, collector=west)
    with pytest.raises(PermissionDenied):
        case_reassign(case=case, actor=wb_collector, collector=other)


@pytest.mark.parametrize(
    ("role", "today", "cases"),
    [
        (Role.COLLECTOR, 200, 200),
        (Role.MANAGER, 200, 200),
        (Role.ADMIN, 200, 200),
        (Role.LEGAL, 200, 200),
        (Role.FINANCE, 403, 403),
        (Role.CUSTOMER_SERVICE, 403, 403),
        (Role.COMMITTEE, 403, 403),
    ],
)
def test_role_matrix(client, make_user, estate, role, today, cases):
    client.force_login(make_user(role, username=f"u-{role}", estates=[estate]))
    assert client.get("/collection/today/").status_code == today
    assert client.get("/collection/cases/").status_code == cases


def test_services_refuse_roles_that_do_not_work_cases(make_case, wb_collector, make_user, estate):
    case = make_case("1503", wb_collector)
    finance = make_user(Role.FINANCE, username="fin2", estates=[estate])
    with pytest.raises(PermissionDenied):
        contact_record_create(case=case, actor=finance, channel="phone", outcome="answered")


def test_navigation_shows_the_workbench_to_collectors(client, wb_collector):
    client.force_login(wb_collector)
    html = client.get("/collection/today/").content.decode()
    assert 'data-nav="today"' in html and 'data-nav="cases"' in html


@time_machine.travel(NOW, tick=False)
def test_fixtures_are_on_a_working_wednesday():
    from propfee.core.workdays import is_working_day

    assert D(2026, 4, 15) == TODAY and is_working_day(TODAY)
