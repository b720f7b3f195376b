"""`propfee import KIND FILE --estate CODE` and `import_run(estate=…)`: an import limited to
one estate, for units (项目编码 optional, other estates refused), parties (every 房屋编码 in
that estate) and estates (refused), with the exact messages."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from propfee.core.models import AuditAction, AuditEntry
from propfee.core.roles import Role
from propfee.estates.models import Building, Estate, Occupancy, Party, Unit
from tests.estates.test_import_parties import parties_csv
from tests.estates.test_imports import csv_bytes, messages, run, units_csv
from tests.factories import CompanyFactory, EstateFactory


@pytest.fixture
def write_file(tmp_path):
    def write(content: bytes, name: str = "file.csv") -> str:
        path = tmp_path / name
        path.write_bytes(content)
        return str(path)

    return write


def import_command(*args: str) -> tuple[list[str], CommandError | None]:
    out = io.StringIO()
    try:
        call_command("import", *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return out.getvalue().splitlines(), exc
    return out.getvalue().splitlines(), None


# --- units -------------------------------------------------------------------------------


def test_units_file_without_estate_column_goes_to_the_estate(estate, other_estate, write_file):
    path = write_file(csv_bytes("楼栋,房号,建筑面积", "3,1502,89.5", "3,1503,90"))
    out, error = import_command("units", path, "--estate", "DEMO")
    assert error is None, out
    assert out == ["房屋导入 file.csv：共2行，新增 2，更新 0，不变 0，错误 0"]
    assert sorted(Unit.objects.values_list("estate__code", "code")) == [
        ("DEMO", "DEMO-3-1502"),
        ("DEMO", "DEMO-3-1503"),
    ]
    summary = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert summary.estate_id == estate.pk


def test_blank_estate_cell_means_the_estate_and_its_own_code_is_accepted(estate, write_file):
    path = write_file(units_csv(",3,,1502,89.5,,,", "DEMO,3,,1503,90,,,", "demo,3,,1504,91,,,"))
    out, error = import_command("units", path, "--estate", "demo")
    assert error is None, out
    assert "新增 3" in out[0]
    assert set(Unit.objects.values_list("estate_id", flat=True)) == {estate.pk}


def test_row_of_another_estate_is_an_error_and_nothing_is_written(estate, other_estate, write_file):
    path = write_file(
        units_csv(
            "DEMO,3,,1502,89.5,,,", "WEST,3,,1503,90,,,", ",3,,1504,91,,,", "NOPE,1,,101,9,,,"
        )
    )
    out, error = import_command("units", path, "--estate", "DEMO")
    assert str(error) == "导入失败：2 处错误，未写入任何数据"
    assert out == [
        "房屋导入 file.csv：共4行，新增 2，更新 0，不变 0，错误 2",
        "第3行 项目编码：不属于项目 DEMO：WEST",
        "第5行 项目编码：不属于项目 DEMO：NOPE",
    ]
    assert not Unit.objects.exists()
    assert not Building.objects.exists()
    assert not AuditEntry.objects.exists()


def test_without_the_option_the_estate_column_stays_required(estate):
    report = run("units", csv_bytes("楼栋,房号,建筑面积", "3,1502,89.5"))
    assert messages(report) == ["第1行 项目编码：缺少必填列"]
    report = run("units", units_csv(",3,,1502,89.5,,,"))
    assert messages(report) == ["第2行 项目编码：不能为空"]
    assert not Unit.objects.exists()


def test_bad_estate_cell_is_reported_not_replaced_by_the_option(estate):
    report = run("units", units_csv("DE MO,3,,1502,89.5,,,", "DEMO,3,,1502,89.5,,,"), estate=estate)
    assert messages(report) == ["第2行 项目编码：项目编码只能包含大写字母、数字和下划线：DE MO"]


def test_dry_run_with_the_option(estate, write_file):
    path = write_file(csv_bytes("楼栋,房号,建筑面积", "3,1502,89.5"))
    out, error = import_command("units", path, "--estate", "DEMO", "--dry-run")
    assert error is None
    assert out == ["房屋导入 file.csv（试运行，未写入）：共1行，新增 1，更新 0，不变 0，错误 0"]
    assert not Unit.objects.exists()


# --- parties -----------------------------------------------------------------------------


def test_parties_of_the_estate_are_imported(unit, write_file):
    path = write_file(parties_csv("DEMO-3-1502,李四,租户,10087654321,,否,2024-03-01,"))
    out, error = import_command("parties", path, "--estate", "DEMO")
    assert error is None, out
    assert out == ["业主导入 file.csv：共1行，新增 1，更新 0，不变 0，错误 0"]
    assert Occupancy.objects.get(party__name="李四").unit == unit


def test_party_of_a_unit_in_another_estate_is_an_error(unit, other_unit, write_file):
    path = write_file(
        parties_csv(
            "DEMO-3-1502,李四,租户,10087654321,,否,2024-03-01,",
            "WEST-1-101,王五,业主,10087654322,,是,2024-03-01,",
            "DEMO-9-999,赵六,业主,,,,,",
        )
    )
    out, error = import_command("parties", path, "--estate", "DEMO")
    assert str(error) == "导入失败：2 处错误，未写入任何数据"
    assert out[1:] == [
        "第3行 房屋编码：不属于项目 DEMO：WEST-1-101",
        "第4行 房屋编码：房屋编码不存在：DEMO-9-999",
    ]
    assert not Party.objects.filter(name__in=["李四", "王五", "赵六"]).exists()
    assert not AuditEntry.objects.exists()


# --- estates and unknown estates ---------------------------------------------------------


def test_estates_import_refuses_the_option(estate, write_file):
    path = write_file(csv_bytes("项目编码,项目名称", "NEW,新项目"))
    out, error = import_command("estates", path, "--estate", "DEMO")
    assert str(error) == "导入项目时不能使用 --estate（可用于：units、parties、charges）"
    assert out == []
    assert not Estate.objects.filter(code="NEW").exists()
    with pytest.raises(ValueError) as refused:
        run("estates", csv_bytes("项目编码,项目名称", "NEW,新项目"), estate=estate)
    assert str(refused.value) == "导入项目时不能限定项目"


def test_unknown_estate_is_refused(estate, write_file):
    path = write_file(units_csv("DEMO,3,,1502,89.5,,,"))
    out, error = import_command("units", path, "--estate", "NOPE")
    assert str(error) == "项目不存在：NOPE"
    assert out == []
    assert not Unit.objects.exists()


def test_estate_of_another_company_is_unknown(estate, write_file):
    far = EstateFactory(company=CompanyFactory(code="OTHER"), code="FAR")
    path = write_file(units_csv("FAR,3,,1502,89.5,,,"))
    error = import_command("units", path, "--company", "ACME", "--estate", "FAR")[1]
    assert str(error) == "项目不存在：FAR"
    with pytest.raises(ValueError) as unknown:
        run("units", units_csv("FAR,3,,1502,89.5,,,"), estate=far)
    assert str(unknown.value) == "项目不存在：FAR"
    assert not Unit.objects.exists()


def test_estate_outside_the_users_scope_is_unknown(estate, other_estate, make_user, write_file):
    manager = make_user(Role.MANAGER, username="mgr", estates=[estate])
    path = write_file(csv_bytes("楼栋,房号,建筑面积", "3,1502,89.5"))
    error = import_command("units", path, "--user", "mgr", "--estate", "WEST")[1]
    assert str(error) == "项目不存在：WEST"
    assert import_command("units", path, "--user", "mgr", "--estate", "DEMO")[1] is None
    assert list(Unit.objects.values_list("code", flat=True)) == ["DEMO-3-1502"]

    # import_run itself reports it the same way, for callers other than the command.
    report = run(
        "parties", parties_csv("WEST-1-101,王五,业主,,,,,"), actor=manager, estate=other_estate
    )
    assert messages(report) == ["项目不存在：WEST"]
    assert not report.applied
