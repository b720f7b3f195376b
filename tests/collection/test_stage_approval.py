"""What the approval of a stage starts: 法律程序 prepares a 支付令 for the case's overdue
principal through the legal service (linked to the case, with a timeline line); 律师函 is
rendered once, by the next run's document action."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.collection.constants import CaseStatus, LegalKind, LegalStatus
from propfee.collection.legal import court_fee_estimate, legal_matter_create
from propfee.collection.models import Case, CaseEvent, LegalMatter
from propfee.collection.services import case_stage_approve
from propfee.core.models import AuditEntry
from propfee.documents.models import Document
from tests.factories import OccupancyFactory, PartyPhoneFactory

D = dt.date


def _payer(unit):
    occupancy = OccupancyFactory(unit=unit, party__name="李四", is_payer=True, since=D(2020, 1, 1))
    PartyPhoneFactory(party=occupancy.party, number="13800138000")


@pytest.fixture
def waiting(estate, make_unit, company):
    """waiting(stage, principal_fen=600000) → an open case asking to enter `stage`."""

    def make(stage: str, principal_fen: int = 600000, room: str = "301"):
        unit = make_unit(room)
        return Case.objects.create(
            company=company,
            estate=estate,
            unit=unit,
            opened_on=D(2026, 4, 1),
            stage="lawyer_letter" if stage == "legal" else "final_demand",
            pending_stage=stage,
            pending_since=D(2026, 6, 13),
            principal_overdue_fen=principal_fen,
        )

    return make


def test_the_ladder_to_court(run, owing, manager, settings, tmp_path):
    """Approved, the lawyer letter is rendered once by the next run; approved, the legal stage
    prepares a payment order for the overdue principal."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PROPFEE_LAW_FIRM = {
        "name": "广东明理律师事务所",
        "address": "广州市天河区珠江新城华夏路10号",
        "phone": "020-12345678",
        "lawyer": "陈律",
    }
    unit = owing("201", months=[3], principal_fen=600000)  # ¥6,000 due 31 March
    _payer(unit)
    for day in (D(2026, 4, 1), D(2026, 4, 3), D(2026, 4, 8), D(2026, 4, 15), D(2026, 4, 29)):
        run(day)
    run(D(2026, 5, 13))
    case = Case.objects.get(unit=unit)
    assert case.pending_stage == "lawyer_letter"
    case_stage_approve(case=case, actor=manager)
    assert not Document.objects.filter(kind="lawyer_letter").exists()
    assert not LegalMatter.objects.exists()  # a lawyer letter is no court matter
    run(D(2026, 5, 14), dispatch=True)
    run(D(2026, 5, 15), dispatch=True)
    letter = Document.objects.get(kind="lawyer_letter")
    assert letter.unit == unit

    run(D(2026, 6, 13))
    case.refresh_from_db()
    assert (case.stage, case.pending_stage) == ("lawyer_letter", "legal")
    case_stage_approve(case=case, actor=manager, note="业主长期拒缴")
    matter = LegalMatter.objects.get()
    assert (matter.kind, matter.status) == (LegalKind.PAYMENT_ORDER, LegalStatus.PREPARED)
    assert (matter.case, matter.unit) == (case, unit)
    assert matter.claim_fen == case.principal_overdue_fen == 600000
    assert matter.court_fee_fen == court_fee_estimate(kind="payment_order", claim_fen=600000)
    assert matter.created_by == manager
    event = CaseEvent.objects.get(case=case, kind="legal_prepared")
    assert event.object_id == matter.pk and "准备支付令：主张 ¥6,000.00" in event.summary
    assert AuditEntry.objects.filter(object_type="collection.legalmatter").count() == 1
    assert Document.objects.filter(kind="lawyer_letter").count() == 1
    # The next run enters the stage; no second matter.
    run(D(2026, 6, 14))
    case.refresh_from_db()
    assert case.stage == "legal" and LegalMatter.objects.count() == 1


def test_refusing_the_legal_stage_prepares_nothing(waiting, manager):
    case = waiting("legal")
    case_stage_approve(case=case, actor=manager, approve=False, note="业主已承诺下月缴清")
    case.refresh_from_db()
    assert (case.pending_stage, case.approved_stage) == ("", "")
    assert not LegalMatter.objects.exists()


def test_approving_the_lawyer_letter_prepares_no_matter(waiting, manager):
    case = waiting("lawyer_letter")
    case_stage_approve(case=case, actor=manager)
    case.refresh_from_db()
    assert case.approved_stage == "lawyer_letter"
    assert not LegalMatter.objects.exists()
    assert not Document.objects.exists()  # the next run writes it (test above)


def test_an_open_court_matter_is_not_doubled(waiting, manager):
    case = waiting("legal")
    lawsuit = legal_matter_create(
        unit=case.unit, kind=LegalKind.LAWSUIT, claim_fen=600000, actor=None
    )
    case_stage_approve(case=case, actor=manager)
    assert list(LegalMatter.objects.all()) == [lawsuit]


def test_a_closed_matter_does_not_stop_a_new_one(waiting, manager):
    case = waiting("legal", principal_fen=250000)
    old = legal_matter_create(
        unit=case.unit, kind=LegalKind.PAYMENT_ORDER, claim_fen=100000, actor=None
    )
    LegalMatter.objects.filter(pk=old.pk).update(status=LegalStatus.CLOSED)
    case_stage_approve(case=case, actor=manager)
    new = LegalMatter.objects.exclude(pk=old.pk).get()
    assert (new.kind, new.status, new.claim_fen) == ("payment_order", "prepared", 250000)
    assert case.status == CaseStatus.OPEN


def test_nothing_to_claim_prepares_nothing(waiting, manager):
    case = waiting("legal", principal_fen=0)
    case_stage_approve(case=case, actor=manager)
    case.refresh_from_db()
    assert case.approved_stage == "legal" and not LegalMatter.objects.exists()
