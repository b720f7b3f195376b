"""The Content-Security-Policy in a real browser (the system Chromium): the main pages — the
dashboard, a unit, a report and the board with their ECharts charts, 今日任务, the API docs —
load with no violation reported, and the charts are drawn."""

from __future__ import annotations

from propfee.core.roles import Role
from tests.browser import BROWSER_MARKS
from tests.collection.test_workbench_browser import collector_with_a_call  # noqa: F401
from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = BROWSER_MARKS

# Runs before any page script, outside the page's policy: every violation the browser reports.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sample);
});
"""


def test_main_pages_load_under_the_policy_and_draw_their_charts(
    live_server,
    collector_with_a_call,  # noqa: F811
    browser,
):
    case = collector_with_a_call
    UserFactory(username="boss", company=case.company, role=Role.ADMIN)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))

    def violations() -> list[str]:
        return page.evaluate("window.__csp") + [
            line for line in console if "Content Security Policy" in line
        ]

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名", exact=True).fill("boss")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    assert violations() == []

    for path in (
        "/",
        f"/units/{case.unit.code}/",
        "/collection/today/",
        "/accounts/api-token/",
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("load")
        assert violations() == [], path

    for path in ("/reports/aging/", "/collection/board/"):
        page.goto(f"{live_server.url}{path}")
        chart = page.locator("[data-chart][data-chart-drawn=true]").first
        chart.wait_for()
        canvas = chart.locator("canvas").first
        box = canvas.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100, path
        # The tooltip (shown on hover) must keep to the policy too: show it, let two frames
        # render it.
        chart.evaluate(
            "el => window.echarts.getInstanceByDom(el)"
            ".dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: 0})"
        )
        page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        assert violations() == [], path

    # The board's stage bars are sized by script from data-share, not by style attributes.
    page.goto(f"{live_server.url}/collection/board/")
    bar = page.locator(".progress-bar[data-share]").first
    assert bar.evaluate("b => b.style.width") == bar.get_attribute("data-share") + "%"

    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".swagger-ui .information-container").wait_for()
    assert violations() == []
    assert [line for line in console if line.startswith("pageerror")] == []
    context.close()
