"""消息 pages: the outbox (消息记录) with filters and export, a message's exact text, the
templates (消息模板) with an editor that previews on a real unit (htmx) and shows the
compliance check, approval, and the providers' delivery callbacks. Thin callers of the
messaging services and selectors."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseForbidden,
    HttpResponseNotAllowed,
)
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from propfee.core.exporting import export_response
from propfee.core.identifiers import id_parse
from propfee.core.money import fen_to_yuan
from propfee.core.roles import Capability, role_can
from propfee.estates.models import Unit
from propfee.estates.selectors import unit_get
from propfee.messaging import providers
from propfee.messaging.constants import VARIABLES
from propfee.messaging.exports import MESSAGE_EXPORT, recipient_masked
from propfee.messaging.forms import (
    MessageCancelForm,
    OutboxFilterForm,
    TemplateFilterForm,
    TemplateForm,
)
from propfee.messaging.models import Message, MessageTemplate
from propfee.messaging.providers.base import CallbackRejected
from propfee.messaging.selectors import (
    messages_visible_to,
    outbox_cost,
    template_preview,
    templates_visible_to,
)
from propfee.messaging.services import (
    MessagingError,
    TemplateProblems,
    delivery_report_apply,
    message_cancel,
    messaging_defaults_load,
    template_approve,
    template_create,
    template_update,
)
from propfee.web.access import StaffRequest, capability_required
from propfee.web.listing import (
    export_requested,
    filters_described,
    page_of,
    render_page_or_fragment,
)

logger = logging.getLogger("propfee.messaging")


def _template_or_404(request: StaffRequest, pk: int) -> MessageTemplate:
    template = templates_visible_to(request.user).filter(pk=pk).first()
    if template is None:
        raise Http404
    return template


def _message_or_404(request: StaffRequest, pk: int) -> Message:
    message = messages_visible_to(request.user).filter(pk=pk).first()
    if message is None:
        raise Http404
    return message


# --- outbox ----------------------------------------------------------------------------------


@capability_required(Capability.VIEW_OUTBOX)
def outbox(request: StaffRequest) -> HttpResponseBase:
    form = OutboxFilterForm(request.GET or None, user=request.user)
    rows = form.filter(messages_visible_to(request.user))
    cost = outbox_cost(rows)
    if export_requested(request):
        about = filters_described(form)
        about["已知费用合计(元)"] = f"{fen_to_yuan(cost.known_fen)}" + (
            f"（另有 {cost.sent_without_cost} 条已发送消息服务商未报费用，未计入）"
            if cost.sent_without_cost
            else ""
        )
        return export_response(actor=request.user, export=MESSAGE_EXPORT, rows=rows, about=about)
    page = page_of(request, rows)
    for message in page:
        message.recipient_shown = recipient_masked(message)  # type: ignore[attr-defined]
    return render_page_or_fragment(
        request,
        "messaging/outbox.html",
        "messaging/_outbox_results.html",
        {
            "form": form,
            "page_obj": page,
            "cost": cost,
            "can_templates": role_can(request.user, Capability.MANAGE_TEMPLATES),
        },
    )


@capability_required(Capability.VIEW_OUTBOX)
def message_detail(request: StaffRequest, pk: int) -> HttpResponseBase:
    message = _message_or_404(request, pk)
    return render(
        request,
        "messaging/message_detail.html",
        {
            "message": message,
            "recipient_shown": recipient_masked(message),
            "fallbacks": message.fallbacks.order_by("pk"),
            "cancel_form": MessageCancelForm(),
            "can_cancel": role_can(request.user, Capability.SEND_MESSAGES)
            and message.status in ("queued", "held"),
        },
    )


@capability_required(Capability.VIEW_OUTBOX, Capability.SEND_MESSAGES)
@require_POST
def message_cancel_view(request: StaffRequest, pk: int) -> HttpResponseBase:
    message = _message_or_404(request, pk)
    form = MessageCancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写取消原因。"))
    else:
        try:
            message_cancel(message=message, actor=request.user, reason=form.cleaned_data["reason"])
        except MessagingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("消息已取消，不会发送。"))
    return redirect("messaging:message_detail", pk=message.pk)


# --- templates -------------------------------------------------------------------------------


@capability_required(Capability.MANAGE_TEMPLATES)
def template_list(request: StaffRequest) -> HttpResponseBase:
    form = TemplateFilterForm(request.GET or None)
    templates = form.filter(templates_visible_to(request.user))
    return render_page_or_fragment(
        request,
        "messaging/template_list.html",
        "messaging/_template_results.html",
        {
            "form": form,
            "page_obj": page_of(request, templates),
            "can_load_defaults": request.user.company_id is not None,
        },
    )


def _preview_unit(request: StaffRequest, code: str) -> tuple[Unit | None, str]:
    if not code.strip():
        return None, ""
    try:
        return unit_get(user=request.user, code=code), ""
    except Unit.DoesNotExist:
        return None, _("找不到房屋 %(code)s，以下为示例数据") % {"code": code.strip().upper()}


@capability_required(Capability.MANAGE_TEMPLATES)
@require_http_methods(["GET", "POST"])
def template_new(request: StaffRequest) -> HttpResponseBase:
    form = TemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.user.company is None:
            raise Http404
        try:
            template = template_create(
                company=request.user.company,
                name=data["name"],
                channel=data["channel"],
                stage=data["stage"],
                language=data["language"],
                audience=data["audience"],
                subject=data["subject"],
                body=data["body"],
                provider_template_code=data["provider_template_code"],
                actor=request.user,
            )
        except MessagingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("模板已保存为草稿，审批后才能发送。"))
            return redirect("messaging:template_edit", pk=template.pk)
    return render(
        request,
        "messaging/template_edit.html",
        {"form": form, "template": None, "variables": VARIABLES.items()},
    )


@capability_required(Capability.MANAGE_TEMPLATES)
@require_http_methods(["GET", "POST"])
def template_edit(request: StaffRequest, pk: int) -> HttpResponseBase:
    template = _template_or_404(request, pk)
    form = TemplateForm(request.POST or None, template=template)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        was_approved = template.is_approved
        template = template_update(
            template=template,
            actor=request.user,
            name=data["name"],
            subject=data["subject"],
            body=data["body"],
            provider_template_code=data["provider_template_code"],
        )
        if was_approved and not template.is_approved:
            messages.warning(request, _("模板内容已修改，已退回草稿，需重新审批后才能发送。"))
        else:
            messages.success(request, _("模板已保存。"))
        return redirect("messaging:template_edit", pk=template.pk)
    preview = template_preview(
        channel=template.channel,
        stage=template.stage,
        audience=template.audience,
        subject=template.subject,
        body=template.body,
        unit=None,
    )
    return render(
        request,
        "messaging/template_edit.html",
        {
            "form": form,
            "template": template,
            "preview": preview,
            "variables": VARIABLES.items(),
            "can_approve": role_can(request.user, Capability.APPROVE_TEMPLATES),
        },
    )


@capability_required(Capability.MANAGE_TEMPLATES)
@require_POST
def template_preview_view(request: StaffRequest) -> HttpResponseBase:
    """The live preview (htmx): the text being edited, filled for the chosen unit."""
    template_id = request.POST.get("template_id", "")
    template = _template_or_404(request, id_parse(template_id)) if template_id else None
    fixed = {
        name: getattr(template, name) if template else request.POST.get(name, "")
        for name in ("channel", "stage", "audience")
    }
    unit, note = _preview_unit(request, request.POST.get("preview_unit", ""))
    preview = template_preview(
        channel=fixed["channel"],
        stage=fixed["stage"],
        audience=fixed["audience"] or "payer",
        subject=request.POST.get("subject", ""),
        body=request.POST.get("body", ""),
        unit=unit,
    )
    return render(
        request,
        "messaging/_template_preview.html",
        {"preview": preview, "unit": unit, "unit_note": note},
    )


@capability_required(Capability.APPROVE_TEMPLATES)
@require_POST
def template_approve_view(request: StaffRequest, pk: int) -> HttpResponseBase:
    template = _template_or_404(request, pk)
    try:
        template_approve(template=template, actor=request.user)
    except TemplateProblems as error:
        messages.error(
            request,
            _("模板未通过合规检查，不能审批：%(problems)s") % {"problems": str(error)},
        )
    else:
        messages.success(request, _("模板已审批，可以用于发送。"))
    return redirect("messaging:template_edit", pk=template.pk)


@capability_required(Capability.MANAGE_TEMPLATES)
@require_POST
def template_defaults(request: StaffRequest) -> HttpResponseBase:
    if request.user.company is None:
        raise Http404
    added = messaging_defaults_load(company=request.user.company, actor=request.user)
    if added:
        messages.success(
            request,
            _("已添加 %(count)s 个默认模板（草稿），请逐一检查后审批。") % {"count": added},
        )
    else:
        messages.info(request, _("默认模板都已存在，没有新增。"))
    return redirect("messaging:template_list")


# --- delivery callbacks ----------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def delivery_callback(request: HttpRequest, provider: str) -> HttpResponseBase:
    """A provider's delivery report (送达回执): verified by the backend, then applied; the
    answer is the one the provider expects. 403 when verification fails, 404 for a provider
    that does not exist. GET is the URL check some providers make (WeChat's echostr)."""
    try:
        backend = providers.backend_named(provider)
    except ImproperlyConfigured as error:
        raise Http404 from error
    if request.method == "GET":
        handshake = getattr(backend, "callback_handshake", None)
        if handshake is None:
            return HttpResponseNotAllowed(["POST"])
        try:
            return HttpResponse(handshake(request), content_type="text/plain")
        except CallbackRejected as error:
            logger.warning("callback check from %s rejected: %s", provider, error)
            return HttpResponseForbidden("forbidden", content_type="text/plain")
    try:
        reports = backend.parse_callback(request)
    except CallbackRejected as error:
        logger.warning("delivery callback from %s rejected: %s", provider, error)
        return HttpResponseForbidden("forbidden", content_type="text/plain")
    delivery_report_apply(provider=backend.name, reports=reports)
    respond = getattr(backend, "callback_response", None)
    if respond is not None:
        response: HttpResponseBase = respond()
        return response
    return HttpResponse("ok", content_type="text/plain")
