"""文书 pages: the unit page's 文书 section (generate → preview inline → download; record a
delivery with a photo; upload the contract; the evidence bundle; receipts of recent payments),
the documents list with filters and Excel export, batch printing and the public arrears list.
Thin callers of the documents services and selectors; units and documents outside the user's
scope are answered with 404.

Batch printing from the page runs synchronously (up to BATCH_PAGE_MAX_UNITS units, a spinner
while the request runs); larger estates use `propfee documents batch`."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import quote

from django.contrib import messages
from django.db.models import Count, Max
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from propfee.core.models import AuditAction
from propfee.core.roles import Capability, PermissionDenied, role_can
from propfee.core.services import audit_record
from propfee.core.submission import SubmissionMissing, submission_once, submitted_response
from propfee.documents.bundle import evidence_bundle_build
from propfee.documents.constants import BATCH_PAGE_MAX_UNITS, EDITABLE_KINDS
from propfee.documents.content import Content
from propfee.documents.exports import DOCUMENT_EXPORT
from propfee.documents.forms import (
    BatchForm,
    ContractUploadForm,
    DeliveryForm,
    DocumentFilterForm,
    DocumentGenerateForm,
    PublicNoticeForm,
)
from propfee.documents.models import (
    DeliveryEvidence,
    Document,
    DocumentBatch,
    PublicNoticeRequest,
)
from propfee.documents.public_list import (
    public_notice_approve,
    public_notice_print,
    public_notice_request_create,
)
from propfee.documents.selectors import document_file_bytes, documents_visible_to, unit_documents
from propfee.documents.services import (
    DocumentError,
    batch_unit_ids,
    contract_upload,
    delivery_record,
    document_render,
    notices_batch_render,
    receipt_render,
)
from propfee.documents.word import DOCX, docx_render
from propfee.estates.models import Unit
from propfee.estates.selectors import estates_visible_to, unit_get
from propfee.payments.constants import PaymentStatus
from propfee.payments.models import Payment
from propfee.web.access import StaffRequest, capability_required
from propfee.web.downloads import FILE_CSP, file_missing, file_response, stored_file_response
from propfee.web.listing import export_list, export_requested, page_of, render_page_or_fragment

RECENT_PAYMENTS = 10


def _unit_or_404(request: StaffRequest, code: str) -> Unit:
    try:
        return unit_get(user=request.user, code=code)
    except (Unit.DoesNotExist, Unit.MultipleObjectsReturned) as exc:
        raise Http404 from exc


def _document_or_404(request: StaffRequest, pk: int) -> Document:
    document = documents_visible_to(request.user).filter(pk=pk).first()
    if document is None:
        raise Http404
    return document


def _unit_url(unit: Unit) -> str:
    return reverse("web:unit_detail", args=[unit.code]) + "#documents"


def _section_context(request: StaffRequest, unit: Unit) -> dict:
    user = request.user
    can_receipts = role_can(user, Capability.RECORD_PAYMENTS) or role_can(
        user, Capability.ISSUE_DOCUMENTS
    )
    payments = (
        list(
            Payment.objects.filter(unit=unit, status=PaymentStatus.RECORDED).order_by(
                "-received_on", "-pk"
            )[:RECENT_PAYMENTS]
        )
        if can_receipts
        else []
    )
    return {
        "unit": unit,
        "documents": list(unit_documents(unit=unit)[:50]),
        "can_issue": role_can(user, Capability.ISSUE_DOCUMENTS),
        "can_receipts": can_receipts,
        "payments": payments,
        "generate_form": DocumentGenerateForm(),
        "contract_form": ContractUploadForm(),
        "editable_kinds": [str(k) for k in EDITABLE_KINDS],
    }


@capability_required(Capability.VIEW_UNITS)
def unit_section(request: StaffRequest, code: str) -> HttpResponseBase:
    """The 文书 section of the unit page (loaded by htmx, or a page of its own)."""
    unit = _unit_or_404(request, code)
    template = "documents/_unit_section.html" if request.htmx else "documents/unit_section.html"
    return render(request, template, _section_context(request, unit))


@require_POST
@capability_required(Capability.VIEW_UNITS, Capability.ISSUE_DOCUMENTS)
def document_generate(request: StaffRequest, code: str) -> HttpResponseBase:
    unit = _unit_or_404(request, code)
    form = DocumentGenerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择文书类型，缴费期限应在3至90天之间"))
        return redirect(_unit_url(unit))

    def save() -> tuple[str, str]:
        document = document_render(
            kind=form.cleaned_data["kind"],
            unit=unit,
            actor=request.user,
            deadline_days=form.cleaned_data.get("deadline_days"),
        )
        message = _("已生成%(kind)s %(number)s") % {
            "kind": document.get_kind_display(),
            "number": document.number,
        }
        return message, _unit_url(unit)

    try:
        submitted = submission_once(request, save, fallback_url=_unit_url(unit))
    except (DocumentError, SubmissionMissing) as error:
        messages.error(request, str(error))
        return redirect(_unit_url(unit))
    return submitted_response(request, submitted)


@capability_required(Capability.VIEW_UNITS)
def document_file(request: StaffRequest, pk: int) -> HttpResponseBase:
    """The document's file: inline PDF or image (preview), `?download=1` as an attachment,
    and `?format=docx` the editable Word file of a letter. Served as its bytes show
    (web.downloads), whatever type the uploader declared."""
    document = _document_or_404(request, pk)
    if request.GET.get("format") == "docx":
        if document.kind not in EDITABLE_KINDS or "content" not in document.params:
            raise Http404
        data = docx_render(Content.from_json(document.params["content"]))
        response = HttpResponse(data, content_type=DOCX)
        response["Content-Disposition"] = _disposition(f"{document.number}.docx", attachment=True)
        response["Content-Security-Policy"] = FILE_CSP
        return response
    inline = request.GET.get("download") != "1"
    name = (document.file.name or "").rsplit("/", 1)[-1] or f"{document.number}.pdf"
    if document.batch_id is None:
        return stored_file_response(request, document.file, filename=name, inline=inline)
    try:
        data = document_file_bytes(document)
    except FileNotFoundError:
        return file_missing(request)
    return file_response(io.BytesIO(data), filename=name, inline=inline)


def _disposition(filename: str, *, attachment: bool) -> str:
    kind = "attachment" if attachment else "inline"
    return f"{kind}; filename*=UTF-8''{quote(filename)}"


@require_http_methods(["GET", "POST"])
@capability_required(Capability.VIEW_UNITS, Capability.ISSUE_DOCUMENTS)
def delivery_add(request: StaffRequest, pk: int) -> HttpResponseBase:
    document = _document_or_404(request, pk)
    if document.unit is None:
        raise Http404
    form = DeliveryForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = document.unit

        def save() -> tuple[str, str]:
            delivery_record(
                document=document,
                method=data["method"],
                delivered_on=data["delivered_on"],
                recipient=data.get("recipient", ""),
                tracking_no=data.get("tracking_no", ""),
                reference=data.get("reference", ""),
                file=data.get("file"),
                note=data.get("note", ""),
                actor=request.user,
            )
            return _("已登记送达"), _unit_url(unit)

        try:
            submitted = submission_once(request, save, fallback_url=_unit_url(unit))
        except (DocumentError, SubmissionMissing) as error:
            form.add_error(None, str(error))
        else:
            return submitted_response(request, submitted)
    return render(request, "documents/delivery_add.html", {"document": document, "form": form})


@capability_required(Capability.VIEW_UNITS)
def evidence_file(request: StaffRequest, pk: int) -> HttpResponseBase:
    """A delivery's photo or scan: shown inline if it is a PDF or an image, else downloaded."""
    evidence = DeliveryEvidence.objects.filter(pk=pk).select_related("document").first()
    if evidence is None or not evidence.file:
        raise Http404
    _document_or_404(request, evidence.document_id)
    return stored_file_response(request, evidence.file, inline=request.GET.get("download") != "1")


