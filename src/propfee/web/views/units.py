"""房屋 pages: the searchable unit list and a unit's page with its occupants, the audited reveal
of their full phone and ID numbers (显示), and its history. The unit page's writes are in
`unit_writes`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from propfee.core.exporting import Column, ColumnKind, ExportList, export_response
from propfee.core.identifiers import id_parse
from propfee.core.roles import Capability, role_can
from propfee.estates.models import Occupancy, Unit
from propfee.estates.selectors import (
    buildings_visible_to,
    unit_get,
    unit_history,
    unit_occupancies,
    unit_search,
)
from propfee.estates.services import party_reveal_record
from propfee.ledger.constants import WaiverKind, WaiverRequestStatus, WaiverStatus
from propfee.ledger.selectors import (
    Statement,
    penalty_bound,
    statement_for_unit,
    unit_waiver_requests,
    unit_waivers,
)
from propfee.web.access import StaffRequest, capability_required
from propfee.web.exports import UNIT_EXPORT
from propfee.web.forms import UnitFilterForm
from propfee.web.listing import export_list, export_requested, page_of, render_page_or_fragment
from propfee.web.prefetch import units_with_current_occupants

HISTORY_ROWS = 30

#: The statement (对账单) of the unit page as an Excel file (`?export=statement`).
STATEMENT_EXPORT = ExportList(
    name="对账单",
    object_type="estates.unit",
    columns=[
        Column("收费项目", "fee_item"),
        Column("计费开始", "period_start", ColumnKind.DATE),
        Column("计费结束", "period_end", ColumnKind.DATE),
        Column("应缴日期", "due_date", ColumnKind.DATE),
        Column("应收本金", "position.principal", ColumnKind.MONEY_FEN),
        Column("已缴本金", "position.principal_paid", ColumnKind.MONEY_FEN),
        Column("减免本金", "position.principal_waived", ColumnKind.MONEY_FEN),
        Column("未缴本金", "position.principal_outstanding", ColumnKind.MONEY_FEN),
        Column("滞纳金", "position.penalty_accrued", ColumnKind.MONEY_FEN),
        Column("已缴滞纳金", "position.penalty_paid", ColumnKind.MONEY_FEN),
        Column("减免滞纳金", "position.penalty_waived", ColumnKind.MONEY_FEN),
        Column("未缴滞纳金", "position.penalty_outstanding", ColumnKind.MONEY_FEN),
        Column("逾期天数", "position.days_overdue", ColumnKind.NUMBER),
        Column("诉讼时效届满日", "limitation_expires_on", ColumnKind.DATE),
    ],
)


@capability_required(Capability.VIEW_UNITS)
def unit_list(request: StaffRequest) -> HttpResponseBase:
    user = request.user
    form = UnitFilterForm(request.GET or None, user=user)
    units = form.filter(unit_search(user=user, query=form.query))
    if role_can(user, Capability.VIEW_PARTIES):
        units = units_with_current_occupants(units)
    if export_requested(request):
        return export_list(request, UNIT_EXPORT, units, form=form)
    if form.query and "page" not in request.GET:
        first_two = list(units.values_list("code", flat=True)[:2])
        if len(first_two) == 1:
            url = _unit_url(first_two[0])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return render_page_or_fragment(
        request,
        "web/units/unit_list.html",
        "web/units/_unit_results.html",
        {"form": form, "page_obj": page_of(request, units)},
    )


def _unit_url(code: str) -> str:
    return reverse("web:unit_detail", args=[code])


@capability_required(Capability.VIEW_UNITS)
def building_options(request: StaffRequest) -> HttpResponseBase:
    """The <option>s of the building filter for the chosen estate (htmx)."""
    estate_id = id_parse(request.GET.get("estate", ""))
    buildings = (
        buildings_visible_to(request.user).filter(estate_id=estate_id).order_by("code")
        if estate_id
        else []
    )
    return render(request, "web/units/_building_options.html", {"buildings": buildings})


def unit_or_404(request: StaffRequest, code: str) -> Unit:
    """The unit `code` if the user may see it; 404 otherwise (absent or out of scope)."""
    try:
        return unit_get(user=request.user, code=code)
    except (Unit.DoesNotExist, Unit.MultipleObjectsReturned) as exc:
        raise Http404 from exc


def _unit_statement(request: StaffRequest, unit: Unit) -> Statement | None:
    """The unit's statement today, for the roles that see units' accounts (not the committee)."""
    if not role_can(request.user, Capability.VIEW_UNITS):
        return None
    return statement_for_unit(unit=unit, as_of=timezone.localdate())


def _unit_page(request: StaffRequest, unit: Unit, revealed: frozenset[int]) -> HttpResponseBase:
    user = request.user
    statement = _unit_statement(request, unit)
    can_view_parties = role_can(user, Capability.VIEW_PARTIES)
    can_manage_parties = can_view_parties and role_can(user, Capability.MANAGE_PARTIES)
    occupancies = list(unit_occupancies(unit=unit)) if can_view_parties else []
    context = {
        "unit": unit,
        "can_view_parties": can_view_parties,
        "can_reveal": role_can(user, Capability.REVEAL_PERSONAL_DATA),
        # The write buttons (编辑, 添加住户, 产权变更, 退租/迁出, 登记收款) and the column
        # they need.
        "can_manage_units": role_can(user, Capability.MANAGE_UNITS),
        "can_manage_parties": can_manage_parties,
        "can_record_payments": role_can(user, Capability.RECORD_PAYMENTS),
        "occupant_columns": 5 if can_manage_parties else 4,
        "current": [o for o in occupancies if o.until is None],
        "past": [o for o in occupancies if o.until is not None],
        "revealed": revealed,
        "history": list(unit_history(unit=unit)[:HISTORY_ROWS]),
        "history_rows": HISTORY_ROWS,
        "statement": statement,
        **_waiver_context(request, unit, statement),
    }
    return render(request, "web/units/unit_detail.html", context)


def _waiver_context(
    request: StaffRequest, unit: Unit, statement: Statement | None
) -> dict[str, object]:
    """The account's 减免 parts: the penalty reasonableness warning, the unit's waivers with
    撤销 for those the user may decide, its pending requests, and 申请减免 per charge."""
    if statement is None:
        return {}
    user = request.user
    decides = {
        kind
        for kind, capability in (
            (WaiverKind.WAIVER, Capability.APPROVE_WAIVERS),
            (WaiverKind.WRITE_OFF, Capability.WRITE_OFF),
        )
        if role_can(user, capability)
    }
    can_request = role_can(user, Capability.REQUEST_WAIVERS)
    waivers = list(unit_waivers(unit=unit))
    return {
        "penalty_bound": penalty_bound(statement),
        "can_request_waivers": can_request,
        "waiver_decides": decides,
        "waivers": waivers,
        "pending_waiver_requests": list(
            unit_waiver_requests(unit=unit, status=WaiverRequestStatus.PENDING)
        ),
        # Whether any 申请减免 or 撤销 button is shown, so the page needs the dialog.
        "waiver_dialogs": (
            can_request and any(line.position.total_outstanding for line in statement.lines)
        )
        or any(w.status == WaiverStatus.ACTIVE and w.kind in decides for w in waivers),
    }


@capability_required(Capability.VIEW_UNITS)
def unit_detail(request: StaffRequest, code: str) -> HttpResponseBase:
    unit = unit_or_404(request, code)
    if request.GET.get("export") == "statement":
        statement = _unit_statement(request, unit)
        if statement is None:
            raise PermissionDenied
        return export_response(
            actor=request.user,
            export=STATEMENT_EXPORT,
            rows=statement.lines,
            about={"房屋": unit.code, "对账日期": f"{statement.as_of:%Y-%m-%d}"},
            estate_id=unit.estate_id,
        )
    return _unit_page(request, unit, frozenset())


@require_POST
@capability_required(Capability.VIEW_UNITS, Capability.VIEW_PARTIES)
def occupant_reveal(request: StaffRequest, code: str, occupancy_id: int) -> HttpResponseBase:
    """Show one occupant's full phone, ID number and email, and log that they were viewed."""
    if not role_can(request.user, Capability.REVEAL_PERSONAL_DATA):
        raise PermissionDenied
    unit = unit_or_404(request, code)
    occupancy: Occupancy | None = unit_occupancies(unit=unit).filter(pk=occupancy_id).first()
    if occupancy is None:
        raise Http404
    party = occupancy.party
    fields = [
        label
        for label, present in (
            ("手机", party.phones.all()),
            ("证件号", party.id_number),
            ("邮箱", party.email),
        )
        if present
    ]
    if fields:
        party_reveal_record(
            actor=request.user, party=party, fields=fields, estate_id=unit.estate_id
        )
    if request.htmx:
        return render(
            request,
            "web/units/_occupant_contact.html",
            {"occupancy": occupancy, "unit": unit, "revealed": frozenset({occupancy.pk})},
        )
    return _unit_page(request, unit, frozenset({occupancy.pk}))
