"""The 文书 pages are wired: the unit page's section, generate → preview/download, Word, the
delivery form with a photo, the list with filters and Excel, batch printing, the public list."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from propfee.core.roles import Role
from propfee.core.submission import TOKEN_FIELD, submission_token_new
from propfee.documents.constants import DocumentKind
from propfee.documents.models import DeliveryEvidence, Document, DocumentBatch
from propfee.documents.services import document_render
from tests.documents.conftest import AS_OF
from tests.documents.pdfcheck import pdf_text


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 5, 6, 10, 0, tzinfo=dt.UTC))


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def test_unit_page_loads_the_section(signed_in, collector, owing):
    page = signed_in(collector).get(f"/units/{owing.code}/").text
    assert f'hx-get="/documents/units/{owing.code}/"' in page


def test_generate_preview_and_download(signed_in, collector, owing):
    client = signed_in(collector)
    response = client.post(
        f"/documents/units/{owing.code}/generate/",
        {"kind": "notice", "deadline_days": "15", TOKEN_FIELD: submission_token_new()},
    )
    assert response.status_code == 302 and response.url.endswith("#documents")
    document = Document.objects.get(unit=owing, kind=DocumentKind.NOTICE)
    section = client.get(f"/documents/units/{owing.code}/", HTTP_HX_REQUEST="true").text
    assert document.number in section and "登记送达" in section
    preview = client.get(f"/documents/{document.pk}/file/")
    assert preview["Content-Type"] == "application/pdf"
    assert preview["Content-Disposition"].startswith("inline")
    assert "催缴通知书" in pdf_text(b"".join(preview.streaming_content))
    download = client.get(f"/documents/{document.pk}/file/?download=1")
    assert download["Content-Disposition"].startswith("attachment")


def test_generate_refuses_with_a_message(signed_in, collector, unit, owner):
    client = signed_in(collector)
    response = client.post(
        f"/documents/units/{unit.code}/generate/",
        {"kind": "notice", TOKEN_FIELD: submission_token_new()},
        follow=True,
    )
    assert "没有欠费" in response.text
    assert not Document.objects.exists()


def test_word_file_of_a_letter(signed_in, collector, owing):
    document = document_render(
        kind=DocumentKind.FINAL_DEMAND, unit=owing, actor=collector, as_of=AS_OF
    )
    response = signed_in(collector).get(f"/documents/{document.pk}/file/?format=docx")
    assert response.status_code == 200
    xml = zipfile.ZipFile(io.BytesIO(response.content)).read("word/document.xml").decode()
    assert "催告函" in xml and "309.00" in xml and "第九百四十四条" in xml


def test_record_delivery_with_a_photo(signed_in, collector, owing):
    document = document_render(kind=DocumentKind.NOTICE, unit=owing, actor=collector, as_of=AS_OF)
    client = signed_in(collector)
    assert client.get(f"/documents/{document.pk}/delivery/").status_code == 200
    response = client.post(
        f"/documents/{document.pk}/delivery/",
        {
            "method": "in_person",
            "delivered_on": "2026-05-06",
            "recipient": "王建国",
            TOKEN_FIELD: submission_token_new(),
            "file": SimpleUploadedFile(
                "sign.jpg", b"\xff\xd8\xff photo", content_type="image/jpeg"
            ),
        },
    )
    assert response.status_code == 302
    evidence = DeliveryEvidence.objects.get(document=document)
    assert evidence.recipient == "王建国"
    photo = client.get(f"/documents/evidence/{evidence.pk}/")
    assert b"".join(photo.streaming_content) == b"\xff\xd8\xff photo"


def test_delivery_form_shows_what_is_missing(signed_in, collector, owing):
    document = document_render(kind=DocumentKind.NOTICE, unit=owing, actor=collector, as_of=AS_OF)
    response = signed_in(collector).post(
        f"/documents/{document.pk}/delivery/",
        {"method": "ems", "delivered_on": "2026-05-06", TOKEN_FIELD: submission_token_new()},
    )
    assert response.status_code == 200 and "邮件单号" in response.text
    assert not DeliveryEvidence.objects.exists()


def test_out_of_scope_documents_are_not_found(signed_in, make_user, other_estate, owing, collector):
    document = document_render(kind=DocumentKind.NOTICE, unit=owing, actor=collector, as_of=AS_OF)
    stranger = make_user("collector", username="west1", estates=[other_estate])
    client = signed_in(stranger)
    assert client.get(f"/documents/{document.pk}/file/").status_code == 404
    assert client.get(f"/documents/units/{owing.code}/").status_code == 404


def test_list_filters_and_export(signed_in, collector, owing):
    document_render(kind=DocumentKind.NOTICE, unit=owing, actor=collector, as_of=AS_OF)
    document_render(kind=DocumentKind.STATEMENT, unit=owing, actor=collector, as_of=AS_OF)
    client = signed_in(collector)
    page = client.get("/documents/", {"kind": "notice"}).text
    assert "CJ-DEMO-" in page and "DZ-DEMO-" not in page
    export = client.get("/documents/", {"kind": "notice", "export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content))).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "文书编号"
    assert len(rows) == 2 and rows[1][1] == "催缴通知书"


def test_batch_page(signed_in, collector, owing, estate):
    client = signed_in(collector)
    assert client.get("/documents/batch/").status_code == 200
    response = client.post(
        "/documents/batch/", {"estate": estate.pk, "as_of": "2026-04-30", "deadline_days": "15"}
    )
    assert response.status_code == 302
    batch = DocumentBatch.objects.get()
    assert batch.document_count == 1
    download = client.get(f"/documents/batch/{batch.pk}/file/")
    assert "催缴通知书" in pdf_text(b"".join(download.streaming_content))


def test_public_notice_page_requests_and_another_manager_approves(
    signed_in, client, collector, manager, make_user, owing, estate, company, settings
):
    from propfee.documents.models import PublicNoticeRequest

    settings.PROPFEE_PUBLIC_LIST_MIN_YUAN = 100
    company.public_list_enabled = True
    company.save()
    form = {
        "estate": estate.pk,
        "legal_basis": "2026年第一次业主大会决议",
        "purpose": "督促长期欠费业主缴费",
        "necessity": "多次催缴仍未缴纳",
        "risks": "房号可能被识别",
        "measures": "只列房号；缴清即撤下",
        "display_from": "2026-05-06",
        "display_until": "2026-05-20",
    }
    assert signed_in(collector).post("/documents/public-notice/", form).status_code == 302
    request = PublicNoticeRequest.objects.get()
    assert request.requested_by == collector
    # The requester cannot approve; a manager can.
    page = signed_in(manager).get("/documents/public-notice/").text
    assert f"/documents/public-notice/{request.pk}/approve/" in page
    client.post(f"/documents/public-notice/{request.pk}/approve/")
    request.refresh_from_db()
    assert request.status == "approved"
    assert Document.objects.get(kind=DocumentKind.PUBLIC_NOTICE).params["approved_by"] == manager.pk
    other = make_user(Role.COLLECTOR, username="collector9", estates=[estate])
    assert (
        signed_in(other).post(f"/documents/public-notice/{request.pk}/approve/").status_code == 403
    )


def test_receipt_button(signed_in, front_desk, owing, pay):
    payment = pay(5000, dt.date(2026, 5, 6))
    client = signed_in(front_desk)
    section = client.get(f"/documents/units/{owing.code}/", HTTP_HX_REQUEST="true").text
    assert f"/documents/payments/{payment.pk}/receipt/" in section
    response = client.post(f"/documents/payments/{payment.pk}/receipt/", follow=True)
    assert "伍拾元整" in pdf_text(b"".join(response.streaming_content))


def test_a_document_generated_twice_from_one_form_is_one_document(signed_in, collector, owing):
    client = signed_in(collector)
    section = client.get(f"/documents/units/{owing.code}/", HTTP_HX_REQUEST="true").text
    token = re.search(rf'name="{TOKEN_FIELD}" value="([0-9a-f]{{32}})"', section).group(1)
    assert 'id="document-generate" data-submit-once' in section
    data = {"kind": "notice", "deadline_days": "15", TOKEN_FIELD: token}
    first = client.post(f"/documents/units/{owing.code}/generate/", data)
    again = client.post(f"/documents/units/{owing.code}/generate/", data, follow=True)
    assert Document.objects.filter(unit=owing).count() == 1
    assert again.redirect_chain[0][0] == first.url
    assert "该表单已提交，未重复登记。" in again.text


def test_a_delivery_posted_twice_from_one_form_is_recorded_once(signed_in, collector, owing):
    document = document_render(kind=DocumentKind.NOTICE, unit=owing, actor=collector, as_of=AS_OF)
    client = signed_in(collector)
    data = {
        "method": "ems",
        "delivered_on": "2026-05-06",
        "tracking_no": "EMS1234567890",
        TOKEN_FIELD: submission_token_new(),
    }
    first = client.post(f"/documents/{document.pk}/delivery/", data)
    again = client.post(f"/documents/{document.pk}/delivery/", data)
    assert first.status_code == again.status_code == 302 and first.url == again.url
    assert DeliveryEvidence.objects.filter(document=document).count() == 1
