"""Documents writes: render a document for a unit (催缴通知书, 催告函, 律师函, 业委会督促函,
对账单), a payment's receipt (收据), a batch of
notices as one print-ready PDF; upload a service contract; record a delivery (送达凭证).
Each is one transaction with its audit rows; the file is written to the media storage
(PROPFEE_DATA_DIR/media) with the SHA-256 of its bytes."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from propfee.core.models import AuditAction, User
from propfee.core.roles import Capability, PermissionDenied, require, role_can
from propfee.core.services import AuditBatch, audit_record
from propfee.core.uploads import (
    FileType,
    UploadKind,
    UploadRefused,
    stored_name,
    upload_check,
    upload_file,
    upload_sha256,
    upload_size,
)
from propfee.core.wording_guard import wording_findings, wording_message
from propfee.documents.claims import Demand, demand_for
from propfee.documents.constants import (
    DEFAULT_DEADLINE_DAYS,
    MAX_DEADLINE_DAYS,
    MIN_DEADLINE_DAYS,
    NUMBER_PREFIX,
    UNIT_RENDERED_KINDS,
    DeliveryMethod,
    DocumentKind,
)
from propfee.documents.content import Content
from propfee.documents.models import DeliveryEvidence, Document, DocumentBatch
from propfee.documents.pdf import pdf_render
from propfee.documents.selectors import addressees_for_units, route_ordered, unit_label
from propfee.documents.wording import (
    Addressee,
    LawFirm,
    ReceiptFacts,
    committee_letter_content,
    final_demand_content,
    lawyer_letter_content,
    notice_content,
    receipt_content,
    statement_content,
)
from propfee.estates.models import Estate, Unit
from propfee.estates.selectors import current_payer, units_visible_to
from propfee.ledger.constants import Component
from propfee.ledger.models import Allocation
from propfee.ledger.rates import arrears_by_unit
from propfee.ledger.selectors import Statement, statement_for_unit, statements_for_units
from propfee.payments.constants import PaymentChannel, PaymentStatus
from propfee.payments.models import Payment

PDF = "application/pdf"
#: The longest a public arrears list may stay up (个人信息保护法: minimisation, retention).
PUBLIC_NOTICE_MAX_DAYS = 30
BATCH_CHUNK = 500

Progress = Callable[[int, int], None]


class DocumentError(Exception):
    """A document that cannot be made as asked; the message says why, for the user."""


def wording_refuse(content: Content) -> None:
    """Refuse a document whose words the wording guard forbids (threats to cut utilities or
    block services, shaming, disclosure, threats, false legal consequences…): the free text
    of notices and letters — the payment instructions, the law firm, the legal basis of a
    public list — comes from settings and forms, and leaves the company on paper."""
    findings = wording_findings(content.plain_text(), dunning=True)
    if findings:
        raise DocumentError(
            "文书措辞未通过合规检查：" + "；".join(wording_message(f) for f in findings)
        )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _upload_checked(file: UploadedFile, kind: UploadKind) -> FileType:
    """The file's type by its content, if `kind` accepts it (else DocumentError)."""
    try:
        return upload_check(file, kind=kind)
    except UploadRefused as exc:
        raise DocumentError(exc.messages[0]) from exc


def _console() -> User:
    """The system itself (no --user): sees every unit (an unsaved superuser, never stored)."""
    return User(username="console", is_superuser=True, is_active=True)


def _check_unit(actor: User | None, unit: Unit) -> None:
    if actor is not None and not units_visible_to(actor).filter(pk=unit.pk).exists():
        raise PermissionDenied("unit out of scope")


def document_number(kind: str, estate: Estate, day: dt.date, serial: int) -> str:
    """CJ-DEMO-20261127-000123: kind, estate, date, and the document's own serial."""
    return f"{NUMBER_PREFIX[DocumentKind(kind)]}-{estate.code}-{day:%Y%m%d}-{serial:06d}"


