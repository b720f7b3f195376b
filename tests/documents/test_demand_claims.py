"""Demands claim only what is due on their date (民法典 art. 944).

Today is frozen at 2026-11-27. The unit owes four months of 物业费 (10000 分 each, 万分之五 a
day, no grace):
- September, due 09-30: 10-01 … 11-27 = 58 days × 5 = 290 penalty;
- October, due 10-31: 11-01 … 11-27 = 27 days × 5 = 135 penalty;
- November, due 11-30, and December (billed ahead), due 12-10: not yet due.

Every demand claims September and October only: principal 200.00, penalty 4.25, total 204.25
(大写 贰佰零肆元贰角伍分); November and December (200.00) are listed apart as 本期应缴（未到期）.
The old figure counted all four: principal 400.00, total 404.25.

Capped (the default PROPFEE_DEMAND_PENALTY): the bound is the loss at LPR 3.0% × 1.3 on
(58 + 27) days × 10000 = 850000 fen-days → 850000 × 3.9 ÷ 36500 = 90.82 → 91 分; the demand
claims 0.91 of penalty (total 200.91), and says the contract's figure was 4.25."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from docx import Document as WordDocument
from PIL import Image

from propfee.documents.constants import DocumentKind
from propfee.documents.services import document_render, notices_batch_render
from propfee.ledger.selectors import penalty_bound, statement_for_unit
from tests.documents.pdfcheck import page_texts, pdf_text

TODAY = dt.date(2026, 11, 27)
KINDS = [
    DocumentKind.NOTICE,
    DocumentKind.FINAL_DEMAND,
    DocumentKind.LAWYER_LETTER,
    DocumentKind.COMMITTEE_LETTER,
]


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC))


@pytest.fixture
def four_months(unit, owner, make_charge):
    sep = make_charge(month=9)
    oct_ = make_charge(month=10)
    nov = make_charge(month=11)
    dec = make_charge(month=12, due_date=dt.date(2026, 12, 10))
    return sep, oct_, nov, dec


def _pdf(document) -> str:
    with document.file.open("rb") as f:
        return pdf_text(f.read())


@pytest.mark.parametrize("kind", KINDS)
def test_each_demand_claims_only_overdue_charges(kind, four_months, unit, collector):
    sep, oct_, nov, dec = four_months
    document = document_render(kind=kind, unit=unit, actor=collector)
    demand = document.params["demand"]
    assert demand["claimed_charge_ids"] == [sep.pk, oct_.pk]
    assert demand["not_due_charge_ids"] == [nov.pk, dec.pk]
    assert (demand["principal_fen"], demand["penalty_fen"], demand["total_fen"]) == (
        20000,
        425,
        20425,
    )
    assert document.amount_fen == 20425
    text = _pdf(document)
    assert "以上到期欠费合计人民币204.25元（大写：贰佰零肆元贰角伍分）" in text
    assert "其中物业服务费等本金200.00元，滞纳金（违约金）4.25元" in text
    # The bills not yet due, apart: both listed, with their due dates, outside the total.
    assert "本期应缴（未到期）" in text and "不属于本次催缴金额" in text
    assert "2026-11-01至2026-11-302026-11-30100.00" in text
    assert "2026-12-01至2026-12-312026-12-10100.00" in text
    assert "404.25" not in text and "400.00" not in text


def test_the_batch_print_claims_only_overdue_charges(four_months, estate, collector):
    batch = notices_batch_render(estate=estate, actor=collector)
    [notice] = batch.documents.all()
    assert notice.amount_fen == 20425
    assert notice.params["demand"]["not_due_fen"] == 20000
    with batch.file.open("rb") as f:
        [page] = page_texts(f.read())
    assert "以上到期欠费合计人民币204.25元（大写：贰佰零肆元贰角伍分）" in page
    assert "本期应缴（未到期）" in page
    assert "404.25" not in page


def test_the_batch_skips_a_unit_with_only_bills_not_yet_due(unit, owner, make_charge, estate):
    from propfee.documents.services import DocumentError

    make_charge(month=11)
    with pytest.raises(DocumentError, match="没有需要催缴"):
        notices_batch_render(estate=estate, actor=None, as_of=dt.date(2026, 12, 1))


def test_a_statement_dated_after_the_demand_cannot_make_a_bill_due(four_months, unit, collector):
    # as_of 12-15 > today 11-27: November and December are still not due on the demand's date.
    document = document_render(
        kind=DocumentKind.NOTICE, unit=unit, actor=collector, as_of=dt.date(2026, 12, 15)
    )
    assert document.params["demand"]["claimed_charge_ids"] == [c.pk for c in four_months[:2]]


def test_the_statement_itself_still_shows_everything(four_months, unit, collector):
    document = document_render(kind=DocumentKind.STATEMENT, unit=unit, actor=collector)
    assert document.amount_fen == 40425
    assert "404.25" in _pdf(document)


def test_the_default_penalty_is_capped_at_the_reasonableness_bound(
    four_months, unit, collector, settings
):
    settings.PROPFEE_DEMAND_PENALTY = "capped"
    assert penalty_bound(statement_for_unit(unit=unit, as_of=TODAY)).bound_fen == 91
    document = document_render(kind=DocumentKind.FINAL_DEMAND, unit=unit, actor=collector)
    demand = document.params["demand"]
    assert (demand["penalty_contract_fen"], demand["penalty_fen"], demand["total_fen"]) == (
        425,
        91,
        20091,
    )
    assert document.amount_fen == 20091
    text = _pdf(document)
    assert "以上到期欠费合计人民币200.91元（大写：贰佰元零玖角壹分）" in text
    assert "滞纳金按合理上限调减" in text and "-3.34" in text
    assert "按合同约定计算的滞纳金为4.25元" in text


def test_a_paid_penalty_uses_up_the_bound(four_months, unit, collector, settings, pay):
    # 295 paid on 11-01: 290 September penalty first, then 5 of its principal. The bound's room
    # left is 91 − 290 < 0, so the demand claims no penalty at all.
    settings.PROPFEE_DEMAND_PENALTY = "capped"
    pay(295, dt.date(2026, 11, 1))
    document = document_render(kind=DocumentKind.NOTICE, unit=unit, actor=collector)
    assert document.params["demand"]["penalty_fen"] == 0


@pytest.fixture
def seal_png(tmp_path):
    path = tmp_path / "seal.png"
    Image.new("RGBA", (120, 120), (200, 0, 0, 255)).save(path)
    return str(path)


def test_notice_carries_the_hotline_and_the_seal(four_months, unit, collector, settings, seal_png):
    settings.PROPFEE_SERVICE_HOTLINE = "400-800-1234"
    settings.PROPFEE_SEAL_IMAGE = seal_png
    document = document_render(kind=DocumentKind.NOTICE, unit=unit, actor=collector)
    import pypdf

    with document.file.open("rb") as f:
        data = f.read()
    assert "服务热线：400-800-1234" in pdf_text(data)
    [page] = pypdf.PdfReader(io.BytesIO(data)).pages
    assert len(page.images) == 1


def test_notice_has_an_editable_word_file(four_months, unit, collector, client, settings, seal_png):
    settings.PROPFEE_SEAL_IMAGE = seal_png
    document = document_render(kind=DocumentKind.NOTICE, unit=unit, actor=collector)
    client.force_login(collector)
    response = client.get(f"/documents/{document.pk}/file/?format=docx")
    assert response.status_code == 200
    word = WordDocument(io.BytesIO(response.content))
    xml = zipfile.ZipFile(io.BytesIO(response.content)).read("word/document.xml").decode()
    assert "催缴通知书" in xml and "204.25" in xml and "本期应缴（未到期）" in xml
    assert len(word.inline_shapes) == 1  # the seal
