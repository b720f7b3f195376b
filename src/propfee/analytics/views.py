"""报表 pages: 欠费账龄, 欠费明细, 楼栋欠费 and 收缴率, each a table with its chart and its Excel
export (`?export=xlsx`). Thin callers of the report selectors; every figure is scoped to the
user, and a user without 查看报表 gets 403."""

from __future__ import annotations

from django.http import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _

from propfee.analytics.charts import chart_data, percent_value, yuan_values
from propfee.analytics.exports import (
    AGING_EXPORT,
    ARREARS_EXPORT,
    BUILDING_ARREARS_EXPORT,
    COLLECTION_RATE_EXPORT,
)
from propfee.analytics.forms import (
    ArrearsFilterForm,
    BuildingArrearsFilterForm,
    RateFilterForm,
    ReportFilterForm,
)
from propfee.analytics.selectors import arrears_list, collection_rate_rows, current_rate_trend
from propfee.core.exporting import ExportList, export_response
from propfee.core.roles import Capability
from propfee.estates.models import Estate
from propfee.ledger.rates import aging_summary, arrears_by_building
from propfee.web.access import StaffRequest, capability_required
from propfee.web.listing import export_requested, page_of, render_page_or_fragment


def _export(
    request: StaffRequest,
    export: ExportList,
    rows: list,
    about: dict[str, str],
    estate: Estate | None,
) -> HttpResponseBase:
    return export_response(
        actor=request.user,
        export=export,
        rows=rows,
        about=about,
        estate_id=estate.pk if estate is not None else None,
    )


@capability_required(Capability.VIEW_REPORTS)
def report_index(request: StaffRequest) -> HttpResponseBase:
    return render(request, "analytics/index.html")


@capability_required(Capability.VIEW_REPORTS)
def aging(request: StaffRequest) -> HttpResponseBase:
    form = ReportFilterForm(request.GET or None, user=request.user)
    where = form.where()
    buckets = aging_summary(
        user=request.user, as_of=where.as_of, estate=where.estate, building=where.building
    )
    total = {
        "label": _("合计"),
        "charges": sum(b.charges for b in buckets),
        "units": None,  # a unit with charges in two buckets counts in both: no total
        "principal_fen": sum(b.principal_fen for b in buckets),
    }
    if export_requested(request):
        return _export(request, AGING_EXPORT, [*buckets, total], where.described(), where.estate)
    chart = chart_data(
        kind="bar",
        categories=[b.label for b in buckets],
        series=[(_("欠费本金(元)"), yuan_values([b.principal_fen for b in buckets]))],
        value_format="yuan",
    )
    return render(
        request,
        "analytics/aging.html",
        {"form": form, "where": where, "buckets": buckets, "total": total, "chart": chart},
    )


@capability_required(Capability.VIEW_REPORTS)
def arrears(request: StaffRequest) -> HttpResponseBase:
    form = ArrearsFilterForm(request.GET or None, user=request.user)
    where = form.where()
    values = form.values()
    rows = arrears_list(
        user=request.user,
        as_of=where.as_of,
        estate=where.estate,
        building=where.building,
        code=values.get("q", ""),
        buckets=[values["bucket"]] if "bucket" in values else [],
        order=values.get("order", "-amount"),
    )
    if export_requested(request):
        about = where.described()
        if values.get("q"):
            about["房屋编码"] = values["q"]
        if values.get("bucket"):
            about["账龄(天)"] = values["bucket"]
        return _export(request, ARREARS_EXPORT, rows, about, where.estate)
    return render_page_or_fragment(
        request,
        "analytics/arrears.html",
        "analytics/_arrears_results.html",
        {
            "form": form,
            "where": where,
            "page_obj": page_of(request, rows),
            "total_fen": sum(row.principal_overdue_fen for row in rows),
        },
    )


@capability_required(Capability.VIEW_REPORTS)
def buildings(request: StaffRequest) -> HttpResponseBase:
    form = BuildingArrearsFilterForm(request.GET or None, user=request.user)
    where = form.where()
    rows = (
        arrears_by_building(user=request.user, estate=where.estate, as_of=where.as_of)
        if where.estate is not None
        else []
    )
    if export_requested(request):
        return _export(request, BUILDING_ARREARS_EXPORT, rows, where.described(), where.estate)
    chart = chart_data(
        kind="bar",
        categories=[row.name for row in rows],
        series=[(_("欠费本金(元)"), yuan_values([row.principal_overdue_fen for row in rows]))],
        value_format="yuan",
    )
    return render(
        request,
        "analytics/buildings.html",
        {
            "form": form,
            "where": where,
            "rows": rows,
            "chart": chart,
            "total_fen": sum(row.principal_overdue_fen for row in rows),
            "total_units": sum(row.units for row in rows),
            "total_charges": sum(row.charges for row in rows),
        },
    )


@capability_required(Capability.VIEW_REPORTS)
def collection_rate(request: StaffRequest) -> HttpResponseBase:
    form = RateFilterForm(request.GET or None, user=request.user)
    where = form.where()
    rows = collection_rate_rows(
        user=request.user,
        period=where.period,
        as_of=where.as_of,
        start=where.start,
        end=where.end,
        estate=where.estate,
    )
    if export_requested(request):
        return _export(request, COLLECTION_RATE_EXPORT, rows, where.described(), where.estate)
    trend = current_rate_trend(
        user=request.user, period=where.period, as_of=where.as_of, estate=where.estate
    )
    chart = chart_data(
        kind="line",
        categories=[point.period for point in trend],
        series=[(_("当期收缴率"), [percent_value(point.rate) for point in trend])],
        value_format="percent",
    )
    return render(
        request,
        "analytics/collection_rate.html",
        {"form": form, "where": where, "rows": rows, "trend": trend, "chart": chart},
    )