def deadline_for(kind: str, issued_on: dt.date, days: int | None) -> tuple[dt.date, int]:
    days = DEFAULT_DEADLINE_DAYS[DocumentKind(kind)] if days is None else days
    if not MIN_DEADLINE_DAYS <= days <= MAX_DEADLINE_DAYS:
        raise DocumentError(
            f"缴费期限应在 {MIN_DEADLINE_DAYS} 至 {MAX_DEADLINE_DAYS} 天之间（合理期限）"
        )
    return issued_on + dt.timedelta(days=days), days


def law_firm() -> LawFirm:
    """The law firm of settings.PROPFEE_LAW_FIRM; every field is needed on a lawyer letter."""
    firm = getattr(settings, "PROPFEE_LAW_FIRM", {}) or {}
    values = {key: str(firm.get(key, "")).strip() for key in ("name", "address", "phone", "lawyer")}
    if not all(values.values()):
        raise DocumentError(
            "律师函需要律师事务所的名称、地址、电话和承办律师（设置 PROPFEE_LAW_FIRM_*）"
        )
    return LawFirm(**values)


def _addressee(unit: Unit, on: dt.date) -> Addressee:
    payer = current_payer(unit=unit, on=on)
    return Addressee(
        company_name=unit.estate.company.name,
        estate_name=unit.estate.name,
        unit_code=unit.code,
        unit_label=unit_label(unit),
        payer_name=payer.name if payer else "",
    )


def _letter_extras() -> dict[str, str]:
    """The service hotline and the company seal printed on the company's own demands."""
    return {
        "hotline": str(getattr(settings, "PROPFEE_SERVICE_HOTLINE", "") or "").strip(),
        "seal_image": str(getattr(settings, "PROPFEE_SEAL_IMAGE", "") or "").strip(),
    }


def _unit_content(
    *,
    kind: str,
    statement: Statement,
    demand: Demand,
    who: Addressee,
    issued_on: dt.date,
    deadline: dt.date,
    number: str,
) -> Content:
    how_to_pay = settings.PROPFEE_HOW_TO_PAY
    if kind == DocumentKind.NOTICE:
        return notice_content(
            demand=demand,
            who=who,
            issued_on=issued_on,
            deadline=deadline,
            number=number,
            how_to_pay=how_to_pay,
            **_letter_extras(),
        )
    if kind == DocumentKind.FINAL_DEMAND:
        return final_demand_content(
            demand=demand,
            who=who,
            issued_on=issued_on,
            deadline=deadline,
            number=number,
            how_to_pay=how_to_pay,
            **_letter_extras(),
        )
    if kind == DocumentKind.LAWYER_LETTER:
        return lawyer_letter_content(
            demand=demand,
            who=who,
            firm=law_firm(),
            issued_on=issued_on,
            deadline=deadline,
            number=number,
        )
    if kind == DocumentKind.COMMITTEE_LETTER:
        return committee_letter_content(
            demand=demand, who=who, issued_on=issued_on, deadline=deadline, number=number
        )
    return statement_content(statement=statement, who=who, issued_on=issued_on, number=number)


def _params(statement: Statement, content: Content, **extra: Any) -> dict[str, Any]:
    return {
        "as_of": statement.as_of.isoformat(),
        "principal_outstanding_fen": statement.principal_outstanding_fen,
        "penalty_outstanding_fen": statement.penalty_outstanding_fen,
        "total_outstanding_fen": statement.total_outstanding_fen,
        "charges": [
            {
                "charge_id": line.charge_id,
                "principal_outstanding_fen": line.position.principal_outstanding,
                "penalty_outstanding_fen": line.position.penalty_outstanding,
            }
            for line in statement.lines
            if line.position.principal_outstanding or line.position.penalty_outstanding
        ],
        **extra,
        "content": content.to_json(),
    }