@require_POST
@capability_required(Capability.VIEW_UNITS, Capability.ISSUE_DOCUMENTS)
def contract_add(request: StaffRequest, code: str) -> HttpResponseBase:
    unit = _unit_or_404(request, code)
    form = ContractUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = form.errors.get("file")
        refused = errors and request.FILES.get("file")
        messages.error(request, errors[0] if refused else _("请选择要上传的合同文件"))
        return redirect(_unit_url(unit))
    try:
        contract_upload(
            unit=unit,
            file=form.cleaned_data["file"],
            title=form.cleaned_data["title"],
            actor=request.user,
        )
    except DocumentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("已上传合同"))
    return redirect(_unit_url(unit))


@require_POST
@capability_required(Capability.VIEW_UNITS, Capability.ISSUE_DOCUMENTS)
def evidence_bundle(request: StaffRequest, code: str) -> HttpResponseBase:
    unit = _unit_or_404(request, code)
    try:
        filename, bundle = evidence_bundle_build(unit=unit, actor=request.user)
    except FileNotFoundError:
        return file_missing(request)
    response = FileResponse(bundle, content_type="application/zip")
    response["Content-Disposition"] = _disposition(filename, attachment=True)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    return response


@require_POST
@capability_required(Capability.VIEW_UNITS)
def receipt(request: StaffRequest, pk: int) -> HttpResponseBase:
    payment = Payment.objects.filter(pk=pk).select_related("unit").first()
    if payment is None:
        raise Http404
    unit = _unit_or_404(request, payment.unit.code)
    try:
        document = receipt_render(payment=payment, actor=request.user)
    except PermissionDenied as exc:
        raise Http404 from exc
    except DocumentError as error:
        messages.error(request, str(error))
        return redirect(_unit_url(unit))
    return redirect(reverse("documents:document_file", args=[document.pk]))


