"""The Excel columns of the report tables (报表导出), written by `propfee.core.exporting`."""

from __future__ import annotations

from propfee.core.exporting import Column, ColumnKind, ExportList

PERCENT_FORMAT = "0.00%"

AGING_EXPORT = ExportList(
    name="欠费账龄",
    object_type="ledger.aging",
    columns=[
        Column("账龄(天)", "label"),
        Column("欠费笔数", "charges", ColumnKind.NUMBER),
        Column("欠费户数", "units", ColumnKind.NUMBER),
        Column("欠费本金(元)", "principal_fen", ColumnKind.MONEY_FEN),
    ],
)

ARREARS_EXPORT = ExportList(
    name="欠费明细",
    object_type="ledger.arrears",
    columns=[
        Column("房屋编码", "code", width=18),
        Column("欠费本金(元)", "principal_overdue_fen", ColumnKind.MONEY_FEN),
        Column("欠费月数", "months_owed", ColumnKind.NUMBER),
        Column("最早欠费应缴日", "oldest_due_date", ColumnKind.DATE, width=16),
        Column("逾期天数", "days_overdue", ColumnKind.NUMBER),
        Column("账龄(天)", "bucket"),
    ],
)

BUILDING_ARREARS_EXPORT = ExportList(
    name="楼栋欠费",
    object_type="ledger.arrears",
    columns=[
        Column("楼栋编码", "code"),
        Column("楼栋名称", "name"),
        Column("欠费户数", "units", ColumnKind.NUMBER),
        Column("欠费笔数", "charges", ColumnKind.NUMBER),
        Column("欠费本金(元)", "principal_overdue_fen", ColumnKind.MONEY_FEN),
    ],
)


def _percent(path: str) -> Column:
    header = {
        "current": "当期收缴率",
        "clearance": "清欠率",
        "overall": "综合收缴率",
        "household": "户数收缴率",
    }[path]
    return Column(header, f"{path}.ratio", ColumnKind.NUMBER, number_format=PERCENT_FORMAT)


COLLECTION_RATE_EXPORT = ExportList(
    name="收缴率",
    object_type="ledger.collection_rate",
    columns=[
        Column("范围", "label", width=20),
        _percent("current"),
        Column("当期实收(元)", "current.numerator", ColumnKind.MONEY_FEN),
        Column("当期应收(元)", "current.denominator", ColumnKind.MONEY_FEN),
        _percent("clearance"),
        Column("清欠实收(元)", "clearance.numerator", ColumnKind.MONEY_FEN),
        Column("期初欠费(元)", "clearance.denominator", ColumnKind.MONEY_FEN),
        _percent("overall"),
        Column("综合实收(元)", "overall.numerator", ColumnKind.MONEY_FEN),
        Column("综合应收(元)", "overall.denominator", ColumnKind.MONEY_FEN),
        _percent("household"),
        Column("已缴清户数", "household.numerator", ColumnKind.NUMBER),
        Column("应缴户数", "household.denominator", ColumnKind.NUMBER),
    ],
)
