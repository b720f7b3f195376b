"""A manager writes a template in a real browser (the system Chromium): the preview follows the
typing (htmx) with the unit's real figures, the compliance check flags a threat to cut the
water, and approval succeeds once the wording is lawful."""

from __future__ import annotations

import pytest

from propfee.core.roles import Role
from propfee.messaging.constants import TemplateStatus
from propfee.messaging.models import MessageTemplate
from tests.browser import BROWSER_MARKS, SCREENSHOTS
from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = BROWSER_MARKS


@pytest.fixture
def manager_with_data(transactional_db, company, estate, unit, payer, owing):
    return UserFactory(username="manager1", company=company, role=Role.MANAGER, estates=[estate])


def test_a_manager_writes_previews_and_approves_a_template(
    live_server,
    manager_with_data,
    browser,
):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("manager1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    page.locator('[data-nav-group="communication"] > a').click()  # the 消息与文书 menu
    page.locator('[data-nav="messages"]').click()
    page.wait_for_url("**/messaging/")
    page.get_by_role("link", name="消息模板").click()
    page.get_by_role("link", name="新建模板").click()

    page.get_by_label("模板名称").fill("温馨提醒")
    page.get_by_label("预览房屋编码").fill("DEMO-3-1502")
    page.get_by_label("正文").fill("尊敬的{name}：您的房屋{unit}尚欠{amount}元，逾期将停 水。")
    page.locator('#compliance-result [data-code="utility_threat"]').wait_for()
    assert "尊敬的王建国：您的房屋阳光花园3栋1502尚欠" in page.locator("#preview-body").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "propfee-template-editor.png"), full_page=True)

    page.get_by_label("正文").fill("尊敬的{name}：您的房屋{unit}尚欠{amount}元，请及时缴纳。")
    page.get_by_text("未发现问题").wait_for()
    page.get_by_role("button", name="保存").click()
    page.get_by_role("button", name="审批通过").click()
    page.get_by_text("模板已审批，可以用于发送。").wait_for()
    assert MessageTemplate.objects.get().status == TemplateStatus.APPROVED
