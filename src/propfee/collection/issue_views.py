"""暂停催收 and 物业服务问题跟进表 pages: the holds list with a manual hold form and release;
the service-issue list with its filters (status, category, department, estate, 逾期未解决)
and Excel export, the issue form, and an issue's page with its status and resolution.
Thin callers of `propfee.collection.holds`."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from propfee.collection.constants import IssueStatus
from propfee.collection.form_pages import form_page
from propfee.collection.holds import (
    hold_create,
    hold_release,
    holds_visible_to,
    issues_overdue,
    service_issue_create,
    service_issue_resolve,
    service_issue_status_set,
    service_issues_visible_to,
)
from propfee.collection.matter_exports import HOLD_EXPORT, ISSUE_EXPORT
from propfee.collection.matter_forms import (
    HoldFilterForm,
    HoldForm,
    IssueFilterForm,
    IssueForm,
    IssueResolveForm,
    IssueStatusForm,
    NoteForm,
)
from propfee.collection.models import ServiceIssue
from propfee.core.roles import Capability, role_can
from propfee.web.access import StaffRequest, capability_required
from propfee.web.listing import export_list, export_requested, page_of, render_page_or_fragment

get_or_post = require_http_methods(["GET", "POST"])


# --- holds -----------------------------------------------------------------------------------


@capability_required(Capability.WORK_CASES)
def hold_list(request: StaffRequest) -> HttpResponseBase:
    """暂停催收: the holds of the units the user sees."""
    form = HoldFilterForm(request.GET, user=request.user)
    holds = form.filter(holds_visible_to(request.user))
    if export_requested(request):
        return export_list(request, HOLD_EXPORT, holds, form=form)
    manages = role_can(request.user, Capability.MANAGE_CASES)
    links = (
        [{"url": reverse("collection:hold_new"), "label": _("登记暂停"), "icon": "pause-circle"}]
        if manages
        else []
    )
    return render_page_or_fragment(
        request,
        "collection/matters/list_page.html",
        "collection/matters/_hold_results.html",
        {
            "form": form,
            "page_obj": page_of(request, holds),
            "title": _("暂停催收"),
            "links": links,
            "results_template": "collection/matters/_hold_results.html",
            "manages": manages,
            "today": timezone.localdate(),
        },
    )


@get_or_post
@capability_required(Capability.MANAGE_CASES)
def hold_new(request: StaffRequest) -> HttpResponseBase:
    """登记暂停 (manual, hardship or legal) for a unit (`?unit=CODE`)."""
    form = HoldForm(
        request.POST or None,
        user=request.user,
        initial={"unit": request.GET.get("unit", ""), "starts_on": timezone.localdate()},
    )

    def save() -> tuple[str, str]:
        data = form.cleaned_data
        hold = hold_create(
            unit=data["unit"],
            kind=data["kind"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            reason=data["reason"],
            actor=request.user,
        )
        return _("已暂停催收：%(unit)s（%(kind)s）。") % {
            "unit": hold.unit.code,
            "kind": hold.get_kind_display(),
        }, reverse("collection:hold_list")

    return form_page(
        request,
        form,
        title=_("登记暂停催收"),
        submit_label=_("暂停催收"),
        back_url=reverse("collection:hold_list"),
        back_label=_("暂停催收"),
        save=save,
        statement=lambda: _("暂停期间催收批次不再对该房屋升级催收，到期或解除后自动恢复。"),
    )


@get_or_post
@capability_required(Capability.MANAGE_CASES)
def hold_release_view(request: StaffRequest, pk: int) -> HttpResponseBase:
    """解除暂停, after a confirmation."""
    hold = holds_visible_to(request.user).filter(pk=pk).first()
    if hold is None:
        raise Http404
    form = NoteForm(request.POST or None, label=_("解除原因"))

    def save() -> tuple[str, str]:
        hold_release(hold=hold, actor=request.user, reason=form.cleaned_data["note"])
        return _("已解除暂停：%(unit)s。") % {"unit": hold.unit.code}, reverse(
            "collection:hold_list"
        )

    return form_page(
        request,
        form,
        title=_("解除暂停"),
        submit_label=_("解除暂停"),
        submit_class="btn-warning",
        back_url=reverse("collection:hold_list"),
        back_label=_("暂停催收"),
        save=save,
        statement=lambda: _("解除后，今天起的催收批次恢复对该房屋的催收。"),
        summary=lambda: [
            (_("房屋"), hold.unit.code),
            (_("暂停类型"), hold.get_kind_display()),
            (_("原因"), hold.reason),
        ],
    )


# --- service issues --------------------------------------------------------------------------


@capability_required(Capability.WORK_CASES)
def issue_list(request: StaffRequest) -> HttpResponseBase:
    """物业服务问题跟进表; `?overdue=1` is the manager's view of 逾期未解决."""
    form = IssueFilterForm(request.GET, user=request.user)
    visible = service_issues_visible_to(request.user)
    issues = form.filter(visible)
    if export_requested(request):
        return export_list(request, ISSUE_EXPORT, issues, form=form)
    links = [
        {"url": reverse("collection:issue_new"), "label": _("登记服务问题"), "icon": "plus-lg"}
    ]
    overdue = issues_overdue(visible, on=timezone.localdate()).count()
    if overdue:
        links.insert(
            0,
            {
                "url": reverse("collection:issue_list") + "?overdue=on",
                "label": _("逾期未解决 %(count)s 件") % {"count": overdue},
                "icon": "alarm",
                "css": "btn-outline-danger",
            },
        )
    return render_page_or_fragment(
        request,
        "collection/matters/list_page.html",
        "collection/matters/_issue_results.html",
        {
            "form": form,
            "page_obj": page_of(request, issues),
            "title": _("物业服务问题跟进表"),
            "links": links,
            "results_template": "collection/matters/_issue_results.html",
            "today": timezone.localdate(),
        },
    )