def _demand_params(demand: Demand) -> dict[str, Any]:
    """What a demand claims, kept with it: the claimed charges (a delivered demand restarts
    their clocks), the figures demanded and the bills listed apart as not yet due."""
    return {
        "demand": {
            "on": demand.on.isoformat(),
            "claimed_charge_ids": demand.claimed_charge_ids,
            "not_due_charge_ids": [line.charge_id for line in demand.not_due],
            "principal_fen": demand.principal_fen,
            "penalty_fen": demand.penalty_fen,
            "penalty_contract_fen": demand.penalty_contract_fen,
            "penalty_mode": demand.penalty_mode,
            "total_fen": demand.total_fen,
            "not_due_fen": demand.not_due_fen,
        }
    }


def _save_rendered(document: Document, content: Content, data: bytes) -> None:
    document.file.save(f"{document.number}.pdf", ContentFile(data), save=False)
    document.title = content.title
    document.sha256 = _sha256(data)
    document.size = len(data)
    document.text = content.plain_text()
    document.save()


def _audit_created(document: Document, actor: User | None) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=document,
        estate_id=document.estate_id,
        after={
            "kind": document.kind,
            "number": document.number,
            "unit": document.unit_id,
            "sha256": document.sha256,
            "amount_fen": document.amount_fen,
        },
    )


@transaction.atomic
def document_render(
    *,
    kind: str,
    unit: Unit,
    actor: User | None,
    as_of: dt.date | None = None,
    deadline_days: int | None = None,
) -> Document:
    """Render a document of `kind` for `unit` from its statement at the end of `as_of` (today)
    and store it. Demands need something outstanding and give `deadline_days` to pay (default
    per kind, 3–90). The PDF, its SHA-256, its exact text and the figures are kept."""
    if kind not in UNIT_RENDERED_KINDS:
        raise DocumentError(f"不支持为房屋生成此类文书：{kind}")
    require(actor, Capability.ISSUE_DOCUMENTS)
    _check_unit(actor, unit)
    today = timezone.localdate()
    as_of = as_of or today
    statement = statement_for_unit(unit=unit, as_of=as_of)
    is_demand = kind != DocumentKind.STATEMENT
    demand = demand_for(statement, on=today)
    deadline, days = (None, 0)
    if is_demand:
        if demand.total_fen <= 0:
            raise DocumentError("该房屋截至对账日没有欠费或欠费尚未到期，无需催缴")
        deadline, days = deadline_for(kind, today, deadline_days)
    firm = law_firm() if kind == DocumentKind.LAWYER_LETTER else None
    document = Document.objects.create(
        kind=kind,
        estate_id=unit.estate_id,
        unit=unit,
        title=str(DocumentKind(kind).label),
        amount_fen=demand.total_fen if is_demand else statement.total_outstanding_fen,
        deadline=deadline,
        created_by=actor if actor is not None and actor.pk else None,
    )
    document.number = document_number(kind, unit.estate, today, document.pk)
    who = _addressee(unit, today)
    content = _unit_content(
        kind=kind,
        statement=statement,
        demand=demand,
        who=who,
        issued_on=today,
        deadline=deadline or today,
        number=document.number,
    )
    wording_refuse(content)
    data = pdf_render([content]).data
    extra: dict[str, Any] = {"issued_on": today.isoformat(), "payer": who.payer_name}
    if deadline is not None:
        extra |= {"deadline": deadline.isoformat(), "deadline_days": days}
    if is_demand:
        extra |= _demand_params(demand)
    if firm is not None:
        extra["law_firm"] = {
            "name": firm.name,
            "address": firm.address,
            "phone": firm.phone,
            "lawyer": firm.lawyer,
        }
    document.params = _params(statement, content, **extra)
    _save_rendered(document, content, data)
    _audit_created(document, actor)
    return document


