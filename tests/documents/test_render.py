"""Each rendered document: its words come back out of the PDF (Chinese text and amounts), a
page drawn to a bitmap is not blank, and the CJK font is embedded (FontFile2)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from propfee.core.models import AuditEntry
from propfee.core.roles import PermissionDenied
from propfee.documents.constants import DocumentKind
from propfee.documents.fonts import FONT_CANDIDATES
from propfee.documents.services import DocumentError, document_render, receipt_render
from propfee.payments.constants import PaymentChannel
from tests.documents.conftest import AS_OF
from tests.documents.pdfcheck import embedded_fonts, inked_pixels, pdf_text

TODAY = dt.date(2026, 5, 6)


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 5, 6, 10, 0, tzinfo=dt.UTC))


def _pdf(document) -> bytes:
    with document.file.open("rb") as f:
        return f.read()


def _assert_drawn(data: bytes) -> None:
    fonts = embedded_fonts(data)
    cjk = [name for name in fonts if "UMing" in name or "MicroHei" in name]
    assert cjk, fonts
    assert all(fonts[name] for name in cjk), fonts
    assert inked_pixels(data) > 5000


def test_font_is_installed():
    assert any(Path(path).is_file() for path, _ in FONT_CANDIDATES)


def test_notice(owing, collector):
    document = document_render(kind=DocumentKind.NOTICE, unit=owing, actor=collector, as_of=AS_OF)
    data = _pdf(document)
    text = pdf_text(data)
    for expected in (
        "催缴通知书",
        "安家物业",
        "尊敬的王建国（阳光花园3栋1502）业主：",
        "截至2026年4月30日",
        "物业费",
        "2026-01-01至2026-01-31",
        "100.00",
        "4.45",
        "300.00",
        "9.00",
        "309.00",
        "叁佰零玖元整",
        "2026年5月21日前",  # 15 days after 2026-05-06
        "15日内",
        "缴费方式",
        "第九百四十四条",
        "签收回执",
        document.number,
        "第1页",
    ):
        assert expected in text, expected
    assert "10012345678" not in text
    _assert_drawn(data)
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.size == len(data)
    assert document.amount_fen == 30900
    assert document.deadline == dt.date(2026, 5, 21)
    assert document.params["total_outstanding_fen"] == 30900
    assert document.params["penalty_outstanding_fen"] == 900
    assert "309.00" in document.text and "叁佰零玖元整" in document.text
    assert document.number.startswith("CJ-DEMO-20260506-")
    assert document.file.name.endswith(".pdf")
    entry = AuditEntry.objects.get(object_type="documents.document", object_id=str(document.pk))
    assert entry.actor == collector and entry.after["sha256"] == document.sha256


def test_final_demand_quotes_article_944_and_gives_a_deadline(owing, collector):
    document = document_render(
        kind=DocumentKind.FINAL_DEMAND, unit=owing, actor=collector, as_of=AS_OF, deadline_days=10
    )
    text = pdf_text(_pdf(document))
    assert "催告函" in text
    assert "业主违反约定逾期不支付物业费的，物业服务人可以催告其在合理期限内支付" in text
    assert "合理期限届满仍不支付的，物业服务人可以提起诉讼或者申请仲裁" in text
    assert "10日内，即2026年5月16日前" in text
    assert "309.00" in text and "叁佰零玖元整" in text
    assert "停水" not in text and "停电" not in text
    _assert_drawn(_pdf(document))


def test_lawyer_letter_on_the_firms_letterhead(owing, legal):
    document = document_render(
        kind=DocumentKind.LAWYER_LETTER, unit=owing, actor=legal, as_of=AS_OF
    )
    text = pdf_text(_pdf(document))
    for expected in (
        "律师函",
        "广东明理律师事务所",
        "广州市天河区珠江新城华夏路10号",
        "020-12345678",
        "陈律律师",
        "接受安家物业",
        "309.00",
        "7日内，即2026年5月13日前",
    ):
        assert expected in text, expected
    assert document.params["law_firm"]["lawyer"] == "陈律"
    _assert_drawn(_pdf(document))


def test_lawyer_letter_needs_the_firm(owing, legal, settings):
    settings.PROPFEE_LAW_FIRM = {"name": "", "address": "", "phone": "", "lawyer": ""}
    with pytest.raises(DocumentError, match="律师事务所"):
        document_render(kind=DocumentKind.LAWYER_LETTER, unit=owing, actor=legal, as_of=AS_OF)


def test_committee_letter_quotes_article_64(owing, collector):
    document = document_render(
        kind=DocumentKind.COMMITTEE_LETTER, unit=owing, actor=collector, as_of=AS_OF
    )
    text = pdf_text(_pdf(document))
    assert "阳光花园业主委员会" in text
    assert "《物业管理条例》第六十四条" in text
    assert "业主委员会应当督促其限期交纳" in text
    assert "2026年5月21日前" in text and "309.00" in text
    _assert_drawn(_pdf(document))


def test_statement_by_period_with_totals(owing, collector, pay):
    pay(10000, dt.date(2026, 2, 10))
    document = document_render(
        kind=DocumentKind.STATEMENT, unit=owing, actor=collector, as_of=AS_OF
    )
    text = pdf_text(_pdf(document))
    assert "物业费对账单" in text
    assert "2026-02-01至2026-02-28" in text and "2026-03-01至2026-03-31" in text
    # January paid on 02-10: 10 days of penalty (50 分) first, then 99.50 of principal.
    assert "300.00" in text  # principal billed
    assert "99.50" in text
    assert "预存余额0.00元" in text
    assert document.deadline is None
    _assert_drawn(_pdf(document))


def test_no_demand_without_arrears(unit, owner, collector):
    with pytest.raises(DocumentError, match="没有欠费"):
        document_render(kind=DocumentKind.NOTICE, unit=unit, actor=collector, as_of=AS_OF)


def test_deadline_must_be_reasonable(owing, collector):
    with pytest.raises(DocumentError, match="合理期限"):
        document_render(
            kind=DocumentKind.FINAL_DEMAND,
            unit=owing,
            actor=collector,
            as_of=AS_OF,
            deadline_days=1,
        )


def test_committee_may_not_render(owing, make_user, estate):
    committee = make_user("committee", username="ywh", estates=[estate])
    with pytest.raises(PermissionDenied):
        document_render(kind=DocumentKind.NOTICE, unit=owing, actor=committee, as_of=AS_OF)


def test_out_of_scope_unit_is_refused(owing, make_user, other_estate):
    stranger = make_user("collector", username="west1", estates=[other_estate])
    with pytest.raises(PermissionDenied):
        document_render(kind=DocumentKind.NOTICE, unit=owing, actor=stranger, as_of=AS_OF)


def test_receipt_for_a_payment(owing, front_desk, pay):
    payment = pay(123450, dt.date(2026, 5, 6), channel=PaymentChannel.WECHAT, actor=front_desk)
    document = receipt_render(payment=payment, actor=front_desk)
    data = _pdf(document)
    text = pdf_text(data)
    assert "收据" in text
    assert payment.receipt_no in text
    assert "¥1,234.50" in text
    assert "壹仟贰佰叁拾肆元伍角整" in text
    assert "王建国" in text
    assert "滞纳金" in text and "本金" in text
    assert document.number == payment.receipt_no and document.payment == payment
    assert document.amount_fen == 123450
    _assert_drawn(data)
    # Asking again gives the same receipt.
    assert receipt_render(payment=payment, actor=front_desk).pk == document.pk
