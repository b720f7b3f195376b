"""`propfee import KIND FILE`: summary output, every error printed, exit status, options."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, ManagementUtility, call_command

from propfee.core.models import AuditEntry
from propfee.core.roles import Role
from propfee.estates.models import Unit
from tests.estates.test_imports import units_csv
from tests.factories import CompanyFactory


@pytest.fixture
def units_file(tmp_path):
    def write(*rows: str, name: str = "units.csv"):
        path = tmp_path / name
        path.write_bytes(units_csv(*rows))
        return str(path)

    return write


def import_command(*args: str) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("import", *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_success_prints_the_summary(estate, units_file):
    out, error = import_command("units", units_file("DEMO,3,,1502,89.5,,,", "DEMO,3,,1503,90,,,"))
    assert error is None
    assert out.strip() == "房屋导入 units.csv：共2行，新增 2，更新 0，不变 0，错误 0"
    assert Unit.objects.count() == 2


def test_errors_are_printed_and_the_command_fails(estate, units_file):
    out, error = import_command("units", units_file("DEMO,3,,1502,12o,,,", "NOPE,3,,1503,90,,,"))
    assert str(error) == "导入失败：2 处错误，未写入任何数据"
    assert out.splitlines() == [
        "房屋导入 units.csv：共2行，新增 0，更新 0，不变 0，错误 2",
        "第2行 建筑面积：不是有效的数字：12o",
        "第3行 项目编码：项目编码不存在：NOPE",
    ]
    assert not Unit.objects.exists()


def test_exit_status_is_1_on_errors_and_0_on_success(estate, units_file, capsys, monkeypatch):
    # run_from_argv closes every connection when it ends, which would end the test's
    # transaction on PostgreSQL.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    bad = units_file("DEMO,3,,1502,0,,,", name="bad.csv")
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["propfee", "import", "units", bad]).execute()
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert "第2行 建筑面积：必须大于0：0" in captured.out
    assert "导入失败：1 处错误，未写入任何数据" in captured.err

    good = units_file("DEMO,3,,1502,80,,,", name="good.csv")
    ManagementUtility(["propfee", "import", "units", good]).execute()  # no SystemExit: status 0
    assert Unit.objects.count() == 1


def test_dry_run(estate, units_file):
    out, error = import_command("units", units_file("DEMO,3,,1502,89.5,,,"), "--dry-run")
    assert error is None
    assert (
        out.strip() == "房屋导入 units.csv（试运行，未写入）：共1行，新增 1，更新 0，不变 0，错误 0"
    )
    assert not Unit.objects.exists()
    assert not AuditEntry.objects.exists()


def test_user_option_checks_permission(estate, units_file, collector):
    _out, error = import_command(
        "units", units_file("DEMO,3,,1502,89.5,,,"), "--user", "collector1"
    )
    assert str(error) == "没有导入房屋的权限（需要：管理楼栋与房屋）"
    assert not Unit.objects.exists()


def test_user_option_makes_the_user_the_actor(estate, units_file, make_user):
    manager = make_user(Role.MANAGER, username="mgr", estates=[estate])
    out, error = import_command("units", units_file("DEMO,3,,1502,89.5,,,"), "--user", "mgr")
    assert error is None
    assert "新增 1" in out
    assert AuditEntry.objects.filter(actor=manager).count() == 3  # building, unit, summary


def test_company_must_be_named_when_there_are_several(estate, units_file):
    CompanyFactory(code="OTHER")
    path = units_file("DEMO,3,,1502,89.5,,,")
    assert str(import_command("units", path)[1]) == (
        "系统中有多家物业公司，请用 --company 指定公司编码"
    )
    assert import_command("units", path, "--company", "ACME")[1] is None
    assert Unit.objects.count() == 1
    error = import_command("units", path, "--company", "NOPE")[1]
    assert str(error) == "物业公司不存在：NOPE"


def test_unknown_kind_and_missing_file(estate, tmp_path):
    error = import_command("charges2", str(tmp_path / "x.csv"))[1]
    assert str(error).startswith("未知的导入类型：charges2")
    error = import_command("units", str(tmp_path / "missing.csv"))[1]
    assert str(error).startswith("无法读取文件：")


def test_a_file_that_is_no_csv_or_xlsx_is_refused(estate, tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(b"<html><script>alert(1)</script></html>")
    out, error = import_command("units", str(path))
    assert str(error) == "导入失败：1 处错误，未写入任何数据"
    assert "只能上传 CSV 或 XLSX 文件，此文件（units.csv）实际为 HTML。" in out
    assert not Unit.objects.exists()


def test_a_file_over_the_import_cap_is_refused_unread(settings, estate, units_file):
    settings.PROPFEE_UPLOAD_MAX_BYTES = {"import": 100}
    _out, error = import_command("units", units_file("DEMO,3,,1502,89.5,,,", "DEMO,3,,1503,90,,,"))
    assert str(error).startswith("文件过大：units.csv 有 ")
    assert str(error).endswith("导入文件不能超过 100 B（PROPFEE_UPLOAD_MAX_BYTES）")
    assert not Unit.objects.exists()