@transaction.atomic
def receipt_render(*, payment: Payment, actor: User | None) -> Document:
    """The receipt (收据) of a recorded payment: its receipt number, the amount in figures and
    in capital numerals, and what it paid. Rendered once; asking again returns the same one."""
    if not (
        actor is None
        or role_can(actor, Capability.RECORD_PAYMENTS)
        or role_can(actor, Capability.ISSUE_DOCUMENTS)
    ):
        raise PermissionDenied(Capability.RECORD_PAYMENTS)
    unit = Unit.objects.select_related("estate__company", "building").get(pk=payment.unit_id)
    _check_unit(actor, unit)
    if payment.status != PaymentStatus.RECORDED:
        raise DocumentError("已冲销的收款不能开具收据")
    existing = Document.objects.filter(kind=DocumentKind.RECEIPT, payment=payment).first()
    if existing is not None:
        return existing
    today = timezone.localdate()
    paid = tuple(
        (
            f"{fee_item} {period_start:%Y-%m}",
            str(Component(component).label) if component != Component.PENALTY else "滞纳金",
            amount,
        )
        for fee_item, period_start, component, amount in Allocation.objects.filter(
            payment=payment, superseded_at__isnull=True
        )
        .order_by("charge__due_date", "charge_id", "component")
        .values_list("charge__fee_item__name", "charge__period_start", "component", "amount_fen")
    )
    facts = ReceiptFacts(
        receipt_no=payment.receipt_no,
        amount_fen=payment.amount_fen,
        received_on=payment.received_on,
        channel=str(PaymentChannel(payment.channel).label),
        reference=payment.reference,
        recorded_by=str(payment.recorded_by) if payment.recorded_by_id else "",
        paid=paid,
    )
    who = _addressee(unit, payment.received_on)
    if payment.payer_id:
        who = Addressee(**{**who.__dict__, "payer_name": payment.payer.name})  # type: ignore[union-attr]
    content = receipt_content(receipt=facts, who=who, issued_on=today)
    data = pdf_render([content]).data
    document = Document(
        kind=DocumentKind.RECEIPT,
        number=payment.receipt_no,
        estate_id=unit.estate_id,
        unit=unit,
        payment=payment,
        amount_fen=payment.amount_fen,
        created_by=actor if actor is not None and actor.pk else None,
        params={
            "payment_id": payment.pk,
            "receipt_no": payment.receipt_no,
            "amount_fen": payment.amount_fen,
            "received_on": payment.received_on.isoformat(),
            "content": content.to_json(),
        },
    )
    _save_rendered(document, content, data)
    _audit_created(document, actor)
    return document


@transaction.atomic
def contract_upload(
    *, unit: Unit, file: UploadedFile, actor: User | None, title: str = ""
) -> Document:
    """Keep a scanned service contract (物业服务合同) of the unit for the evidence bundle."""
    require(actor, Capability.ISSUE_DOCUMENTS)
    _check_unit(actor, unit)
    file_type = _upload_checked(file, UploadKind.CONTRACT)
    document = Document.objects.create(
        kind=DocumentKind.CONTRACT,
        estate_id=unit.estate_id,
        unit=unit,
        title=title.strip() or str(DocumentKind.CONTRACT.label),
        content_type=file_type.content_type,
        sha256=upload_sha256(file),
        size=upload_size(file),
        created_by=actor if actor is not None and actor.pk else None,
        params={"original_name": file.name},
    )
    document.number = document_number(
        DocumentKind.CONTRACT, unit.estate, timezone.localdate(), document.pk
    )
    name = stored_name(file.name or "", file_type, default=document.number)
    document.file.save(name, upload_file(file), save=False)
    document.save()
    _audit_created(document, actor)
    return document


