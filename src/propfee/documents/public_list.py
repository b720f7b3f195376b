"""The public arrears list (欠费公示), built to protect people (个人信息保护法 arts. 6, 25, 47,
55–56): off until a company admin turns it on; a request records its legal basis and a written
impact assessment; someone other than the requester approves it; it is displayed at most 30
days; it lists only units owing at least the threshold (months and amount) that are not
protected — under an installment plan, a dispute, any hold, or a promise not yet due (the
collection engine says which, through `PROTECTED_UNIT_PROVIDERS`); and a unit that pays comes
off: the list printed again later leaves it out. It shows the unit, months owed and overdue
principal only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from propfee.core.models import AuditAction, User
from propfee.core.roles import Capability, require
from propfee.core.services import audit_record
from propfee.core.wording_guard import wording_findings, wording_message
from propfee.documents.constants import DocumentKind
from propfee.documents.models import Document, PublicNoticeRequest
from propfee.documents.pdf import pdf_render
from propfee.documents.selectors import route_ordered, unit_label
from propfee.documents.services import (
    PUBLIC_NOTICE_MAX_DAYS,
    DocumentError,
    _audit_created,
    _save_rendered,
    document_number,
    wording_refuse,
)
from propfee.documents.wording import PublicNoticeRow, public_notice_content
from propfee.estates.models import Company, Estate, Unit
from propfee.ledger.rates import arrears_by_unit

#: Functions (unit ids, day) → {unit id: why it is protected}; the collection engine registers
#: its holds, plans and promises here. A unit any of them names is never listed.
PROTECTED_UNIT_PROVIDERS: list[Callable[[list[int], dt.date], dict[int, str]]] = []

#: The shortest text accepted for the legal basis and each part of the impact assessment.
MIN_TEXT = 4


def public_list_threshold() -> tuple[int, int]:
    """(months owed, overdue principal in fen) a unit must reach to be listed."""
    months = int(getattr(settings, "PROPFEE_PUBLIC_LIST_MIN_MONTHS", 3))
    yuan = int(getattr(settings, "PROPFEE_PUBLIC_LIST_MIN_YUAN", 500))
    return months, yuan * 100


@transaction.atomic
def company_public_list_set(*, company: Company, enabled: bool, actor: User | None) -> Company:
    """Turn the public list on or off for `company` (a company admin's decision)."""
    require(actor, Capability.MANAGE_COMPANY)
    if actor is not None and not actor.is_superuser and actor.company_id != company.pk:
        raise DocumentError("只能设置本公司")
    before = company.public_list_enabled
    company.public_list_enabled = enabled
    company.save(update_fields=["public_list_enabled"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=company,
        before={"public_list_enabled": before},
        after={"public_list_enabled": enabled},
        note="启用欠费公示" if enabled else "停用欠费公示",
    )
    return company


def _protected(unit_ids: list[int], on: dt.date) -> dict[int, str]:
    protected: dict[int, str] = {}
    for provider in PROTECTED_UNIT_PROVIDERS:
        for unit_id, why in provider(unit_ids, on).items():
            protected.setdefault(unit_id, why)
    return protected


def public_list_rows(
    *, estate: Estate, actor: User, on: dt.date, unit_ids: Iterable[int] | None = None
) -> list[tuple[int, PublicNoticeRow]]:
    """(unit id, row) of the units that may be listed on `on`, in route order: owing overdue
    principal of at least the threshold's months and amount, and not protected. With
    `unit_ids`, only those (a list printed again: who has paid since comes off)."""
    months, amount = public_list_threshold()
    owed = {
        row.unit_id: row
        for row in arrears_by_unit(user=actor, as_of=on, estate=estate)
        if row.months_owed >= months and row.principal_overdue_fen >= amount
    }
    if unit_ids is not None:
        keep = set(unit_ids)
        owed = {pk: row for pk, row in owed.items() if pk in keep}
    protected = _protected(sorted(owed), on)
    rows = []
    units = route_ordered(Unit.objects.filter(pk__in=sorted(owed))).select_related("building")
    for unit in units.only("pk", "room", "entrance", "floor", "building__name", "building__code"):
        if unit.pk in protected:
            continue
        row = owed[unit.pk]
        rows.append(
            (unit.pk, PublicNoticeRow(unit_label(unit), row.months_owed, row.principal_overdue_fen))
        )
    return rows


def _enabled(estate: Estate) -> None:
    if not Company.objects.filter(pk=estate.company_id, public_list_enabled=True).exists():
        raise DocumentError("本公司未启用欠费公示（须由公司管理员开启）")


@transaction.atomic
def public_notice_request_create(
    *,
    estate: Estate,
    actor: User,
    legal_basis: str,
    purpose: str,
    necessity: str,
    risks: str,
    measures: str,
    display_from: dt.date,
    display_until: dt.date,
) -> PublicNoticeRequest:
    """申请欠费公示 with its legal basis (e.g. an owners' assembly resolution) and the written
    impact assessment; every part is required. The display period is at most 30 days."""
    require(actor, Capability.ISSUE_DOCUMENTS)
    _enabled(estate)
    texts = {
        "legal_basis": (legal_basis, "公示依据（如业主大会决议、管理规约条款）"),
        "purpose": (purpose, "影响评估：公示目的"),
        "necessity": (necessity, "影响评估：必要性"),
        "risks": (risks, "影响评估：对个人权益的影响及风险"),
        "measures": (measures, "影响评估：保护措施"),
    }
    cleaned = {}
    for key, (value, label) in texts.items():
        value = (value or "").strip()
        if len(value) < MIN_TEXT:
            raise DocumentError(f"请填写{label}")
        cleaned[key] = value
    # The legal basis is printed on the list, so it passes the wording guard like every text
    # that leaves the company; the impact assessment stays inside.
    findings = wording_findings(cleaned["legal_basis"], dunning=True)
    if findings:
        raise DocumentError(
            "公示依据未通过合规检查：" + "；".join(wording_message(f) for f in findings)
        )
    if display_until < display_from:
        raise DocumentError("公示结束日期不能早于开始日期")
    if (display_until - display_from).days + 1 > PUBLIC_NOTICE_MAX_DAYS:
        raise DocumentError(f"公示期不能超过 {PUBLIC_NOTICE_MAX_DAYS} 天")
    request = PublicNoticeRequest.objects.create(
        estate=estate,
        display_from=display_from,
        display_until=display_until,
        requested_by=actor if actor.pk else None,
        legal_basis=cleaned["legal_basis"][:500],
        purpose=cleaned["purpose"],
        necessity=cleaned["necessity"],
        risks=cleaned["risks"],
        measures=cleaned["measures"],
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=request,
        estate_id=estate.pk,
        after={**cleaned, "display_from": f"{display_from}", "display_until": f"{display_until}"},
        note="申请欠费公示",
    )
    return request


def _render(
    request: PublicNoticeRequest,
    *,
    actor: User,
    on: dt.date,
    unit_ids: Iterable[int] | None,
) -> Document:
    estate = request.estate
    rows = public_list_rows(estate=estate, actor=actor, on=on, unit_ids=unit_ids)
    if not rows:
        raise DocumentError("没有符合公示条件的房屋")
    document = Document.objects.create(
        kind=DocumentKind.PUBLIC_NOTICE,
        estate=estate,
        title=str(DocumentKind.PUBLIC_NOTICE.label),
        amount_fen=sum(row.amount_fen for _, row in rows),
        created_by=actor if actor.pk else None,
    )
    document.number = document_number(DocumentKind.PUBLIC_NOTICE, estate, on, document.pk)
    content = public_notice_content(
        company_name=estate.company.name,
        estate_name=estate.name,
        rows=[row for _, row in rows],
        as_of=on,
        legal_basis=request.legal_basis,
        display_from=request.display_from,
        display_until=request.display_until,
        issued_on=on,
        number=document.number,
    )
    document.params = {
        "as_of": on.isoformat(),
        "request": request.pk,
        "legal_basis": request.legal_basis,
        "requested_by": request.requested_by_id,
        "approved_by": request.decided_by_id,
        "approved_by_name": str(request.decided_by or ""),
        "display_from": request.display_from.isoformat(),
        "display_until": request.display_until.isoformat(),
        "unit_ids": [pk for pk, _ in rows],
        "content": content.to_json(),
    }
    wording_refuse(content)
    _save_rendered(document, content, pdf_render([content]).data)
    _audit_created(document, actor)
    return document


@transaction.atomic
def public_notice_approve(
    *, request: PublicNoticeRequest, actor: User, note: str = ""
) -> PublicNoticeRequest:
    """批准欠费公示: a manager other than the requester (four-eyes) approves, and the list of
    the units that may be listed today is rendered."""
    require(actor, Capability.APPROVE_PUBLIC_NOTICES)
    request = (
        PublicNoticeRequest.objects.select_for_update()
        .select_related("estate__company")
        .get(pk=request.pk)
    )
    if request.status != PublicNoticeRequest.Status.REQUESTED:
        raise DocumentError(f"该申请{request.get_status_display()}，不能再审批")
    if request.requested_by_id is not None and request.requested_by_id == actor.pk:
        raise DocumentError("不能审批自己提交的公示申请（须由另一人审批）")
    _enabled(request.estate)
    today = timezone.localdate()
    if today > request.display_until:
        raise DocumentError("公示期已过，请重新申请")
    request.status = PublicNoticeRequest.Status.APPROVED
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = note.strip()[:500]
    request.document = _render(request, actor=actor, on=today, unit_ids=None)
    request.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=request,
        estate_id=request.estate_id,
        before={"status": PublicNoticeRequest.Status.REQUESTED},
        after={"status": request.status, "document": request.document.pk},
        note=f"批准欠费公示：{request.decision_note}"[:500],
    )
    return request


@transaction.atomic
def public_notice_print(
    *, request: PublicNoticeRequest, actor: User, on: dt.date | None = None
) -> Document:
    """The approved list as it stands on `on` (today), for the notice board: a unit that has
    paid (or is now protected) since the approval is no longer on it; nothing is printed after
    the display period."""
    require(actor, Capability.ISSUE_DOCUMENTS)
    on = on or timezone.localdate()
    if request.status != PublicNoticeRequest.Status.APPROVED or request.document is None:
        raise DocumentError("该公示尚未批准")
    if not request.display_from <= on <= request.display_until:
        raise DocumentError("不在公示期内，不能打印")
    _enabled(request.estate)
    return _render(request, actor=actor, on=on, unit_ids=request.document.params["unit_ids"])