@capability_required(Capability.VIEW_UNITS)
def document_list(request: StaffRequest) -> HttpResponseBase:
    form = DocumentFilterForm(request.GET or None, user=request.user)
    documents = (
        form.filter(documents_visible_to(request.user))
        .annotate(
            delivery_count=Count("deliveries"), last_delivered_on=Max("deliveries__delivered_on")
        )
        .order_by("-created_at", "-pk")
    )
    if export_requested(request):
        return export_list(request, DOCUMENT_EXPORT, documents, form=form)
    return render_page_or_fragment(
        request,
        "documents/document_list.html",
        "documents/_document_results.html",
        {
            "form": form,
            "page_obj": page_of(request, documents),
            "can_issue": role_can(request.user, Capability.ISSUE_DOCUMENTS),
            "can_publish": role_can(request.user, Capability.APPROVE_PUBLIC_NOTICES),
        },
    )


@require_http_methods(["GET", "POST"])
@capability_required(Capability.ISSUE_DOCUMENTS)
def batch_new(request: StaffRequest) -> HttpResponseBase:
    form = BatchForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        as_of: dt.date = data["as_of"]
        count = len(batch_unit_ids(estate=data["estate"], actor=request.user, as_of=as_of))
        if count > BATCH_PAGE_MAX_UNITS:
            form.add_error(
                None,
                _(
                    "欠费房屋有 %(count)s 户，超过页面一次可打印的 %(max)s 户；"
                    "请用命令 propfee documents batch 生成"
                )
                % {"count": count, "max": BATCH_PAGE_MAX_UNITS},
            )
        else:
            try:
                batch = notices_batch_render(
                    estate=data["estate"],
                    actor=request.user,
                    as_of=as_of,
                    deadline_days=data["deadline_days"],
                )
            except DocumentError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("已生成催缴通知书 %(count)s 份，共 %(pages)s 页")
                    % {"count": batch.document_count, "pages": batch.page_count},
                )
                return redirect("documents:batch_new")
    batches = DocumentBatch.objects.filter(
        estate__in=estates_visible_to(request.user).values("pk")
    ).select_related("estate", "created_by")[:20]
    return render(
        request,
        "documents/batch_new.html",
        {"form": form, "batches": batches, "max_units": BATCH_PAGE_MAX_UNITS},
    )


@capability_required(Capability.ISSUE_DOCUMENTS)
def batch_file(request: StaffRequest, pk: int) -> HttpResponseBase:
    batch = (
        DocumentBatch.objects.filter(
            pk=pk, estate__in=estates_visible_to(request.user).values("pk")
        )
        .select_related("estate")
        .first()
    )
    if batch is None:
        raise Http404
    filename = f"催缴通知书-{batch.estate.code}-{timezone.localdate(batch.created_at):%Y%m%d}.pdf"
    response = stored_file_response(request, batch.file, filename=filename)
    if response.status_code == 200:
        audit_record(
            actor=request.user,
            action=AuditAction.EXPORT,
            obj=batch,
            estate_id=batch.estate_id,
            note=f"下载批量打印PDF {batch.document_count} 份",
        )
    return response


@require_http_methods(["GET", "POST"])
@capability_required(Capability.ISSUE_DOCUMENTS)
def public_notice_new(request: StaffRequest) -> HttpResponseBase:
    """欠费公示: request a list (legal basis and impact assessment), approve another person's
    request, print an approved list as it stands today."""
    form = PublicNoticeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            public_notice_request_create(
                estate=data["estate"],
                actor=request.user,
                legal_basis=data["legal_basis"],
                purpose=data["purpose"],
                necessity=data["necessity"],
                risks=data["risks"],
                measures=data["measures"],
                display_from=data["display_from"],
                display_until=data["display_until"],
            )
        except DocumentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("已提交欠费公示申请，须由另一位项目经理审批"))
            return redirect("documents:public_notice_new")
    estates = estates_visible_to(request.user).values("pk")
    requests = (
        PublicNoticeRequest.objects.filter(estate__in=estates)
        .select_related("estate", "requested_by", "decided_by", "document")
        .order_by("-requested_at")[:50]
    )
    return render(
        request,
        "documents/public_notice_new.html",
        {
            "form": form,
            "requests": requests,
            "can_publish": role_can(request.user, Capability.APPROVE_PUBLIC_NOTICES),
        },
    )


def _public_request_or_404(request: StaffRequest, pk: int) -> PublicNoticeRequest:
    estates = estates_visible_to(request.user).values("pk")
    found = PublicNoticeRequest.objects.filter(pk=pk, estate__in=estates).first()
    if found is None:
        raise Http404
    return found


@require_POST
@capability_required(Capability.APPROVE_PUBLIC_NOTICES)
def public_notice_approve_view(request: StaffRequest, pk: int) -> HttpResponseBase:
    try:
        public_notice_approve(request=_public_request_or_404(request, pk), actor=request.user)
    except DocumentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("已批准欠费公示"))
    return redirect("documents:public_notice_new")


@require_POST
@capability_required(Capability.ISSUE_DOCUMENTS)
def public_notice_print_view(request: StaffRequest, pk: int) -> HttpResponseBase:
    try:
        document = public_notice_print(
            request=_public_request_or_404(request, pk), actor=request.user
        )
    except DocumentError as error:
        messages.error(request, str(error))
        return redirect("documents:public_notice_new")
    return redirect("documents:document_file", pk=document.pk)
