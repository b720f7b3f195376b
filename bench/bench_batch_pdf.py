"""Benchmark: batch printing — N 催缴通知书 rendered into ONE print-ready PDF.

    .venv/bin/python bench/bench_batch_pdf.py [--units 10000] [--months 6]

Runs in a throw-away test database (a temporary SQLite file, or `test_<NAME>` on PostgreSQL
with DATABASE_URL set). It makes one estate of N units (20 buildings, 2 flats a floor), a payer
for each, a contract (万分之五 a day) and `--months` unpaid monthly charges per unit, then times
`notices_batch_render` end to end (arrears selection, statements with penalty, the PDF with the
embedded CJK font subset, the document rows and their audit rows) and, separately, the PDF
drawing alone for the same notices. It checks the page count equals the number of units.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propfee.settings")
_TMP = Path(tempfile.mkdtemp(prefix="propfee-bench-"))
os.environ.setdefault("PROPFEE_DATA_DIR", str(_TMP))

import django  # noqa: E402

django.setup()

import pypdf  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

from propfee.billing.models import Charge, FeeItem  # noqa: E402
from propfee.billing.services import contract_version_create  # noqa: E402
from propfee.documents.content import Content  # noqa: E402
from propfee.documents.models import Document  # noqa: E402
from propfee.documents.pdf import pdf_render  # noqa: E402
from propfee.documents.services import notices_batch_render  # noqa: E402
from propfee.estates.models import Building, Company, Estate, Occupancy, Party, Unit  # noqa: E402

AS_OF = dt.date(2026, 11, 27)
BUILDINGS = 20
PER_FLOOR = 2


def fill(n_units: int, months: int) -> Estate:
    company = Company.objects.create(code="BENCH", name="基准物业服务有限公司")
    estate = Estate.objects.create(company=company, code="BIG", name="基准花园", city="杭州")
    contract_version_create(estate=estate, effective_from=dt.date(2020, 1, 1), actor=None)
    fee_item = FeeItem.objects.create(company=company, code="WYF", name="物业费")
    buildings = Building.objects.bulk_create(
        Building(estate=estate, code=str(b), name=f"{b}栋") for b in range(1, BUILDINGS + 1)
    )
    per_building = -(-n_units // BUILDINGS)
    units = []
    for index in range(n_units):
        building = buildings[index % BUILDINGS]
        slot = index // BUILDINGS
        floor, flat = slot // PER_FLOOR + 1, slot % PER_FLOOR + 1
        room = f"{floor:02d}{flat:02d}"
        units.append(
            Unit(
                estate=estate,
                building=building,
                room=room,
                code=f"BIG-{building.code}-{room}",
                floor=floor,
                area_m2="89.50",
            )
        )
    assert per_building >= 1
    units = Unit.objects.bulk_create(units, batch_size=2000)
    parties = Party.objects.bulk_create(
        (Party(company=company, name=f"业主{i:05d}") for i in range(n_units)), batch_size=2000
    )
    Occupancy.objects.bulk_create(
        (
            Occupancy(unit=u, party=p, role="owner", is_payer=True, since=dt.date(2020, 1, 1))
            for u, p in zip(units, parties, strict=True)
        ),
        batch_size=2000,
    )
    charges = []
    for back in range(months, 0, -1):
        index = AS_OF.year * 12 + AS_OF.month - 1 - back
        start = dt.date(index // 12, index % 12 + 1, 1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        for unit in units:
            charges.append(
                Charge(
                    unit=unit,
                    fee_item=fee_item,
                    period_start=start,
                    period_end=end,
                    due_date=end,
                    principal_fen=15000 + (unit.pk * 7919) % 10000,
                )
            )
    Charge.objects.bulk_create(charges, batch_size=5000)
    return estate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument(
        "--no-pdf-alone", action="store_true", help="skip timing the PDF drawing on its own"
    )
    args = parser.parse_args()
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(_TMP / "bench.sqlite3")
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        started = time.perf_counter()
        estate = fill(args.units, args.months)
        fill_s = time.perf_counter() - started

        started, cpu = time.perf_counter(), time.process_time()
        batch = notices_batch_render(estate=estate, actor=None, as_of=AS_OF)
        total_s, total_cpu = time.perf_counter() - started, time.process_time() - cpu
        with batch.file.open("rb") as f:
            data = f.read()
        pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
        if pages != args.units or batch.document_count != args.units:
            sys.exit(f"pages {pages}, documents {batch.document_count}, units {args.units}")

        pdf_s = pdf_cpu = 0.0
        if not args.no_pdf_alone:
            contents = [
                Content.from_json(document.params["content"])
                for document in Document.objects.filter(batch=batch).order_by("page").iterator(2000)
            ]
            started, cpu = time.perf_counter(), time.process_time()
            pdf_render(contents)
            pdf_s, pdf_cpu = time.perf_counter() - started, time.process_time() - cpu

        print(
            f"machine: {platform.machine()} {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}"
        )
        print(f"database: {connection.vendor}; fill {fill_s:.1f} s")
        print(
            f"{args.units} units × {args.months} unpaid months → {pages} pages, "
            f"{len(data) / 1e6:.1f} MB"
        )
        print(
            f"notices_batch_render end to end: {total_s:.1f} s wall = {pages / total_s:.0f} pages/s"
            f" (CPU {total_cpu:.1f} s = {pages / total_cpu:.0f} pages/s)"
        )
        if pdf_s:
            print(
                f"PDF drawing alone (same notices): {pdf_s:.1f} s wall = {pages / pdf_s:.0f} "
                f"pages/s (CPU {pdf_cpu:.1f} s = {pages / pdf_cpu:.0f} pages/s)"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
