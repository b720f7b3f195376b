"""The collection engine's part of the evidence bundle (证据包): the contact records
(《物业费催收记录表》) and the messages sent about the debt with their delivery reports (短信等
送达回执), each as a PDF table. Registered with `documents.bundle.EVIDENCE_PROVIDERS` when the
app is ready."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from propfee.collection.constants import ContactChannel, ContactOutcome
from propfee.collection.models import ContactRecord
from propfee.documents.bundle import BundleFile
from propfee.documents.content import Content, para, table
from propfee.documents.pdf import pdf_render
from propfee.documents.wording import chinese_date
from propfee.estates.models import Unit
from propfee.messaging.constants import Channel, MessageStatus
from propfee.messaging.models import Message


def _stamp(value: dt.datetime | None) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else ""


def _content(
    unit: Unit, title: str, intro: str, rows: list[tuple[str, ...]], widths, align
) -> Content:  # type: ignore[no-untyped-def]
    company = unit.estate.company.name
    return Content(
        title=title,
        letterhead=(company,),
        number="",
        blocks=(para(intro, indent=False), table(rows, widths=widths, align=align)),
        footer=f"{company} · {title} · {unit.code}",
    )


def contact_records_evidence(unit: Unit, as_of: dt.date) -> list[BundleFile]:
    """《物业费催收记录表》: every contact with the unit up to `as_of`, oldest first."""
    records = list(
        ContactRecord.objects.filter(unit=unit, contacted_at__date__lte=as_of)
        .select_related("recorded_by", "party")
        .order_by("contacted_at", "pk")
    )
    if not records:
        return []
    rows: list[tuple[str, ...]] = [("联系时间", "方式", "联系对象", "结果", "沟通内容", "记录人")]
    for record in records:
        rows.append(
            (
                _stamp(record.contacted_at),
                str(ContactChannel(record.channel).label),
                record.party.name if record.party is not None else "",
                str(ContactOutcome(record.outcome).label),
                record.note,
                str(record.recorded_by or "系统"),
            )
        )
    intro = (
        f"房屋：{unit.estate.name} {unit.code}；截至{chinese_date(as_of)}共{len(records)}次联系。"
    )
    content = _content(
        unit, "物业费催收记录表", intro, rows, (0.16, 0.08, 0.12, 0.1, 0.42, 0.12), "CCLCLC"
    )
    last = timezone.localdate(records[-1].contacted_at)
    return [
        BundleFile(
            "04-催收记录/物业费催收记录表.pdf",
            pdf_render([content]).data,
            f"催收记录表（{len(records)}次联系）",
            last,
        )
    ]


def messages_evidence(unit: Unit, as_of: dt.date) -> list[BundleFile]:
    """Every message sent to the unit's payer up to `as_of`, with its exact words, recipient,
    send time and the provider's delivery report (送达时间, or the failure)."""
    messages = list(
        Message.objects.filter(unit=unit, sent_at__isnull=False, sent_at__date__lte=as_of).order_by(
            "sent_at", "pk"
        )
    )
    if not messages:
        return []
    rows: list[tuple[str, ...]] = [("发送时间", "渠道", "接收人", "内容", "状态", "送达回执")]
    for message in messages:
        if message.delivered_at:
            report = f"{_stamp(message.delivered_at)} 已送达 {message.provider_id}".strip()
        else:
            report = message.error or "未收到回执"
        rows.append(
            (
                _stamp(message.sent_at),
                str(Channel(message.channel).label),
                message.recipient,
                message.body,
                str(MessageStatus(message.status).label),
                report,
            )
        )
    intro = (
        f"房屋：{unit.estate.name} {unit.code}；截至{chinese_date(as_of)}共{len(messages)}条消息。"
    )
    content = _content(
        unit, "催缴消息及送达回执", intro, rows, (0.14, 0.07, 0.14, 0.39, 0.09, 0.17), "CCLLCL"
    )
    return [
        BundleFile(
            "05-消息记录/催缴消息及送达回执.pdf",
            pdf_render([content]).data,
            f"催缴消息及送达回执（{len(messages)}条）",
            timezone.localdate(messages[-1].sent_at),
        )
    ]


def register() -> None:
    """Add the providers once (AppConfig.ready may run again in tests)."""
    from propfee.documents.bundle import EVIDENCE_PROVIDERS

    for provider in (contact_records_evidence, messages_evidence):
        if provider not in EVIDENCE_PROVIDERS:
            EVIDENCE_PROVIDERS.append(provider)
