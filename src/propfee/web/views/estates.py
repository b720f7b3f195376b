"""项目 and 楼栋 pages: the estate list with counts, an estate's buildings, a building's units."""

from __future__ import annotations

from django.http import Http404, HttpResponseBase

from propfee.core.roles import Capability, role_can
from propfee.estates.models import Building, Estate
from propfee.estates.selectors import building_summaries, estate_summaries, units_visible_to
from propfee.web.access import StaffRequest, capability_required
from propfee.web.exports import BUILDING_EXPORT, ESTATE_EXPORT, UNIT_EXPORT
from propfee.web.listing import export_list, export_requested, page_of, render_page_or_fragment
from propfee.web.prefetch import units_with_current_occupants


def _estate_or_404(request: StaffRequest, code: str) -> Estate:
    estate = estate_summaries(user=request.user).filter(code=code).order_by("pk").first()
    if estate is None:
        raise Http404
    return estate


@capability_required(Capability.VIEW_ESTATES)
def estate_list(request: StaffRequest) -> HttpResponseBase:
    estates = estate_summaries(user=request.user).order_by("code")
    if export_requested(request):
        return export_list(request, ESTATE_EXPORT, estates)
    return render_page_or_fragment(
        request,
        "web/estates/estate_list.html",
        "web/estates/_estate_results.html",
        {"page_obj": page_of(request, estates)},
    )


@capability_required(Capability.VIEW_ESTATES)
def estate_detail(request: StaffRequest, code: str) -> HttpResponseBase:
    estate = _estate_or_404(request, code)
    buildings = building_summaries(user=request.user, estate=estate)
    if export_requested(request):
        return export_list(request, BUILDING_EXPORT, buildings, estate_id=estate.pk)
    return render_page_or_fragment(
        request,
        "web/estates/estate_detail.html",
        "web/estates/_building_results.html",
        {"estate": estate, "page_obj": page_of(request, buildings)},
    )


@capability_required(Capability.VIEW_ESTATES)
def building_detail(request: StaffRequest, code: str, building_code: str) -> HttpResponseBase:
    estate = _estate_or_404(request, code)
    building: Building | None = (
        building_summaries(user=request.user, estate=estate).filter(code=building_code).first()
    )
    if building is None:
        raise Http404
    context: dict = {"estate": estate, "building": building}
    # The owners' committee sees the building's figures, not its units.
    if role_can(request.user, Capability.VIEW_UNITS):
        units = units_visible_to(request.user).filter(building=building)
        if role_can(request.user, Capability.VIEW_PARTIES):
            units = units_with_current_occupants(units)
        if export_requested(request):
            return export_list(request, UNIT_EXPORT, units, estate_id=estate.pk)
        context["page_obj"] = page_of(request, units)
        context["show_units"] = True
    return render_page_or_fragment(
        request,
        "web/estates/building_detail.html",
        "web/units/_unit_results.html",
        context,
    )
