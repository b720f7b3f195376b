"""The Excel columns of the outbox (消息记录导出), written by `propfee.core.exporting`."""

from __future__ import annotations

from propfee.core.exporting import Column, ColumnKind, ExportList
from propfee.core.personal_data import email_mask, phone_mask
from propfee.messaging.models import Message


def recipient_masked(message: Message) -> str:
    """The recipient as lists show it: phone 138****5678, e-mail w***@example.cn."""
    if message.channel == "email":
        return email_mask(message.recipient)
    if message.channel == "sms":
        return phone_mask(message.recipient)
    return message.recipient[:6] + "…" if len(message.recipient) > 6 else message.recipient


MESSAGE_EXPORT = ExportList(
    name="消息记录",
    object_type="messaging.message",
    columns=[
        Column("编号", "pk", ColumnKind.NUMBER),
        Column("房屋编码", "unit.code", width=18),
        Column("项目", "unit.estate.name", width=16),
        Column("缴费人", "party.name"),
        Column("接收人", recipient_masked, width=22),
        Column("渠道", "get_channel_display"),
        Column("催收阶段", "stage"),
        Column("标题", "subject", width=24),
        Column("正文", "body", width=60),
        Column("状态", "get_status_display"),
        Column("服务商", "provider"),
        Column("服务商消息编号", "provider_id", width=24),
        Column("费用(元)", "cost_fen", ColumnKind.MONEY_FEN),
        Column("发送次数", "attempts", ColumnKind.NUMBER),
        Column("排队时间", "queued_at", ColumnKind.DATETIME),
        Column("发送时间", "sent_at", ColumnKind.DATETIME),
        Column("送达时间", "delivered_at", ColumnKind.DATETIME),
        Column("说明", "error", width=40),
    ],
)
