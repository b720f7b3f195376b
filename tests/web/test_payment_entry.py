"""登记收款 on the unit page: the front desk records a payment (amount in yuan, date, channel,
reference, optional designated charges) through payment_record and is sent back to the unit
page with the receipt number; refused (403) without the capability, not found (404) outside
the scope, the service's refusals shown on the form in Chinese."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from propfee.billing.services import contract_version_create, fee_item_create
from propfee.core.roles import Role
from propfee.core.submission import TOKEN_FIELD, submission_token_new
from propfee.ledger.models import Allocation
from propfee.payments.constants import PaymentChannel
from propfee.payments.models import Payment
from tests.payments.conftest import ChargeFactory

pytestmark = pytest.mark.django_db

URL = "/units/DEMO-3-1502/payments/add/"
DIALOG = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "write-dialog"}


@pytest.fixture
def front_desk(make_user, estate):
    return make_user(Role.CUSTOMER_SERVICE, username="kefu1", estates=[estate])


@pytest.fixture
def charges(unit, company, estate):
    item = fee_item_create(company=company, code="WYF", name="物业费", actor=None)
    contract_version_create(estate=estate, effective_from=dt.date(2026, 1, 1), actor=None)
    return [
        ChargeFactory(
            unit=unit,
            fee_item=item,
            period_start=dt.date(2026, month, 1),
            period_end=dt.date(2026, month, 28),
            due_date=dt.date(2026, month, 28),
            principal_fen=10000,
        )
        for month in (1, 2)
    ]


def _data(**extra) -> dict:
    data = {
        "amount": "100.00",
        "received_on": "2026-02-10",
        "channel": PaymentChannel.BANK_TRANSFER,
        "reference": "BANK-1",
        TOKEN_FIELD: submission_token_new(),
    }
    data.update(extra)
    return data


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_form_opens_in_the_dialog_with_today_and_open_charges(signed_in, front_desk, charges):
    response = signed_in(front_desk).get(URL, **DIALOG)
    assert response.status_code == 200
    html = response.text
    assert "<html" not in html
    assert "登记收款" in html
    assert f'value="{timezone.localdate().isoformat()}"' in html
    assert html.count('name="designations"') == 2
    # What is owed today: the principal and the penalty accrued since the due date.
    assert "物业费 2026-01-01 — 2026-01-28，欠 ¥" in html


def test_form_is_also_a_page(signed_in, front_desk, unit):
    response = signed_in(front_desk).get(URL)
    assert response.status_code == 200
    assert "<html" in response.text
    assert 'id="payment-designations"' not in response.text  # nothing owed


def test_records_payment_and_shows_receipt_number(signed_in, front_desk, unit, charges):
    client = signed_in(front_desk)
    response = client.post(URL, _data(), follow=True)
    payment = Payment.objects.get()
    assert (payment.amount_fen, payment.channel, payment.reference) == (
        10000,
        PaymentChannel.BANK_TRANSFER,
        "BANK-1",
    )
    assert payment.recorded_by == front_desk
    assert response.redirect_chain[-1][0] == "/units/DEMO-3-1502/"
    assert _messages(response) == [f"已登记收款 ¥100.00，收据号 {payment.receipt_no}。"]
    assert payment.receipt_no in response.text
    assert Allocation.objects.filter(payment=payment, superseded_at__isnull=True).exists()


def test_htmx_post_redirects_the_page(signed_in, front_desk, unit):
    response = signed_in(front_desk).post(URL, _data(), **DIALOG)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/units/DEMO-3-1502/"
    assert Payment.objects.count() == 1


def test_cash_without_reference_gets_the_receipt_number(signed_in, front_desk, unit):
    signed_in(front_desk).post(URL, _data(channel=PaymentChannel.CASH, reference="", amount="50"))
    payment = Payment.objects.get()
    assert payment.reference == payment.receipt_no
    assert payment.amount_fen == 5000


def test_designated_charge_is_paid_first(signed_in, front_desk, unit, charges):
    later = charges[1]
    signed_in(front_desk).post(URL, _data(designations=[str(later.pk)]))
    payment = Payment.objects.get()
    assert payment.designations == [later.pk]
    paid = Allocation.objects.filter(payment=payment, superseded_at__isnull=True)
    assert {a.charge_id for a in paid} == {later.pk}


def test_same_reference_again_is_not_recorded_twice(signed_in, front_desk, unit):
    client = signed_in(front_desk)
    client.post(URL, _data())
    response = client.post(URL, _data(), follow=True)
    payment = Payment.objects.get()
    assert _messages(response)[-1:] == [
        f"该流水号已登记过，未重复登记：¥100.00，收据号 {payment.receipt_no}。"
    ]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (_data(reference=""), "银行转账收款必须填写流水号"),
        (_data(channel=PaymentChannel.WECHAT, reference="  "), "微信收款必须填写流水号"),
    ],
)
def test_service_refusals_are_shown_on_the_form(signed_in, front_desk, unit, data, error):
    response = signed_in(front_desk).post(URL, data, **DIALOG)
    assert response.status_code == 200
    assert error in response.text
    assert "data-form-errors" in response.text
    assert not Payment.objects.exists()


def test_reference_of_another_payment_is_refused(signed_in, front_desk, unit):
    client = signed_in(front_desk)
    client.post(URL, _data())
    first = Payment.objects.get()
    response = client.post(URL, _data(amount="120"), **DIALOG)
    assert f"流水号 BANK-1 已登记为另一笔收款（收据号 {first.receipt_no}），请核对流水号" in (
        response.text
    )
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        (_data(amount="0"), "amount", "0.01"),
        (_data(amount="-5"), "amount", "0.01"),
        (_data(amount="1.234"), "amount", "2"),
        (_data(amount="12o"), "amount", ""),
        (_data(received_on="2099-01-01"), "received_on", "收款日期不能晚于今天。"),
        (_data(channel="cheque"), "channel", "cheque"),
    ],
)
def test_bad_input_is_shown_on_the_form(signed_in, front_desk, unit, data, field, error):
    response = signed_in(front_desk).post(URL, data, **DIALOG)
    assert response.status_code == 200
    html = response.text
    assert re.search(rf'<[^>]*is-invalid[^>]*id="id_{field}"', html)
    feedback = re.findall(r'<div class="invalid-feedback d-block">([^<]*)</div>', html)
    assert len(feedback) == 1 and error in feedback[0]
    assert not Payment.objects.exists()


def test_charge_of_another_unit_cannot_be_designated(signed_in, front_desk, unit, charges):
    response = signed_in(front_desk).post(URL, _data(designations=["999999"]), **DIALOG)
    assert "选择一个有效的选项" in response.text
    assert not Payment.objects.exists()


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.LEGAL])
def test_refused_without_the_capability(signed_in, make_user, estate, unit, role):
    client = signed_in(make_user(role, estates=[estate]))
    assert client.get(URL).status_code == 403
    response = client.post(URL, _data())
    assert response.status_code == 403
    assert not Payment.objects.exists()
    page = client.get("/units/DEMO-3-1502/").text
    assert 'data-write="payment_add"' not in page


def test_finance_may_record(signed_in, finance, unit):
    response = signed_in(finance).post(URL, _data())
    assert response.status_code == 302
    assert Payment.objects.count() == 1


def test_unit_outside_the_scope_is_not_found(signed_in, front_desk, other_unit):
    client = signed_in(front_desk)
    url = "/units/WEST-1-101/payments/add/"
    assert client.get(url).status_code == 404
    assert client.post(url, _data()).status_code == 404
    assert not Payment.objects.exists()


def test_in_english(signed_in, front_desk, unit):
    client = signed_in(front_desk)
    client.cookies["django_language"] = "en"
    page = client.get(URL).text
    assert "Record payment" in page
    assert "Amount (yuan)" in page
    response = client.post(URL, _data(), follow=True)
    receipt = Payment.objects.get().receipt_no
    assert _messages(response) == [f"Payment of ¥100.00 recorded, receipt no. {receipt}."]


# --- one-time submission ---------------------------------------------------------------------


def test_the_form_carries_a_fresh_one_time_token_and_disables_its_button(
    signed_in, front_desk, unit
):
    client = signed_in(front_desk)
    first, second = (client.get(URL, **DIALOG).text for _ in range(2))
    tokens = [
        re.search(rf'name="{TOKEN_FIELD}" value="([0-9a-f]{{32}})"', html)
        for html in (first, second)
    ]
    assert all(tokens) and tokens[0].group(1) != tokens[1].group(1)
    assert 'hx-disabled-elt="find button[type=submit]"' in first


@pytest.mark.parametrize("htmx", [False, True])
def test_a_cash_payment_posted_twice_with_one_token_is_recorded_once(
    signed_in, front_desk, unit, htmx
):
    client = signed_in(front_desk)
    data = _data(channel=PaymentChannel.CASH, reference="", amount="50")
    headers = DIALOG if htmx else {}
    first = client.post(URL, data, **headers)
    again = client.post(URL, data, **headers)  # a double click, a retry, the back button
    payment = Payment.objects.get()
    assert payment.amount_fen == 5000
    if htmx:
        assert again.headers["HX-Redirect"] == first.headers["HX-Redirect"] == "/units/DEMO-3-1502/"
    else:
        assert again.status_code == 302 and again.url == first.url == "/units/DEMO-3-1502/"
    page = client.get("/units/DEMO-3-1502/")
    assert _messages(page) == [
        f"已登记收款 ¥50.00，收据号 {payment.receipt_no}。",
        "该表单已提交，未重复登记。",
    ]


def test_a_refused_post_keeps_its_token_for_the_corrected_one(signed_in, front_desk, unit):
    client = signed_in(front_desk)
    data = _data(channel=PaymentChannel.WECHAT, reference="")
    refused = client.post(URL, data, **DIALOG)
    assert "微信收款必须填写流水号" in refused.text
    assert f'value="{data[TOKEN_FIELD]}"' in refused.text  # shown again with the same token
    client.post(URL, {**data, "reference": "WX-1"}, **DIALOG)
    assert Payment.objects.get().reference == "WX-1"


def test_a_post_without_a_token_writes_nothing(signed_in, front_desk, unit):
    data = _data()
    del data[TOKEN_FIELD]
    response = signed_in(front_desk).post(URL, data, **DIALOG)
    assert "页面已过期，请核对后重新提交。" in response.text
    assert re.search(rf'name="{TOKEN_FIELD}" value="[0-9a-f]{{32}}"', response.text)
    assert not Payment.objects.exists()
