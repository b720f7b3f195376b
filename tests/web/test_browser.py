"""The collector's journey in a real browser (the system Chromium, Playwright's sync API):
sign in with the login form, find a unit by the owner's phone suffix, open it, see the masked
phone, reveal it, and switch the interface to English."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# in a thread with a running loop unless told it is safe (it is: the test drives one browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from propfee.core.roles import Role
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

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path("/tmp")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="the system Chromium (/usr/bin/chromium) is not installed; run `make browser`",
    ),
]

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


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
    assert _nav(page) == ["工作台", "项目", "房屋", "业主住户"]

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
    assert _nav(page) == ["Dashboard", "Estates", "Units", "Owners & occupants"]
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
