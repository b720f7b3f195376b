"""A manager's approval in a real browser (the system Chromium, Playwright's sync API): the run
has asked for a lawyer letter on a case whose collector recorded a call; the manager signs in,
opens 催收看板 from the menu, approves the letter after the confirmation, and the case's
timeline shows both the approval and the call."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.collection.constants import StageKey, TaskKind, TaskStatus
from propfee.collection.contacts import contact_record_create
from propfee.collection.models import Case, CaseEvent, Task
from tests.browser import BROWSER_MARKS, SCREENSHOTS
from tests.conftest import PASSWORD

pytestmark = BROWSER_MARKS


@pytest.fixture
def letter_awaiting_approval(transactional_db, run, owing, manager, building_collector):
    """DEMO-3-201 owes ¥6,000 (due 31 March): the daily runs from 1 April to 13 May take it to
    最后催告 and ask manager1 to approve the lawyer letter; louzhang recorded a call on the case."""
    unit = owing("201", months=[3], principal_fen=600000)
    day = dt.date(2026, 4, 1)
    while day <= dt.date(2026, 5, 13):
        run(day)
        day += dt.timedelta(days=1)
    case = Case.objects.get(unit=unit)
    assert case.pending_stage == StageKey.LAWYER_LETTER
    contact_record_create(
        case=case,
        actor=building_collector,
        channel="phone",
        outcome="answered",
        note="业主表示对欠费有意见，拒绝缴纳",
    )
    return case


def test_manager_approves_a_lawyer_letter(live_server, letter_awaiting_approval, browser):
    case = letter_awaiting_approval
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名", exact=True).fill("manager1")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")

    page.locator('[data-nav-group="collection"] > a').click()
    page.locator('[data-nav="board"]').click()
    page.wait_for_url(f"{live_server.url}/collection/board/")
    assert page.locator('[data-stage="final_demand"] [data-cases]').inner_text() == "1"
    page.locator('#chart-stages-canvas[data-chart-drawn="true"]').wait_for()
    row = page.locator(f'[data-approval="{case.pk}"]')
    assert "DEMO-3-201" in row.inner_text() and "律师函" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "propfee-manager-board.png"), full_page=True)

    row.locator('[data-action="approve"]').click()
    page.get_by_label("审批意见").fill("欠费金额大、证据齐全，同意发律师函")
    page.get_by_role("button", name="同意", exact=True).click()
    confirm = page.locator("[data-confirm]")
    confirm.wait_for()
    assert "律师函" in confirm.inner_text()
    assert case.pk and Case.objects.get(pk=case.pk).pending_stage == StageKey.LAWYER_LETTER
    page.get_by_role("button", name="确认同意").click()

    page.get_by_text("下次运行催收批次时执行").wait_for()
    assert page.url.endswith("/collection/board/")
    assert page.locator(f'[data-approval="{case.pk}"]').count() == 0
    case.refresh_from_db()
    assert (case.pending_stage, case.approved_stage) == ("", StageKey.LAWYER_LETTER)
    approval = Task.objects.get(case=case, kind=TaskKind.APPROVAL)
    assert approval.status == TaskStatus.DONE
    assert CaseEvent.objects.filter(case=case, kind="approval").count() == 1

    page.goto(f"{live_server.url}/collection/cases/{case.pk}/")
    timeline = page.locator("#timeline").inner_text()
    assert "同意进入“律师函”阶段：欠费金额大、证据齐全，同意发律师函" in timeline
    assert "业主表示对欠费有意见，拒绝缴纳" in timeline
    page.screenshot(path=str(SCREENSHOTS / "propfee-manager-case.png"), full_page=True)
    context.close()
