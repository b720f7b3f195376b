"""Uploads of the 文书 pages: a unit's contract and a delivery's evidence are accepted only as
PDF, JPG or PNG by their content (services and pages alike), within their size caps; every
stored file is served as its bytes show, inline only for PDF and images and then with nosniff
and a sandbox, never as HTML or SVG; a file missing from storage answers 404 with a message."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from propfee.documents.constants import DeliveryMethod, DocumentKind
from propfee.documents.models import DeliveryEvidence, Document, DocumentBatch
from propfee.documents.services import (
    DocumentError,
    contract_upload,
    delivery_record,
    document_render,
    notices_batch_render,
)
from tests.documents.conftest import AS_OF
from tests.sample_files import HOSTILE, SCRIPT_HTML, SCRIPT_SVG, jpeg_bytes, pdf_bytes, png_bytes

MISSING = "文件不存在或已被移除"


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 5, 6, 10, 0, tzinfo=dt.UTC))


@pytest.fixture
def client_of(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def notice(owing, collector):
    return document_render(kind=DocumentKind.NOTICE, unit=owing, actor=collector, as_of=AS_OF)


def _stored_files(settings) -> list:
    media = settings.MEDIA_ROOT
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def _label(hostile: str) -> str:
    return "EXE 可执行程序" if hostile == "exe" else HOSTILE[hostile][1]


def _assert_sandboxed(response) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Type"] not in ("text/html", "image/svg+xml")


# --- contracts ----------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", sorted(HOSTILE))
@pytest.mark.parametrize("name", ["物业服务合同.pdf", "scan.png"])
def test_contract_upload_refuses_html_svg_and_exe_by_content(
    settings, owing, collector, hostile, name
):
    content = HOSTILE[hostile][0]
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    with pytest.raises(DocumentError) as refused:
        contract_upload(unit=owing, file=upload, actor=collector)
    assert str(refused.value) == (
        f"只能上传 PDF、JPG 或 PNG 文件，此文件（{name}）实际为 {_label(hostile)}。"
    )
    assert not Document.objects.filter(kind=DocumentKind.CONTRACT).exists()
    assert _stored_files(settings) == []


def test_contract_is_kept_with_the_type_of_its_content(owing, collector):
    content = pdf_bytes("物业服务合同")
    # Named and declared as a web page: stored and recorded as the PDF it is.
    upload = SimpleUploadedFile("合同.html", content, content_type="text/html")
    document = contract_upload(unit=owing, file=upload, actor=collector)
    assert document.content_type == "application/pdf"
    assert document.file.name.endswith("/合同.pdf")
    assert document.size == len(content)
    assert document.file.read() == content


def test_contract_over_its_cap_is_refused(settings, owing, collector):
    settings.PROPFEE_UPLOAD_MAX_BYTES = {"contract": 1024}
    upload = SimpleUploadedFile("合同.pdf", pdf_bytes("x" * 3000))
    with pytest.raises(DocumentError, match="合同扫描件不能超过 1 KB"):
        contract_upload(unit=owing, file=upload, actor=collector)
    assert not Document.objects.filter(kind=DocumentKind.CONTRACT).exists()


def test_contract_page_refuses_an_svg_named_png(client_of, settings, owing, collector):
    response = client_of(collector).post(
        f"/documents/units/{owing.code}/contract/",
        {"title": "物业服务合同", "file": SimpleUploadedFile("合同.png", SCRIPT_SVG, "image/png")},
        follow=True,
    )
    assert "只能上传 PDF、JPG 或 PNG 文件，此文件（合同.png）实际为 SVG。" in response.text
    assert not Document.objects.filter(kind=DocumentKind.CONTRACT).exists()
    assert _stored_files(settings) == []


def test_contract_is_served_as_its_bytes_show(client_of, owing, collector):
    document = contract_upload(
        unit=owing,
        file=SimpleUploadedFile("合同.pdf", png_bytes(), content_type="application/pdf"),
        actor=collector,
    )
    client = client_of(collector)
    preview = client.get(f"/documents/{document.pk}/file/")
    assert preview.status_code == 200
    assert preview["Content-Type"] == "image/png"
    assert preview["Content-Disposition"].startswith("inline;")
    _assert_sandboxed(preview)
    assert b"".join(preview.streaming_content) == png_bytes()
    download = client.get(f"/documents/{document.pk}/file/?download=1")
    assert download["Content-Disposition"].startswith("attachment;")
    _assert_sandboxed(download)


@pytest.mark.parametrize("content", [SCRIPT_HTML, SCRIPT_SVG])
def test_a_stored_html_or_svg_contract_is_downloaded_never_rendered(
    client_of, owing, collector, content
):
    # A contract stored before uploads were checked, recorded with the uploader's type.
    document = Document.objects.create(
        kind=DocumentKind.CONTRACT,
        estate=owing.estate,
        unit=owing,
        title="合同",
        content_type="text/html",
        sha256="0" * 64,
    )
    document.file.save("合同.html", ContentFile(content))
    response = client_of(collector).get(f"/documents/{document.pk}/file/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    _assert_sandboxed(response)


def test_rendered_notice_preview_is_sandboxed(client_of, collector, notice):
    response = client_of(collector).get(f"/documents/{notice.pk}/file/")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    _assert_sandboxed(response)


def test_batch_pdf_is_an_attachment(client_of, collector, owing, estate):
    batch = notices_batch_render(estate=estate, actor=collector, as_of=AS_OF)
    response = client_of(collector).get(f"/documents/batch/{batch.pk}/file/")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    _assert_sandboxed(response)


# --- delivery evidence --------------------------------------------------------------------


@pytest.mark.parametrize("hostile", sorted(HOSTILE))
def test_delivery_refuses_html_svg_and_exe_evidence(settings, notice, collector, hostile):
    files_before = _stored_files(settings)
    upload = SimpleUploadedFile("签收.jpg", HOSTILE[hostile][0], content_type="image/jpeg")
    with pytest.raises(DocumentError) as refused:
        delivery_record(
            document=notice,
            method=DeliveryMethod.IN_PERSON,
            delivered_on=dt.date(2026, 5, 6),
            actor=collector,
            file=upload,
        )
    assert str(refused.value) == (
        f"只能上传 PDF、JPG 或 PNG 文件，此文件（签收.jpg）实际为 {_label(hostile)}。"
    )
    assert not DeliveryEvidence.objects.exists()
    assert _stored_files(settings) == files_before


def test_delivery_page_refuses_a_script_page_named_pdf(client_of, settings, notice, collector):
    files_before = _stored_files(settings)
    response = client_of(collector).post(
        f"/documents/{notice.pk}/delivery/",
        {
            "method": "in_person",
            "delivered_on": "2026-05-06",
            "file": SimpleUploadedFile("回执.pdf", SCRIPT_HTML, "application/pdf"),
        },
    )
    assert response.status_code == 200
    assert "只能上传 PDF、JPG 或 PNG 文件，此文件（回执.pdf）实际为 HTML。" in response.text
    assert not DeliveryEvidence.objects.exists()
    assert _stored_files(settings) == files_before


def test_evidence_is_kept_and_served_as_a_jpeg(client_of, notice, collector):
    photo = jpeg_bytes()
    evidence = delivery_record(
        document=notice,
        method=DeliveryMethod.IN_PERSON,
        delivered_on=dt.date(2026, 5, 6),
        actor=collector,
        file=SimpleUploadedFile("签收.svg", photo, content_type="image/svg+xml"),
    )
    assert evidence.file.name.endswith("-签收.jpg")
    response = client_of(collector).get(f"/documents/evidence/{evidence.pk}/")
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline;")
    _assert_sandboxed(response)
    assert b"".join(response.streaming_content) == photo


def test_a_stored_svg_evidence_is_downloaded_never_rendered(client_of, notice, collector):
    evidence = DeliveryEvidence(
        document=notice,
        method=DeliveryMethod.IN_PERSON,
        delivered_on=dt.date(2026, 5, 6),
        recorded_by=collector,
    )
    evidence.file.save("签收.svg", ContentFile(SCRIPT_SVG))
    response = client_of(collector).get(f"/documents/evidence/{evidence.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    _assert_sandboxed(response)


# --- files missing from storage -----------------------------------------------------------


def test_missing_files_answer_404_with_a_message(client_of, collector, owing, estate, notice):
    client = client_of(collector)
    contract = contract_upload(
        unit=owing, file=SimpleUploadedFile("合同.pdf", pdf_bytes()), actor=collector
    )
    evidence = delivery_record(
        document=notice,
        method=DeliveryMethod.IN_PERSON,
        delivered_on=dt.date(2026, 5, 6),
        actor=collector,
        file=SimpleUploadedFile("签收.png", png_bytes()),
    )
    batch = notices_batch_render(estate=estate, actor=collector, as_of=AS_OF)
    batched = Document.objects.filter(batch=batch).first()
    for stored in (contract.file, evidence.file, batch.file):
        stored.storage.delete(stored.name)
    urls = [
        f"/documents/{contract.pk}/file/",
        f"/documents/evidence/{evidence.pk}/",
        f"/documents/batch/{batch.pk}/file/",
        f"/documents/{batched.pk}/file/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert MISSING in response.content.decode(), url
    bundle = client.post(f"/documents/units/{owing.code}/bundle/")
    assert bundle.status_code == 404
    assert MISSING in bundle.content.decode()
    assert DocumentBatch.objects.filter(pk=batch.pk).exists()


def test_evidence_bundle_is_streamed_as_an_attachment(client_of, owing, legal):
    contract = pdf_bytes("物业服务合同")
    contract_upload(unit=owing, file=SimpleUploadedFile("合同.pdf", contract), actor=legal)
    response = client_of(legal).post(f"/documents/units/{owing.code}/bundle/")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    _assert_sandboxed(response)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.read("03-合同/01-物业服务合同.pdf") == contract
