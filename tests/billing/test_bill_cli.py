"""`propfee bill`: the summary by building, dry run, errors and the exit status."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, ManagementUtility, call_command

from propfee.billing.models import BillingRun, Charge
from tests.factories import BuildingFactory, UnitFactory


def bill(*args: str) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("bill", *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


@pytest.fixture
def units(estate, building):
    other = BuildingFactory(estate=estate, code="5", name="5栋")
    return [
        UnitFactory(building=building, room="101"),
        UnitFactory(building=other, room="101"),
        UnitFactory(building=other, room="102"),
    ]


def _table_rows(out: str) -> list[list[str]]:
    rows = []
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").replace("┃", "│").split("│")]
        if len(cells) == 3 and cells[0] and not cells[0].startswith(("─", "━")):
            rows.append(cells)
    return rows


def test_bill_prints_the_summary_by_building(estate, billable, units):
    out, error = bill("--period", "2026-03", "--estate", "demo")
    assert error is None
    assert out.splitlines()[0] == (
        "DEMO 阳光花园 2026-03：计费房屋 3，新增应收 3 笔，合计 ¥630.99，已计费 0 笔"
    )
    # 21033 分 a flat (89.50 ㎡ × 2.35 元, rounded once).
    assert _table_rows(out) == [
        ["楼栋", "笔数", "金额(元)"],
        ["3栋", "1", "210.33"],
        ["5栋", "2", "420.66"],
        ["合计", "3", "630.99"],
    ]
    assert Charge.objects.count() == 3

    out, error = bill("--period", "2026-03")
    assert error is None
    assert out.splitlines()[0] == (
        "DEMO 阳光花园 2026-03：计费房屋 3，新增应收 0 笔，合计 ¥0.00，已计费 3 笔"
    )
    assert Charge.objects.count() == 3


def test_dry_run_writes_nothing(estate, billable, units):
    out, error = bill("--period", "2026-03", "--dry-run")
    assert error is None
    assert out.splitlines()[0].startswith("DEMO 阳光花园 2026-03（试运行，未写入）：计费房屋 3")
    assert ["合计", "3", "630.99"] in _table_rows(out)
    assert not Charge.objects.exists() and not BillingRun.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-3"], "计费月份格式应为 YYYY-MM（例如 2026-11）：2026-3"),
        (["--period", "2026-03", "--estate", "NOPE"], "项目不存在：NOPE"),
        (["--period", "2025-12"], "计费失败：项目“阳光花园”在 2025-12 没有生效的物业服务合同"),
        (["--period", "2026-03", "--user", "collector1"], "没有计费的权限（需要：管理收费与计费）"),
    ],
)
def test_errors(estate, billable, units, collector, args, message):
    _out, error = bill(*args)
    assert str(error) == message
    assert not Charge.objects.exists()


def test_no_estate_with_a_contract(estate, tariff, units):
    _out, error = bill("--period", "2026-03")
    assert str(error) == "没有签订物业服务合同的项目，无法计费"


def test_exit_status(estate, billable, units, capsys, monkeypatch):
    # run_from_argv closes every connection when it ends, which would end the test's
    # transaction on PostgreSQL.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["propfee", "bill", "--period", "2026-13"]).execute()
    assert exit_info.value.code == 1
    assert "计费月份格式应为 YYYY-MM" in capsys.readouterr().err
    ManagementUtility(["propfee", "bill", "--period", "2026-03"]).execute()  # status 0
    assert Charge.objects.count() == 3
