"""业主住户 list: search by name or phone suffix, phones and ID numbers masked."""

from __future__ import annotations

from django.http import HttpResponseBase

from propfee.core.roles import Capability
from propfee.estates.selectors import party_search
from propfee.web.access import StaffRequest, capability_required
from propfee.web.exports import PARTY_EXPORT
from propfee.web.forms import PartyFilterForm
from propfee.web.listing import export_list, export_requested, page_of, render_page_or_fragment
from propfee.web.prefetch import parties_with_current_units


@capability_required(Capability.VIEW_PARTIES)
def party_list(request: StaffRequest) -> HttpResponseBase:
    form = PartyFilterForm(request.GET or None)
    parties = parties_with_current_units(
        party_search(user=request.user, query=form.query), request.user
    ).order_by("name", "pk")
    if export_requested(request):
        return export_list(request, PARTY_EXPORT, parties, form=form)
    return render_page_or_fragment(
        request,
        "web/parties/party_list.html",
        "web/parties/_party_results.html",
        {"form": form, "page_obj": page_of(request, parties)},
    )
