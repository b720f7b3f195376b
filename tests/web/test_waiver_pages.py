"""减免 pages: 申请减免 from a charge of the unit page (a dialog like 登记收款), the 减免审批 list
(filters, pagination, Excel export), approval after a confirmation and rejection with a reason,
the unit's 减免与核销 history with 撤销 (after a confirmation), and the penalty reasonableness
warning on the account. Refused (403) without the capability, not found (404) outside the
scope; the services' refusals shown in Chinese."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from propfee.billing.services import contract_version_create, fee_item_create
from propfee.core.roles import Role
from propfee.core.submission import TOKEN_FIELD, submission_token_new
from propfee.ledger.constants import WaiverRequestStatus, WaiverStatus
from propfee.ledger.models import Waiver, WaiverRequest
from propfee.ledger.services import waiver_create, waiver_request_create
from tests.payments.conftest import ChargeFactory

pytestmark = pytest.mark.django_db

UNIT_URL = "/units/DEMO-3-1502/"
LIST_URL = "/waivers/"
DIALOG = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "write-dialog"}


@pytest.fixture
def charge(unit, company, estate):
    item = fee_item_create(company=company, code="WYF", name="物业费", actor=None)
    contract_version_create(estate=estate, effective_from=dt.date(2026, 1, 1), actor=None)
    return ChargeFactory(
        unit=unit,
        fee_item=item,
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 1, 31),
        due_date=dt.date(2026, 1, 31),
        principal_fen=500000,  # ¥5,000.00: 250 分 of penalty a day
    )


def _add_url(charge) -> str:
    return f"/units/DEMO-3-1502/charges/{charge.pk}/waiver/"


def _data(**extra) -> dict:
    data = {
        "kind": "waiver",
        "principal": "0",
        "penalty": "10.00",
        "effective_on": "2026-02-20",
        "write_off_reason": "",
        "reason": "电梯停运，协商减免滞纳金",
        TOKEN_FIELD: submission_token_new(),
    }
    data.update(extra)
    return data


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _file(charge, actor, principal=0, penalty=1000, kind="waiver", **kwargs):
    return waiver_request_create(
        charge=charge,
        principal_fen=principal,
        penalty_fen=penalty,
        effective_on=dt.date(2026, 2, 20),
        reason=kwargs.pop("reason", "业主反映漏水未修"),
        actor=actor,
        kind=kind,
        **kwargs,
    )


# --- 申请减免 on the unit page -----------------------------------------------------------------


def test_unit_page_offers_a_request_per_owing_charge_and_warns_on_penalty(
    signed_in, collector, charge
):
    page = signed_in(collector).get(UNIT_URL).text
    assert page.count('data-write="waiver_request_add"') == 1
    assert _add_url(charge) in page
    # Since 02-01 at 万分之五 a day: far above the LPR yardstick.
    assert 'id="penalty-bound-warning"' in page
    assert "超过合理性上限" in page
    assert 'data-write="waiver_reverse"' not in page


def test_request_dialog_shows_what_is_owed(signed_in, collector, charge):
    response = signed_in(collector).get(_add_url(charge), **DIALOG)
    assert response.status_code == 200
    html = response.text
    assert "<html" not in html
    assert "申请减免：物业费 2026-01-01 — 2026-01-31" in html
    assert "今日未缴本金 ¥5,000.00" in html
    assert f'value="{timezone.localdate().isoformat()}"' in html


def test_write_off_dialog_is_filled_with_everything_owed(signed_in, collector, charge):
    html = signed_in(collector).get(_add_url(charge) + "?kind=write_off").text
    assert re.search(r'<input[^>]*value="write_off"[^>]*checked', html)
    assert re.search(r'<input[^>]*name="principal"[^>]*value="5000.00"', html)


def test_request_is_filed_and_waits_for_approval(signed_in, collector, charge):
    response = signed_in(collector).post(_add_url(charge), _data(), follow=True)
    filed = WaiverRequest.objects.get()
    assert (filed.penalty_fen, filed.principal_fen, filed.status, filed.requested_by) == (
        1000,
        0,
        WaiverRequestStatus.PENDING,
        collector,
    )
    assert not Waiver.objects.exists()
    assert response.redirect_chain[-1][0] == UNIT_URL
    assert _messages(response) == ["已提交减免申请（本金 ¥0.00，滞纳金 ¥10.00），等待审批。"]
    assert f'data-waiver-request="{filed.pk}"' in response.text


def test_htmx_post_redirects_the_page(signed_in, collector, charge):
    response = signed_in(collector).post(_add_url(charge), _data(), **DIALOG)
    assert response.headers["HX-Redirect"] == UNIT_URL


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (_data(penalty="1000"), "减免金额超过 2026-02-20 当日所欠违约金"),
        (_data(penalty="0"), "本金或违约金至少一项大于0"),
        (_data(kind="write_off"), "坏账核销须选择核销原因"),
    ],
)
def test_service_refusals_are_shown_on_the_form(signed_in, collector, charge, data, error):
    response = signed_in(collector).post(_add_url(charge), data, **DIALOG)
    assert response.status_code == 200
    assert error in response.text
    assert "data-form-errors" in response.text
    assert not WaiverRequest.objects.exists()


def test_future_date_is_refused_on_the_form(signed_in, collector, charge):
    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = signed_in(collector).post(_add_url(charge), _data(effective_on=future), **DIALOG)
    assert "生效日期不能晚于今天。" in response.text
    assert not WaiverRequest.objects.exists()


def test_committee_may_not_request_and_other_units_are_not_found(
    signed_in, committee, collector, charge, other_unit
):
    assert signed_in(committee).get(_add_url(charge)).status_code == 403
    client = signed_in(collector)
    assert client.get(f"/units/DEMO-3-1502/charges/{charge.pk + 1000}/waiver/").status_code == 404
    assert client.post(f"/units/WEST-1-101/charges/{charge.pk}/waiver/", _data()).status_code == (
        404
    )
    assert not WaiverRequest.objects.exists()


# --- 减免审批 ----------------------------------------------------------------------------------


def test_approval_list_shows_pending_requests_with_filters(signed_in, manager, collector, charge):
    pending = _file(charge, collector)
    rejected = _file(charge, collector, penalty=500)
    rejected.status = WaiverRequestStatus.REJECTED
    rejected.save()
    write_off = _file(charge, collector, kind="write_off", write_off_reason="unreachable")
    client = signed_in(manager)
    html = client.get(LIST_URL).text
    assert f'data-request="{pending.pk}"' in html
    assert f'data-request="{rejected.pk}"' not in html  # 待审批 by default
    # A manager decides 减免, not 坏账核销: no buttons on the write-off.
    assert html.count('data-action="approve"') == 1
    html = client.get(LIST_URL, {"status": "", "kind": "waiver"}).text
    assert f'data-request="{rejected.pk}"' in html
    assert f'data-request="{write_off.pk}"' not in html


def test_approval_list_pages(signed_in, manager, collector, charge, settings):
    settings.PROPFEE_PAGE_SIZE = 2
    for _ in range(3):
        _file(charge, collector, penalty=100)
    client = signed_in(manager)
    assert client.get(LIST_URL).text.count("data-request=") == 2
    assert client.get(LIST_URL, {"page": 2}).text.count("data-request=") == 1


def test_approval_list_exports_to_excel(signed_in, manager, collector, charge):
    _file(charge, collector)
    response = signed_in(manager).get(LIST_URL, {"export": "xlsx"})
    assert response.status_code == 200
    assert response["X-Export-Rows"] == "1"
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    headers = [c.value for c in sheet[1]]
    row = dict(zip(headers, [c.value for c in sheet[2]], strict=True))
    assert row["房屋编码"] == "DEMO-3-1502"
    assert row["类型"] == "减免" and row["状态"] == "待审批"
    assert float(row["减免违约金"]) == 10.0


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.FINANCE, Role.CUSTOMER_SERVICE])
def test_approval_pages_need_a_decider(signed_in, make_user, estate, collector, charge, role):
    filed = _file(charge, collector)
    client = signed_in(make_user(role, estates=[estate]))
    assert client.get(LIST_URL).status_code == 403
    assert client.post(f"/waivers/{filed.pk}/approve/", {"confirm": "1"}).status_code == 403
    assert client.post(f"/waivers/{filed.pk}/reject/", {"reason": "不同意"}).status_code == 403
    filed.refresh_from_db()
    assert filed.status == WaiverRequestStatus.PENDING


def test_approve_after_confirmation(signed_in, manager, collector, charge):
    filed = _file(charge, collector)
    client = signed_in(manager)
    url = f"/waivers/{filed.pk}/approve/"
    page = client.get(url).text
    assert "确认批准" in page and "业主反映漏水未修" in page
    client.post(url, {"note": "同意"})  # no confirmation: nothing written
    assert not Waiver.objects.exists()
    response = client.post(url, {"note": "同意", "confirm": "1"}, follow=True)
    filed.refresh_from_db()
    assert (filed.status, filed.decision_note) == (WaiverRequestStatus.APPROVED, "同意")
    waiver = Waiver.objects.get()
    assert (waiver.amount_fen, waiver.component, waiver.approved_by) == (1000, "penalty", manager)
    assert response.redirect_chain[-1][0] == LIST_URL
    assert _messages(response) == ["已批准减免申请：DEMO-3-1502，本金 ¥0.00，滞纳金 ¥10.00。"]


def test_approval_beyond_the_limit_is_refused_on_the_page(signed_in, manager, collector, charge):
    filed = _file(charge, collector, principal=300000, penalty=0)  # ¥3,000 of principal
    response = signed_in(manager).post(f"/waivers/{filed.pk}/approve/", {"confirm": "1"})
    assert response.status_code == 200
    assert "超出审批权限：项目经理每笔应收最多可批准减免本金 ¥2,000.00" in response.text
    assert not Waiver.objects.exists()


def test_self_approval_is_refused_on_the_page(signed_in, manager, charge):
    filed = _file(charge, manager)
    response = signed_in(manager).post(f"/waivers/{filed.pk}/approve/", {"confirm": "1"})
    assert "不能审批自己提交的申请" in response.text
    assert not Waiver.objects.exists()


def test_reject_needs_a_reason(signed_in, manager, collector, charge):
    filed = _file(charge, collector)
    client = signed_in(manager)
    url = f"/waivers/{filed.pk}/reject/"
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and "is-invalid" in response.text
    response = client.post(url, {"reason": "漏水已修复"}, follow=True)
    filed.refresh_from_db()
    assert (filed.status, filed.decision_note) == (WaiverRequestStatus.REJECTED, "漏水已修复")
    assert _messages(response) == ["已驳回减免申请：DEMO-3-1502。"]


def test_write_off_is_approved_by_the_admin_only(signed_in, manager, admin_user, collector, charge):
    filed = _file(charge, collector, kind="write_off", write_off_reason="unreachable")
    assert signed_in(manager).get(f"/waivers/{filed.pk}/approve/").status_code == 403
    signed_in(admin_user).post(f"/waivers/{filed.pk}/approve/", {"confirm": "1"})
    assert Waiver.objects.get().kind == "write_off"


def test_requests_outside_the_scope_are_not_found(
    signed_in, make_user, other_estate, collector, charge
):
    filed = _file(charge, collector)
    stranger = make_user(Role.MANAGER, username="west", estates=[other_estate])
    client = signed_in(stranger)
    assert "data-request=" not in client.get(LIST_URL).text
    assert client.get(f"/waivers/{filed.pk}/approve/").status_code == 404


# --- history and 撤销 ---------------------------------------------------------------------------


@pytest.fixture
def waiver(charge, manager):
    return waiver_create(
        charge=charge,
        component="principal",
        amount_fen=100000,
        effective_on=dt.date(2026, 2, 10),
        reason="维修补偿",
        actor=manager,
    )


def test_history_lists_waivers_and_reverses_after_confirmation(signed_in, manager, waiver):
    client = signed_in(manager)
    page = client.get(UNIT_URL).text
    assert f'data-waiver="{waiver.pk}"' in page
    assert 'data-write="waiver_reverse"' in page
    url = f"/units/DEMO-3-1502/waivers/{waiver.pk}/reverse/"
    response = client.post(url, {"reason": "误批"}, **DIALOG)
    assert "确认撤销" in response.text
    assert "撤销 2026-02-10 的减免：本金 ¥1,000.00 将重新计入欠费" in response.text
    waiver.refresh_from_db()
    assert waiver.status == WaiverStatus.ACTIVE  # not yet
    response = client.post(url, {"reason": "误批", "confirm": "1"}, follow=True)
    waiver.refresh_from_db()
    assert (waiver.status, waiver.reverse_reason) == (WaiverStatus.REVERSED, "误批")
    assert _messages(response) == ["已撤销减免：本金 ¥1,000.00。"]
    assert 'data-write="waiver_reverse"' not in response.text
    assert client.get(url).status_code == 404  # no longer active


def test_reverse_needs_the_deciding_capability(signed_in, collector, waiver):
    client = signed_in(collector)
    assert 'data-write="waiver_reverse"' not in client.get(UNIT_URL).text
    url = f"/units/DEMO-3-1502/waivers/{waiver.pk}/reverse/"
    assert client.post(url, {"reason": "误批", "confirm": "1"}).status_code == 403
    waiver.refresh_from_db()
    assert waiver.status == WaiverStatus.ACTIVE


# --- 减免审批权限 ---------------------------------------------------------------------------------

LIMITS_URL = "/waivers/limits/"


def _limit_cell(page: str, role: str, component: str) -> str:
    row = re.search(rf'data-limit="{role}-{component}">(.*?)</tr>', page, re.S)
    assert row is not None
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row[1]))


def test_the_limits_page_shows_defaults(signed_in, admin_user):
    page = signed_in(admin_user).get(LIMITS_URL).text
    assert "¥2,000.00 默认" in _limit_cell(page, "manager", "principal")
    assert "不限 默认" in _limit_cell(page, "manager", "penalty")
    assert "不限 默认" in _limit_cell(page, "admin", "principal")
    assert 'data-limit="collector-' not in page  # collectors approve nothing


def test_a_lower_limit_binds_the_manager(signed_in, admin_user, manager, collector, charge):
    client = signed_in(admin_user)
    response = client.post(
        LIMITS_URL, {"role": "manager", "component": "principal", "max_yuan": "500"}, follow=True
    )
    assert "已保存：项目经理 的本金减免审批权限。" in response.text
    assert "¥500.00" in _limit_cell(response.text, "manager", "principal")
    filed = _file(charge, collector, principal=60000, penalty=0)  # ¥600 of principal
    refused = signed_in(manager).post(f"/waivers/{filed.pk}/approve/", {"confirm": "1"})
    assert "超出审批权限：项目经理每笔应收最多可批准减免本金 ¥500.00" in refused.text
    assert not Waiver.objects.exists()


def test_unlimited_and_a_missing_amount(signed_in, admin_user):
    client = signed_in(admin_user)
    missing = client.post(LIMITS_URL, {"role": "manager", "component": "principal"})
    assert missing.status_code == 400
    assert "请填写金额，或勾选“不限金额”。" in missing.text
    client.post(LIMITS_URL, {"role": "manager", "component": "principal", "unlimited": "on"})
    page = client.get(LIMITS_URL).text
    cell = _limit_cell(page, "manager", "principal")
    assert "不限" in cell and "默认" not in cell


@pytest.mark.parametrize("role", [Role.MANAGER, Role.FINANCE, Role.COLLECTOR])
def test_only_company_admins_set_limits(signed_in, make_user, estate, role):
    client = signed_in(make_user(role, estates=[estate]))
    assert client.get(LIMITS_URL).status_code == 403
    posted = client.post(LIMITS_URL, {"role": "manager", "component": "principal", "max_yuan": "1"})
    assert posted.status_code == 403


def test_a_request_posted_twice_with_one_token_is_filed_once(signed_in, collector, charge):
    client = signed_in(collector)
    data = _data()
    assert 'hx-disabled-elt="find button[type=submit]"' in client.get(_add_url(charge)).text
    first = client.post(_add_url(charge), data)
    again = client.post(_add_url(charge), data, follow=True)
    assert WaiverRequest.objects.count() == 1
    assert first.url == again.redirect_chain[0][0] == "/units/DEMO-3-1502/"
    assert "该表单已提交，未重复登记。" in again.text
