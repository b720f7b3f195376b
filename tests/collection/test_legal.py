"""Legal matters (法律事务): court fees worked by hand per band (诉讼费用交纳办法 arts. 13, 14,
16), the pipeline, the evidence checklist, small claims and the credit-referral flag."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from propfee.collection.constants import HoldKind, LegalKind, LegalStatus, RestartKind
from propfee.collection.holds import active_holds
from propfee.collection.legal import (
    LegalError,
    LegalTransitionError,
    court_fee_estimate,
    estate_province,
    evidence_checklist,
    legal_matter_advance,
    legal_matter_amounts_set,
    legal_matter_create,
    legal_matter_evidence_set,
    small_claims_eligible,
)
from propfee.collection.models import LimitationRestart
from propfee.core.roles import PermissionDenied, Role

D = dt.date
Y = 100  # fen per yuan


@pytest.mark.parametrize(
    "claim_yuan, lawsuit, small_claim, payment_order",
    [
        # ≤ ¥10,000: ¥50 a case.
        (8_000, 50, 25, "16.67"),
        (10_000, 50, 25, "16.67"),
        # ¥50,000: 50 + 40,000 × 2.5% = 1,050.
        (50_000, 1_050, 525, 350),
        # ¥150,000: 50 + 90,000 × 2.5% + 50,000 × 2% = 3,300.
        (150_000, 3_300, 1_650, 1_100),
        # ¥300,000: 50 + 2,250 + 2,000 + 100,000 × 1.5% = 5,800.
        (300_000, 5_800, 2_900, "1933.33"),
        # ¥800,000: 50 + 2,250 + 2,000 + 4,500 + 300,000 × 1% = 11,800.
        (800_000, 11_800, 5_900, "3933.33"),
        # ¥1,500,000: 13,800 + 500,000 × 0.9% = 18,300.
        (1_500_000, 18_300, 9_150, 6_100),
    ],
)
def test_court_fee_by_band(claim_yuan, lawsuit, small_claim, payment_order):
    fee = lambda kind: court_fee_estimate(kind=kind, claim_fen=claim_yuan * Y)  # noqa: E731
    assert fee(LegalKind.LAWSUIT) == lawsuit * Y
    assert fee(LegalKind.SMALL_CLAIM) == small_claim * Y
    assert fee(LegalKind.PAYMENT_ORDER) == round(float(payment_order) * Y)
    assert fee(LegalKind.LAWYER_LETTER) == 0


def test_court_fee_rounds_half_up_once():
    # ¥10,000.01: 50 + 0.01 × 2.5% = 50.00025 → ¥50.00; ¥10,000.20 → 50.005 → ¥50.01.
    assert court_fee_estimate(kind=LegalKind.LAWSUIT, claim_fen=1_000_001) == 5000
    assert court_fee_estimate(kind=LegalKind.LAWSUIT, claim_fen=1_000_020) == 5001


@pytest.fixture
def legal(make_user, estate):
    return make_user(Role.LEGAL, username="fawu", estates=[estate])


@pytest.fixture
def boss(make_user, estate):
    return make_user(Role.MANAGER, username="jingli", estates=[estate])


def test_a_lawsuit_through_the_pipeline(unit, legal, boss, make_charge):
    make_charge(month=1)
    matter = legal_matter_create(
        unit=unit, kind=LegalKind.LAWSUIT, claim_fen=50_000 * Y, actor=legal, on=D(2026, 6, 1)
    )
    assert matter.court_fee_fen == 1_050 * Y
    with pytest.raises(PermissionDenied):
        legal_matter_advance(matter=matter, to_status=LegalStatus.APPROVED, actor=legal)
    with pytest.raises(LegalTransitionError):
        legal_matter_advance(matter=matter, to_status=LegalStatus.FILED, actor=legal)
    steps = [
        (LegalStatus.APPROVED, boss, D(2026, 6, 2)),
        (LegalStatus.FILED, legal, D(2026, 6, 10)),
        (LegalStatus.HEARING, legal, D(2026, 7, 20)),
        (LegalStatus.JUDGMENT, legal, D(2026, 8, 5)),
        (LegalStatus.ENFORCEMENT, legal, D(2026, 9, 1)),
        (LegalStatus.CLOSED, legal, D(2026, 10, 1)),
    ]
    for status, actor, on in steps:
        matter = legal_matter_advance(matter=matter, to_status=status, actor=actor, on=on)
    assert (matter.approved_on, matter.filed_on, matter.hearing_on) == (
        D(2026, 6, 2),
        D(2026, 6, 10),
        D(2026, 7, 20),
    )
    assert (matter.judgment_on, matter.enforcement_on, matter.closed_on) == (
        D(2026, 8, 5),
        D(2026, 9, 1),
        D(2026, 10, 1),
    )
    assert matter.approved_by == boss
    # The filing held escalation until the close.
    assert [h.kind for h in active_holds(unit_ids=[unit.pk], on=D(2026, 7, 1))[unit.pk]] == [
        HoldKind.LEGAL
    ]
    assert active_holds(unit_ids=[unit.pk], on=D(2026, 10, 1)) == {}
    with pytest.raises(LegalTransitionError):
        legal_matter_advance(matter=matter, to_status=LegalStatus.ENFORCEMENT, actor=legal)


def test_a_lawyer_letter_has_no_court_steps_and_dates_never_go_back(unit, legal, boss):
    matter = legal_matter_create(
        unit=unit, kind=LegalKind.LAWYER_LETTER, claim_fen=0, actor=legal, on=D(2026, 6, 1)
    )
    with pytest.raises(LegalError, match="上一步"):
        legal_matter_advance(
            matter=matter, to_status=LegalStatus.APPROVED, actor=boss, on=D(2026, 5, 1)
        )
    legal_matter_advance(
        matter=matter, to_status=LegalStatus.APPROVED, actor=boss, on=D(2026, 6, 1)
    )
    with pytest.raises(LegalTransitionError):
        legal_matter_advance(matter=matter, to_status=LegalStatus.FILED, actor=legal)


def test_nobody_approves_what_they_prepared(unit, boss):
    matter = legal_matter_create(unit=unit, kind=LegalKind.LAWSUIT, claim_fen=100 * Y, actor=boss)
    with pytest.raises(LegalError, match="自己"):
        legal_matter_advance(matter=matter, to_status=LegalStatus.APPROVED, actor=boss)


def test_small_claims_by_province(unit, legal, settings):
    settings.PROPFEE_SMALL_CLAIMS_LIMITS = {"浙江省": 60_000}
    settings.PROPFEE_CITY_PROVINCE = {"杭州": "浙江省"}
    estate = unit.estate
    estate.city = "杭州市"
    estate.save()
    assert estate_province(estate) == "浙江省"
    assert small_claims_eligible(estate=estate, claim_fen=60_000 * Y) is True
    assert small_claims_eligible(estate=estate, claim_fen=60_000 * Y + 1) is False
    with pytest.raises(LegalError, match="小额诉讼标准"):
        legal_matter_create(
            unit=unit, kind=LegalKind.SMALL_CLAIM, claim_fen=70_000 * Y, actor=legal
        )
    estate.city = "拉萨"
    estate.save()
    assert small_claims_eligible(estate=estate, claim_fen=100) is None


@pytest.mark.parametrize("regions, expected", [([], False), (["南京"], True)])
def test_credit_referral_only_after_an_unpaid_judgment_where_provided(
    unit, legal, boss, settings, regions, expected
):
    settings.PROPFEE_CREDIT_REFERRAL_REGIONS = regions
    estate = unit.estate
    estate.city = "南京市"
    estate.save()
    matter = legal_matter_create(
        unit=unit, kind=LegalKind.LAWSUIT, claim_fen=5_000 * Y, actor=legal
    )
    matter = legal_matter_advance(matter=matter, to_status=LegalStatus.APPROVED, actor=boss)
    matter = legal_matter_advance(matter=matter, to_status=LegalStatus.FILED, actor=legal)
    assert matter.credit_referral_eligible is False  # no judgment yet
    matter = legal_matter_advance(matter=matter, to_status=LegalStatus.JUDGMENT, actor=legal)
    assert matter.credit_referral_eligible is expected
    matter = legal_matter_amounts_set(matter=matter, actor=legal, recovered_fen=5_000 * Y)
    assert matter.credit_referral_eligible is False  # paid in full


def test_evidence_checklist_found_and_ticked(unit, legal, make_charge):
    make_charge(month=1)
    matter = legal_matter_create(unit=unit, kind=LegalKind.LAWSUIT, claim_fen=100 * Y, actor=legal)
    legal_matter_evidence_set(matter=matter, ticks={"ownership": True}, actor=legal)
    matter.refresh_from_db()
    present = {item.key: item.present for item in evidence_checklist(matter)}
    assert present == {
        "service_contract": False,
        "ownership": True,
        "fee_basis": False,
        "arrears": True,
        "demands": False,
        "services": False,
    }
    with pytest.raises(LegalError, match="未知"):
        legal_matter_evidence_set(matter=matter, ticks={"bogus": True}, actor=legal)
    # An SMS demand messaging recorded as delivered counts as a demand with delivery proof.
    LimitationRestart.objects.create(
        unit=unit,
        kind=RestartKind.DEMAND,
        occurred_on=D(2026, 3, 2),
        description="短信催缴已送达",
        source_type="messaging.message",
        source_id=1,
    )
    assert {i.key: i.found for i in evidence_checklist(matter)}["demands"] is True


def test_amounts_follow_the_claim(unit, legal):
    matter = legal_matter_create(
        unit=unit, kind=LegalKind.LAWSUIT, claim_fen=8_000 * Y, actor=legal
    )
    matter = legal_matter_amounts_set(
        matter=matter, actor=legal, claim_fen=50_000 * Y, lawyer_fee_fen=3_000 * Y
    )
    assert (matter.court_fee_fen, matter.lawyer_fee_fen) == (1_050 * Y, 3_000 * Y)


# --- pages -----------------------------------------------------------------------------------


@time_machine.travel(dt.datetime(2026, 6, 1, 2, tzinfo=dt.UTC), tick=False)
def test_prepare_approve_and_file_through_the_pages(client, unit, legal, boss, make_charge):
    from django.urls import reverse

    from propfee.collection.models import LegalMatter

    make_charge(month=1)
    client.force_login(legal)
    data = {"unit": unit.code, "kind": LegalKind.PAYMENT_ORDER, "claim": "1500.00"}
    confirm = client.post(reverse("collection:legal_new"), data).content.decode()
    assert "预估诉讼费" in confirm and "¥16.67" in confirm  # ≤ ¥10,000: 50 ÷ 3
    client.post(reverse("collection:legal_new"), {**data, "confirm": "1"})
    matter = LegalMatter.objects.get()
    detail = reverse("collection:legal_detail", args=[matter.pk])
    page = client.get(detail).content.decode()
    assert 'data-evidence="arrears" data-present="1"' in page
    assert 'value="approved"' not in page  # the legal officer cannot approve

    client.force_login(boss)
    step = {"step-to_status": "approved", "step-on": "2026-06-02"}
    client.post(detail, {**step, "confirm": "1"})
    matter.refresh_from_db()
    assert (matter.status, matter.approved_on) == (LegalStatus.APPROVED, D(2026, 6, 2))
    missing = client.post(detail, {"step-to_status": "filed", "step-on": "2026-06-05"})
    assert "立案请填写案号" in missing.content.decode()

    client.force_login(legal)
    client.post(
        detail,
        {
            "step-to_status": "filed",
            "step-on": "2026-06-05",
            "step-docket_no": "(2026)督1号",
            "confirm": "1",
        },
    )
    matter.refresh_from_db()
    assert (matter.status, matter.docket_no) == (LegalStatus.FILED, "(2026)督1号")
    client.post(reverse("collection:legal_evidence", args=[matter.pk]), {"ownership": "on"})
    matter.refresh_from_db()
    assert matter.evidence["ownership"] is True
    export = client.get(reverse("collection:legal_list") + "?export=xlsx")
    assert export.status_code == 200


def test_collectors_do_not_see_legal_matters(client, collector):
    from django.urls import reverse

    client.force_login(collector)
    assert client.get(reverse("collection:legal_list")).status_code == 403
