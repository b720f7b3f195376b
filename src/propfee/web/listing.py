"""What every staff list shares: 50 rows a page, the page or just its results fragment (htmx),
and the Excel export of the same filtered rows (`?export=xlsx`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from propfee.core.exporting import ExportList, export_response
from propfee.web.access import StaffRequest

# The id of the element a list's htmx requests (filters, page links) replace.
RESULTS_TARGET = "list-results"


def page_of(request: HttpRequest, rows: Any, per_page: int | None = None) -> Page:
    """The requested page of `rows`; a page number out of range gives the last page."""
    paginator = Paginator(rows, per_page or settings.PROPFEE_PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


def export_requested(request: HttpRequest) -> bool:
    return request.GET.get("export") == "xlsx"


def wants_fragment(request: HttpRequest, target: str = RESULTS_TARGET) -> bool:
    """An htmx request aimed at `target` gets the fragment; history restores get the page."""
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.history_restore_request and htmx.target == target


def render_page_or_fragment(
    request: HttpRequest,
    page_template: str,
    fragment_template: str,
    context: Mapping[str, Any],
    target: str = RESULTS_TARGET,
) -> HttpResponse:
    """One view for page and fragment: the page includes the fragment template."""
    template = fragment_template if wants_fragment(request, target) else page_template
    response = render(request, template, dict(context))
    # The same URL answers with a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def filters_described(form: Any) -> dict[str, str]:
    """The filters in use, as label → shown value, for the export's 导出说明 sheet."""
    if not form.is_bound or not form.is_valid():
        return {}
    shown: list[str] = []
    for name, value in form.cleaned_data.items():
        if value in (None, "", [], ()):
            continue
        field = form.fields[name]
        if hasattr(field, "choices") and not hasattr(value, "pk"):
            value = dict(field.choices).get(value, value)
        shown.append(f"{field.label}：{value}")
    return {"筛选条件": "；".join(shown)} if shown else {"筛选条件": "无"}


def export_list(
    request: StaffRequest,
    export: ExportList,
    rows: Iterable[Any],
    *,
    form: Any = None,
    estate_id: int | None = None,
) -> HttpResponseBase:
    """The Excel download of `rows` (all of them, not one page), audited."""
    about = filters_described(form) if form is not None else {}
    return export_response(
        actor=request.user, export=export, rows=rows, about=about, estate_id=estate_id
    )
