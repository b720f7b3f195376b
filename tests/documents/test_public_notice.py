"""欠费公示: unit numbers, months and amounts only — no names, no phones; a manager's approval,
a recorded legal basis and a display period of at most 30 days."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.core.roles import PermissionDenied
from propfee.documents.services import DocumentError, public_notice_render
from tests.documents.conftest import AS_OF
from tests.documents.pdfcheck import inked_pixels, pdf_text
from tests.factories import OccupancyFactory, PartyPhoneFactory, UnitFactory

BASIS = "2026年第一次业主大会决议第三项"


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 5, 6, 10, 0, tzinfo=dt.UTC))


def test_lists_units_and_amounts_without_people(owing, building, make_charge, manager, estate):
    neighbour = UnitFactory(building=building, room="0801", floor=8)
    occupancy = OccupancyFactory(unit=neighbour, party__name="李四海")
    PartyPhoneFactory(party=occupancy.party, number="10099998888")
    make_charge(month=3, principal_fen=25050, unit=neighbour)
    document = public_notice_render(
        estate=estate,
        actor=manager,
        legal_basis=BASIS,
        display_from=dt.date(2026, 5, 6),
        display_until=dt.date(2026, 5, 20),
        as_of=AS_OF,
    )
    with document.file.open("rb") as f:
        data = f.read()
    text = pdf_text(data)
    assert "物业服务费欠费公示" in text
    assert BASIS in text
    assert "3栋1502" in text and "300.00" in text
    assert "3栋0801" in text and "250.50" in text
    assert "2026年5月6日至2026年5月20日" in text
    for private in ("王建国", "李四海", "10012345678", "10099998888"):
        assert private not in text
        assert private not in document.text
    assert inked_pixels(data) > 3000
    assert document.unit is None
    assert document.params["approved_by"] == manager.pk
    assert document.params["legal_basis"] == BASIS
    assert sorted(document.params["unit_ids"]) == sorted([owing.pk, neighbour.pk])


def test_collector_may_not_publish(owing, collector, estate):
    with pytest.raises(PermissionDenied):
        public_notice_render(
            estate=estate,
            actor=collector,
            legal_basis=BASIS,
            display_from=dt.date(2026, 5, 6),
            display_until=dt.date(2026, 5, 20),
        )


@pytest.mark.parametrize(
    ("basis", "until", "message"),
    [("", dt.date(2026, 5, 20), "依据"), (BASIS, dt.date(2026, 6, 30), "30 天")],
)
def test_basis_and_period_are_required(owing, manager, estate, basis, until, message):
    with pytest.raises(DocumentError, match=message):
        public_notice_render(
            estate=estate,
            actor=manager,
            legal_basis=basis,
            display_from=dt.date(2026, 5, 6),
            display_until=until,
        )
