"""A collector's morning in a real browser (the system Chromium, Playwright's sync API): sign in,
open 今日任务, reveal the payer's phone (a `tel:` link, logged), record the call with a promise
in the fast-entry form, and see the task done and the promise on the case."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from propfee.billing.services import contract_version_create, fee_item_create
from propfee.collection.constants import PromiseStatus, StageKey, TaskKind, TaskStatus
from propfee.collection.models import Case, ContactRecord, Hold, Promise, Task
from propfee.core.models import AuditAction, AuditEntry
from propfee.core.roles import Role
from tests.browser import BROWSER_MARKS, SCREENSHOTS
from tests.conftest import PASSWORD
from tests.factories import (
    BuildingFactory,
    CompanyFactory,
    EstateFactory,
    OccupancyFactory,
    PartyPhoneFactory,
    UnitFactory,
    UserFactory,
)
from tests.payments.conftest import ChargeFactory

pytestmark = BROWSER_MARKS


@pytest.fixture
def collector_with_a_call(transactional_db):
    """DEMO-3-1502 owes two months of ¥100; its case has a phone task for collector1 today."""
    company = CompanyFactory(code="ACME", name="安家物业")
    estate = EstateFactory(company=company, code="DEMO", name="阳光花园")
    building = BuildingFactory(estate=estate, code="3", name="3栋")
    unit = UnitFactory(building=building, room="1502")
    occupancy = OccupancyFactory(unit=unit, party__name="王建国", party__company=company)
    PartyPhoneFactory(party=occupancy.party, number="10012345678")
    fee_item = fee_item_create(company=company, code="WYF", name="物业费", actor=None)
    contract_version_create(estate=estate, effective_from=dt.date(2026, 1, 1), actor=None)
    for month in (1, 2):
        start = dt.date(2026, month, 1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        ChargeFactory(
            unit=unit, fee_item=fee_item, period_start=start, period_end=end, due_date=end
        )
    collector = UserFactory(
        username="collector1",
        display_name="张敏",
        company=company,
        role=Role.COLLECTOR,
        estates=[estate],
    )
    today = timezone.localdate()
    case = Case.objects.create(
        company=company,
        estate=estate,
        unit=unit,
        stage=StageKey.PHONE,
        priority=40,
        collector=collector,
        principal_overdue_fen=20000,
        months_owed=2,
        oldest_due_date=dt.date(2026, 1, 31),
        opened_on=today - dt.timedelta(days=5),
    )
    Task.objects.create(
        case=case,
        unit=unit,
        kind=TaskKind.PHONE,
        stage=StageKey.PHONE,
        title="电话沟通：提醒业主缴纳欠费",
        due_on=today,
        priority=40,
        assigned_to=collector,
    )
    return case


def test_collector_records_a_call_with_a_promise(live_server, collector_with_a_call, browser):
    case = collector_with_a_call
    promised_on = timezone.localdate() + dt.timedelta(days=7)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名", exact=True).fill("collector1")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/collection/today/")

    card = page.locator("[data-task]").first
    assert "DEMO-3-1502" in card.inner_text()
    assert "100****5678" in card.inner_text()
    assert "10012345678" not in page.content()

    card.get_by_role("button", name="显示").click()
    call = card.locator("a[data-tel]")
    call.wait_for()
    assert call.get_attribute("href") == "tel:10012345678"
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL).count() == 1

    card.locator("[data-record]").click()
    form = card.locator("[data-contact-form]")
    form.wait_for()
    form.get_by_label("方式", exact=True).select_option("phone")
    form.get_by_label("结果", exact=True).select_option("promised")
    form.get_by_label("态度", exact=True).select_option("cooperative")
    form.get_by_label("欠费原因", exact=True).select_option("forgot")
    assert "提供线上缴费方式" in form.locator("[data-handling]").inner_text()
    form.get_by_label("沟通内容", exact=True).fill("业主称忘记缴费，答应一周内缴清")
    form.get_by_label("承诺金额（元）", exact=True).fill("200.00")
    form.get_by_label("承诺缴费日期", exact=True).fill(promised_on.isoformat())
    page.screenshot(path=str(SCREENSHOTS / "propfee-collector-contact.png"), full_page=True)
    form.get_by_role("button", name="保存记录并完成任务").click()

    page.get_by_text("催收记录已保存。").wait_for()
    assert page.url.endswith("/collection/today/")
    page.get_by_text("今天没有待办任务。").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "propfee-collector-today-done.png"), full_page=True)

    assert Task.objects.get().status == TaskStatus.DONE
    contact = ContactRecord.objects.get()
    assert (contact.outcome, contact.recorded_by.username) == ("promised", "collector1")
    promise = Promise.objects.get()
    assert (promise.amount_fen, promise.promised_on) == (20000, promised_on)
    assert promise.status == PromiseStatus.PENDING
    assert Hold.objects.get().ends_on == promised_on + dt.timedelta(days=3)

    page.goto(f"{live_server.url}/collection/cases/{case.pk}/")
    assert "业主称忘记缴费" in page.locator("#timeline").inner_text()
    assert "待兑现" in page.locator("#case-header").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "propfee-collector-case.png"), full_page=True)
    context.close()
