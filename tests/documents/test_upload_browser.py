"""A hostile upload in a real browser (the system Chromium, Playwright's sync API): a collector
tries a script-bearing HTML page as delivery evidence and an SVG with script as the unit's
contract, each under an innocent name; both are refused with the Chinese message. A manager
then opens the HTML and SVG files that were stored before uploads were checked: the browser
downloads them, and their script never runs (no dialog, `window.__pwned` stays undefined)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from propfee.core.roles import Role
from propfee.documents.constants import DeliveryMethod, DocumentKind
from propfee.documents.models import DeliveryEvidence, Document
from tests.browser import BROWSER_MARKS, SCREENSHOTS
from tests.conftest import PASSWORD
from tests.factories import (
    BuildingFactory,
    CompanyFactory,
    EstateFactory,
    OccupancyFactory,
    UnitFactory,
    UserFactory,
)
from tests.sample_files import SCRIPT_HTML, SCRIPT_SVG, pdf_bytes

pytestmark = BROWSER_MARKS

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def unit_with_a_notice(transactional_db, settings, tmp_path):
    """DEMO-3-1502 with a notice to deliver, a collector and a manager of the estate; and, as
    left from before uploads were checked, an HTML "contract" and an SVG "evidence" photo."""
    settings.MEDIA_ROOT = tmp_path / "media"
    company = CompanyFactory(code="ACME", name="安家物业")
    estate = EstateFactory(company=company, code="DEMO", name="阳光花园")
    unit = UnitFactory(building=BuildingFactory(estate=estate, code="3", name="3栋"), room="1502")
    OccupancyFactory(unit=unit, party__name="王建国", party__company=company)
    for username, role in (("collector1", Role.COLLECTOR), ("manager1", Role.MANAGER)):
        UserFactory(username=username, company=company, role=role, estates=[estate])
    notice = Document.objects.create(
        kind=DocumentKind.NOTICE,
        number="CJ-DEMO-20260101-000001",
        estate=estate,
        unit=unit,
        title="催缴通知书",
        sha256="0" * 64,
        created_at=timezone.now() - dt.timedelta(days=3),
    )
    notice.file.save("notice.pdf", ContentFile(pdf_bytes("催缴通知书")))
    old_contract = Document.objects.create(
        kind=DocumentKind.CONTRACT,
        estate=estate,
        unit=unit,
        title="物业服务合同",
        content_type="text/html",
        sha256="0" * 64,
    )
    old_contract.file.save("合同.html", ContentFile(SCRIPT_HTML))
    old_evidence = DeliveryEvidence(
        document=notice, method=DeliveryMethod.IN_PERSON, delivered_on=timezone.localdate()
    )
    old_evidence.file.save("签收.svg", ContentFile(SCRIPT_SVG))
    return unit, notice, old_contract, old_evidence


def _sign_in(browser, live_server, username: str, dialogs: list[str]):
    context = browser.new_context(locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)

    def dismiss(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    return context, page


def _opened_as_download(page, url: str):
    """Navigate to `url`; the file must arrive as a download, not as a page."""
    with page.expect_download() as arrival:
        try:
            page.goto(url)
        except sync_api.Error as error:  # a navigation that becomes a download is aborted
            assert "Download is starting" in str(error) or "ERR_ABORTED" in str(error)
    return arrival.value


def test_script_bearing_uploads_never_run(live_server, unit_with_a_notice, browser):
    unit, notice, old_contract, old_evidence = unit_with_a_notice
    dialogs: list[str] = []
    context, page = _sign_in(browser, live_server, "collector1", dialogs)

    # Delivery evidence: an HTML page with script, named and declared as a PDF.
    page.goto(f"{live_server.url}/documents/{notice.pk}/delivery/")
    form = page.locator("#delivery-form")
    form.get_by_label("送达方式", exact=True).select_option("in_person")
    form.get_by_label("签收人", exact=True).fill("王建国")
    form.get_by_label("签收回执照片或扫描件", exact=True).set_input_files(
        {"name": "签收回执.pdf", "mimeType": "application/pdf", "buffer": SCRIPT_HTML}
    )
    form.get_by_role("button", name="保存").click()
    page.get_by_text(
        "只能上传 PDF、JPG 或 PNG 文件，此文件（签收回执.pdf）实际为 HTML。"
    ).wait_for()
    page.screenshot(path=str(SCREENSHOTS / "propfee-upload-refused.png"), full_page=True)
    assert DeliveryEvidence.objects.filter(document=notice).count() == 1  # the old one only

    # The unit's contract: an SVG with script, named and declared as a PNG.
    page.goto(f"{live_server.url}/documents/units/{unit.code}/")
    page.locator("#contract-upload input[type=file]").set_input_files(
        {"name": "合同.png", "mimeType": "image/png", "buffer": SCRIPT_SVG}
    )
    page.locator("#contract-upload").get_by_role("button", name="上传").click()
    page.get_by_text("只能上传 PDF、JPG 或 PNG 文件，此文件（合同.png）实际为 SVG。").wait_for()
    assert Document.objects.filter(kind=DocumentKind.CONTRACT).count() == 1  # the old one only
    assert page.evaluate("typeof window.__pwned") == "undefined"
    context.close()

    # A manager opens what was stored before uploads were checked: downloaded, never rendered.
    context, page = _sign_in(browser, live_server, "manager1", dialogs)
    page.goto(f"{live_server.url}/documents/units/{unit.code}/")
    for url, name in (
        (f"{live_server.url}/documents/{old_contract.pk}/file/", "合同.html"),
        (f"{live_server.url}/documents/evidence/{old_evidence.pk}/", "签收.svg"),
    ):
        download = _opened_as_download(page, url)
        assert download.suggested_filename.endswith(name.rsplit(".", 1)[-1])
        assert name.split(".")[0] in download.suggested_filename
    assert page.url == f"{live_server.url}/documents/units/{unit.code}/"
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert dialogs == []
    context.close()
