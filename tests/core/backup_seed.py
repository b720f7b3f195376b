"""Run inside `propfee shell -c` by tests/core/test_backup.py: `seed()` fills an empty database
through the services (an estate, owners, three months billed, payments, a notice PDF, a
receipt PDF, a batch of notices and an uploaded contract); `facts()` prints, as JSON, the row
count of every table and each stored file's SHA-256 as read back from storage."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

D = dt.date


def seed() -> None:
    from propfee.billing.constants import TariffBasis
    from propfee.billing.services import (
        billing_run_post,
        contract_version_create,
        fee_item_create,
        tariff_create,
    )
    from propfee.documents.constants import DocumentKind
    from propfee.documents.services import (
        contract_upload,
        document_render,
        notices_batch_render,
        receipt_render,
    )
    from propfee.estates.constants import PartyRole
    from propfee.estates.models import Company
    from propfee.estates.services import (
        building_create,
        estate_create,
        occupancy_create,
        party_create,
        unit_create,
    )
    from propfee.payments.constants import PaymentChannel
    from propfee.payments.services import payment_record

    company = Company.objects.create(code="BK", name="备份测试物业")
    estate = estate_create(company=company, code="BK", name="备份花园", actor=None)
    building = building_create(estate=estate, code="1", actor=None)
    contract_version_create(estate=estate, effective_from=D(2026, 1, 1), actor=None)
    fee = fee_item_create(company=company, code="WYF", name="物业费", actor=None)
    tariff_create(
        fee_item=fee,
        estate=estate,
        unit_type="residential",
        basis=TariffBasis.PER_M2_MONTH,
        rate_yuan=Decimal("2.00"),
        effective_from=D(2026, 1, 1),
        actor=None,
    )
    units = []
    for n, room in enumerate(("101", "102", "201", "202"), 1):
        unit = unit_create(
            building=building,
            room=room,
            area_m2=Decimal("80.00"),
            handover_date=D(2025, 6, 1),
            actor=None,
        )
        owner = party_create(
            company=company, name=f"业主{n}", phones=[f"100000000{n:02d}"], actor=None
        )
        occupancy_create(
            unit=unit,
            party=owner,
            role=PartyRole.OWNER,
            since=D(2025, 6, 1),
            is_payer=True,
            actor=None,
        )
        units.append(unit)
    for period in ("2026-01", "2026-02", "2026-03"):
        billing_run_post(estate=estate, period=period, actor=None)
    paid = payment_record(
        unit=units[0],
        amount_fen=48000,
        received_on=D(2026, 3, 10),
        channel=PaymentChannel.BANK_TRANSFER,
        reference="BK-0001",
        actor=None,
    )
    payment_record(
        unit=units[1],
        amount_fen=16000,
        received_on=D(2026, 2, 20),
        channel=PaymentChannel.BANK_TRANSFER,
        reference="BK-0002",
        actor=None,
    )
    receipt_render(payment=paid, actor=None)
    notice = document_render(
        kind=DocumentKind.NOTICE, unit=units[2], actor=None, as_of=D(2026, 4, 30)
    )
    notices_batch_render(estate=estate, actor=None, as_of=D(2026, 4, 30))
    with notice.file.open("rb") as stream:
        pdf = stream.read()
    contract_upload(
        unit=units[3],
        file=SimpleUploadedFile("合同扫描件.pdf", pdf, content_type="application/pdf"),
        actor=None,
    )


def _sha256(field) -> str:
    digest = hashlib.sha256()
    with field.open("rb") as stream:
        for chunk in iter(lambda: stream.read(65536), b""):
            digest.update(chunk)
    return digest.hexdigest()


def facts() -> None:
    from propfee.documents.models import DeliveryEvidence, Document, DocumentBatch

    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    files = {}
    for model in (Document, DocumentBatch, DeliveryEvidence):
        for obj in model.objects.exclude(file="").order_by("pk"):
            files[f"{model._meta.label_lower}:{obj.pk}"] = {
                "name": obj.file.name,
                "stored_sha256": obj.sha256,
                "file_sha256": _sha256(obj.file),
            }
    print(json.dumps({"counts": counts, "files": files}))  # noqa: T201
