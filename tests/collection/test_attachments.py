"""Contact-record attachments (催收记录附件): accepted only as PDF, JPG, PNG or a call recording
by their content (service and form alike), within the attachment cap; downloaded through a
route scoped like the contact record itself (out of scope: 404), served as their bytes show,
with nosniff and a sandbox; a file missing from storage answers 404 with a message."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from propfee.collection.constants import ContactOutcome
from propfee.collection.contacts import ContactError, contact_record_create
from propfee.collection.models import ContactAttachment, ContactRecord
from propfee.core.roles import Role
from tests.sample_files import HOSTILE, SCRIPT_HTML, SCRIPT_SVG, jpeg_bytes, pdf_bytes

pytest_plugins = ["tests.collection.workbench_fixtures"]

M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + b"\x00" * 200
ALLOWED = "只能上传 PDF、JPG、PNG、MP3、M4A、WAV 或 AMR 文件"


@pytest.fixture
def case(make_case, wb_collector, media):
    return make_case("1501", wb_collector)


def _record(case, actor, *files):
    return contact_record_create(
        case=case,
        actor=actor,
        channel="visit",
        outcome=ContactOutcome.ANSWERED,
        attachments=list(files),
    )


def _assert_sandboxed(response) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Type"] not in ("text/html", "image/svg+xml")


@pytest.mark.parametrize("hostile", sorted(HOSTILE))
@pytest.mark.parametrize("name", ["张贴照片.jpg", "回执.pdf", "通话.m4a"])
def test_service_refuses_html_svg_and_exe_by_content(case, wb_collector, media, hostile, name):
    upload = SimpleUploadedFile(name, HOSTILE[hostile][0], content_type="image/jpeg")
    with pytest.raises(ContactError) as refused:
        _record(case, wb_collector, SimpleUploadedFile("ok.pdf", pdf_bytes()), upload)
    label = "EXE 可执行程序" if hostile == "exe" else HOSTILE[hostile][1]
    assert str(refused.value) == f"{ALLOWED}，此文件（{name}）实际为 {label}。"
    assert not ContactRecord.objects.exists()
    assert [p for p in media.rglob("*") if p.is_file()] == []


def test_photos_pdfs_and_recordings_are_kept_under_their_real_type(case, wb_collector):
    contact = _record(
        case,
        wb_collector,
        SimpleUploadedFile("张贴照片.png", jpeg_bytes(), content_type="image/png"),
        SimpleUploadedFile("通话录音.m4a", M4A, content_type="audio/mp4"),
    )
    names = sorted(a.file.name.rsplit("/", 1)[-1] for a in contact.attachments.all())
    assert names == ["张贴照片.jpg", "通话录音.m4a"]


def test_attachment_over_its_cap_is_refused(settings, case, wb_collector):
    settings.PROPFEE_UPLOAD_MAX_BYTES = {"attachment": 1024}
    with pytest.raises(ContactError, match="附件不能超过 1 KB"):
        _record(case, wb_collector, SimpleUploadedFile("a.pdf", pdf_bytes("x" * 3000)))
    assert not ContactRecord.objects.exists()


def test_contact_form_refuses_an_svg_named_jpg(client, case, wb_collector, media):
    client.force_login(wb_collector)
    response = client.post(
        f"/collection/cases/{case.pk}/contact/",
        {
            "channel": "visit",
            "outcome": "answered",
            "attachments": [SimpleUploadedFile("张贴.jpg", SCRIPT_SVG, "image/jpeg")],
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert f"{ALLOWED}，此文件（张贴.jpg）实际为 SVG。" in response.content.decode()
    assert not ContactRecord.objects.exists()


# --- the download route --------------------------------------------------------------------


def test_attachment_is_linked_from_the_timeline_and_served_sandboxed(client, case, wb_collector):
    photo = jpeg_bytes()
    contact = _record(
        case,
        wb_collector,
        SimpleUploadedFile("张贴照片.jpg", photo, content_type="text/html"),
        SimpleUploadedFile("通话录音.m4a", M4A),
    )
    image, recording = sorted(contact.attachments.all(), key=lambda a: a.file.name)
    client.force_login(wb_collector)
    page = client.get(f"/collection/cases/{case.pk}/").content.decode()
    assert f'href="/collection/attachments/{image.pk}/"' in page

    response = client.get(f"/collection/attachments/{image.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline;")
    _assert_sandboxed(response)
    assert b"".join(response.streaming_content) == photo

    # Recordings are never shown inline.
    response = client.get(f"/collection/attachments/{recording.pk}/")
    assert response["Content-Type"] == "audio/mp4"
    assert response["Content-Disposition"].startswith("attachment;")
    _assert_sandboxed(response)


def test_attachment_out_of_scope_is_not_found(
    client, make_user, other_estate, second_building, case, wb_collector, wb_manager
):
    contact = _record(case, wb_collector, SimpleUploadedFile("a.pdf", pdf_bytes()))
    attachment = contact.attachments.get()
    url = f"/collection/attachments/{attachment.pk}/"
    client.force_login(wb_manager)
    assert client.get(url).status_code == 200
    stranger = make_user(Role.COLLECTOR, username="west1", estates=[other_estate])
    other_building = make_user(Role.COLLECTOR, username="b5", buildings=[second_building])
    for user in (stranger, other_building):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.get(f"/collection/cases/{case.pk}/").status_code == 404
    client.force_login(wb_collector)
    assert client.get("/collection/attachments/999999/").status_code == 404


def test_a_stored_html_attachment_is_downloaded_never_rendered(client, case, wb_collector):
    contact = _record(case, wb_collector)
    attachment = ContactAttachment(contact=contact, description="notice.html", sha256="0" * 64)
    attachment.file.save("notice.html", ContentFile(SCRIPT_HTML))
    client.force_login(wb_collector)
    response = client.get(f"/collection/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    _assert_sandboxed(response)


def test_missing_attachment_file_answers_404_with_a_message(client, case, wb_collector):
    contact = _record(case, wb_collector, SimpleUploadedFile("a.pdf", pdf_bytes()))
    attachment = contact.attachments.get()
    attachment.file.storage.delete(attachment.file.name)
    client.force_login(wb_collector)
    response = client.get(f"/collection/attachments/{attachment.pk}/")
    assert response.status_code == 404
    assert "文件不存在或已被移除" in response.content.decode()
