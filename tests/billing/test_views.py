"""The 计费 pages: list, preview → 确认计费, run detail, 撤销, export, access and scope."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from propfee.billing.constants import BillingRunStatus
from propfee.billing.models import BillingRun, Charge
from propfee.billing.services import billing_run_post
from propfee.core.roles import Role

pytestmark = pytest.mark.django_db

PERIOD = "2026-03"
PRINCIPAL_YUAN = "210.33"  # 89.50 ㎡ × 2.35 元, rounded once


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def posted(billable, estate, unit, owner):
    return billing_run_post(estate=estate, period=PERIOD, actor=None)


def _form(estate, **extra):
    return {"estate": str(estate.pk), "period": PERIOD, **extra}


def test_preview_shows_the_figures_and_writes_nothing(signed_in, finance, billable, estate, unit):
    page = signed_in(finance).post("/billing/new/", _form(estate, preview="")).text
    assert 'id="billing-preview"' in page
    assert PRINCIPAL_YUAN in page
    assert "确认计费" in page
    assert not BillingRun.objects.exists()
    assert not Charge.objects.exists()


def test_confirm_posts_the_run_and_creates_the_charges(
    signed_in, finance, billable, estate, unit, owner
):
    response = signed_in(finance).post("/billing/new/", _form(estate, confirm=""), follow=True)
    run = BillingRun.objects.get()
    assert response.redirect_chain[-1][0] == f"/billing/{run.pk}/"
    assert run.status == BillingRunStatus.POSTED and run.created_by == finance
    charge = Charge.objects.get()
    assert (charge.unit, charge.principal_fen, charge.payer) == (unit, 21033, owner)
    assert "新增应收 1 笔" in response.text
    assert PRINCIPAL_YUAN in response.text


def test_posting_twice_creates_nothing_new_and_says_so(signed_in, finance, posted, estate):
    response = signed_in(finance).post("/billing/new/", _form(estate, confirm=""), follow=True)
    assert Charge.objects.count() == 1
    second = BillingRun.objects.exclude(pk=posted.pk).get()
    assert second.charge_count == 0 and second.already_billed_count == 1
    assert "没有新增应收" in response.text
    assert "已计费 1 笔" in response.text


def test_reversal_asks_first_and_writes_only_when_confirmed(signed_in, finance, posted):
    client = signed_in(finance)
    page = client.get(f"/billing/{posted.pk}/reverse/").text
    assert "确认撤销" in page
    posted.refresh_from_db()
    assert posted.status == BillingRunStatus.POSTED and Charge.objects.count() == 1
    # Without a reason nothing happens either.
    client.post(f"/billing/{posted.pk}/reverse/", {"reason": ""})
    assert Charge.objects.count() == 1
    response = client.post(f"/billing/{posted.pk}/reverse/", {"reason": "面积录入有误"})
    assert response.status_code == 302
    posted.refresh_from_db()
    assert posted.status == BillingRunStatus.REVERSED
    assert posted.reverse_reason == "面积录入有误" and posted.reversed_by == finance
    assert not Charge.objects.exists()


def test_a_refused_reversal_shows_the_reason(signed_in, finance, posted, monkeypatch):
    monkeypatch.setattr(
        "propfee.billing.services._allocated_charge_ids", lambda run: {run.charges.get().pk}
    )
    response = signed_in(finance).post(f"/billing/{posted.pk}/reverse/", {"reason": "重算"})
    assert response.status_code == 200
    assert "不能撤销" in response.text
    posted.refresh_from_db()
    assert posted.status == BillingRunStatus.POSTED and Charge.objects.count() == 1


def test_list_filters_and_detail_by_building(signed_in, finance, posted, estate):
    client = signed_in(finance)
    page = client.get("/billing/", {"period": PERIOD, "status": "posted"}).text
    assert f'href="/billing/{posted.pk}/"' in page and PRINCIPAL_YUAN in page
    assert f"/billing/{posted.pk}/" not in client.get("/billing/", {"period": "2026-04"}).text
    detail = client.get(f"/billing/{posted.pk}/").text
    assert "3栋" in detail and "DEMO-3-1502" in detail and "撤销" in detail


def test_collector_gets_403(signed_in, make_user, estate, posted):
    client = signed_in(make_user(Role.COLLECTOR, estates=[estate]))
    for path in ("/billing/", "/billing/new/", f"/billing/{posted.pk}/"):
        assert client.get(path).status_code == 403
    assert client.post("/billing/new/", _form(estate, confirm="")).status_code == 403
    assert Charge.objects.count() == 1


def test_estate_outside_the_scope_is_404(signed_in, finance, billable, other_estate):
    client = signed_in(finance)
    assert client.post("/billing/new/", _form(other_estate, preview="")).status_code == 404
    assert client.post("/billing/new/", _form(other_estate, confirm="")).status_code == 404
    other_run = BillingRun.objects.create(estate=other_estate, period_start=billable.effective_from)
    assert client.get(f"/billing/{other_run.pk}/").status_code == 404
    assert client.get(f"/billing/{other_run.pk}/reverse/").status_code == 404
    assert f"/billing/{other_run.pk}/" not in client.get("/billing/").text


def _sheet(response):
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return workbook.worksheets[0]


def test_exports_have_chinese_headers_and_money_as_numbers(signed_in, finance, posted):
    client = signed_in(finance)
    runs = _sheet(client.get("/billing/", {"export": "xlsx"}))
    headers = [c.value for c in runs[1]]
    assert headers[:4] == ["项目编码", "项目名称", "计费月份", "状态"]
    total = runs.cell(row=2, column=headers.index("新增应收合计(元)") + 1)
    assert isinstance(total.value, int | float | Decimal)
    assert f"{total.value:.2f}" == PRINCIPAL_YUAN and total.number_format == "#,##0.00"
    charges = _sheet(client.get(f"/billing/{posted.pk}/", {"export": "xlsx"}))
    headers = [c.value for c in charges[1]]
    assert "房屋编码" in headers
    amount = charges.cell(row=2, column=headers.index("应收金额(元)") + 1)
    assert isinstance(amount.value, int | float | Decimal)
    assert f"{amount.value:.2f}" == PRINCIPAL_YUAN and amount.number_format == "#,##0.00"


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (Role.FINANCE, True),
        (Role.MANAGER, True),
        (Role.ADMIN, True),
        (Role.COLLECTOR, False),
        (Role.CUSTOMER_SERVICE, False),
        (Role.LEGAL, False),
        (Role.COMMITTEE, False),
    ],
)
def test_nav_shows_billing_only_to_finance_manager_admin(signed_in, make_user, estate, role, shown):
    page = signed_in(make_user(role, estates=[estate])).get("/").text
    assert ("billing" in re.findall(r'data-nav="([a-z]+)"', page)) is shown
    assert ("计费" in page) is shown
