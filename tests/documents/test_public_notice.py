"""欠费公示 that protects people: off by default per company; a request with its legal basis and
a written impact assessment; approved by someone other than the requester; at most 30 days; only
units owing at least 3 months and ¥200 (the test threshold), never a unit under a plan, a hold
or a promise not yet due; unit number, months and principal only; a unit that pays comes off."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from propfee.collection.constants import HoldKind
from propfee.collection.holds import hold_create
from propfee.collection.models import Promise
from propfee.collection.plans import installment_plan_request
from propfee.core.roles import PermissionDenied, Role
from propfee.documents.models import PublicNoticeRequest
from propfee.documents.public_list import (
    company_public_list_set,
    public_notice_approve,
    public_notice_print,
    public_notice_request_create,
)
from propfee.documents.services import DocumentError
from tests.documents.pdfcheck import inked_pixels, pdf_text
from tests.factories import OccupancyFactory, PartyPhoneFactory, UnitFactory

BASIS = "2026年第一次业主大会决议第三项"
ASSESSMENT = {
    "purpose": "督促长期欠费业主缴费，维护全体业主共同利益",
    "necessity": "已多次书面催缴、上门沟通仍未缴纳",
    "risks": "房号可能被邻居识别，影响业主名誉",
    "measures": "只列房号、月数和本金；公示15天；缴清即撤下；不列分期和争议房屋",
}
FROM, UNTIL = dt.date(2026, 5, 6), dt.date(2026, 5, 20)


@pytest.fixture(autouse=True)
def _today(time_machine, settings):
    time_machine.move_to(dt.datetime(2026, 5, 6, 10, 0, tzinfo=dt.UTC))
    settings.PROPFEE_PUBLIC_LIST_MIN_MONTHS = 3
    settings.PROPFEE_PUBLIC_LIST_MIN_YUAN = 200


@pytest.fixture
def enabled(company):
    company_public_list_set(company=company, enabled=True, actor=None)
    return company


@pytest.fixture
def second_manager(make_user, estate):
    return make_user(Role.MANAGER, username="manager2", estates=[estate])


def _request(estate, actor, **overrides):
    values = {
        "legal_basis": BASIS,
        **ASSESSMENT,
        "display_from": FROM,
        "display_until": UNTIL,
        **overrides,
    }
    return public_notice_request_create(estate=estate, actor=actor, **values)


def _text(document) -> str:
    with document.file.open("rb") as f:
        return pdf_text(f.read())


def test_off_by_default(company, owing, manager, estate):
    assert company.public_list_enabled is False
    with pytest.raises(DocumentError, match="未启用欠费公示"):
        _request(estate, manager)


def test_only_a_company_admin_turns_it_on(company, manager, make_user):
    with pytest.raises(PermissionDenied):
        company_public_list_set(company=company, enabled=True, actor=manager)
    admin = make_user(Role.ADMIN, username="admin1")
    assert company_public_list_set(company=company, enabled=True, actor=admin).public_list_enabled


def test_the_command_turns_it_on_and_off(company):
    out = io.StringIO()
    call_command("public_list", "on", "--company", company.code, stdout=out)
    company.refresh_from_db()
    assert company.public_list_enabled and "已启用" in out.getvalue()
    call_command("public_list", "off", stdout=out)
    company.refresh_from_db()
    assert not company.public_list_enabled
    with pytest.raises(CommandError):
        call_command("public_list", "on", "--company", "NOPE")


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("legal_basis", "公示依据"),
        ("purpose", "公示目的"),
        ("necessity", "必要性"),
        ("risks", "风险"),
        ("measures", "保护措施"),
    ],
)
def test_basis_and_every_part_of_the_impact_assessment_are_required(
    enabled, owing, collector, estate, field, message
):
    with pytest.raises(DocumentError, match=message):
        _request(estate, collector, **{field: "  "})
    assert not PublicNoticeRequest.objects.exists()


def test_the_display_period_is_at_most_30_days(enabled, owing, collector, estate):
    with pytest.raises(DocumentError, match="30 天"):
        _request(estate, collector, display_until=dt.date(2026, 6, 5))  # 31 days
    assert _request(estate, collector, display_until=dt.date(2026, 6, 4)).pk  # 30 days


def test_four_eyes(enabled, owing, manager, second_manager, collector, estate):
    request = _request(estate, manager)
    with pytest.raises(DocumentError, match="不能审批自己提交"):
        public_notice_approve(request=request, actor=manager)
    with pytest.raises(PermissionDenied):
        public_notice_approve(request=request, actor=collector)
    approved = public_notice_approve(request=request, actor=second_manager)
    assert approved.status == PublicNoticeRequest.Status.APPROVED
    assert approved.document.params["requested_by"] == manager.pk
    assert approved.document.params["approved_by"] == second_manager.pk
    with pytest.raises(DocumentError, match="不能再审批"):
        public_notice_approve(request=request, actor=second_manager)


def test_lists_only_units_that_may_be_listed_and_nothing_about_people(
    enabled, owing, building, make_charge, collector, manager, estate
):
    def owes(room, months=(1, 2, 3), fen=10000, name="李四海", phone="10099998888"):
        unit = UnitFactory(building=building, room=room, floor=int(room[:2]))
        occupancy = OccupancyFactory(unit=unit, party__name=name)
        PartyPhoneFactory(party=occupancy.party, number=phone)
        for month in months:
            make_charge(month=month, principal_fen=fen, unit=unit)
        return unit

    listed = owes("0801", fen=25050)
    recent = owes("0901", months=(3, 4))  # two months: recent debt
    small = owes("1001", fen=6000)  # three months but ¥180: small debt
    plan = owes("1101")
    installment_plan_request(
        unit=plan,
        total_fen=30000,
        count=3,
        first_due_on=dt.date(2026, 6, 1),
        reason="分期",
        actor=collector,
    )
    hospital = owes("1201")
    hold_create(
        unit=hospital,
        kind=HoldKind.HARDSHIP,
        starts_on=dt.date(2026, 5, 1),
        ends_on=dt.date(2026, 6, 30),
        reason="业主住院",
        actor=manager,
    )
    promised = owes("1301")
    Promise.objects.create(unit=promised, amount_fen=30000, promised_on=dt.date(2026, 5, 15))

    request = _request(estate, collector)
    document = public_notice_approve(request=request, actor=manager).document
    assert sorted(document.params["unit_ids"]) == sorted([owing.pk, listed.pk])
    text = _text(document)
    assert "物业服务费欠费公示" in text and BASIS in text
    assert "3栋1502" in text and "300.00" in text
    assert "3栋0801" in text and "751.50" in text
    assert "2026年5月6日至2026年5月20日" in text
    for absent in ("0901", "1001", "1101", "1201", "1301"):
        assert f"3栋{absent}" not in text
    for private in ("王建国", "李四海", "10012345678", "10099998888"):
        assert private not in text and private not in document.text
    assert document.unit is None
    assert inked_pixels(document.file.open("rb").read()) > 3000
    assert {recent.pk, small.pk, plan.pk, hospital.pk, promised.pk}.isdisjoint(
        document.params["unit_ids"]
    )


def test_a_unit_that_pays_comes_off_the_list(
    enabled, owing, building, make_charge, collector, manager, estate, pay, time_machine
):
    other = UnitFactory(building=building, room="0801", floor=8)
    for month in (1, 2, 3):
        make_charge(month=month, unit=other)
    request = public_notice_approve(request=_request(estate, collector), actor=manager)
    assert sorted(request.document.params["unit_ids"]) == sorted([owing.pk, other.pk])

    time_machine.move_to(dt.datetime(2026, 5, 10, 10, 0, tzinfo=dt.UTC))
    pay(31000, dt.date(2026, 5, 9), unit=other)
    reprint = public_notice_print(request=request, actor=collector)
    assert reprint.params["unit_ids"] == [owing.pk]
    assert "3栋0801" not in _text(reprint)

    time_machine.move_to(dt.datetime(2026, 5, 21, 10, 0, tzinfo=dt.UTC))
    with pytest.raises(DocumentError, match="不在公示期内"):
        public_notice_print(request=request, actor=collector)
