"""工作台, the navigation by role, the language switch and the Chinese error pages."""

from __future__ import annotations

import re

import pytest

from propfee.core.roles import Role

pytestmark = pytest.mark.django_db


def _count(html: str, key: str) -> int:
    match = re.search(rf'data-count="{key}">.*?stat-value">(\d+)<', html, re.S)
    assert match, f"no {key} count on the page"
    return int(match.group(1))


def _nav_keys(html: str) -> list[str]:
    return re.findall(r'data-nav="([a-z]+)"', html)


def _nav_groups(html: str) -> list[str]:
    return re.findall(r'data-nav-group="([a-z]+)"', html)


def test_dashboard_counts_only_what_the_collector_sees(
    signed_in, collector, unit, owner, other_unit, more_units
):
    page = signed_in(collector).get("/").text
    # DEMO: buildings 3 and 5, units 1502, 1601 and the shop; WEST is out of scope.
    assert _count(page, "estates") == 1
    assert _count(page, "buildings") == 2
    assert _count(page, "units") == 3
    assert _count(page, "parties") == 3
    assert 'name="q"' in page


def test_dashboard_of_the_admin_counts_the_whole_company(signed_in, admin_user, unit, other_unit):
    page = signed_in(admin_user).get("/").text
    assert _count(page, "estates") == 2
    assert _count(page, "units") == 2


def test_navigation_of_a_collector_hides_imports_and_audit(signed_in, collector):
    page = signed_in(collector).get("/").text
    assert _nav_keys(page) == [
        "dashboard",
        "today",
        "cases",
        "plans",
        "issues",
        "holds",
        "estates",
        "units",
        "parties",
        "reports",
        "messages",
        "documents",
    ]
    assert _nav_groups(page) == ["collection", "records", "communication"]
    assert "数据导入" not in page
    assert "操作日志" not in page


def test_navigation_of_a_manager_has_every_section(signed_in, manager):
    page = signed_in(manager).get("/").text
    assert _nav_keys(page) == [
        "dashboard",
        "board",
        "today",
        "cases",
        "plans",
        "issues",
        "holds",
        "legal",
        "limitation",
        "collection",
        "policies",
        "estates",
        "units",
        "parties",
        "imports",
        "billing",
        "waivers",
        "reports",
        "messages",
        "documents",
        "audit",
    ]
    assert _nav_groups(page) == ["collection", "records", "fees", "communication"]


def test_navigation_of_the_committee_and_pages_it_may_not_open(signed_in, committee, unit):
    client = signed_in(committee)
    page = client.get("/").text
    assert _nav_keys(page) == ["dashboard", "estates"]
    assert _nav_groups(page) == []  # one section of a menu is shown as a plain link
    assert 'class="nav-link" href="/estates/"' in page
    assert 'data-count="units"' not in page
    assert 'name="q"' not in page  # no unit search for aggregate-only roles
    forbidden = client.get("/units/")
    assert forbidden.status_code == 403
    assert "没有权限" in forbidden.text


def test_navigation_marks_the_current_section(signed_in, collector):
    page = signed_in(collector).get("/units/").text
    assert re.search(r'class="dropdown-item active" href="/units/"', page)
    records = re.search(r'data-nav-group="records">\s*<a class="([^"]*)"', page)
    assert records is not None and "active" in records[1].split()
    assert not re.search(r'class="nav-link active" href="/"', page)


def test_language_switch_to_english_and_back(signed_in, collector):
    client = signed_in(collector)
    assert "工作台" in client.get("/").text
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").text
    assert '<html lang="en">' in page
    for english in ("Dashboard", "Estates", "Units", "Owners &amp; occupants", "Sign out"):
        assert english in page
    assert "工作台" not in page
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "工作台" in client.get("/").text


def test_not_found_page_is_chinese(signed_in, collector):
    response = signed_in(collector).get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.text
    assert "物业收费" in response.text  # the staff layout


@pytest.mark.parametrize("role", [Role.FINANCE, Role.LEGAL, Role.CUSTOMER_SERVICE])
def test_every_staff_role_gets_the_dashboard(signed_in, make_user, estate, role):
    user = make_user(role, estates=[estate])
    assert signed_in(user).get("/").status_code == 200
