"""The Excel columns of the billing lists (导出Excel), written by `propfee.core.exporting`."""

from __future__ import annotations

from propfee.core.exporting import Column, ColumnKind, ExportList

BILLING_RUN_EXPORT = ExportList(
    name="计费批次",
    object_type="billing.billingrun",
    columns=[
        Column("项目编码", "estate.code"),
        Column("项目名称", "estate.name", width=20),
        Column("计费月份", lambda run: f"{run.period_start:%Y-%m}"),
        Column("状态", "get_status_display"),
        Column("计费房屋数", "unit_count", ColumnKind.NUMBER),
        Column("新增应收笔数", "charge_count", ColumnKind.NUMBER),
        Column("已计费笔数", "already_billed_count", ColumnKind.NUMBER),
        Column("新增应收合计(元)", "total_fen", ColumnKind.MONEY_FEN),
        Column("计费人", lambda run: str(run.created_by) if run.created_by_id else "系统"),
        Column("计费时间", "created_at", ColumnKind.DATETIME),
        Column("撤销人", lambda run: str(run.reversed_by) if run.reversed_by_id else ""),
        Column("撤销时间", "reversed_at", ColumnKind.DATETIME),
        Column("撤销原因", "reverse_reason", width=30),
    ],
)

CHARGE_EXPORT = ExportList(
    name="计费批次应收",
    object_type="billing.charge",
    columns=[
        Column("房屋编码", "unit.code", width=18),
        Column("楼栋", "unit.building.name"),
        Column("收费项目", "fee_item.name"),
        Column("计费开始", "period_start", ColumnKind.DATE),
        Column("计费结束", "period_end", ColumnKind.DATE),
        Column("应缴日期", "due_date", ColumnKind.DATE),
        Column("应收金额(元)", "principal_fen", ColumnKind.MONEY_FEN),
        Column("缴费人", "payer.name"),
    ],
)

TARIFF_EXPORT = ExportList(
    name="收费标准",
    object_type="billing.tariff",
    columns=[
        Column("项目编码", "estate.code"),
        Column("收费项目", "fee_item.name"),
        Column("房屋类型", "get_unit_type_display"),
        Column("计费方式", "get_basis_display", width=16),
        Column("单价(元)", "rate_yuan", ColumnKind.NUMBER, number_format="0.0000"),
        Column("生效日期", "effective_from", ColumnKind.DATE),
        Column("截止日期", "effective_to", ColumnKind.DATE),
        Column("空置优惠比例", "vacancy_discount_ratio", ColumnKind.NUMBER, number_format="0.0000"),
    ],
)
