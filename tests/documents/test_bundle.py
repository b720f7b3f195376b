"""The evidence bundle (证据包): index PDF, statement, demands with their delivery evidence,
the uploaded contract, and SHA-256 sums."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from propfee.core.models import AuditAction, AuditEntry
from propfee.documents.bundle import evidence_bundle_build
from propfee.documents.constants import DeliveryMethod, DocumentKind
from propfee.documents.services import contract_upload, delivery_record, document_render
from tests.documents.conftest import AS_OF
from tests.documents.pdfcheck import pdf_text

PHOTO = b"\x89PNG\r\n\x1a\n signed"
CONTRACT = b"%PDF-1.4 scanned contract"


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 5, 6, 10, 0, tzinfo=dt.UTC))


def test_bundle_contents(owing, legal):
    notice = document_render(kind=DocumentKind.NOTICE, unit=owing, actor=legal, as_of=AS_OF)
    delivery_record(
        document=notice,
        method=DeliveryMethod.IN_PERSON,
        delivered_on=dt.date(2026, 5, 6),
        file=SimpleUploadedFile("receipt.png", PHOTO),
        actor=legal,
    )
    letter = document_render(kind=DocumentKind.LAWYER_LETTER, unit=owing, actor=legal, as_of=AS_OF)
    delivery_record(
        document=letter,
        method=DeliveryMethod.EMS,
        tracking_no="EA123456789CN",
        delivered_on=dt.date(2026, 5, 6),
        actor=legal,
    )
    contract_upload(
        unit=owing, file=SimpleUploadedFile("合同.pdf", CONTRACT), actor=legal, title="物业服务合同"
    )
    filename, bundle = evidence_bundle_build(unit=owing, actor=legal, as_of=AS_OF)
    assert filename == "证据包-DEMO-3-1502-20260430.zip"
    archive = zipfile.ZipFile(bundle)
    names = archive.namelist()
    assert names[0] == "00-证据目录.pdf"
    assert any(n.startswith("01-对账单/DZ-DEMO-") for n in names)
    assert f"02-催收文书/01-催缴通知书-{notice.number}.pdf" in names
    assert f"02-催收文书/01-催缴通知书-{notice.number}-送达凭证1.png" in names
    assert f"02-催收文书/02-律师函-{letter.number}.pdf" in names
    assert f"02-催收文书/02-律师函-{letter.number}-送达凭证1.txt" in names
    assert "03-合同/01-物业服务合同.pdf" in names
    assert "SHA256SUMS.txt" in names
    assert archive.read(f"02-催收文书/01-催缴通知书-{notice.number}-送达凭证1.png") == PHOTO
    assert archive.read("03-合同/01-物业服务合同.pdf") == CONTRACT
    assert (
        "EA123456789CN"
        in archive.read(f"02-催收文书/02-律师函-{letter.number}-送达凭证1.txt").decode()
    )
    sums = archive.read("SHA256SUMS.txt").decode()
    assert f"{hashlib.sha256(PHOTO).hexdigest()}  02-催收文书/" in sums
    index = pdf_text(archive.read("00-证据目录.pdf"))
    assert (
        "证据目录" in index and "共7份" in index
    )  # with the payment history of the claimed period
    assert "送达凭证：EMS邮寄EA123456789CN" in index
    statement = pdf_text(archive.read(next(n for n in names if n.startswith("01-"))))
    assert "物业费对账单" in statement and "309.00" in statement
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT, object_id=str(owing.pk)).exists()
