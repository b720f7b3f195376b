"""The charges import (应收): good CSV and XLSX files inserted as charges outside any billing run,
opening balances (已缴金额) recorded as 期初已缴 payments designated to their charge, every bad
cell with its exact message, existing charges never changed, re-imports that change nothing,
all-or-nothing writes, --dry-run, --estate and scope."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from propfee.billing.importers import opening_reference
from propfee.billing.models import Charge
from propfee.billing.services import billing_run_post, fee_item_create
from propfee.core.importing import IMPORT_KINDS, import_template_xlsx
from propfee.core.models import AuditAction, AuditEntry
from propfee.core.roles import PermissionDenied, Role
from propfee.ledger.models import Allocation
from propfee.ledger.selectors import statement_for_unit
from propfee.payments.constants import PaymentChannel
from propfee.payments.models import Payment
from propfee.payments.services import payment_record
from tests.estates.test_imports import csv_bytes, messages, run, xlsx_bytes
from tests.factories import OccupancyFactory, UnitFactory

HEADER = "房屋编码,收费项目,计费开始,计费结束,应收金额,应缴日期,已缴金额"
D = dt.date


def charges_csv(*rows: str) -> bytes:
    return csv_bytes(HEADER, *rows)


def verify() -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("ledger", "verify", stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


@pytest.fixture
def parking_fee(company):
    return fee_item_create(company=company, code="TCF", name="停车管理费", actor=None)


@pytest.fixture
def ready(unit, fee_item, parking_fee, contract):
    """The estate has its fee items and contract; `unit` is DEMO-3-1502."""
    return unit


def test_kind_is_registered():
    kind = IMPORT_KINDS["charges"]
    assert kind.label == "应收"
    assert [(c.name_zh, c.name_en, c.required) for c in kind.columns] == [
        ("房屋编码", "unit", True),
        ("收费项目", "fee_item", True),
        ("计费开始", "period_start", True),
        ("计费结束", "period_end", True),
        ("应收金额", "amount", True),
        ("应缴日期", "due_date", True),
        ("已缴金额", "paid", False),
    ]
    assert kind.capability == "manage_billing"
    assert kind.estate_limit


def test_csv_creates_charges_outside_any_run(ready, owner, finance, fee_item, parking_fee):
    content = charges_csv(
        "demo-3-1502,物业费,2025-01-01,2025-01-31,268.50,2025-01-05,",
        "DEMO-3-1502,wyf,2025/2/1,2025/2/28,268.5,2025/2/5,0",
        'DEMO-3-1502,TCF,2025年3月1日,2025年3月31日,"1,200.00",2025-03-05,',
    )
    report = run("charges", content, actor=finance)
    assert report.ok and report.applied, messages(report)
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    rows = list(
        Charge.objects.order_by("period_start").values_list(
            "unit_id",
            "fee_item_id",
            "period_start",
            "period_end",
            "due_date",
            "principal_fen",
            "payer_id",
            "billing_run_id",
        )
    )
    assert rows == [
        (
            ready.pk,
            fee_item.pk,
            D(2025, 1, 1),
            D(2025, 1, 31),
            D(2025, 1, 5),
            26850,
            owner.pk,
            None,
        ),
        (
            ready.pk,
            fee_item.pk,
            D(2025, 2, 1),
            D(2025, 2, 28),
            D(2025, 2, 5),
            26850,
            owner.pk,
            None,
        ),
        (
            ready.pk,
            parking_fee.pk,
            D(2025, 3, 1),
            D(2025, 3, 31),
            D(2025, 3, 5),
            120000,
            owner.pk,
            None,
        ),
    ]
    assert not Payment.objects.exists()
    audited = AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="billing.charge")
    charge_ids = set(Charge.objects.values_list("pk", flat=True))
    assert {int(e.object_id) for e in audited} == charge_ids
    first = audited.get(object_id=str(Charge.objects.order_by("period_start").first().pk))
    assert first.after == {
        "fee_item": fee_item.pk,
        "period_start": "2025-01-01",
        "period_end": "2025-01-31",
        "due_date": "2025-01-05",
        "principal_fen": 26850,
        "billing_run": None,
    }
    assert first.note == "导入：file.csv"
    summary = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert (summary.object_type, summary.estate_id) == ("import.charges", ready.estate_id)
    assert summary.after["created"] == 3


def test_xlsx_and_english_headers(ready):
    content = xlsx_bytes(
        ["unit", "fee_item", "period_start", "period_end", "amount", "due_date", "paid"],
        [
            "DEMO-3-1502",
            "物业费",
            dt.datetime(2025, 1, 1),
            D(2025, 1, 31),
            Decimal("268.5"),
            D(2025, 1, 5),
            100,
        ],
    )
    report = run("charges", content, filename="应收.xlsx")
    assert report.ok and report.applied, messages(report)
    charge = Charge.objects.get()
    assert (charge.period_start, charge.principal_fen) == (D(2025, 1, 1), 26850)
    assert Payment.objects.get().amount_fen == 10000


def test_opening_balance_is_a_designated_payment_and_the_ledger_verifies(ready, finance):
    content = charges_csv(
        "DEMO-3-1502,物业费,2025-01-01,2025-01-31,268.50,2025-01-05,268.50",
        "DEMO-3-1502,物业费,2025-02-01,2025-02-28,268.50,2025-02-05,100",
        "DEMO-3-1502,物业费,2025-03-01,2025-03-31,268.50,2025-03-05,",
    )
    report = run("charges", content, actor=finance)
    assert report.ok and report.applied, messages(report)
    jan, feb, mar = Charge.objects.order_by("period_start")
    payments = list(Payment.objects.order_by("pk"))
    assert [
        (p.channel, p.reference, p.amount_fen, p.received_on, p.designations, p.recorded_by)
        for p in payments
    ] == [
        (PaymentChannel.OPENING_BALANCE, f"期初-{jan.pk}", 26850, D(2025, 1, 5), [jan.pk], finance),
        (PaymentChannel.OPENING_BALANCE, f"期初-{feb.pk}", 10000, D(2025, 2, 5), [feb.pk], finance),
    ]
    assert opening_reference(jan.pk) == f"期初-{jan.pk}"
    statement = statement_for_unit(unit=ready, as_of=D(2025, 3, 5))
    paid = {line.charge_id: line.position for line in statement.lines}
    assert (paid[jan.pk].principal_paid, paid[jan.pk].principal_outstanding) == (26850, 0)
    assert (paid[feb.pk].principal_paid, paid[feb.pk].principal_outstanding) == (10000, 16850)
    assert (paid[mar.pk].principal_paid, paid[mar.pk].principal_outstanding) == (0, 26850)
    # Paid on the due date: no penalty on what was paid; February's rest accrues from 02-06.
    assert paid[jan.pk].penalty_accrued == 0
    assert statement.unapplied_credit_fen == 0
    output, error = verify()
    assert error is None, output


def test_credit_held_by_the_unit_pays_imported_charges(ready, finance):
    payment_record(
        unit=ready,
        amount_fen=5000,
        received_on=D(2024, 12, 20),
        channel=PaymentChannel.BANK_TRANSFER,
        reference="B-PRE",
        actor=None,
    )
    report = run(
        "charges", charges_csv("DEMO-3-1502,物业费,2025-01-01,2025-01-31,268.50,2025-01-05,")
    )
    assert report.applied, messages(report)
    charge = Charge.objects.get()
    assert list(
        Allocation.objects.filter(superseded_at__isnull=True).values_list(
            "charge_id", "component", "amount_fen"
        )
    ) == [(charge.pk, "principal", 5000)]
    output, error = verify()
    assert error is None, output


def test_reimport_changes_nothing(ready, finance):
    content = charges_csv(
        "DEMO-3-1502,物业费,2025-01-01,2025-01-31,268.50,2025-01-05,268.50",
        "DEMO-3-1502,TCF,2025-01-01,2025-01-31,150,2025-01-05,",
    )
    assert run("charges", content, actor=finance).applied
    before = (
        list(Charge.objects.order_by("pk").values_list()),
        list(Payment.objects.order_by("pk").values_list("pk", "amount_fen", "reference")),
        list(Allocation.objects.order_by("pk").values_list()),
    )
    again = run("charges", content, actor=finance)
    assert again.ok and again.applied, messages(again)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert [row["操作"] for row in again.preview] == ["不变", "不变"]
    after = (
        list(Charge.objects.order_by("pk").values_list()),
        list(Payment.objects.order_by("pk").values_list("pk", "amount_fen", "reference")),
        list(Allocation.objects.order_by("pk").values_list()),
    )
    assert after == before


def test_charge_of_a_billing_run_is_unchanged_when_the_row_matches(ready, finance, fee_item):
    from propfee.billing.constants import TariffBasis
    from propfee.billing.services import tariff_create

    tariff_create(
        fee_item=fee_item,
        estate=ready.estate,
        unit_type=ready.unit_type,
        basis=TariffBasis.FIXED_PER_UNIT_MONTH,
        rate_yuan=Decimal("100"),
        effective_from=D(2026, 1, 1),
        actor=None,
    )
    run_ = billing_run_post(estate=ready.estate, period="2026-01", actor=None)
    billed = Charge.objects.get(billing_run=run_)
    row = f"DEMO-3-1502,WYF,2026-01-01,2026-01-31,100,{billed.due_date.isoformat()},"
    report = run("charges", charges_csv(row))
    assert report.ok, messages(report)
    assert (report.created, report.unchanged) == (0, 1)
    assert Charge.objects.get().billing_run_id == run_.pk


def test_row_differing_from_a_posted_charge_names_every_difference(ready, finance):
    assert run(
        "charges", charges_csv("DEMO-3-1502,物业费,2025-01-01,2025-01-31,268.50,2025-01-05,100")
    ).applied
    report = run(
        "charges", charges_csv("DEMO-3-1502,物业费,2025-01-01,2025-01-30,300,2025-01-10,50")
    )
    assert messages(report) == [
        "第2行 计费结束：与已有应收不同：已有 2025-01-31，文件中为 2025-01-30",
        "第2行 应收金额：与已有应收不同：已有 268.50，文件中为 300.00",
        "第2行 应缴日期：与已有应收不同：已有 2025-01-05，文件中为 2025-01-10",
        "第2行 已缴金额：与已有应收不同：已有 100.00，文件中为 50.00",
    ]
    charge = Charge.objects.get()
    assert (charge.period_end, charge.principal_fen) == (D(2025, 1, 31), 26850)
    assert Payment.objects.get().amount_fen == 10000


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "DEMO-3-9999,物业费,2025-01-01,2025-01-31,100,2025-01-05,",
            "第2行 房屋编码：房屋编码不存在：DEMO-3-9999",
        ),
        (
            "DEMO-3-1502,水费,2025-01-01,2025-01-31,100,2025-01-05,",
            "第2行 收费项目：收费项目不存在：水费",
        ),
        (
            "DEMO-3-1502,物业费,2025-02-30,2025-03-31,100,2025-01-05,",
            "第2行 计费开始：日期不存在：2025-02-30",
        ),
        (
            "DEMO-3-1502,物业费,2025-01-01,一月底,100,2025-01-05,",
            "第2行 计费结束：日期格式不正确：一月底（应为 2024-03-01、2024/3/1 或 2024年3月1日）",
        ),
        (
            "DEMO-3-1502,物业费,2025-01-31,2025-01-01,100,2025-01-05,",
            "第2行 计费结束：计费结束 2025-01-01 早于计费开始 2025-01-31",
        ),
        ("DEMO-3-1502,物业费,2025-01-01,2025-01-31,0,2025-01-05,", "第2行 应收金额：必须大于0：0"),
        (
            "DEMO-3-1502,物业费,2025-01-01,2025-01-31,-5,2025-01-05,",
            "第2行 应收金额：必须大于0：-5",
        ),
        (
            "DEMO-3-1502,物业费,2025-01-01,2025-01-31,100.005,2025-01-05,",
            "第2行 应收金额：最多2位小数：100.005",
        ),
        ("DEMO-3-1502,物业费,2025-01-01,2025-01-31,,2025-01-05,", "第2行 应收金额：不能为空"),
        (
            "DEMO-3-1502,物业费,2025-01-01,2025-01-31,100,,",
            "第2行 应缴日期：不能为空",
        ),
        (
            "DEMO-3-1502,物业费,2025-01-01,2025-01-31,100,2025-01-05,100.01",
            "第2行 已缴金额：已缴金额 100.01 大于应收金额 100.00",
        ),
        (
            "DEMO-3-1502,物业费,2025-01-01,2025-01-31,100,2025-01-05,-1",
            "第2行 已缴金额：不能小于0：-1",
        ),
        (
            "DEMO-3-1502,物业费,2025-01-01,2025-01-31,100,2025-01-05,1.001",
            "第2行 已缴金额：最多2位小数：1.001",
        ),
    ],
)
def test_bad_cell(ready, row, message):
    report = run("charges", charges_csv(row))
    assert messages(report) == [message]
    assert not report.applied
    assert not Charge.objects.exists()


def test_same_charge_twice_in_the_file(ready):
    report = run(
        "charges",
        charges_csv(
            "DEMO-3-1502,物业费,2025-01-01,2025-01-31,100,2025-01-05,",
            "DEMO-3-1502,WYF,2025-01-01,2025-01-31,100,2025-01-05,",
        ),
    )
    assert messages(report) == [
        "第3行：房屋 DEMO-3-1502 的物业费（计费开始 2025-01-01）在文件中重复（与第2行相同）"
    ]
    assert not Charge.objects.exists()


def test_overlapping_periods_are_refused(ready, make_charge_2025):
    make_charge_2025()  # 物业费 2025-01-01 … 2025-03-31 (a quarter)
    report = run(
        "charges",
        charges_csv(
            "DEMO-3-1502,物业费,2025-02-01,2025-02-28,100,2025-02-05,",
            "DEMO-3-1502,物业费,2025-04-01,2025-05-31,100,2025-04-05,",
            "DEMO-3-1502,物业费,2025-05-01,2025-05-31,100,2025-05-05,",
        ),
    )
    assert messages(report) == [
        "第2行 计费开始：计费期间与已有应收重叠（2025-01-01 至 2025-03-31）",
        "第3行 计费开始：计费期间与第4行重叠（2025-05-01 至 2025-05-31）",
        "第4行 计费开始：计费期间与第3行重叠（2025-04-01 至 2025-05-31）",
    ]
    assert Charge.objects.count() == 1


def test_overlap_with_a_long_charge_posted_before_a_short_one(ready, fee_item):
    # A yearly charge, then a monthly one inside it (two runs with different cycles): June
    # overlaps the year even though February starts closer to it.
    for start, end in ((D(2024, 1, 1), D(2024, 12, 31)), (D(2024, 2, 1), D(2024, 2, 29))):
        Charge.objects.create(
            unit=ready,
            fee_item=fee_item,
            period_start=start,
            period_end=end,
            due_date=start,
            principal_fen=1000,
        )
    report = run(
        "charges",
        charges_csv(
            "DEMO-3-1502,物业费,2024-06-01,2024-06-30,100,2024-06-05,",
            "DEMO-3-1502,物业费,2025-01-01,2025-01-31,100,2025-01-05,",
            "DEMO-3-1502,物业费,2025-02-01,2025-06-30,100,2025-02-05,",
            "DEMO-3-1502,物业费,2025-03-01,2025-03-31,100,2025-03-05,",
            "DEMO-3-1502,物业费,2025-05-01,2025-05-31,100,2025-05-05,",
        ),
    )
    assert messages(report) == [
        "第2行 计费开始：计费期间与已有应收重叠（2024-01-01 至 2024-12-31）",
        "第4行 计费开始：计费期间与第5行重叠（2025-03-01 至 2025-03-31）",
        "第5行 计费开始：计费期间与第4行重叠（2025-02-01 至 2025-06-30）",
        "第6行 计费开始：计费期间与第4行重叠（2025-02-01 至 2025-06-30）",
    ]
    assert Charge.objects.count() == 2


@pytest.fixture
def make_charge_2025(ready, fee_item):
    def make():
        return Charge.objects.create(
            unit=ready,
            fee_item=fee_item,
            period_start=D(2025, 1, 1),
            period_end=D(2025, 3, 31),
            due_date=D(2025, 1, 5),
            principal_fen=30000,
        )

    return make


def test_fee_item_name_two_items_share_needs_the_code(ready, company):
    fee_item_create(company=company, code="WYF2", name="物业费", actor=None)
    report = run("charges", charges_csv("DEMO-3-1502,物业费,2025-01-01,2025-01-31,100,2025-01-05,"))
    assert messages(report) == ["第2行 收费项目：有多个收费项目名为“物业费”，请填写编码"]
    by_code = run("charges", charges_csv("DEMO-3-1502,WYF2,2025-01-01,2025-01-31,100,2025-01-05,"))
    assert by_code.applied, messages(by_code)
    assert Charge.objects.get().fee_item.code == "WYF2"


def test_one_bad_row_in_a_thousand_imports_nothing(ready, building, django_assert_max_num_queries):
    units = [ready, *(UnitFactory(building=building, room=f"{2000 + i}") for i in range(9))]
    rows = []
    for u in units:
        for month in range(100):
            start = D(2010 + month // 12, month % 12 + 1, 1)
            end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
            rows.append(f"{u.code},物业费,{start},{end},268.50,{start.replace(day=5)},100")
    rows[499] = rows[499].replace(",268.50,", ",abc,")
    audit = AuditEntry.objects.count()
    with django_assert_max_num_queries(12):
        report = run("charges", charges_csv(*rows))
    assert messages(report) == ["第501行 应收金额：不是有效的数字：abc"]
    assert (report.total_rows, report.created) == (1000, 999)
    assert not report.applied
    assert not Charge.objects.exists()
    assert not Payment.objects.exists()
    assert AuditEntry.objects.count() == audit
    rows[499] = rows[499].replace(",abc,", ",268.50,")
    good = run("charges", charges_csv(*rows))
    assert good.applied, messages(good)
    assert Charge.objects.count() == 1000
    assert Payment.objects.filter(channel=PaymentChannel.OPENING_BALANCE).count() == 1000
    output, error = verify()
    assert error is None, output


def test_dry_run_writes_nothing(ready):
    audit = AuditEntry.objects.count()
    report = run(
        "charges",
        charges_csv("DEMO-3-1502,物业费,2025-01-01,2025-01-31,100,2025-01-05,50"),
        dry_run=True,
    )
    assert report.ok and not report.applied
    assert report.created == 1
    assert not Charge.objects.exists()
    assert not Payment.objects.exists()
    assert AuditEntry.objects.count() == audit


def test_unit_outside_scope_is_reported_as_unknown(ready, other_unit, finance):
    report = run(
        "charges",
        charges_csv("WEST-1-101,物业费,2025-01-01,2025-01-31,100,2025-01-05,"),
        actor=finance,
    )
    assert messages(report) == ["第2行 房屋编码：房屋编码不存在：WEST-1-101"]
    assert not Charge.objects.exists()


def test_estate_limit_refuses_other_estates(ready, other_unit, estate):
    report = run(
        "charges",
        charges_csv(
            "DEMO-3-1502,物业费,2025-01-01,2025-01-31,100,2025-01-05,",
            "WEST-1-101,物业费,2025-01-01,2025-01-31,100,2025-01-05,",
        ),
        estate=estate,
    )
    assert messages(report) == ["第3行 房屋编码：不属于项目 DEMO：WEST-1-101"]
    assert not Charge.objects.exists()


def test_roles_without_billing_may_not_import_charges(ready, make_user, estate):
    cashier = make_user(Role.CUSTOMER_SERVICE, username="kefu-x", estates=[estate])
    with pytest.raises(PermissionDenied):
        run(
            "charges",
            charges_csv("DEMO-3-1502,物业费,2025-01-01,2025-01-31,100,2025-01-05,"),
            actor=cashier,
        )


def test_command_line_import_with_estate(ready, tmp_path):
    path = tmp_path / "应收.csv"
    path.write_bytes(charges_csv("DEMO-3-1502,物业费,2025-01-01,2025-01-31,100,2025-01-05,40"))
    out = io.StringIO()
    call_command(
        "import",
        "charges",
        str(path),
        "--estate",
        "DEMO",
        "--company",
        "ACME",
        "--dry-run",
        stdout=out,
    )
    assert "新增 1" in out.getvalue()
    assert not Charge.objects.exists()
    call_command(
        "import", "charges", str(path), "--estate", "DEMO", "--company", "ACME", stdout=out
    )
    assert Charge.objects.get().principal_fen == 10000
    assert Payment.objects.get().amount_fen == 4000


def test_template_reads_back_without_header_errors(company):
    report = run("charges", import_template_xlsx("charges"), filename="t.xlsx", dry_run=True)
    assert not [e for e in report.errors if e.row == 1]


def test_import_page_offers_charges_to_finance(client, finance):
    client.force_login(finance)
    page = client.get("/imports/").text
    assert '<option value="charges"' in page
    response = client.get("/imports/templates/charges.xlsx")
    assert response.status_code == 200


def test_payments_import_refuses_the_opening_balance_channel(ready):
    report = run(
        "payments",
        csv_bytes("房屋编码,金额,收款日期,方式,流水号", "DEMO-3-1502,10,2025-01-05,期初已缴,X-1"),
    )
    assert messages(report) == [
        "第2行 方式：不是可选的值：期初已缴（可选：现金、POS、银行转账、微信、支付宝、代扣）"
    ]


def test_payer_is_the_payer_on_the_first_day(ready, building):
    old = OccupancyFactory(unit=ready, since=D(2020, 6, 1), until=D(2025, 1, 31))
    new = OccupancyFactory(unit=ready, since=D(2025, 2, 1))
    report = run(
        "charges",
        charges_csv(
            "DEMO-3-1502,物业费,2025-01-01,2025-01-31,100,2025-01-05,",
            "DEMO-3-1502,物业费,2025-02-01,2025-02-28,100,2025-02-05,",
        ),
    )
    assert report.applied, messages(report)
    assert list(Charge.objects.order_by("period_start").values_list("payer_id", flat=True)) == [
        old.party_id,
        new.party_id,
    ]
