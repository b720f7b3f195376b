"""The collector's journey in a real browser (the system Chromium, Playwright's sync API):
sign in with the login form, find a unit by the owner's phone suffix, open it, see the masked
phone, reveal it, and switch the interface to English."""

from __future__ import annotations

import pytest

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

pytestmark = BROWSER_MARKS


@pytest.fixture
def demo_collector(transactional_db):
    """DEMO with two units whose payers' phones end in 5678, and a collector scoped to it."""
    company = CompanyFactory(code="ACME", name="安家物业")
    estate = EstateFactory(company=company, code="DEMO", name="阳光花园")
    building = BuildingFactory(estate=estate, code="3", name="3栋")
    for room, name, phone in (("1502", "王建国", "10012345678"), ("1601", "钱二", "10011115678")):
        occupancy = OccupancyFactory(
            unit=UnitFactory(building=building, room=room), party__name=name
        )
        PartyPhoneFactory(party=occupancy.party, number=phone)
    return UserFactory(
        username="collector1",
        display_name="张敏",
        company=company,
        role=Role.COLLECTOR,
        estates=[estate],
    )


def _nav(page) -> list[str]:
    return [text.strip() for text in page.locator("[data-nav]").all_inner_texts()]


# `demo_collector` comes before `browser`: data is written before Playwright starts its event
# loop, so the test thread's database connection is the ordinary one that teardown closes.
def test_collector_finds_a_unit_by_phone_suffix(live_server, demo_collector, browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(10_000)

    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.get_by_label("用户名").fill("collector1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    assert _nav(page) == [
        "工作台",
        "今日任务",
        "催收案件",
        "分期还款",
        "服务问题",
        "暂停催收",
        "项目",
        "房屋",
        "业主住户",
        "报表",
        "消息",
        "文书",
    ]

    page.locator("#quick-search").fill("5678")
    page.locator("#quick-search").press("Enter")
    page.wait_for_url("**/units/?q=5678")
    results = page.locator("#list-results table tbody a")
    assert results.all_inner_texts() == ["DEMO-3-1502", "DEMO-3-1601"]
    page.screenshot(path=str(SCREENSHOTS / "propfee-unit-list.png"), full_page=True)

    # Filters reload only the results (htmx) and keep the search in the address.
    page.locator("#id_status").select_option("vacant")
    page.get_by_text("没有符合条件的房屋。").wait_for()
    assert "status=vacant" in page.url and "q=5678" in page.url
    page.locator("#id_status").select_option("")
    results.nth(1).wait_for()
    results.first.click()
    page.wait_for_url("**/units/DEMO-3-1502/")

    occupants = page.locator("#occupants")
    assert "王建国" in occupants.inner_text()
    assert "100****5678" in occupants.inner_text()
    assert "10012345678" not in page.content()
    page.screenshot(path=str(SCREENSHOTS / "propfee-unit-masked.png"), full_page=True)

    page.get_by_role("button", name="显示").click()  # htmx POST, swaps the contact cell
    page.get_by_text("10012345678").wait_for()
    assert "已记入操作日志" in occupants.inner_text()

    page.locator("#language-menu").click()
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    page.locator("html[lang=en]").wait_for()
    assert page.url.endswith("/units/DEMO-3-1502/")
    assert _nav(page) == [
        "Dashboard",
        "Today's tasks",
        "Collection cases",
        "Installment plans",
        "Service issues",
        "Holds",
        "Estates",
        "Units",
        "Owners & occupants",
        "Reports",
        "Messages",
        "Documents",
    ]
    assert "Unit details" in page.content()
    assert "100****5678" in occupants.inner_text()  # a new page view is masked again
    page.screenshot(path=str(SCREENSHOTS / "propfee-unit-english.png"), full_page=True)

    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    phone.add_cookies(context.cookies())
    mobile = phone.new_page()
    mobile.goto(f"{live_server.url}/units/DEMO-3-1502/")
    mobile.screenshot(path=str(SCREENSHOTS / "propfee-unit-phone.png"), full_page=True)
    phone.close()
    context.close()


@pytest.fixture
def demo_manager(transactional_db):
    """DEMO with one unit billed 100.00 for 2026-03, half of it paid, and its manager."""
    import datetime as dt

    from propfee.billing.services import contract_version_create, fee_item_create
    from propfee.payments.constants import PaymentChannel
    from propfee.payments.services import payment_record
    from tests.payments.conftest import ChargeFactory

    company = CompanyFactory(code="ACME", name="安家物业")
    estate = EstateFactory(company=company, code="DEMO", name="阳光花园")
    unit = UnitFactory(building=BuildingFactory(estate=estate, code="3", name="3栋"), room="1502")
    fee_item = fee_item_create(company=company, code="WYF", name="物业费", actor=None)
    contract_version_create(estate=estate, effective_from=dt.date(2026, 1, 1), actor=None)
    charge = ChargeFactory(
        unit=unit,
        fee_item=fee_item,
        period_start=dt.date(2026, 3, 1),
        period_end=dt.date(2026, 3, 31),
        due_date=dt.date(2026, 3, 31),
    )
    payment_record(
        unit=unit,
        amount_fen=5000,
        received_on=dt.date(2026, 3, 20),
        channel=PaymentChannel.BANK_TRANSFER,
        reference="BANK-BROWSER-1",
        actor=None,
        designations=[charge.pk],
    )
    return UserFactory(username="manager1", company=company, role=Role.MANAGER, estates=[estate])


# A canvas with at least one painted pixel: ECharts drew the chart.
_CANVAS_PAINTED = """(selector) => {
  const canvas = document.querySelector(selector);
  if (!canvas || !canvas.width || !canvas.height) { return false; }
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { return true; } }
  return false;
}"""


def test_manager_opens_the_collection_rate_chart(live_server, demo_manager, browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("manager1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")

    page.locator('[data-nav="reports"]').click()
    page.get_by_role("link", name="收缴率").first.click()
    page.wait_for_url("**/reports/collection-rate/")
    page.get_by_label("计费月份").fill("2026-03")
    page.get_by_label("统计日期").fill("2026-08-01")
    page.get_by_role("button", name="统计").click()
    page.wait_for_url("**/reports/collection-rate/?*period=2026-03*")
    assert page.locator('#rate-table [data-rate="current"]').first.inner_text() == "50.00%"
    page.locator("#chart-trend-canvas[data-chart-drawn] canvas").wait_for()
    assert page.evaluate(_CANVAS_PAINTED, "#chart-trend-canvas canvas")
    page.screenshot(path=str(SCREENSHOTS / "propfee-collection-rate.png"), full_page=True)
    context.close()
