"""Imports of estates and units: file reading, header matching, every kind of bad cell with its
exact message, all-or-nothing writes, re-imports, audit rows, scope and query counts."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from propfee.core.importing import (
    IMPORT_KINDS,
    ImportReport,
    RowError,
    import_run,
    import_template_xlsx,
)
from propfee.core.models import AuditAction, AuditEntry
from propfee.core.roles import PermissionDenied, Role
from propfee.core.services import audit_entry_build, model_snapshot
from propfee.estates.constants import UnitStatus, UnitType
from propfee.estates.models import Building, Company, Estate, Unit
from propfee.estates.services import UNIT_FIELDS
from tests.factories import UnitFactory

UNIT_HEADER = "项目编码,楼栋,单元,房号,建筑面积,房屋类型,交房日期,状态"


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def xlsx_bytes(*rows: list, extra_sheets: dict[str, list[list]] | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for title, sheet_rows in (extra_sheets or {}).items():
        other = workbook.create_sheet(title)
        for row in sheet_rows:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(kind: str, content: bytes, *, filename: str = "file.csv", **kwargs) -> ImportReport:
    kwargs.setdefault("actor", None)
    if kwargs["actor"] is None:
        kwargs.setdefault("company", Company.objects.get(code="ACME"))
    return import_run(kind=kind, content=content, filename=filename, **kwargs)


def messages(report: ImportReport) -> list[str]:
    return [str(e) for e in report.errors]


def units_csv(*rows: str) -> bytes:
    return csv_bytes(UNIT_HEADER, *rows)


# --- the interface -------------------------------------------------------------------------


def test_kinds_are_registered_with_columns_and_capabilities():
    assert {"estates", "units", "parties"} <= set(IMPORT_KINDS)
    units = IMPORT_KINDS["units"]
    assert units.label == "房屋"
    assert [c.name_zh for c in units.columns] == [
        "项目编码",
        "楼栋",
        "单元",
        "房号",
        "建筑面积",
        "房屋类型",
        "交房日期",
        "状态",
    ]
    assert [c.name_en for c in units.columns if c.required] == [
        "estate",
        "building",
        "room",
        "area_m2",
    ]
    assert units.capability == "manage_units"
    assert IMPORT_KINDS["estates"].capability == "manage_company"
    assert IMPORT_KINDS["parties"].capability == "manage_parties"


def test_row_error_text():
    assert (
        str(RowError(5, "建筑面积", "不是有效的数字：12o")) == "第5行 建筑面积：不是有效的数字：12o"
    )
    assert str(RowError(7, "", "房屋重复")) == "第7行：房屋重复"
    assert str(RowError(0, "", "文件是空的")) == "文件是空的"


# --- estates -------------------------------------------------------------------------------


def test_estates_import_creates_and_audits(company, admin_user):
    content = csv_bytes(
        "项目编码,项目名称,城市,地址", "demo,阳光花园,杭州,文三路1号", "WEST,西湖苑,,"
    )
    report = run("estates", content, actor=admin_user, filename="项目.csv")
    assert report.ok and report.applied
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    demo = Estate.objects.get(company=company, code="DEMO")
    assert (demo.name, demo.city, demo.address) == ("阳光花园", "杭州", "文三路1号")
    creates = AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="estates.estate")
    assert creates.count() == 2
    assert creates.get(object_id=str(demo.pk)).after["name"] == "阳光花园"
    summary = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert summary.actor == admin_user
    assert summary.object_repr == "项目.csv"
    assert "项目.csv" in summary.note and "新增2" in summary.note


def test_estates_blank_optional_cell_keeps_value_and_changes_update(estate, admin_user):
    content = csv_bytes("code,name,city", "DEMO,阳光花园二期,")
    report = run("estates", content, actor=admin_user)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    estate.refresh_from_db()
    assert (estate.name, estate.city) == ("阳光花园二期", "杭州")
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE)
    assert entry.before == {"name": "阳光花园"}
    assert entry.after == {"name": "阳光花园二期"}


def test_bad_estate_code(company):
    report = run("estates", csv_bytes("项目编码,项目名称", "DE-MO,阳光花园"))
    assert messages(report) == ["第2行 项目编码：项目编码只能包含大写字母、数字和下划线：DE-MO"]


def test_estate_code_twice_in_file(company):
    report = run("estates", csv_bytes("项目编码,项目名称", "DEMO,甲", "DEMO,乙"))
    assert messages(report) == ["第3行 项目编码：项目编码在文件中重复（与第2行相同）：DEMO"]
    assert not Estate.objects.exists()


def test_text_too_long(company):
    report = run("estates", csv_bytes("项目编码,项目名称,城市", f"DEMO,甲,{'杭' * 65}"))
    assert messages(report) == ["第2行 城市：不能超过64个字符"]


# --- file reading --------------------------------------------------------------------------


def test_utf8_with_bom(estate):
    content = b"\xef\xbb\xbf" + units_csv("DEMO,3,,1502,89.50,住宅,2020-06-01,已入住")
    report = run("units", content)
    assert report.ok and report.created == 1
    assert Unit.objects.get().code == "DEMO-3-1502"


def test_utf8_without_bom(estate):
    report = run("units", units_csv("DEMO,3,,1502,89.50,住宅,2020-06-01,已入住"))
    assert report.ok and report.created == 1


def test_gbk_encoded_csv_with_chinese_headers(estate):
    content = units_csv('DEMO,3栋,2单元,301,"1,089.50",商铺,2024年3月1日,空置')
    report = run("units", content.decode().encode("gbk"), filename="房屋.csv")
    assert report.ok, messages(report)
    unit = Unit.objects.get()
    assert unit.code == "DEMO-3-2-301"
    assert unit.building.code == "3" and unit.building.name == "3栋"
    assert unit.area_m2 == Decimal("1089.50")
    assert unit.unit_type == UnitType.SHOP and unit.status == UnitStatus.VACANT
    assert unit.handover_date == dt.date(2024, 3, 1)
    assert unit.floor == 3


def test_gb18030_only_characters_decode(estate):
    content = "项目编码,项目名称\nDEMO,𠀀花园\n".encode("gb18030")
    report = run("estates", content, actor=None, company=estate.company)
    assert report.ok
    assert Estate.objects.get(code="DEMO").name == "𠀀花园"


def test_undecodable_file(company):
    content = "项目编码,项目名称\n".encode("gbk") + b"DEMO,\xff\xfe\xff\n"
    report = run("estates", content)
    assert messages(report) == [
        "无法识别文件编码：请将文件另存为“CSV UTF-8（逗号分隔）”或 XLSX 后重新导入"
    ]
    assert report.errors[0].row == 0


def test_empty_file(company):
    assert messages(run("estates", b"")) == ["文件是空的"]
    assert messages(run("estates", b"\n \n,,\n")) == ["文件是空的"]


def test_header_only_file(company):
    report = run("estates", csv_bytes("项目编码,项目名称", "", ","))
    assert messages(report) == ["文件中没有数据行（只有表头）"]


def test_old_xls_file_is_refused(company):
    report = run("estates", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, filename="a.xls")
    assert messages(report) == ["不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV"]


def test_damaged_xlsx(company):
    report = run("estates", b"PK\x03\x04garbage", filename="a.xlsx")
    assert messages(report) == ["无法读取 XLSX 文件：文件已损坏或不是 Excel 文件"]


def test_blank_lines_are_ignored_and_row_numbers_stay_as_in_excel(estate):
    content = csv_bytes(UNIT_HEADER, "", "DEMO,3,,1502,89.5,,,", ",,,,,,,", "DEMO,3,,1503,12o,,,")
    report = run("units", content)
    assert report.total_rows == 2
    assert messages(report) == ["第5行 建筑面积：不是有效的数字：12o"]


def test_headers_ignore_case_spaces_and_order(estate):
    content = csv_bytes(" AREA_M2 ,Room, Building ,ESTATE", "70,101,1,DEMO")
    report = run("units", content)
    assert report.ok, messages(report)
    assert Unit.objects.get().code == "DEMO-1-101"


def test_xlsx_with_english_headers_and_date_cells(estate):
    content = xlsx_bytes(
        ["estate", "building", "entrance", "room", "area_m2", "type", "handover_date", "status"],
        ["DEMO", 3, None, 1502, 89.5, "residential", dt.datetime(2020, 6, 1), "occupied"],
        ["DEMO", "3", "", "1503", 100, "车位", dt.date(2021, 1, 2), "空置"],
    )
    report = run("units", content, filename="units.xlsx")
    assert report.ok, messages(report)
    first, second = Unit.objects.order_by("code")
    assert (first.code, first.area_m2, first.handover_date) == (
        "DEMO-3-1502",
        Decimal("89.50"),
        dt.date(2020, 6, 1),
    )
    assert (second.code, second.unit_type, second.status) == (
        "DEMO-3-1503",
        UnitType.PARKING,
        UnitStatus.VACANT,
    )
    assert second.area_m2 == Decimal("100.00")


def test_xlsx_reads_only_the_first_sheet(estate):
    content = xlsx_bytes(
        ["项目编码", "楼栋", "房号", "建筑面积"],
        ["DEMO", "3", "1502", "89.5"],
        extra_sheets={"说明": [["这里不是数据"], ["随便写", "=1+1", "#N/A"]]},
    )
    report = run("units", content, filename="units.xlsx")
    assert report.ok, messages(report)
    assert report.total_rows == 1
    assert list(Unit.objects.values_list("code", flat=True)) == ["DEMO-3-1502"]


def test_xlsx_formula_cells_are_errors(estate):
    content = xlsx_bytes(
        ["项目编码", "楼栋", "房号", "建筑面积"],
        ["DEMO", "3", "1502", "=80+9.5"],
        ["DEMO", "3", "1503", 70],
    )
    report = run("units", content, filename="units.xlsx")
    assert messages(report) == ["第2行 建筑面积：单元格含有公式，请复制后“粘贴为数值”再导入"]
    assert not Unit.objects.exists()


def test_xlsx_error_cells_are_errors(estate):
    content = xlsx_bytes(["项目编码", "楼栋", "房号", "建筑面积"], ["DEMO", "3", "1502", "#N/A"])
    report = run("units", content, filename="units.xlsx")
    assert messages(report) == ["第2行 建筑面积：单元格是错误值：#N/A"]


def test_xlsx_blank_rows_keep_excel_row_numbers(estate):
    content = xlsx_bytes(
        ["项目编码", "楼栋", "房号", "建筑面积"],
        ["DEMO", "3", "1502", 80],
        [],
        [None, None, None, None],
        ["DEMO", "3", "1503", -2],
    )
    report = run("units", content, filename="units.xlsx")
    assert messages(report) == ["第5行 建筑面积：必须大于0：-2"]


# --- headers -------------------------------------------------------------------------------


def test_wrong_headers(company):
    report = run("estates", csv_bytes("编号,名字", "DEMO,阳光花园"))
    known = "项目编码/code、项目名称/name、城市/city、地址/address"
    assert messages(report) == [
        f"第1行 编号：无法识别的列名（可用的列：{known}）",
        f"第1行 名字：无法识别的列名（可用的列：{known}）",
        "第1行 项目编码：缺少必填列",
        "第1行 项目名称：缺少必填列",
    ]


def test_missing_required_header(estate):
    report = run("units", csv_bytes("项目编码,楼栋,房号", "DEMO,3,1502"))
    assert messages(report) == ["第1行 建筑面积：缺少必填列"]


def test_same_column_twice(estate):
    report = run("units", csv_bytes("项目编码,楼栋,房号,建筑面积,area_m2", "DEMO,3,1502,1,1"))
    assert messages(report) == ["第1行 area_m2：列重复：与“建筑面积”是同一列"]


def test_more_cells_than_headers(estate):
    report = run("units", csv_bytes("项目编码,楼栋,房号,建筑面积", "DEMO,3,1502,1,089.50"))
    assert messages(report) == ["第2行：该行比表头多出1列（数字中的逗号需加引号）"]


# --- cells of the units file ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("DEMO,3,,,89.5,,,", "第2行 房号：不能为空"),
        ("DEMO,3,,1502,12o,,,", "第2行 建筑面积：不是有效的数字：12o"),
        ("DEMO,3,,1502,-5,,,", "第2行 建筑面积：必须大于0：-5"),
        ("DEMO,3,,1502,0,,,", "第2行 建筑面积：必须大于0：0"),
        ("DEMO,3,,1502,89.555,,,", "第2行 建筑面积：最多2位小数：89.555"),
        ("DEMO,3,,1502,123456789,,,", "第2行 建筑面积：数值过大：123456789"),
        (
            "DEMO,3,,1502,89.5,别墅,,",
            "第2行 房屋类型：不是可选的值：别墅（可选：住宅、商铺、车位、办公）",
        ),
        (
            "DEMO,3,,1502,89.5,,,出租",
            "第2行 状态：不是可选的值：出租（可选：已入住、空置、装修中）",
        ),
        ("DEMO,3,,1502,89.5,,2024-13-01,", "第2行 交房日期：日期不存在：2024-13-01"),
        (
            "DEMO,3,,1502,89.5,,昨天,",
            "第2行 交房日期：日期格式不正确：昨天（应为 2024-03-01、2024/3/1 或 2024年3月1日）",
        ),
        ("DEMO,3,,1502,89.5,,2024/2/30,", "第2行 交房日期：日期不存在：2024/2/30"),
        ("DEMO,A座,,1502,89.5,,,", "第2行 楼栋：楼栋只能包含字母、数字和下划线：A座"),
        ("DEMO,3,,15#02,89.5,,,", "第2行 房号：房号只能包含字母、数字、下划线和短横线：15#02"),
        ("NOPE,3,,1502,89.5,,,", "第2行 项目编码：项目编码不存在：NOPE"),
    ],
)
def test_bad_unit_cells(estate, row, expected):
    report = run("units", units_csv(row))
    assert messages(report) == [expected]
    assert not report.applied
    assert not Unit.objects.exists()


def test_chinese_labels_are_accepted_whatever_language_is_active(estate):
    from django.utils import translation

    from propfee.core.importing import choice_parser

    with translation.override("en"):
        parse = choice_parser(UnitType)
        assert parse("商铺") == "shop"
        assert parse("Parking") == "parking"
        with pytest.raises(ValueError, match="可选：住宅、商铺、车位、办公"):
            parse("villa")
        report = run("units", units_csv("DEMO,3,,1502,89.5,商铺,,"))
    assert report.ok and Unit.objects.get().unit_type == UnitType.SHOP


def test_area_accepts_grouping_and_trailing_zeros(estate):
    report = run("units", units_csv('DEMO,3,,1502,"1,089.50",,,', "DEMO,3,,1503,89.500,,,"))
    assert report.ok, messages(report)
    assert sorted(Unit.objects.values_list("area_m2", flat=True)) == [
        Decimal("89.50"),
        Decimal("1089.50"),
    ]


@pytest.mark.parametrize(
    "text", ["2024-03-01", "2024/3/1", "2024年3月1日", "2024.3.1", "2024-03-01 00:00:00"]
)
def test_date_formats(estate, text):
    report = run("units", units_csv(f"DEMO,3,,1502,89.5,,{text},"))
    assert report.ok, messages(report)
    assert Unit.objects.get().handover_date == dt.date(2024, 3, 1)


@pytest.mark.parametrize(
    ("label", "code", "name"),
    [("3", "3", "3栋"), ("12号楼", "12", "12栋"), ("5幢", "5", "5栋"), ("B", "B", "B")],
)
def test_building_labels_become_codes(estate, label, code, name):
    report = run("units", units_csv(f"DEMO,{label},2单元,301,70,,,"))
    assert report.ok, messages(report)
    unit = Unit.objects.get()
    assert (unit.building.code, unit.building.name, unit.entrance) == (code, name, "2")
    assert unit.code == f"DEMO-{code}-2-301"


def test_unit_twice_in_one_file(estate):
    report = run("units", units_csv("DEMO,3,,1502,89.5,,,", "DEMO,3栋,,1502,90,,,"))
    assert messages(report) == ["第3行：房屋 DEMO-3-1502 在文件中重复（与第2行相同）"]


def test_several_errors_are_all_reported_in_reading_order(estate):
    report = run("units", units_csv("NOPE,3,,1502,12o,,,", "DEMO,3,,1503,0,别墅,,"))
    assert messages(report) == [
        "第2行 项目编码：项目编码不存在：NOPE",
        "第2行 建筑面积：不是有效的数字：12o",
        "第3行 建筑面积：必须大于0：0",
        "第3行 房屋类型：不是可选的值：别墅（可选：住宅、商铺、车位、办公）",
    ]
    assert report.preview[0]["操作"] == "错误"


# --- scope and permission ------------------------------------------------------------------


def test_estate_outside_actor_scope_is_reported_as_unknown(make_user, estate, other_estate):
    manager = make_user(Role.MANAGER, estates=[estate])
    report = run("units", units_csv("WEST,1,,101,89.5,,,"), actor=manager)
    assert messages(report) == ["第2行 项目编码：项目编码不存在：WEST"]
    report = run("units", units_csv("DEMO,1,,101,89.5,,,"), actor=manager)
    assert report.ok and report.applied


def test_building_scoped_manager_cannot_add_other_buildings(make_user, building):
    manager = make_user(Role.MANAGER, buildings=[building])
    report = run("units", units_csv("DEMO,3,,101,89.5,,,", "DEMO,4,,101,89.5,,,"), actor=manager)
    assert messages(report) == ["第3行 楼栋：楼栋不在您的负责范围内：4"]


def test_collector_may_not_import(collector, estate):
    with pytest.raises(PermissionDenied):
        run("units", units_csv("DEMO,3,,1502,89.5,,,"), actor=collector)
    assert not Unit.objects.exists()


def test_actor_of_another_company_is_refused(make_user, estate):
    from tests.factories import CompanyFactory

    outsider = make_user(Role.ADMIN, company=CompanyFactory(code="OTHER"))
    with pytest.raises(PermissionDenied):
        run("units", units_csv("DEMO,3,,1502,89.5,,,"), actor=outsider, company=estate.company)


def test_company_defaults_to_the_actors(admin_user, estate):
    report = run("units", units_csv("DEMO,3,,1502,89.5,,,"), actor=admin_user)
    assert report.ok and Unit.objects.get().estate == estate


# --- all or nothing, re-import, audit ------------------------------------------------------


def test_reimport_creates_no_duplicates(estate, admin_user):
    content = units_csv("DEMO,3,,1502,89.5,住宅,2020-06-01,已入住", "DEMO,5,1,101,70,,,")
    first = run("units", content, actor=admin_user)
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    audit_rows = AuditEntry.objects.count()
    second = run("units", content, actor=admin_user)
    assert second.ok and second.applied
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert [p["操作"] for p in second.preview] == ["不变", "不变"]
    assert Unit.objects.count() == 2
    assert Building.objects.filter(estate=estate).count() == 2
    # Only the summary row of the second run.
    assert AuditEntry.objects.count() == audit_rows + 1


def test_changed_row_updates_with_before_and_after(unit, admin_user):
    content = units_csv("DEMO,3,,1502,95.20,,,空置")
    report = run("units", content, actor=admin_user)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    assert report.preview[0]["操作"] == "更新"
    unit.refresh_from_db()
    assert unit.area_m2 == Decimal("95.20")
    assert unit.status == UnitStatus.VACANT
    assert unit.handover_date == dt.date(2020, 6, 1)  # blank cell: kept
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE)
    assert (entry.object_type, entry.object_id) == ("estates.unit", str(unit.pk))
    assert entry.before == {"area_m2": "89.50", "status": "occupied"}
    assert entry.after == {"area_m2": "95.20", "status": "vacant"}
    assert entry.actor == admin_user
    assert entry.estate_id == unit.estate_id


def test_audit_rows_per_created_object(estate, admin_user):
    report = run("units", units_csv("DEMO,7,,101,70,,,", "DEMO,7,,102,70,,,"), actor=admin_user)
    assert report.applied
    creates = AuditEntry.objects.filter(action=AuditAction.CREATE)
    assert sorted(creates.values_list("object_type", flat=True)) == [
        "estates.building",
        "estates.unit",
        "estates.unit",
    ]
    unit = Unit.objects.get(code="DEMO-7-101")
    after = creates.get(object_type="estates.unit", object_id=str(unit.pk)).after
    assert after["code"] == "DEMO-7-101" and after["area_m2"] == "70.00"
    summary = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert summary.object_type == "import.units"
    assert summary.estate_id == estate.pk
    assert summary.after["created"] == 2


def test_bulk_audit_rows_equal_what_audit_entry_build_makes(estate, admin_user):
    content = units_csv("DEMO,7,,101,70.5,商铺,2021-02-03,空置")
    assert run("units", content, actor=admin_user, filename="a.csv").applied
    unit = Unit.objects.get(code="DEMO-7-101")
    building = unit.building
    expected = [
        audit_entry_build(
            actor=admin_user,
            action=AuditAction.CREATE,
            obj=unit,
            estate_id=unit.estate_id,
            after=model_snapshot(unit, UNIT_FIELDS),
            note="导入：a.csv",
        ),
        audit_entry_build(
            actor=admin_user,
            action=AuditAction.CREATE,
            obj=building,
            estate_id=estate.pk,
            after={"estate": estate.pk, "code": "7", "name": "7栋"},
            note="导入：a.csv",
        ),
    ]
    fields = ["actor_id", "action", "object_type", "object_id", "object_repr", "estate_id"]
    fields += ["before", "after", "note"]
    for entry in expected:
        stored = AuditEntry.objects.get(object_type=entry.object_type, object_id=entry.object_id)
        assert {f: getattr(stored, f) for f in fields} == {f: getattr(entry, f) for f in fields}


def test_dry_run_writes_nothing(estate, admin_user):
    report = run("units", units_csv("DEMO,3,,1502,89.5,,,"), actor=admin_user, dry_run=True)
    assert report.ok and report.dry_run and not report.applied
    assert report.created == 1
    assert report.preview == [
        {
            "项目编码": "DEMO",
            "楼栋": "3",
            "单元": "",
            "房号": "1502",
            "建筑面积": "89.5",
            "房屋类型": "",
            "交房日期": "",
            "状态": "",
            "操作": "新增",
        }
    ]
    assert not Unit.objects.exists()
    assert not Building.objects.filter(code="3").exists()
    assert not AuditEntry.objects.exists()


def test_thousand_rows_with_one_bad_row_import_nothing(estate):
    rows = [f"DEMO,{n // 100 + 1},,{n % 100 + 101},88.8,,," for n in range(1000)]
    rows[736] = rows[736].replace("88.8", "8o.8")
    report = run("units", units_csv(*rows))
    assert report.total_rows == 1000
    assert messages(report) == ["第738行 建筑面积：不是有效的数字：8o.8"]
    assert len(report.preview) == 50
    assert not report.applied
    assert not Unit.objects.exists()
    assert not Building.objects.exists()
    assert not AuditEntry.objects.exists()


def test_conflicting_write_during_import_rolls_everything_back(estate, monkeypatch):
    from propfee.estates.importers import units as units_importer

    original = units_importer._units_insert

    def racing(ctx, audit, drafts, building_ids):
        # Someone else creates the same unit between the check and the write.
        UnitFactory(building=Building.objects.get(estate=estate, code="8"), room="101")
        original(ctx, audit, drafts, building_ids)

    monkeypatch.setattr(units_importer, "_units_insert", racing)
    report = run("units", units_csv("DEMO,8,,101,70,,,", "DEMO,8,,102,70,,,"))
    assert messages(report) == ["导入失败，未写入任何数据：数据在导入期间被他人修改，请重新导入"]
    assert not report.applied
    assert not Unit.objects.exists()
    assert not Building.objects.filter(code="8").exists()
    assert not AuditEntry.objects.exists()


def test_progress_is_reported_to_the_end(estate):
    calls = []
    rows = [f"DEMO,1,,{n + 101},80,,," for n in range(2500)]
    report = run(
        "units", units_csv(*rows), progress=lambda done, total: calls.append((done, total))
    )
    assert report.applied
    assert calls[0] == (0, 5000)
    assert calls[-1] == (5000, 5000)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def _unit_rows(count: int, area: str = "88.8") -> list[str]:
    return [f"DEMO,{n // 50 + 1},,{n % 50 + 101},{area},,2020-01-01," for n in range(count)]


def test_units_import_query_count_does_not_grow_per_row(estate, django_assert_max_num_queries):
    # Look-ups are one query per table and new rows one bulk insert per table, whatever the
    # row count; only bulk_update splits into batches (of a few hundred rows on SQLite).
    with django_assert_max_num_queries(12):
        report = run("units", units_csv(*_unit_rows(500)))
    assert report.applied and Unit.objects.count() == 500
    with django_assert_max_num_queries(12):
        report = run("units", units_csv(*_unit_rows(500, "99.9")))
    assert report.updated == 500


def test_query_count_is_the_same_for_100_and_500_rows(estate):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for count in (100, 500):
        Unit.objects.all().delete()
        Building.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            assert run("units", units_csv(*_unit_rows(count))).applied
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- template ------------------------------------------------------------------------------


def test_template_has_headers_example_and_notes(estate):
    content = import_template_xlsx("units")
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["房屋", "说明"]
    sheet = workbook["房屋"]
    assert [c.value for c in sheet[1]] == [
        "项目编码",
        "楼栋",
        "单元",
        "房号",
        "建筑面积",
        "房屋类型",
        "交房日期",
        "状态",
    ]
    notes = workbook["说明"]
    assert [c.value for c in notes[1]] == ["列名", "英文列名", "必填", "说明", "示例"]
    assert notes["A6"].value == "建筑面积" and notes["C6"].value == "是"
    # The template as downloaded imports its example row.
    report = run("units", content, filename="template.xlsx")
    assert report.ok, messages(report)
    assert Unit.objects.get().code == "DEMO-3-1502"


@pytest.mark.parametrize("kind", ["estates", "units", "parties"])
def test_every_template_reads_back_without_header_errors(company, kind):
    report = run(kind, import_template_xlsx(kind), filename="t.xlsx", dry_run=True)
    assert not [e for e in report.errors if e.row == 1]


def test_kinds_are_discovered_from_the_importers_package_in_a_fresh_process(tmp_path):
    # In this process the test modules import the importers themselves; a fresh interpreter
    # shows that reading IMPORT_KINDS alone finds every app's importers (estates, payments).
    code = (
        "import sys, django; django.setup(); "
        "from propfee.core.importing import IMPORT_KINDS; "
        "assert 'propfee.estates.importers' not in sys.modules; "
        "print(','.join(IMPORT_KINDS))"
    )
    env = {**os.environ, "PROPFEE_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.setdefault("DJANGO_SETTINGS_MODULE", "propfee.settings")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "estates,units,parties,charges,payments"
