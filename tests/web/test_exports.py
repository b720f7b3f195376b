"""Excel export: the mechanism itself (propfee.core.exporting) and every list's ?export=xlsx."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from propfee.core.exporting import (
    Column,
    ColumnKind,
    ExportList,
    export_response,
    export_xlsx,
)
from propfee.core.models import AuditAction, AuditEntry
from propfee.core.services import audit_record
from propfee.estates.models import Unit
from tests.factories import UnitFactory

pytestmark = pytest.mark.django_db


def _sheet(content: bytes):
    workbook = load_workbook(io.BytesIO(content))
    return workbook, workbook.worksheets[0]


def _download(response) -> bytes:
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return b"".join(response.streaming_content)


# --- the mechanism ---------------------------------------------------------------------

CHARGES = ExportList(
    name="应收明细",
    object_type="test.charge",
    columns=[
        Column("房屋编码", "unit"),
        Column("应收金额", "amount_fen", ColumnKind.MONEY_FEN),
        Column("应缴日期", "due_date", ColumnKind.DATE),
        Column("入账时间", "posted_at", ColumnKind.DATETIME),
        Column("月数", "months", ColumnKind.NUMBER),
        Column("缴费人手机", "phones", ColumnKind.PHONE),
        Column("证件号", "id_number", ColumnKind.ID_NUMBER),
        Column("备注", lambda row: row["note"]),
    ],
)

ROWS = [
    {
        "unit": "DEMO-3-1502",
        "amount_fen": 123450,
        "due_date": dt.date(2026, 3, 15),
        "posted_at": dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC),
        "months": 3,
        "phones": ["10012345678", "10087654321"],
        "id_number": "110101199003071234",
        "note": '=HYPERLINK("http://x")',
    },
    {
        "unit": "DEMO-3-1601",
        "amount_fen": 5,
        "due_date": None,
        "posted_at": None,
        "months": 0,
        "phones": [],
        "id_number": "",
        "note": "bell\x07",
    },
]


def test_mechanism_writes_typed_cells_and_masks_personal_data(collector):
    written = export_xlsx(actor=collector, export=CHARGES, rows=ROWS, about={"筛选条件": "无"})
    assert written.row_count == 2 and not written.truncated
    assert written.filename.startswith("应收明细-") and written.filename.endswith(".xlsx")
    workbook, sheet = _sheet(written.file.read())
    assert [c.value for c in sheet[1]] == [c.header for c in CHARGES.columns]
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"

    money, due, posted = sheet["B2"], sheet["C2"], sheet["D2"]
    assert money.value == Decimal("1234.5") and money.data_type == "n"
    assert money.number_format == "#,##0.00"
    assert Decimal(str(sheet["B3"].value)) == Decimal("0.05")
    assert due.is_date and due.value == dt.datetime(2026, 3, 15)
    assert due.number_format == "yyyy-mm-dd"
    assert posted.is_date and posted.value == dt.datetime(2026, 3, 1, 9, 30)  # Asia/Shanghai
    assert sheet["E2"].value == 3
    assert sheet["F2"].value == "100****5678、100****4321"
    assert sheet["G2"].value == "110***********1234"
    # A formula-looking text stays text; control characters are dropped.
    assert sheet["H2"].data_type == "s" and sheet["H2"].value == '=HYPERLINK("http://x")'
    assert sheet["H3"].value == "bell"
    assert sheet["C3"].value is None and sheet["F3"].value is None

    about = {row[0].value: row[1].value for row in workbook["导出说明"].iter_rows()}
    assert about["列表"] == "应收明细" and about["行数"] == 2 and about["筛选条件"] == "无"
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.actor == collector
    assert entry.object_type == "test.charge"
    assert entry.note == "应收明细：2行"


def test_mechanism_stops_at_the_row_limit(settings, collector):
    settings.PROPFEE_EXPORT_MAX_ROWS = 1
    written = export_xlsx(actor=collector, export=CHARGES, rows=ROWS)
    assert written.row_count == 1 and written.truncated
    workbook, sheet = _sheet(written.file.read())
    assert sheet.max_row == 2
    about = {row[0].value: row[1].value for row in workbook["导出说明"].iter_rows()}
    assert "仅导出前 1 行" in about["提示"]
    assert "已截断" in AuditEntry.objects.get(action=AuditAction.EXPORT).note


def test_mechanism_response_has_a_chinese_file_name(collector):
    response = export_response(actor=collector, export=CHARGES, rows=ROWS)
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="export-')
    assert f"filename*=UTF-8''{quote('应收明细')}-" in disposition
    _download(response)


def test_mechanism_streams_a_queryset(collector, building):
    for room in ("101", "102", "103"):
        UnitFactory(building=building, room=room)
    written = export_xlsx(
        actor=collector,
        export=ExportList(name="房屋", columns=[Column("房屋编码", "code")]),
        rows=Unit.objects.order_by("code"),
    )
    _, sheet = _sheet(written.file.read())
    assert [r[0].value for r in sheet.iter_rows(min_row=2)] == [
        "DEMO-3-101",
        "DEMO-3-102",
        "DEMO-3-103",
    ]


# --- the lists -------------------------------------------------------------------------


def test_unit_list_export_keeps_the_filters(signed_in, collector, unit, owner, more_units):
    response = signed_in(collector).get("/units/", {"q": "5678", "export": "xlsx"})
    assert quote("房屋列表") in response["Content-Disposition"]
    workbook, sheet = _sheet(_download(response))
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["房屋编码", "项目", "楼栋"]
    assert "缴费人手机" in headers and "交房日期" in headers
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == ["DEMO-3-1502", "DEMO-3-1601"]
    first = dict(zip(headers, rows[0], strict=True))
    assert first["缴费人"] == "王建国"
    assert first["缴费人手机"] == "100****5678"
    assert first["建筑面积(㎡)"] == Decimal("89.5")
    assert first["交房日期"] == dt.datetime(2020, 6, 1)
    handover = sheet.cell(row=2, column=headers.index("交房日期") + 1)
    assert handover.is_date and handover.number_format == "yyyy-mm-dd"
    about = {r[0].value: r[1].value for r in workbook["导出说明"].iter_rows()}
    assert about["筛选条件"] == "搜索：5678"
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert (entry.actor, entry.note) == (collector, "房屋列表：2行")


def test_party_list_export_masks_phones(signed_in, collector, owner, tenant):
    content = _download(signed_in(collector).get("/parties/", {"export": "xlsx"}))
    _, sheet = _sheet(content)
    headers = [c.value for c in sheet[1]]
    rows = [
        dict(zip(headers, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert [r["姓名"] for r in rows] == ["李晓梅", "王建国"]
    assert rows[0]["手机"] == "100****4321"
    assert rows[0]["证件号"] == "110***********1234"
    assert rows[1]["手机"] == "100****5678"
    assert b"10012345678" not in content


@pytest.mark.parametrize(
    ("path", "name", "first_header"),
    [
        ("/estates/", "项目列表", "项目编码"),
        ("/estates/DEMO/", "楼栋列表", "项目编码"),
        ("/estates/DEMO/buildings/3/", "房屋列表", "房屋编码"),
        ("/audit/", "操作日志", "时间"),
    ],
)
def test_every_list_exports(signed_in, manager, unit, owner, path, name, first_header):
    audit_record(actor=manager, action=AuditAction.UPDATE, obj=unit, estate_id=unit.estate_id)
    response = signed_in(manager).get(path, {"export": "xlsx"})
    assert quote(name) in response["Content-Disposition"]
    _, sheet = _sheet(_download(response))
    assert sheet["A1"].value == first_header
    assert sheet.max_row >= 2
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT, note__startswith=name).exists()


def test_mechanism_refuses_money_that_is_not_integer_fen(collector):
    export = ExportList(name="错误示例", columns=[Column("金额", "amount", ColumnKind.MONEY_FEN)])
    with pytest.raises(TypeError, match="integer fen"):
        export_xlsx(actor=collector, export=export, rows=[{"amount": 12.5}])
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()