@get_or_post
@capability_required(Capability.WORK_CASES)
def issue_new(request: StaffRequest) -> HttpResponseBase:
    """登记服务问题 for a unit (`?unit=CODE`)."""
    form = IssueForm(
        request.POST or None, user=request.user, initial={"unit": request.GET.get("unit", "")}
    )

    def save() -> tuple[str, str]:
        data = form.cleaned_data
        issue = service_issue_create(
            unit=data["unit"],
            category=data["category"],
            description=data["description"],
            department=data["department"],
            promised_on=data["promised_on"],
            is_dispute=data["is_dispute"],
            actor=request.user,
        )
        return _("已登记服务问题：%(unit)s（%(category)s）。") % {
            "unit": issue.unit.code,
            "category": issue.get_category_display(),
        }, reverse("collection:issue_detail", args=[issue.pk])

    return form_page(
        request,
        form,
        title=_("登记服务问题"),
        submit_label=_("登记"),
        back_url=reverse("collection:issue_list"),
        back_label=_("物业服务问题跟进表"),
        save=save,
    )


def _issue_or_404(request: StaffRequest, pk: int) -> ServiceIssue:
    issue = service_issues_visible_to(request.user).filter(pk=pk).first()
    if issue is None:
        raise Http404
    return issue


@get_or_post
@capability_required(Capability.WORK_CASES)
def issue_detail(request: StaffRequest, pk: int) -> HttpResponseBase:
    """A service issue: its facts, holds, and the status and resolution forms."""
    issue = _issue_or_404(request, pk)
    status_form = IssueStatusForm(prefix="status")
    resolve_form = IssueResolveForm(prefix="resolve", initial={"resolved_on": timezone.localdate()})
    error = ""
    if request.method == "POST":
        try:
            if "resolve-resolution" in request.POST:
                resolve_form = IssueResolveForm(request.POST, prefix="resolve")
                if resolve_form.is_valid():
                    service_issue_resolve(
                        issue=issue,
                        resolution=resolve_form.cleaned_data["resolution"],
                        resolved_on=resolve_form.cleaned_data["resolved_on"],
                        actor=request.user,
                    )
                    return _issue_done(request, issue, _("已标记为已解决。"))
            else:
                status_form = IssueStatusForm(request.POST, prefix="status")
                if status_form.is_valid():
                    service_issue_status_set(
                        issue=issue,
                        status=status_form.cleaned_data["status"],
                        note=status_form.cleaned_data["note"],
                        actor=request.user,
                    )
                    return _issue_done(request, issue, _("已更新服务问题状态。"))
        except ValueError as exc:
            error = str(exc)
    return render(
        request,
        "collection/matters/issue_detail.html",
        {
            "issue": issue,
            "holds": issue.holds.order_by("starts_on"),
            "status_form": status_form,
            "resolve_form": resolve_form,
            "error": error,
            "overdue": issue.promised_on is not None
            and issue.promised_on < timezone.localdate()
            and issue.status in (IssueStatus.OPEN, IssueStatus.IN_PROGRESS),
            "can_resolve": issue.status in (IssueStatus.OPEN, IssueStatus.IN_PROGRESS),
            "can_move": issue.status != IssueStatus.CLOSED,
        },
    )


def _issue_done(request: StaffRequest, issue: ServiceIssue, message: str) -> HttpResponseBase:
    messages.success(request, message)
    return redirect("collection:issue_detail", pk=issue.pk)
