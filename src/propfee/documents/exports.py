"""The Excel columns of the documents list (导出Excel)."""

from __future__ import annotations

from propfee.core.exporting import Column, ColumnKind, ExportList

DOCUMENT_EXPORT = ExportList(
    name="文书列表",
    object_type="documents.document",
    columns=[
        Column("文书编号", "number", width=28),
        Column("文书类型", "get_kind_display"),
        Column("项目", "estate.name", width=20),
        Column("房屋编码", lambda d: d.unit.code if d.unit_id else "", width=18),
        Column("金额", "amount_fen", ColumnKind.MONEY_FEN),
        Column("缴费期限", "deadline", ColumnKind.DATE),
        Column("送达次数", "delivery_count", ColumnKind.NUMBER),
        Column("最近送达日期", "last_delivered_on", ColumnKind.DATE),
        Column("生成人", lambda d: str(d.created_by) if d.created_by_id else "系统"),
        Column("生成时间", "created_at", ColumnKind.DATETIME),
        Column("SHA-256", "sha256", width=66),
    ],
)
