"""The penalty cap (违约金上限) is a ceiling: the claimed penalty is never above k × P, so the
cap is the largest whole fen not above it (docs/definitions.md, "封顶").

Worked example: P = 18448 分 due 2026-01-31, 万分之五 a day (9.224 分 a day), k = 0.1:
k × P = 1844.8 → cap 1844 分. After 199 days (2026-08-18) Σ = 1835.576 → 1836; after 200 days
(2026-08-19) Σ = 1844.8 → 1845 rounded, capped at 1844 (¥18.44), and it stays there."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from propfee.billing.services import contract_version_create
from propfee.documents.constants import DocumentKind
from propfee.documents.services import document_render
from propfee.ledger.selectors import statement_for_unit, statement_json
from tests.documents.pdfcheck import pdf_text
from tests.payments.conftest import START


@pytest.fixture
def capped(estate, unit, owner, fee_item, make_charge, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    contract_version_create(
        estate=estate,
        effective_from=START,
        penalty_cap_ratio=Decimal("0.1"),
        actor=None,
    )
    return make_charge(principal_fen=18448)


@pytest.fixture
def contract(estate):  # the cap contract replaces the plain one of tests/payments/conftest
    return None


@pytest.mark.parametrize(
    ("as_of", "penalty"),
    [
        (dt.date(2026, 8, 18), "18.36"),
        (dt.date(2026, 8, 19), "18.44"),
        (dt.date(2026, 12, 31), "18.44"),
    ],
)
def test_statement_shows_the_floored_cap(capped, unit, as_of, penalty):
    data = statement_json(statement_for_unit(unit=unit, as_of=as_of))
    [line] = data["charges"]
    assert line["penalty_accrued"] == penalty
    assert data["totals"]["penalty_outstanding"] == penalty


def test_notice_claims_no_more_than_the_cap(capped, unit, collector, time_machine, settings):
    # The contract's penalty in full (the default caps a demand lower still, at the
    # reasonableness bound: tests/documents/test_demand_claims.py).
    settings.PROPFEE_DEMAND_PENALTY = "contract"
    time_machine.move_to(dt.datetime(2026, 9, 1, 10, 0, tzinfo=dt.UTC))
    document = document_render(kind=DocumentKind.NOTICE, unit=unit, actor=collector)
    assert document.params["penalty_outstanding_fen"] == 1844
    assert document.params["demand"]["penalty_fen"] == 1844
    assert document.amount_fen == 18448 + 1844
    with document.file.open("rb") as f:
        text = pdf_text(f.read())
    assert "18.44" in text and "202.92" in text
    assert "18.45" not in text
