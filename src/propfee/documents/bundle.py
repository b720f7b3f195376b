"""The evidence bundle for court (证据包): one ZIP per unit with an index PDF (证据目录), the
statement by period, every demand with its delivery evidence, the uploaded service contract,
the payment history of the claimed period (缴费记录), and a SHA256SUMS file. Contact records
(催收记录) and messages with their delivery reports come with the collection engine, which
adds them through `EVIDENCE_PROVIDERS`."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from propfee.core.models import AuditAction, User
from propfee.core.money import format_yuan
from propfee.core.roles import Capability, PermissionDenied, require
from propfee.core.services import audit_record
from propfee.core.uploads import upload_sha256
from propfee.documents.claims import demand_for
from propfee.documents.constants import DocumentKind
from propfee.documents.content import Content, para, small, table
from propfee.documents.pdf import pdf_render
from propfee.documents.selectors import document_file_bytes, unit_contracts, unit_demands
from propfee.documents.services import document_render
from propfee.documents.wording import chinese_date
from propfee.estates.models import Unit
from propfee.estates.selectors import units_visible_to
from propfee.ledger.selectors import statement_for_unit
from propfee.payments.constants import PaymentChannel, PaymentStatus
from propfee.payments.models import Payment


@dataclass(frozen=True)
class BundleFile:
    """One file of the bundle: its path in the ZIP, its content (bytes made here, or a stored
    file that is copied in chunks, never loaded whole), what it is and its date."""

    path: str
    data: bytes | FieldFile
    description: str
    day: dt.date | None = None

    def open(self) -> IO[bytes]:
        if isinstance(self.data, bytes):
            return io.BytesIO(self.data)
        return self.data.storage.open(self.data.name, "rb")

    def sha256(self) -> str:
        with self.open() as f:
            return upload_sha256(f)


COPY_CHUNK = 1024 * 1024

#: More evidence for a unit's bundle, each a function (unit, as_of) → files. The collection
#: engine registers its contact records (《物业费催收记录表》) here.
EVIDENCE_PROVIDERS: list[Callable[[Unit, dt.date], list[BundleFile]]] = []


def _suffix(name: str | None, default: str = ".bin") -> str:
    return PurePosixPath(name or "").suffix.lower() or default


def _index(unit: Unit, files: list[BundleFile], digests: dict[str, str], as_of: dt.date) -> Content:
    rows: list[tuple[str, ...]] = [("序号", "文件", "说明", "日期", "SHA-256（前16位）")]
    for number, item in enumerate(files, start=1):
        rows.append(
            (
                str(number),
                item.path,
                item.description,
                f"{item.day:%Y-%m-%d}" if item.day else "",
                digests[item.path][:16],
            )
        )
    return Content(
        title="证据目录",
        letterhead=(unit.estate.company.name,),
        number="",
        blocks=(
            para(
                f"房屋：{unit.estate.name} {unit.code}；材料截至{chinese_date(as_of)}；"
                f"共{len(files)}份。",
                indent=False,
            ),
            table(rows, widths=(0.06, 0.38, 0.26, 0.12, 0.18), align="CLLCL"),
            small("每个文件的完整 SHA-256 见 SHA256SUMS.txt，可用于核对文件未被改动。"),
        ),
        footer=f"{unit.estate.company.name} · 证据目录 · {unit.code}",
    )


def payment_history_evidence(unit: Unit, as_of: dt.date) -> list[BundleFile]:
    """缴费记录: every payment of the unit received from the start of the oldest charge claimed
    on `as_of` through `as_of` (reversed ones marked), so the court sees what was paid in the
    claimed period. None when nothing is claimed."""
    demand = demand_for(statement_for_unit(unit=unit, as_of=as_of), on=as_of)
    if not demand.claimed:
        return []
    since = min(line.period_start for line in demand.claimed)
    payments = list(
        Payment.objects.filter(unit=unit, received_on__gte=since, received_on__lte=as_of)
        .order_by("received_on", "pk")
        .only("received_on", "amount_fen", "channel", "reference", "receipt_no", "status")
    )
    rows: list[tuple[str, ...]] = [("收款日期", "金额(元)", "方式", "流水号", "收据号", "状态")]
    for payment in payments:
        rows.append(
            (
                f"{payment.received_on:%Y-%m-%d}",
                format_yuan(payment.amount_fen),
                str(PaymentChannel(payment.channel).label),
                payment.reference,
                payment.receipt_no,
                "已冲销" if payment.status != PaymentStatus.RECORDED else "有效",
            )
        )
    company = unit.estate.company.name
    content = Content(
        title="缴费记录",
        letterhead=(company,),
        number="",
        blocks=(
            para(
                f"房屋：{unit.estate.name} {unit.code}；期间：{chinese_date(since)}至"
                f"{chinese_date(as_of)}（所主张欠费的最早计费期起）；共{len(payments)}笔。",
                indent=False,
            ),
            table(rows, widths=(0.14, 0.14, 0.12, 0.24, 0.24, 0.12), align="CRCLLC")
            if payments
            else para("该期间内无缴费记录。", indent=False),
        ),
        footer=f"{company} · 缴费记录 · {unit.code}",
    )
    return [
        BundleFile(
            "06-缴费记录/缴费记录.pdf",
            pdf_render([content]).data,
            f"缴费记录（{since:%Y-%m-%d}起，{len(payments)}笔）",
            as_of,
        )
    ]


@transaction.atomic
def evidence_bundle_build(
    *, unit: Unit, actor: User | None, as_of: dt.date | None = None
) -> tuple[str, IO[bytes]]:
    """The unit's evidence bundle as (file name, the ZIP in a temporary file, at its start).
    Stored files are copied into it in chunks. Renders a fresh statement (kept as a document
    like any other) and logs the export. A stored file missing from storage raises
    FileNotFoundError (and nothing is kept)."""
    require(actor, Capability.ISSUE_DOCUMENTS)
    if actor is not None and not units_visible_to(actor).filter(pk=unit.pk).exists():
        raise PermissionDenied("unit out of scope")
    as_of = as_of or timezone.localdate()
    statement = document_render(kind=DocumentKind.STATEMENT, unit=unit, actor=actor, as_of=as_of)
    files = [
        BundleFile(
            f"01-对账单/{statement.number}.pdf",
            document_file_bytes(statement),
            f"对账单（截至{as_of:%Y-%m-%d}）",
            as_of,
        )
    ]
    for index, demand in enumerate(unit_demands(unit=unit), start=1):
        label = DocumentKind(demand.kind).label
        stem = f"02-催收文书/{index:02d}-{label}-{demand.number}"
        day = timezone.localdate(demand.created_at)
        content = demand.file if demand.batch_id is None else document_file_bytes(demand)
        files.append(BundleFile(f"{stem}.pdf", content, str(label), day))
        for number, delivery in enumerate(demand.deliveries.all(), start=1):
            detail = delivery.tracking_no or delivery.reference or delivery.recipient
            description = f"送达凭证：{delivery.get_method_display()} {detail}".strip()
            data: bytes | FieldFile
            if delivery.file:
                data = delivery.file
                path = f"{stem}-送达凭证{number}{_suffix(delivery.file.name)}"
            else:
                data = (
                    f"{description}\n送达日期：{delivery.delivered_on:%Y-%m-%d}\n"
                    f"登记人：{delivery.recorded_by or '系统'}\n"
                ).encode()
                path = f"{stem}-送达凭证{number}.txt"
            files.append(BundleFile(path, data, description, delivery.delivered_on))
    for index, contract in enumerate(unit_contracts(unit=unit), start=1):
        files.append(
            BundleFile(
                f"03-合同/{index:02d}-{contract.title}{_suffix(contract.file.name, '.pdf')}",
                contract.file,
                contract.title,
                timezone.localdate(contract.created_at),
            )
        )
    for provider in EVIDENCE_PROVIDERS:
        files.extend(provider(unit, as_of))
    files.extend(payment_history_evidence(unit, as_of))
    digests = {item.path: item.sha256() for item in files}
    index_pdf = pdf_render([_index(unit, files, digests, as_of)]).data
    # Handed to the caller open (a FileResponse closes it when sent), so no `with` here.
    out = tempfile.TemporaryFile()  # noqa: SIM115
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("00-证据目录.pdf", index_pdf)
        sums = [f"{hashlib.sha256(index_pdf).hexdigest()}  00-证据目录.pdf"]
        for item in files:
            with item.open() as source, archive.open(item.path, "w") as target:
                shutil.copyfileobj(source, target, COPY_CHUNK)
            sums.append(f"{digests[item.path]}  {item.path}")
        archive.writestr("SHA256SUMS.txt", "\n".join(sums) + "\n")
    out.seek(0)
    filename = f"证据包-{unit.code}-{as_of:%Y%m%d}.zip"
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=unit,
        estate_id=unit.estate_id,
        note=f"证据包 {filename}：{len(files) + 1} 份文件",
    )
    return filename, out
