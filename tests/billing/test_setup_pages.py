"""收费设置: the set-up page shows an estate's contract terms, tariffs and fee items; its three
forms write through the billing services (refusals shown on the form); access and scope."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from propfee.billing.constants import AllocationOrder, TariffBasis
from propfee.billing.models import ContractVersion, FeeItem, Tariff
from propfee.billing.services import billing_run_post
from propfee.core.models import AuditEntry
from propfee.core.roles import Role
from propfee.estates.constants import UnitType

pytestmark = pytest.mark.django_db

SETUP = "/billing/setup/"


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def _tariff_form(fee_item, **extra):
    return {
        "fee_item": str(fee_item.pk),
        "unit_type": UnitType.RESIDENTIAL,
        "basis": TariffBasis.PER_M2_MONTH,
        "rate_yuan": "2.6500",
        "effective_from": "2026-07-01",
        "effective_to": "",
        "vacancy_discount_ratio": "",
        **extra,
    }


def _contract_form(**extra):
    return {
        "effective_from": "2026-07-01",
        "billing_cycle_months": "3",
        "due_day": "10",
        "penalty_daily_rate": "0.0003",
        "grace_days": "15",
        "penalty_cap_ratio": "1",
        "allocation_order": AllocationOrder.PRINCIPAL_FIRST,
        **extra,
    }


def test_the_page_shows_terms_tariffs_and_fee_items(signed_in, finance, billable, estate):
    page = signed_in(finance).get(SETUP, {"estate": estate.pk}).text
    assert f"收费设置：{estate.name}" in page
    assert "2.3500" in page  # the residential tariff
    assert "0.300" in page  # its vacancy discount
    assert "WYF · 物业费" in page
    assert "每期第一个月 5 日" in page  # the contract's due day
    assert "先违约金后本金" in page


def test_first_visible_estate_is_shown_without_a_choice(signed_in, finance, billable, estate):
    response = signed_in(finance).get(SETUP)
    assert response.status_code == 200
    assert f"收费设置：{estate.name}" in response.text


def test_a_rate_change_ends_the_current_tariff(signed_in, finance, billable, fee_item, estate):
    response = signed_in(finance).post(
        f"/billing/setup/{estate.pk}/tariffs/", _tariff_form(fee_item), follow=True
    )
    assert response.redirect_chain[-1][0] == f"{SETUP}?estate={estate.pk}"
    assert "自 2026-07-01 起执行" in response.text
    old, new = Tariff.objects.order_by("effective_from")
    assert old.effective_to == dt.date(2026, 6, 30)
    assert (new.rate_yuan, new.effective_from, new.effective_to) == (
        Decimal("2.6500"),
        dt.date(2026, 7, 1),
        None,
    )
    assert AuditEntry.objects.filter(object_type="billing.tariff", actor=finance).count() == 2


def test_a_retroactive_rate_change_is_refused_on_the_form(
    signed_in, finance, billable, fee_item, estate, unit, owner
):
    billing_run_post(estate=estate, period="2026-03", actor=None)
    response = signed_in(finance).post(
        f"/billing/setup/{estate.pk}/tariffs/",
        _tariff_form(fee_item, effective_from="2026-03-01"),
    )
    assert response.status_code == 400
    assert "之后的期间已经计费，新收费标准不能追溯" in response.text
    assert Tariff.objects.count() == 1


def test_form_errors_name_the_field(signed_in, finance, billable, fee_item, estate):
    response = signed_in(finance).post(
        f"/billing/setup/{estate.pk}/tariffs/",
        _tariff_form(fee_item, rate_yuan="2.12345", vacancy_discount_ratio="1.5"),
    )
    assert response.status_code == 400
    assert 'id="tariff-rate_yuan"' in response.text
    assert "确认小数不超过 4 位" in response.text
    assert "确保该值小于或等于1" in response.text
    assert Tariff.objects.count() == 1


def test_new_contract_terms(signed_in, finance, billable, estate):
    response = signed_in(finance).post(
        f"/billing/setup/{estate.pk}/contract/", _contract_form(), follow=True
    )
    assert "已保存合同条款，自 2026-07-01 起执行" in response.text
    version = ContractVersion.objects.get(effective_from=dt.date(2026, 7, 1))
    assert (
        version.billing_cycle_months,
        version.due_day,
        version.penalty_daily_rate,
        version.grace_days,
        version.penalty_cap_ratio,
        version.allocation_order,
    ) == (3, 10, Decimal("0.0003"), 15, Decimal("1"), AllocationOrder.PRINCIPAL_FIRST)


def test_contract_terms_must_start_on_the_first(signed_in, finance, billable, estate):
    response = signed_in(finance).post(
        f"/billing/setup/{estate.pk}/contract/", _contract_form(effective_from="2026-07-15")
    )
    assert response.status_code == 400
    assert "合同条款须从某月1日起生效" in response.text
    assert ContractVersion.objects.count() == 1


def test_new_fee_item_and_duplicate_code(signed_in, finance, billable, estate):
    client = signed_in(finance)
    client.post(f"/billing/setup/{estate.pk}/fee-items/", {"code": "tcf", "name": "停车管理费"})
    assert FeeItem.objects.filter(code="TCF", name="停车管理费").exists()
    again = client.post(f"/billing/setup/{estate.pk}/fee-items/", {"code": "TCF", "name": "停车费"})
    assert again.status_code == 400
    assert "收费项目编码已存在：TCF" in again.text
    assert FeeItem.objects.filter(code="TCF").count() == 1


def test_tariffs_export(signed_in, finance, billable, estate):
    response = signed_in(finance).get(SETUP, {"estate": estate.pk, "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("项目编码", "收费项目", "房屋类型", "计费方式", "单价(元)")
    assert rows[1][:5] == (estate.code, "物业费", "住宅", "按建筑面积每月", 2.35)
    assert rows[1][5] == dt.datetime(2026, 1, 1)


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.CUSTOMER_SERVICE, Role.COMMITTEE])
def test_roles_without_billing_are_forbidden(signed_in, make_user, billable, estate, role):
    user = make_user(role, estates=[estate])
    client = signed_in(user)
    assert client.get(SETUP).status_code == 403
    response = client.post(f"/billing/setup/{estate.pk}/fee-items/", {"code": "X", "name": "X"})
    assert response.status_code == 403
    assert not FeeItem.objects.filter(code="X").exists()


def test_other_estates_are_not_found(signed_in, finance, billable, fee_item, other_estate):
    client = signed_in(finance)
    assert client.get(SETUP, {"estate": other_estate.pk}).status_code == 404
    response = client.post(f"/billing/setup/{other_estate.pk}/tariffs/", _tariff_form(fee_item))
    assert response.status_code == 404
    assert not Tariff.objects.filter(estate=other_estate).exists()
