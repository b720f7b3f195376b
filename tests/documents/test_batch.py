"""Batch printing: every unit of an estate with arrears gets a notice in ONE PDF, one notice
per page, in route order (building, floor, room), each recorded as its own document."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from propfee.core.models import AuditEntry
from propfee.documents.models import Document, DocumentBatch
from propfee.documents.services import DocumentError, notices_batch_render
from tests.documents.conftest import AS_OF
from tests.documents.pdfcheck import embedded_fonts, inked_pixels, page_count, page_texts
from tests.factories import BuildingFactory, OccupancyFactory, UnitFactory


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 5, 6, 10, 0, tzinfo=dt.UTC))


@pytest.fixture
def route(estate, building, make_charge, owing):
    """Units made out of route order; all owe except 3-0101 (paid up, no charges)."""
    tower = BuildingFactory(estate=estate, code="1", name="1栋")
    units = {
        "3-1502": owing,
        "1-0902": UnitFactory(building=tower, room="0902", floor=9),
        "3-0301": UnitFactory(building=building, room="0301", floor=3),
        "1-0201": UnitFactory(building=tower, room="0201", floor=2),
        "1-1101": UnitFactory(building=tower, room="1101", floor=11),
    }
    UnitFactory(building=building, room="0101", floor=1)
    for key, unit in units.items():
        if unit is not owing:
            make_charge(month=2, unit=unit, principal_fen=20000)
            OccupancyFactory(unit=unit, party__name=f"业主{key}")
    return units


def test_one_notice_per_page_in_route_order(route, collector, estate):
    calls = []
    batch = notices_batch_render(
        estate=estate, actor=collector, as_of=AS_OF, progress=lambda d, t: calls.append((d, t))
    )
    with batch.file.open("rb") as f:
        data = f.read()
    assert page_count(data) == batch.page_count == batch.document_count == 5
    texts = page_texts(data)
    order = ["1栋0201", "1栋0902", "1栋1101", "3栋0301", "3栋1502"]
    for page, label in enumerate(order):
        assert f"（阳光花园{label}）业主" in texts[page], (page, label)
        assert f"第{page + 1}页" in texts[page]
    assert "309.00" in texts[4] and "叁佰零玖元整" in texts[4]
    assert "200.00" in texts[0]
    assert "阳光花园3栋0101" not in "".join(texts)
    assert all(embedded_fonts(data).values())
    assert inked_pixels(data, page=2) > 5000
    documents = list(Document.objects.filter(batch=batch).order_by("page"))
    assert [d.page for d in documents] == [1, 2, 3, 4, 5]
    assert [d.unit.code for d in documents] == [
        "DEMO-1-0201",
        "DEMO-1-0902",
        "DEMO-1-1101",
        "DEMO-3-0301",
        "DEMO-3-1502",
    ]
    assert documents[4].amount_fen == 30900 and documents[4].sha256 == batch.sha256
    assert documents[4].number in texts[4]
    assert AuditEntry.objects.filter(object_type="documents.document").count() == 5
    assert calls[-1] == (10, 10)


def test_only_the_units_asked_for(route, collector, estate):
    batch = notices_batch_render(
        estate=estate, actor=collector, as_of=AS_OF, unit_ids=[route["3-0301"].pk]
    )
    assert batch.document_count == 1


def test_nothing_to_print(estate, collector):
    with pytest.raises(DocumentError, match="没有需要催缴"):
        notices_batch_render(estate=estate, actor=collector, as_of=AS_OF)


def test_a_long_debt_still_fits_one_page(
    owing, make_charge, collector, estate, fee_item, time_machine
):
    time_machine.move_to(dt.datetime(2027, 1, 5, 10, 0, tzinfo=dt.UTC))
    for month in range(4, 13):
        make_charge(month=month)
    # 2025 months too: 21 periods in all, more than a notice lists one by one.
    from tests.payments.conftest import ChargeFactory

    for month in range(1, 13):
        start = dt.date(2025, month, 1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        ChargeFactory(
            unit=owing, fee_item=fee_item, period_start=start, period_end=end, due_date=end
        )
    batch = notices_batch_render(estate=estate, actor=collector, as_of=dt.date(2027, 1, 5))
    assert batch.page_count == 1
    with batch.file.open("rb") as f:
        text = page_texts(f.read())[0]
    assert "较早欠费（共7期）" in text


def test_command(route, estate, tmp_path, capsys):
    out = tmp_path / "notices.pdf"
    call_command(
        "documents",
        "batch",
        "--kind",
        "notice",
        "--estate",
        "DEMO",
        "--as-of",
        "2026-04-30",
        "--output",
        str(out),
    )
    assert page_count(out.read_bytes()) == 5
    batch = DocumentBatch.objects.get()
    assert batch.document_count == 5
    assert "5" in capsys.readouterr().out
