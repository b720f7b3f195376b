"""The report pages (报表): worked figures of the book (tests/analytics/conftest.py) on each
page and in its Excel file, the chart data, scoping, access and pinned query counts."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook

from propfee.core.models import AuditAction, AuditEntry
from propfee.core.roles import Role
from tests.analytics.conftest import D
from tests.factories import BuildingFactory

pytestmark = pytest.mark.django_db

ASOF = "as_of=2026-08-01"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _chart(html: str, chart_id: str) -> dict:
    match = re.search(
        rf'<script id="{chart_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, f"no chart data {chart_id}"
    return json.loads(match.group(1))


def _workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)], sheet, book


def _cells(html: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table, f"no table {table_id}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(0), re.S)
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S) for row in rows]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in row] for row in cells]


# --- 欠费账龄 ---------------------------------------------------------------------------------


def test_aging_page_shows_the_buckets_of_the_worked_example(signed_in, manager, book):
    html = signed_in(manager).get(f"/reports/aging/?{ASOF}").content.decode()
    assert _cells(html, "aging-table") == [
        ["账龄(天)", "欠费笔数", "欠费户数", "欠费本金(元)"],
        ["1-90", "1", "1", "100.00"],
        ["91-180", "4", "3", "390.00"],
        ["181-365", "1", "1", "100.00"],
        ["366-730", "0", "0", "0.00"],
        ["731-1095", "0", "0", "0.00"],
        ["1096+", "1", "1", "50.00"],
        ["合计", "7", "—", "640.00"],
    ]
    chart = _chart(html, "chart-aging")
    assert chart["kind"] == "bar" and chart["format"] == "yuan"
    assert chart["categories"] == ["1-90", "91-180", "181-365", "366-730", "731-1095", "1096+"]
    assert chart["series"] == [
        {"name": "欠费本金(元)", "data": ["100.00", "390.00", "100.00", "0.00", "0.00", "50.00"]}
    ]
    assert 'data-chart="chart-aging"' in html
    assert "vendor/echarts/echarts.min.js" in html and "analytics/charts.js" in html


def test_aging_of_one_building_and_an_earlier_date(signed_in, manager, book, estate):
    client = signed_in(manager)
    url = f"/reports/aging/?estate={estate.pk}&building={book['building5'].pk}&{ASOF}"
    html = client.get(url).content.decode()
    assert _chart(html, "chart-aging")["series"][0]["data"] == [
        "0.00",
        "80.00",
        "0.00",
        "0.00",
        "0.00",
        "0.00",
    ]
    # On 03-15 DEMO owes A's February (6000, 15 days), B's 2023-01 (5000) and January (20000).
    html = client.get("/reports/aging/?as_of=2026-03-15").content.decode()
    assert _chart(html, "chart-aging")["series"][0]["data"] == [
        "260.00",
        "0.00",
        "0.00",
        "0.00",
        "0.00",
        "50.00",
    ]


def test_aging_export(signed_in, manager, book):
    rows, sheet, workbook = _workbook(signed_in(manager).get(f"/reports/aging/?{ASOF}&export=xlsx"))
    assert rows[0] == ["账龄(天)", "欠费笔数", "欠费户数", "欠费本金(元)"]
    assert rows[2] == ["91-180", 4, 3, 390]
    assert rows[-1][0] == "合计" and rows[-1][3] == 640
    assert sheet["D3"].number_format == "#,##0.00"
    about = dict(workbook["导出说明"].iter_rows(values_only=True))
    assert about["统计日期"] == "2026-08-01"
    assert about["项目"] == "全部项目"


# --- 欠费明细 ---------------------------------------------------------------------------------


def test_arrears_list_most_owed_first_with_links_to_the_unit(signed_in, manager, book):
    html = signed_in(manager).get(f"/reports/arrears/?{ASOF}").content.decode()
    assert _cells(html, "arrears-table")[1:] == [
        ["DEMO-3-1503", "300.00", "3", "2023-01-31", "1278", "1096+"],
        ["DEMO-3-1502", "260.00", "3", "2026-02-28", "154", "91-180"],
        ["DEMO-5-101", "80.00", "1", "2026-03-31", "123", "91-180"],
        ["合计", "640.00", ""],
    ]
    assert 'href="/units/DEMO-3-1503/"' in html


def test_arrears_list_search_bucket_and_order(signed_in, manager, book):
    client = signed_in(manager)

    def codes(query: str) -> list[str]:
        html = client.get(f"/reports/arrears/?{ASOF}&{query}").content.decode()
        return re.findall(r'href="/units/([^/]+)/"', html)

    assert codes("order=days") == ["DEMO-5-101", "DEMO-3-1502", "DEMO-3-1503"]
    assert codes("order=amount") == ["DEMO-5-101", "DEMO-3-1502", "DEMO-3-1503"]
    assert codes("order=-days") == ["DEMO-3-1503", "DEMO-3-1502", "DEMO-5-101"]
    assert codes("bucket=91-180") == ["DEMO-3-1502", "DEMO-5-101"]
    assert codes("q=3-15") == ["DEMO-3-1503", "DEMO-3-1502"]
    assert codes("q=demo-5") == ["DEMO-5-101"]


def test_arrears_list_paginates(signed_in, manager, book, settings):
    settings.PROPFEE_PAGE_SIZE = 2
    client = signed_in(manager)
    first = client.get(f"/reports/arrears/?{ASOF}").content.decode()
    assert re.findall(r'href="/units/([^/]+)/"', first) == ["DEMO-3-1503", "DEMO-3-1502"]
    assert 'data-total="3"' in first
    second = client.get(
        f"/reports/arrears/?{ASOF}&page=2",
        headers={"HX-Request": "true", "HX-Target": "list-results"},
    )
    fragment = second.content.decode()
    assert "<html" not in fragment
    assert re.findall(r'href="/units/([^/]+)/"', fragment) == ["DEMO-5-101"]


def test_arrears_export_has_numbers_and_dates(signed_in, manager, book):
    response = signed_in(manager).get(f"/reports/arrears/?{ASOF}&bucket=91-180&export=xlsx")
    rows, sheet, workbook = _workbook(response)
    assert rows[0] == [
        "房屋编码",
        "欠费本金(元)",
        "欠费月数",
        "最早欠费应缴日",
        "逾期天数",
        "账龄(天)",
    ]
    assert [row[0] for row in rows[1:]] == ["DEMO-3-1502", "DEMO-5-101"]
    _code, amount, months, oldest, days, bucket = rows[1]
    assert (amount, months, oldest.date(), days, bucket) == (260, 3, D(2026, 2, 28), 154, "91-180")
    assert sheet["B2"].number_format == "#,##0.00"
    assert sheet["D2"].number_format == "yyyy-mm-dd"
    about = dict(workbook["导出说明"].iter_rows(values_only=True))
    assert about["账龄(天)"] == "91-180"


# --- 楼栋欠费 ---------------------------------------------------------------------------------


def test_buildings_page_table_chart_and_export(signed_in, manager, book, estate):
    client = signed_in(manager)
    html = client.get(f"/reports/buildings/?{ASOF}").content.decode()  # the first estate
    assert _cells(html, "building-arrears-table") == [
        ["楼栋", "欠费户数", "欠费笔数", "欠费本金(元)"],
        ["3栋", "2", "6", "560.00"],
        ["5栋", "1", "1", "80.00"],
        ["合计", "3", "7", "640.00"],
    ]
    assert _chart(html, "chart-buildings")["categories"] == ["3栋", "5栋"]
    assert _chart(html, "chart-buildings")["series"][0]["data"] == ["560.00", "80.00"]
    rows, _sheet, _book = _workbook(
        client.get(f"/reports/buildings/?estate={estate.pk}&{ASOF}&export=xlsx")
    )
    assert rows == [
        ["楼栋编码", "楼栋名称", "欠费户数", "欠费笔数", "欠费本金(元)"],
        ["3", "3栋", 2, 6, 560],
        ["5", "5栋", 1, 1, 80],
    ]


# --- 收缴率 -----------------------------------------------------------------------------------

WINDOW = "period=2026-03&start=2026-03-01&end=2026-04-30&as_of=2026-08-01"
# 3 rows (2 buildings and the total) × 8 + the trend 12 × 2 + session, user, scope, estate
# choices, the chosen estate and its buildings.
QUERIES_WITH_TWO_BUILDINGS = 54


def _rates(html: str) -> dict[str, list[str]]:
    table = _cells(html, "rate-table")[1:]
    return {row[0]: [row[1], row[3], row[5], row[7]] for row in table}


def test_collection_rate_by_estate_and_by_building(signed_in, manager, book, estate):
    client = signed_in(manager)
    html = client.get(f"/reports/collection-rate/?{WINDOW}").content.decode()
    # 当期 15000 ÷ 38000; 清欠 10000 ÷ 31000; 综合 25000 ÷ 79000; 户数 1 ÷ 3.
    assert _rates(html) == {
        "阳光花园": ["39.47%", "32.26%", "31.65%", "33.33%"],
        "合计": ["39.47%", "32.26%", "31.65%", "33.33%"],
    }
    html = client.get(f"/reports/collection-rate/?estate={estate.pk}&{WINDOW}").content.decode()
    assert _rates(html) == {
        "3栋": ["50.00%", "32.26%", "35.21%", "50.00%"],
        "5栋": ["0.00%", "—", "0.00%", "0.00%"],
        "合计": ["39.47%", "32.26%", "31.65%", "33.33%"],
    }


def test_collection_rate_trend_chart(signed_in, manager, book):
    html = signed_in(manager).get(f"/reports/collection-rate/?{WINDOW}").content.decode()
    chart = _chart(html, "chart-trend")
    assert chart["kind"] == "line" and chart["format"] == "percent"
    assert chart["categories"][0] == "2025-04" and chart["categories"][-1] == "2026-03"
    assert len(chart["categories"]) == 12
    assert chart["series"][0]["name"] == "当期收缴率"
    assert chart["series"][0]["data"] == [None] * 9 + ["66.67", "0.00", "39.47"]


def test_collection_rate_export(signed_in, manager, book, estate):
    response = signed_in(manager).get(
        f"/reports/collection-rate/?estate={estate.pk}&{WINDOW}&export=xlsx"
    )
    rows, sheet, workbook = _workbook(response)
    assert rows[0][:5] == ["范围", "当期收缴率", "当期实收(元)", "当期应收(元)", "清欠率"]
    assert rows[1] == ["3栋", 0.5, 150, 300, 0.3226, 100, 310, 0.3521, 250, 710, 0.5, 1, 2]
    assert rows[2][4] is None  # 5栋 has no opening arrears: no 清欠率
    assert rows[3][0] == "合计"
    assert sheet["B2"].number_format == "0.00%"
    assert sheet["C2"].number_format == "#,##0.00"
    about = dict(workbook["导出说明"].iter_rows(values_only=True))
    assert about["统计区间"] == "2026-03-01 至 2026-04-30"
    assert about["计费月份"] == "2026-03"


def test_collection_rate_defaults_are_this_month_and_this_year(signed_in, manager, book):
    with time_machine.travel(dt.datetime(2026, 8, 1, 10, tzinfo=SHANGHAI), tick=False):
        html = signed_in(manager).get("/reports/collection-rate/").content.decode()
    assert "计费月份 2026-08，截至 2026-08-01" in html
    assert "收款日期 2026-01-01 至 2026-08-01" in html
    assert _chart(html, "chart-trend")["categories"][-1] == "2026-08"


def test_collection_rate_rejects_a_window_that_ends_before_it_starts(signed_in, manager, book):
    html = (
        signed_in(manager)
        .get("/reports/collection-rate/?start=2026-05-01&end=2026-04-01&as_of=2026-08-01")
        .content.decode()
    )
    assert "结束日期不能早于开始日期" in html
    assert "收款日期 2026-05-01 至 2026-08-01" in html  # the end falls back to the as-of date


# --- scope and access -------------------------------------------------------------------------


def test_a_building_collector_sees_only_the_building(signed_in, building_collector, book, estate):
    client = signed_in(building_collector)
    html = client.get(f"/reports/arrears/?{ASOF}").content.decode()
    assert re.findall(r'href="/units/([^/]+)/"', html) == ["DEMO-5-101"]
    html = client.get(f"/reports/buildings/?{ASOF}").content.decode()
    assert [row[0] for row in _cells(html, "building-arrears-table")[1:]] == ["5栋", "合计"]
    html = client.get(f"/reports/collection-rate/?estate={estate.pk}&{WINDOW}").content.decode()
    assert _rates(html) == {
        "5栋": ["0.00%", "—", "0.00%", "0.00%"],
        "合计": ["0.00%", "—", "0.00%", "0.00%"],
    }
    html = client.get(f"/reports/aging/?{ASOF}").content.decode()
    assert _chart(html, "chart-aging")["series"][0]["data"][1] == "80.00"


def test_the_admin_sees_every_estate(signed_in, admin_user, book):
    html = signed_in(admin_user).get(f"/reports/collection-rate/?{WINDOW}").content.decode()
    assert list(_rates(html)) == ["阳光花园", "西湖苑", "合计"]
    html = signed_in(admin_user).get(f"/reports/aging/?{ASOF}").content.decode()
    assert _chart(html, "chart-aging")["series"][0]["data"][2] == "400.00"  # + WEST 30000


def test_an_estate_outside_the_scope_is_ignored(signed_in, manager, book, other_estate):
    html = signed_in(manager).get(f"/reports/arrears/?estate={other_estate.pk}&{ASOF}")
    codes = re.findall(r'href="/units/([^/]+)/"', html.content.decode())
    assert "WEST-1-101" not in codes and len(codes) == 3


REPORT_URLS = [
    "/reports/",
    "/reports/aging/",
    "/reports/arrears/",
    "/reports/buildings/",
    "/reports/collection-rate/",
]


@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.CUSTOMER_SERVICE])
@pytest.mark.parametrize("url", REPORT_URLS)
def test_roles_without_reports_get_403(signed_in, make_user, estate, role, url):
    user = make_user(role, username=f"u-{role}", estates=[estate])
    response = signed_in(user).get(url)
    assert response.status_code == 403
    assert signed_in(user).get(f"{url}?export=xlsx").status_code == 403


@pytest.mark.parametrize(
    "role", [Role.ADMIN, Role.MANAGER, Role.FINANCE, Role.COLLECTOR, Role.LEGAL]
)
def test_roles_with_reports_open_them(signed_in, make_user, estate, role):
    user = make_user(role, username=f"u-{role}", estates=[estate])
    client = signed_in(user)
    for url in REPORT_URLS:
        assert client.get(url).status_code == 200, url
    assert 'data-nav="reports"' in client.get("/").content.decode()


def test_anonymous_is_sent_to_login(client):
    response = client.get("/reports/aging/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_exports_are_audited(signed_in, manager, book):
    signed_in(manager).get(f"/reports/arrears/?{ASOF}&export=xlsx")
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.note == "欠费明细：3行"
    assert entry.actor == manager


# --- query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        ("/reports/", 2),
        (f"/reports/aging/?{ASOF}", 5),
        (f"/reports/arrears/?{ASOF}", 5),
        (f"/reports/buildings/?{ASOF}", 7),
        (f"/reports/collection-rate/?{WINDOW}", 45),
    ],
)
def test_query_counts(signed_in, manager, book, url, queries, django_assert_num_queries):
    client = signed_in(manager)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200


def test_collection_rate_costs_eight_queries_a_building(
    signed_in, manager, book, estate, django_assert_num_queries
):
    """The rates selectors answer one scope at a time: a building more is eight queries more."""
    client = signed_in(manager)
    url = f"/reports/collection-rate/?estate={estate.pk}&{WINDOW}"
    with django_assert_num_queries(QUERIES_WITH_TWO_BUILDINGS):
        client.get(url)
    BuildingFactory(estate=estate, code="7", name="7栋")
    with django_assert_num_queries(QUERIES_WITH_TWO_BUILDINGS + 8):
        client.get(url)
