"""The evidence bundle also holds the contact records (《物业费催收记录表》), the messages with
their delivery reports, and the payment history of the claimed period.

The `owing` unit owes 2026-01 … 03 (claimed as of 04-30, so the period starts 2026-01-01); a
payment of 2025-12-20 is before the claimed period and stays out, one of 03-15 is in."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest
from django.utils import timezone

from propfee.collection.constants import ContactChannel, ContactOutcome
from propfee.collection.models import ContactRecord
from propfee.documents.bundle import evidence_bundle_build
from propfee.messaging.constants import Channel, MessageStatus
from propfee.messaging.models import Message
from tests.documents.conftest import AS_OF
from tests.documents.pdfcheck import pdf_text


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 5, 6, 10, 0, tzinfo=dt.UTC))


def _at(month: int, day: int, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, month, day, hour, 0))


def test_bundle_has_contacts_messages_and_payments(owing, owner, legal, collector, pay):
    ContactRecord.objects.create(
        unit=owing,
        party=owner,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.ANSWERED,
        note="业主表示月底前缴清",
        contacted_at=_at(4, 10, 10),
        recorded_by=collector,
    )
    Message.objects.create(
        company=owing.estate.company,
        unit=owing,
        party=owner,
        recipient="10012345678",
        channel=Channel.SMS,
        body="【安家物业】尊敬的业主，您的物业费尚未缴纳",
        key="bundle-1",
        status=MessageStatus.DELIVERED,
        provider_id="SMS-778899",
        sent_at=_at(4, 12, 9),
        delivered_at=_at(4, 12, 9),
    )
    pay(3000, dt.date(2025, 12, 20))
    pay(5000, dt.date(2026, 3, 15))
    _name, data = evidence_bundle_build(unit=owing, actor=legal, as_of=AS_OF)
    archive = zipfile.ZipFile(data)
    names = archive.namelist()

    contacts = pdf_text(archive.read("04-催收记录/物业费催收记录表.pdf"))
    assert "物业费催收记录表" in contacts and "2026-04-1010:00" in contacts
    assert "电话" in contacts and "接通" in contacts and "业主表示月底前缴清" in contacts

    messages = pdf_text(archive.read("05-消息记录/催缴消息及送达回执.pdf"))
    assert "您的物业费尚未缴纳" in messages and "已送达" in messages
    assert "SMS-778899" in messages and "10012345678" in messages

    payments = pdf_text(archive.read("06-缴费记录/缴费记录.pdf"))
    assert "2026年1月1日至2026年4月30日" in payments
    assert "2026-03-15" in payments and "50.00" in payments
    assert "2025-12-20" not in payments and "30.00" not in payments

    index = pdf_text(archive.read("00-证据目录.pdf"))
    assert "催收记录表（1次联系）" in index and "缴费记录" in index
    sums = archive.read("SHA256SUMS.txt").decode()
    assert all(name in sums for name in names if name not in ("SHA256SUMS.txt",))
