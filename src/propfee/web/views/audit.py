"""操作日志: the audit log the user may see, filtered by action, object type, actor and dates."""

from __future__ import annotations

from django.http import HttpResponseBase

from propfee.core.roles import Capability
from propfee.estates.selectors import audit_entries_visible_to
from propfee.web.access import StaffRequest, capability_required
from propfee.web.exports import AUDIT_EXPORT
from propfee.web.forms import AuditFilterForm
from propfee.web.listing import export_list, export_requested, page_of, render_page_or_fragment


@capability_required(Capability.VIEW_AUDIT)
def audit_list(request: StaffRequest) -> HttpResponseBase:
    form = AuditFilterForm(request.GET or None)
    entries = form.filter(audit_entries_visible_to(request.user))
    if export_requested(request):
        return export_list(request, AUDIT_EXPORT, entries, form=form)
    return render_page_or_fragment(
        request,
        "web/audit/audit_list.html",
        "web/audit/_audit_results.html",
        {"form": form, "page_obj": page_of(request, entries)},
    )
