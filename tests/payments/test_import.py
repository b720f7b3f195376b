"""The payments import (收款): good CSV and XLSX files recorded through payment_record with their
allocations, re-imports that change nothing, every bad cell with its exact message, scope, and
all-or-nothing writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from propfee.core.importing import IMPORT_KINDS, import_template_xlsx
from propfee.core.models import AuditAction, AuditEntry
from propfee.core.roles import Role
from propfee.ledger.models import Allocation
from propfee.payments.constants import PaymentChannel
from propfee.payments.importers import cash_reference_derive
from propfee.payments.models import Payment
from tests.estates.test_imports import csv_bytes, messages, run, xlsx_bytes

HEADER = "房屋编码,金额,收款日期,方式,流水号"


def payments_csv(*rows: str) -> bytes:
    return csv_bytes(HEADER, *rows)


@pytest.fixture
def charges(make_charge):
    return [make_charge(1), make_charge(2)]


def test_kind_is_registered():
    kind = IMPORT_KINDS["payments"]
    assert kind.label == "收款"
    assert [c.name_zh for c in kind.columns] == ["房屋编码", "金额", "收款日期", "方式", "流水号"]
    assert [c.name_en for c in kind.columns if c.required] == [
        "unit",
        "amount",
        "received_on",
        "channel",
    ]
    assert kind.capability == "record_payments"


def test_csv_records_payments_and_allocations(unit, charges, finance):
    content = payments_csv(
        "demo-3-1502,100.00,2026-02-10,银行转账,BANK-001",
        "DEMO-3-1502,50,2026/2/11,现金,",
        "DEMO-3-1502,20.5,2026-02-12,wechat,WX-9",
    )
    report = run("payments", content, actor=finance)
    assert report.ok and report.applied, messages(report)
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    payments = list(Payment.objects.order_by("pk"))
    assert [(p.amount_fen, p.received_on, p.channel) for p in payments] == [
        (10000, dt.date(2026, 2, 10), PaymentChannel.BANK_TRANSFER),
        (5000, dt.date(2026, 2, 11), PaymentChannel.CASH),
        (2050, dt.date(2026, 2, 12), PaymentChannel.WECHAT),
    ]
    assert payments[0].reference == "BANK-001"
    # Cash without a reference: derived from unit, date, amount and occurrence in the file.
    assert payments[1].reference == cash_reference_derive(
        unit_code="DEMO-3-1502", received_on=dt.date(2026, 2, 11), amount_fen=5000, n=1
    )
    assert payments[1].reference.startswith("现金-") and payments[1].reference.endswith("-1")
    assert all(p.unit_id == unit.pk and p.recorded_by == finance for p in payments)
    assert Allocation.objects.filter(payment=payments[0], superseded_at__isnull=True).exists()
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="payments.payment")
    summary = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert summary.after["created"] == 3


def test_xlsx_records_payments(unit, charges):
    content = xlsx_bytes(
        ["房屋编码", "金额", "收款日期", "方式", "流水号"],
        ["DEMO-3-1502", Decimal("150.25"), dt.date(2026, 2, 10), "支付宝", "ALI-1"],
        ["DEMO-3-1502", 80, dt.datetime(2026, 2, 11), "POS", 123456],
    )
    report = run("payments", content, filename="收款.xlsx")
    assert report.ok and report.applied, messages(report)
    assert sorted(Payment.objects.values_list("amount_fen", "channel", "reference")) == [
        (8000, PaymentChannel.POS, "123456"),
        (15025, PaymentChannel.ALIPAY, "ALI-1"),
    ]
    assert Allocation.objects.filter(superseded_at__isnull=True).count() > 0


def test_english_headers(unit):
    content = csv_bytes(
        "unit,amount,received_on,channel,reference", "DEMO-3-1502,10,2026-02-01,代扣,DD-1"
    )
    report = run("payments", content)
    assert report.ok and report.applied, messages(report)


def test_reimport_is_unchanged_and_records_nothing(unit, charges):
    content = payments_csv(
        "DEMO-3-1502,100.00,2026-02-10,银行转账,BANK-001",
        "DEMO-3-1502,20.5,2026-02-12,微信,WX-9",
    )
    assert run("payments", content).applied
    payments = Payment.objects.count()
    allocations = Allocation.objects.count()
    again = run("payments", content)
    assert again.ok, messages(again)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert [row["操作"] for row in again.preview] == ["不变", "不变"]
    assert Payment.objects.count() == payments
    assert Allocation.objects.count() == allocations


def test_cash_rows_without_reference_are_not_recorded_again(unit, charges):
    content = payments_csv(
        "DEMO-3-1502,50,2026-02-11,现金,",
        "DEMO-3-1502,50,2026-02-11,现金,",
        "DEMO-3-1502,50,2026-02-12,现金,",
        "DEMO-3-1502,60,2026-02-11,现金,",
    )
    first = run("payments", content)
    assert first.applied, messages(first)
    # Two identical cash payments in one file are two payments.
    assert first.created == 4
    references = list(Payment.objects.order_by("pk").values_list("reference", flat=True))
    assert len(set(references)) == 4
    assert [r.rsplit("-", 1)[1] for r in references] == ["1", "2", "1", "1"]
    allocations = Allocation.objects.count()

    again = run("payments", content)
    assert again.ok, messages(again)
    assert (again.created, again.unchanged) == (0, 4)
    assert Payment.objects.count() == 4
    assert Allocation.objects.count() == allocations

    # A later file with one more identical payment records only the new one.
    more = run(
        "payments",
        payments_csv(*(["DEMO-3-1502,50,2026-02-11,现金,"] * 3)),
    )
    assert (more.created, more.unchanged) == (1, 2)
    assert Payment.objects.filter(amount_fen=5000, received_on=dt.date(2026, 2, 11)).count() == 3


def test_cash_reference_depends_on_unit_date_amount_and_occurrence():
    base = {"unit_code": "DEMO-3-1502", "received_on": dt.date(2026, 2, 11), "amount_fen": 5000}
    reference = cash_reference_derive(**base, n=1)
    assert reference == cash_reference_derive(**base, n=1)
    assert len(reference) <= 64
    assert reference != cash_reference_derive(**base, n=2)
    assert reference != cash_reference_derive(**{**base, "unit_code": "DEMO-3-1501"}, n=1)
    assert reference != cash_reference_derive(**{**base, "received_on": dt.date(2026, 2, 12)}, n=1)
    assert reference != cash_reference_derive(**{**base, "amount_fen": 5001}, n=1)


def test_dry_run_writes_nothing(unit, charges):
    audit = AuditEntry.objects.count()
    report = run("payments", payments_csv("DEMO-3-1502,100,2026-02-10,银行转账,B-1"), dry_run=True)
    assert report.ok and not report.applied
    assert report.created == 1
    assert not Payment.objects.exists()
    assert AuditEntry.objects.count() == audit


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("DEMO-3-9999,100,2026-02-10,银行转账,B-1", "第2行 房屋编码：房屋编码不存在：DEMO-3-9999"),
        ("DEMO-3-1502,12o,2026-02-10,银行转账,B-1", "第2行 金额：不是有效的数字：12o"),
        ("DEMO-3-1502,-5,2026-02-10,银行转账,B-1", "第2行 金额：必须大于0：-5"),
        ("DEMO-3-1502,0,2026-02-10,银行转账,B-1", "第2行 金额：必须大于0：0"),
        ("DEMO-3-1502,1.234,2026-02-10,银行转账,B-1", "第2行 金额：最多2位小数：1.234"),
        (
            "DEMO-3-1502,100,2026-02-30,银行转账,B-1",
            "第2行 收款日期：日期不存在：2026-02-30",
        ),
        (
            "DEMO-3-1502,100,明天,银行转账,B-1",
            "第2行 收款日期：日期格式不正确：明天（应为 2024-03-01、2024/3/1 或 2024年3月1日）",
        ),
        (
            "DEMO-3-1502,100,2099-01-01,银行转账,B-1",
            "第2行 收款日期：收款日期不能晚于今天：2099-01-01",
        ),
        (
            "DEMO-3-1502,100,2026-02-10,刷卡,B-1",
            "第2行 方式：不是可选的值：刷卡（可选：现金、POS、银行转账、微信、支付宝、代扣）",
        ),
        ("DEMO-3-1502,100,2026-02-10,银行转账,", "第2行 流水号：银行转账收款必须填写流水号"),
        ("DEMO-3-1502,100,2026-02-10,微信,", "第2行 流水号：微信收款必须填写流水号"),
        ("DEMO-3-1502,,2026-02-10,现金,", "第2行 金额：不能为空"),
    ],
)
def test_bad_cell(unit, row, message):
    report = run("payments", payments_csv(row))
    assert messages(report) == [message]
    assert not report.applied
    assert not Payment.objects.exists()


def test_duplicate_reference_in_file_names_both_rows(unit):
    report = run(
        "payments",
        payments_csv(
            "DEMO-3-1502,100,2026-02-10,银行转账,B-1",
            "DEMO-3-1502,100,2026-02-10,微信,B-1",
            "DEMO-3-1502,200,2026-02-11,银行转账,B-1",
        ),
    )
    # The same reference under another channel is a different payment.
    assert messages(report) == ["第4行 流水号：流水号 B-1 在文件中重复（与第2行相同）"]
    assert not Payment.objects.exists()


def test_reference_recorded_for_another_unit_or_amount(unit, other_unit, pay):
    first = pay(10000, dt.date(2026, 2, 1), unit=other_unit, reference="B-7")
    second = pay(10000, dt.date(2026, 2, 1), reference="B-8")
    report = run(
        "payments",
        payments_csv(
            "DEMO-3-1502,100,2026-02-10,银行转账,B-7",
            "DEMO-3-1502,120,2026-02-10,银行转账,B-8",
        ),
    )
    assert messages(report) == [
        f"第2行 流水号：流水号 B-7 已登记为另一笔收款（收据号 {first.receipt_no}）",
        f"第3行 流水号：流水号 B-8 已登记为另一笔收款（收据号 {second.receipt_no}）",
    ]
    assert Payment.objects.count() == 2


def test_one_bad_row_imports_nothing(unit, charges):
    audit = AuditEntry.objects.count()
    report = run(
        "payments",
        payments_csv(
            "DEMO-3-1502,100,2026-02-10,银行转账,B-1",
            "DEMO-3-1502,100,2026-02-10,银行转账,B-2",
            "DEMO-3-1502,abc,2026-02-10,银行转账,B-3",
        ),
    )
    assert messages(report) == ["第4行 金额：不是有效的数字：abc"]
    assert (report.created, report.unchanged) == (2, 0)
    assert not report.applied
    assert not Payment.objects.exists()
    assert not Allocation.objects.exists()
    assert AuditEntry.objects.count() == audit


def test_unit_outside_scope_is_reported_as_unknown(unit, other_unit, make_user, estate):
    cashier = make_user(Role.FINANCE, username="fin-demo", estates=[estate])
    report = run("payments", payments_csv("WEST-1-101,100,2026-02-10,银行转账,B-1"), actor=cashier)
    assert messages(report) == ["第2行 房屋编码：房屋编码不存在：WEST-1-101"]
    assert not Payment.objects.exists()


def test_collector_may_not_import_payments(unit, make_user, estate):
    from propfee.core.roles import PermissionDenied

    viewer = make_user(Role.COLLECTOR, username="col-x", estates=[estate])
    with pytest.raises(PermissionDenied):
        run("payments", payments_csv("DEMO-3-1502,100,2026-02-10,银行转账,B-1"), actor=viewer)


def test_command_line_import(unit, charges, tmp_path, capsys):
    path = tmp_path / "收款.csv"
    path.write_bytes(payments_csv("DEMO-3-1502,100,2026-02-10,银行转账,B-1"))
    call_command("import", "payments", str(path), "--company", "ACME")
    assert Payment.objects.get().reference == "B-1"


def test_template_reads_back_without_header_errors(company):
    report = run("payments", import_template_xlsx("payments"), filename="t.xlsx", dry_run=True)
    assert not [e for e in report.errors if e.row == 1]


def test_import_page_offers_payments_to_finance(client, finance):
    client.force_login(finance)
    page = client.get("/imports/").text
    assert '<option value="payments"' in page
    assert '<option value="units"' not in page
    response = client.get("/imports/templates/payments.xlsx")
    assert response.status_code == 200