@transaction.atomic
def delivery_record(
    *,
    document: Document,
    method: str,
    delivered_on: dt.date,
    actor: User | None,
    recipient: str = "",
    tracking_no: str = "",
    reference: str = "",
    file: UploadedFile | None = None,
    note: str = "",
) -> DeliveryEvidence:
    """Record how `document` reached the payer (送达凭证): in person with a photo or scan of
    the signed acknowledgment, by EMS with the tracking number, or electronically with the
    receipt reference. The date may not be in the future nor before the document."""
    require(actor, Capability.ISSUE_DOCUMENTS)
    if document.unit_id is None or document.kind in (DocumentKind.CONTRACT, DocumentKind.RECEIPT):
        raise DocumentError("该文书不需要登记送达")
    unit = Unit.objects.get(pk=document.unit_id)
    _check_unit(actor, unit)
    if method not in DeliveryMethod.values:
        raise DocumentError(f"未知的送达方式：{method}")
    today = timezone.localdate()
    if delivered_on > today:
        raise DocumentError("送达日期不能晚于今天")
    if delivered_on < timezone.localdate(document.created_at):
        raise DocumentError("送达日期不能早于文书生成日期")
    tracking_no, reference = tracking_no.strip(), reference.strip()
    if method == DeliveryMethod.IN_PERSON and file is None:
        raise DocumentError("当面送达请上传签收回执的照片或扫描件")
    if method == DeliveryMethod.EMS and not tracking_no:
        raise DocumentError("EMS邮寄请填写邮件单号")
    if method == DeliveryMethod.ELECTRONIC and not reference:
        raise DocumentError("电子送达请填写送达回执号")
    evidence = DeliveryEvidence(
        document=document,
        method=method,
        delivered_on=delivered_on,
        recipient=recipient.strip(),
        tracking_no=tracking_no,
        reference=reference,
        note=note.strip(),
        recorded_by=actor if actor is not None and actor.pk else None,
    )
    if file is not None:
        file_type = _upload_checked(file, UploadKind.EVIDENCE)
        evidence.sha256 = upload_sha256(file)
        name = stored_name(file.name or "", file_type, default="evidence")
        evidence.file.save(name, upload_file(file), save=False)
    evidence.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=evidence,
        estate_id=document.estate_id,
        after={
            "document": document.pk,
            "number": document.number,
            "method": method,
            "delivered_on": delivered_on.isoformat(),
            "tracking_no": tracking_no,
            "reference": reference,
            "sha256": evidence.sha256,
        },
    )
    return evidence


def batch_unit_ids(
    *, estate: Estate, actor: User | None, as_of: dt.date, unit_ids: Iterable[int] | None = None
) -> list[int]:
    """The units of `estate` with overdue principal on `as_of` (optionally only `unit_ids`),
    in route order: building, floor, entrance, room."""
    viewer = actor or _console()
    owed = {row.unit_id for row in arrears_by_unit(user=viewer, as_of=as_of, estate=estate)}
    if unit_ids is not None:
        owed &= set(unit_ids)
    ordered = route_ordered(Unit.objects.filter(estate=estate)).values_list("pk", flat=True)
    return [pk for pk in ordered if pk in owed]


