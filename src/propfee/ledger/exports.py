"""The Excel columns of the 减免审批 list (导出Excel), written by `propfee.core.exporting`."""

from __future__ import annotations

from propfee.core.exporting import Column, ColumnKind, ExportList

WAIVER_REQUEST_EXPORT = ExportList(
    name="减免申请",
    object_type="ledger.waiverrequest",
    columns=[
        Column("申请时间", "requested_at", ColumnKind.DATETIME),
        Column("项目", "charge.unit.estate.name", width=20),
        Column("房屋编码", "charge.unit.code", width=18),
        Column("收费项目", "charge.fee_item.name"),
        Column("计费开始", "charge.period_start", ColumnKind.DATE),
        Column("计费结束", "charge.period_end", ColumnKind.DATE),
        Column("类型", "get_kind_display"),
        Column("减免本金", "principal_fen", ColumnKind.MONEY_FEN),
        Column("减免违约金", "penalty_fen", ColumnKind.MONEY_FEN),
        Column("生效日期", "effective_on", ColumnKind.DATE),
        Column("核销原因", "get_write_off_reason_display"),
        Column("原因", "reason", width=30),
        Column("申请人", lambda r: str(r.requested_by) if r.requested_by_id else "系统"),
        Column("状态", "get_status_display"),
        Column("审批人", lambda r: str(r.decided_by) if r.decided_by_id else ""),
        Column("审批时间", "decided_at", ColumnKind.DATETIME),
        Column("审批意见", "decision_note", width=30),
    ],
)
