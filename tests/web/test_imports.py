"""数据导入 page: kinds by capability, template download, preview (dry run), confirm, cancel."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from propfee.core.models import AuditAction, AuditEntry
from propfee.estates.models import Unit

pytestmark = pytest.mark.django_db

UNITS_CSV = (
    "项目编码,楼栋,房号,建筑面积,房屋类型,交房日期,状态\n"
    "DEMO,3,1701,89.50,住宅,2020-06-01,已入住\n"
    "DEMO,3,1702,120,住宅,2020/6/1,空置\n"
).encode()

BAD_CSV = (
    "项目编码,楼栋,房号,建筑面积,房屋类型\nDEMO,3,1801,-5,住宅\nDEMO,3,1802,88,别墅\n"
).encode()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _staged(media_root) -> list:
    folder = media_root / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []


def _upload(client, content: bytes, kind: str = "units", name: str = "房屋.csv"):
    return client.post("/imports/", {"kind": kind, "file": _file(content, name)})


def _file(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_collector_may_not_import(signed_in, collector):
    assert signed_in(collector).get("/imports/").status_code == 403


def test_kinds_follow_the_capabilities(signed_in, manager, admin_user):
    page = signed_in(manager).get("/imports/").text
    assert '<option value="units"' in page and '<option value="parties"' in page
    assert '<option value="estates"' not in page  # managing estates is the admin's
    assert "/imports/templates/units.xlsx" in page
    page = signed_in(admin_user).get("/imports/").text
    assert '<option value="estates"' in page


def test_template_download_has_chinese_headers(signed_in, manager):
    response = signed_in(manager).get("/imports/templates/units.xlsx")
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers[:2] == ["项目编码", "楼栋"] and "建筑面积" in "".join(headers)
    assert signed_in(manager).get("/imports/templates/estates.xlsx").status_code == 404


def test_preview_then_confirm(signed_in, manager, building, media_root):
    client = signed_in(manager)
    preview = _upload(client, UNITS_CSV)
    assert preview.status_code == 200
    page = preview.text
    assert re.search(r'data-count="total">2<', page)
    assert re.search(r'data-count="created">2<', page)
    assert "<th>操作</th>" in page and page.count(">新增</span>") == 2
    assert not Unit.objects.filter(room__in=["1701", "1702"]).exists()
    assert len(_staged(media_root)) == 1
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)

    result = client.post("/imports/confirm/", {"token": token})
    assert result.status_code == 200
    assert "已导入" in result.text
    assert set(Unit.objects.filter(building=building).values_list("code", flat=True)) >= {
        "DEMO-3-1701",
        "DEMO-3-1702",
    }
    assert _staged(media_root) == []
    summary = AuditEntry.objects.get(action=AuditAction.IMPORT, object_type="import.units")
    assert summary.actor == manager
    # The token is spent: a second confirm imports nothing.
    again = client.post("/imports/confirm/", {"token": token})
    assert again.status_code == 302 and again["Location"] == "/imports/"


def test_preview_lists_every_error_and_offers_no_confirm(signed_in, manager, building, media_root):
    page = _upload(signed_in(manager), BAD_CSV).text
    errors = re.findall(r'<li class="list-group-item">([^<]+)</li>', page)
    assert len(errors) == 2
    assert errors[0].startswith("第2行 建筑面积：")
    assert errors[1].startswith("第3行 房屋类型：")
    assert "确认导入" not in page
    assert _staged(media_root) == []


def test_cancel_deletes_the_uploaded_file(signed_in, manager, building, media_root):
    client = signed_in(manager)
    _upload(client, UNITS_CSV)
    assert len(_staged(media_root)) == 1
    response = client.post("/imports/cancel/")
    assert response.status_code == 302
    assert _staged(media_root) == []
    assert not Unit.objects.filter(room="1701").exists()


def test_confirm_with_a_foreign_token_is_refused(
    signed_in, manager, make_user, building, media_root
):
    _upload(signed_in(manager), UNITS_CSV)
    token = _staged(media_root)[0].name
    other = Client()
    other.force_login(make_user("manager", username="manager2", estates=[building.estate]))
    response = other.post("/imports/confirm/", {"token": token})
    assert response.status_code == 302
    assert not Unit.objects.filter(room="1701").exists()


@pytest.mark.parametrize(
    ("content", "actual"),
    [
        (b"<html><script>window.__pwned = true</script></html>", "HTML"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG"),
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "PDF"),
    ],
)
def test_upload_that_is_no_csv_or_xlsx_is_refused(
    signed_in, manager, building, media_root, content, actual
):
    response = _upload(signed_in(manager), content, name="房屋.csv")
    assert response.status_code == 200
    assert f"只能上传 CSV 或 XLSX 文件，此文件（房屋.csv）实际为 {actual}。" in response.text
    assert "确认导入" not in response.text
    assert _staged(media_root) == []


def test_upload_over_the_import_cap_is_refused_before_it_is_read(
    settings, signed_in, manager, building, media_root
):
    settings.PROPFEE_UPLOAD_MAX_BYTES = {"import": 100}
    response = _upload(signed_in(manager), UNITS_CSV)
    assert "导入文件不能超过 100 B。" in response.text
    assert _staged(media_root) == []
    assert not Unit.objects.filter(room="1701").exists()