@transaction.atomic
def notices_batch_render(
    *,
    estate: Estate,
    actor: User | None,
    kind: str = DocumentKind.NOTICE,
    as_of: dt.date | None = None,
    unit_ids: Iterable[int] | None = None,
    deadline_days: int | None = None,
    progress: Progress | None = None,
) -> DocumentBatch:
    """Every unit of `estate` with arrears (or those of `unit_ids` that have) gets a notice,
    all in ONE print-ready PDF, one notice per page, in route order. Each notice is a Document
    with its own number, words and figures, pointing at the batch and its page. The facts are
    read a fixed number of queries per 500 units; `progress(done, total)` is told as notices
    are written and pages drawn."""
    if kind != DocumentKind.NOTICE:
        raise DocumentError("批量打印目前只支持催缴通知书")
    require(actor, Capability.ISSUE_DOCUMENTS)
    today = timezone.localdate()
    as_of = as_of or today
    deadline, days = deadline_for(kind, today, deadline_days)
    ids = batch_unit_ids(estate=estate, actor=actor, as_of=as_of, unit_ids=unit_ids)
    if not ids:
        raise DocumentError("没有需要催缴的房屋")
    total = len(ids)
    batch = DocumentBatch.objects.create(
        kind=kind,
        estate=estate,
        sha256="",
        page_count=0,
        document_count=total,
        as_of=as_of,
        created_by=actor if actor is not None and actor.pk else None,
    )
    contents: list[Content] = []
    statements: dict[int, Statement] = {}
    demands: dict[int, Demand] = {}
    payers: dict[int, str] = {}
    printed: list[int] = []
    serial = 0
    for start in range(0, total, BATCH_CHUNK):
        chunk = ids[start : start + BATCH_CHUNK]
        chunk_statements = statements_for_units(unit_ids=chunk, as_of=as_of)
        addressees = addressees_for_units(unit_ids=chunk, on=today)
        for unit_id in chunk:
            demand = demand_for(chunk_statements[unit_id], on=today)
            if demand.total_fen <= 0:
                continue  # overdue only within the contract's grace days: nothing to claim yet
            serial += 1
            number = f"{document_number(kind, estate, today, batch.pk)}-{serial:05d}"
            who = addressees[unit_id]
            content = notice_content(
                demand=demand,
                who=who,
                issued_on=today,
                deadline=deadline,
                number=number,
                how_to_pay=settings.PROPFEE_HOW_TO_PAY,
                **_letter_extras(),
            )
            wording_refuse(content)
            contents.append(content)
            statements[unit_id] = chunk_statements[unit_id]
            demands[unit_id] = demand
            payers[unit_id] = who.payer_name
            printed.append(unit_id)
        if progress is not None:
            progress(min(start + BATCH_CHUNK, total), 2 * total)
    if not printed:
        raise DocumentError("没有需要催缴的房屋")
    ids, total = printed, len(printed)

    def page_drawn(page: int) -> None:
        if progress is not None and (page % 100 == 0 or page == total):
            progress(total + min(page, total), 2 * total)

    rendered = pdf_render(contents, title=f"{estate.name} 催缴通知书", on_page=page_drawn)
    data, pages, first_pages = rendered.data, rendered.pages, rendered.first_pages
    batch.file.save(f"batch-{batch.pk}.pdf", ContentFile(data), save=False)
    batch.sha256 = _sha256(data)
    batch.page_count = pages
    batch.document_count = total
    batch.save()
    documents = []
    for unit_id, content, page in zip(ids, contents, first_pages, strict=True):
        statement = statements[unit_id]
        documents.append(
            Document(
                kind=kind,
                number=content.number,
                estate=estate,
                unit_id=unit_id,
                title=content.title,
                sha256=batch.sha256,
                size=0,
                batch=batch,
                page=page,
                amount_fen=demands[unit_id].total_fen,
                deadline=deadline,
                text=content.plain_text(),
                params=_params(
                    statement,
                    content,
                    issued_on=today.isoformat(),
                    deadline=deadline.isoformat(),
                    deadline_days=days,
                    payer=payers[unit_id],
                    **_demand_params(demands[unit_id]),
                ),
                created_by=batch.created_by,
            )
        )
    created = Document.objects.bulk_create(documents, batch_size=500)
    audit = AuditBatch(actor=actor, note=f"批量打印 {batch.pk}")
    for document in created:
        audit.add(
            action=AuditAction.CREATE,
            object_type="documents.document",
            object_id=str(document.pk) if document.pk else document.number,
            object_repr=str(document),
            estate_id=estate.pk,
            after={
                "kind": kind,
                "number": document.number,
                "batch": batch.pk,
                "page": document.page,
            },
        )
    audit.add(
        action=AuditAction.CREATE,
        obj=batch,
        estate_id=estate.pk,
        after={"kind": kind, "documents": total, "pages": pages, "sha256": batch.sha256},
    )
    audit.write()
    return batch
