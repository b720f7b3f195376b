"""The unit page's writes (房屋办理): edit the unit, edit an occupant's details, add an occupant,
end an occupancy (退租/迁出), transfer ownership (产权变更) and record a payment (登记收款).

Each page is also the dialog the unit page opens with htmx (one view for page and fragment).
A view parses its form, calls one service and shows the service's refusal on the form. Ending
an occupancy and a transfer first show what will happen and write nothing until confirmed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from propfee.core import roles
from propfee.core.money import format_yuan
from propfee.core.personal_data import PersonalDataError
from propfee.core.roles import Capability, role_can
from propfee.core.submission import (
    TOKEN_FIELD,
    SubmissionMissing,
    submission_once,
    submitted_response,
)
from propfee.estates import services
from propfee.estates.constants import TITLE_ROLES
from propfee.estates.models import Occupancy, Unit
from propfee.estates.selectors import unit_occupancies
from propfee.ledger.selectors import statement_for_unit
from propfee.payments.models import Payment
from propfee.payments.services import PaymentError, payment_record
from propfee.web import confirmations
from propfee.web.access import StaffRequest, capability_required
from propfee.web.listing import render_page_or_fragment, wants_fragment
from propfee.web.unit_forms import (
    OccupancyEndForm,
    OccupantAddForm,
    PartyEditForm,
    PartyPickerMixin,
    PaymentForm,
    TransferForm,
    UnitEditForm,
)
from propfee.web.views.units import unit_or_404

# The element of the unit page's modal that a dialog replaces, and the list of parties a
# search in a dialog replaces.
DIALOG_TARGET = "write-dialog"
OPTIONS_TARGET = "party-options"
MANAGE_PARTIES = (Capability.VIEW_UNITS, Capability.VIEW_PARTIES, Capability.MANAGE_PARTIES)
MANAGE_UNITS = (Capability.VIEW_UNITS, Capability.MANAGE_UNITS)
RECORD_PAYMENTS = (Capability.VIEW_UNITS, Capability.RECORD_PAYMENTS)

get_or_post = require_http_methods(["GET", "POST"])


@contextmanager
def refusals_shown_on(form: forms.Form) -> Iterator[None]:
    """Run service calls: a refusal (EstatesError, PersonalDataError, PaymentError, a post
    without its one-time token) becomes an error at the top of `form`; a missing capability,
    a 403."""
    try:
        yield
    except (services.EstatesError, PersonalDataError, PaymentError, SubmissionMissing) as exc:
        form.add_error(None, str(exc))
    except roles.PermissionDenied as exc:
        raise PermissionDenied from exc


def _dialog(
    request: StaffRequest, unit: Unit, template: str, title: str, context: Mapping[str, Any]
) -> HttpResponse:
    """The dialog for the unit page's modal (htmx), or the page that frames it."""
    return render_page_or_fragment(
        request,
        "web/units/write_page.html",
        template,
        {
            "unit": unit,
            "title": title,
            "dialog_template": template,
            "in_dialog": wants_fragment(request, DIALOG_TARGET),
            **context,
        },
        target=DIALOG_TARGET,
    )


def _party_options(request: StaffRequest, form: PartyPickerMixin, multiple: bool) -> HttpResponse:
    response = render(
        request,
        "web/units/_party_options.html",
        {"form": form, "options": form.party_options(), "multiple": multiple},
    )
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _done(request: StaffRequest, unit: Unit, message: str) -> HttpResponseBase:
    """Back to the unit page, with the message saying what was done."""
    messages.success(request, message)
    url = reverse("web:unit_detail", args=[unit.code])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _occupancy_or_404(unit: Unit, occupancy_id: int, *, current: bool = False) -> Occupancy:
    occupancy = (
        unit_occupancies(unit=unit, include_past=not current).filter(pk=occupancy_id).first()
    )
    if occupancy is None:
        raise Http404
    return occupancy


def _action(request: StaffRequest) -> str:
    """Which button posted the form: `search` (refresh the party list), `edit` (back from a
    confirmation to the form), or none (submit)."""
    return request.POST.get("action", "")


def _confirmed(request: StaffRequest) -> bool:
    return request.POST.get("confirm") == "1"


def _searching(request: StaffRequest) -> bool:
    return _action(request) == "search" or wants_fragment(request, OPTIONS_TARGET)


@get_or_post
@capability_required(*MANAGE_UNITS)
def unit_edit(request: StaffRequest, code: str) -> HttpResponseBase:
    """编辑房屋信息: area, type, handover date and status (`unit_update`)."""
    unit = unit_or_404(request, code)
    form = UnitEditForm(request.POST or None, unit=unit)
    if form.is_valid():
        with refusals_shown_on(form):
            services.unit_update(unit=unit, actor=request.user, **form.cleaned_data)
            return _done(request, unit, _("已保存房屋信息。"))
    return _dialog(request, unit, "web/units/_unit_edit.html", _("编辑房屋信息"), {"form": form})


@get_or_post
@capability_required(*MANAGE_PARTIES)
def occupant_edit(request: StaffRequest, code: str, occupancy_id: int) -> HttpResponseBase:
    """编辑资料 of an occupant (current or past) of the unit (`party_update`). Pre-filling the
    full phones, e-mail and ID number is a view of personal data and is logged as one."""
    unit = unit_or_404(request, code)
    occupancy = _occupancy_or_404(unit, occupancy_id)
    party = occupancy.party
    name = party.name
    form = PartyEditForm(
        request.POST or None,
        party=party,
        revealed=role_can(request.user, Capability.REVEAL_PERSONAL_DATA),
    )
    if request.method == "POST":
        if form.is_valid():
            with refusals_shown_on(form):
                services.party_update(
                    party=party, actor=request.user, estate_id=unit.estate_id, **form.changes()
                )
                return _done(request, unit, _("已保存 %(name)s 的资料。") % {"name": party.name})
    elif form.prefilled:
        services.party_reveal_record(
            actor=request.user, party=party, fields=form.prefilled, estate_id=unit.estate_id
        )
    title = _("编辑资料：%(name)s") % {"name": name}
    return _dialog(
        request,
        unit,
        "web/units/_occupant_edit.html",
        title,
        {"form": form, "occupancy": occupancy},
    )


@get_or_post
@capability_required(*MANAGE_PARTIES)
def occupant_add(request: StaffRequest, code: str) -> HttpResponseBase:
    """添加住户: an existing or new party as owner, tenant, co-owner or developer
    (`occupant_add`: the new party and the occupancy in one transaction)."""
    unit = unit_or_404(request, code)
    form = OccupantAddForm(
        request.POST or None, user=request.user, unit=unit, quiet=_searching(request)
    )
    if wants_fragment(request, OPTIONS_TARGET):
        return _party_options(request, form, multiple=False)
    if form.is_valid():
        data = form.cleaned_data
        with refusals_shown_on(form):
            occupancy = services.occupant_add(
                unit=unit,
                party=form.party_ref(),
                role=data["role"],
                since=data["since"],
                is_payer=data["is_payer"],
                actor=request.user,
            )
            message = _("已添加 %(name)s（%(role)s）。") % {
                "name": occupancy.party.name,
                "role": occupancy.get_role_display(),
            }
            return _done(request, unit, message)
    return _dialog(request, unit, "web/units/_occupant_add.html", _("添加住户"), {"form": form})


@get_or_post
@capability_required(*MANAGE_PARTIES)
def occupancy_end(request: StaffRequest, code: str, occupancy_id: int) -> HttpResponseBase:
    """退租/迁出: end a current occupancy on a date, after a confirmation (`occupancy_end`)."""
    unit = unit_or_404(request, code)
    occupancy = _occupancy_or_404(unit, occupancy_id, current=True)
    form = OccupancyEndForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "occupancy": occupancy}
    title = _("结束住户关系：%(name)s") % {"name": occupancy.party.name}
    if form.is_valid() and _action(request) != "edit":
        until = form.cleaned_data["until"]
        with refusals_shown_on(form):
            if _confirmed(request):
                services.occupancy_end(occupancy=occupancy, until=until, actor=request.user)
                message = _("%(name)s（%(role)s）的住户关系已结束，结束日期 %(until)s。") % {
                    "name": occupancy.party.name,
                    "role": occupancy.get_role_display(),
                    "until": until.isoformat(),
                }
                return _done(request, unit, message)
            services.occupancy_end_check(occupancy=occupancy, until=until)
            context["statement"] = confirmations.occupancy_end_statement(occupancy, until)
            return _dialog(request, unit, "web/units/_occupancy_end_confirm.html", title, context)
    return _dialog(request, unit, "web/units/_occupancy_end.html", title, context)


@get_or_post
@capability_required(*MANAGE_PARTIES)
def ownership_transfer(request: StaffRequest, code: str) -> HttpResponseBase:
    """产权变更: pick or enter the new owners, then confirm the plan the service checked
    (`ownership_transfer_plan`), then transfer (`ownership_transfer`)."""
    unit = unit_or_404(request, code)
    form = TransferForm(request.POST or None, user=request.user, quiet=_searching(request))
    if wants_fragment(request, OPTIONS_TARGET):
        return _party_options(request, form, multiple=True)
    title = _("产权变更")
    if form.is_valid() and _action(request) != "edit":
        owners, payer = form.owners_and_payer()
        on, note = form.cleaned_data["on"], form.cleaned_data["note"]
        with refusals_shown_on(form):
            if _confirmed(request):
                opened = services.ownership_transfer(
                    unit=unit, new_owners=owners, payer=payer, on=on, note=note, actor=request.user
                )
                message = _("产权变更已完成：新业主 %(names)s 自 %(on)s 起为业主。") % {
                    "names": "、".join(o.party.name for o in opened),
                    "on": on.isoformat(),
                }
                return _done(request, unit, message)
            plan = services.ownership_transfer_plan(
                unit=unit, new_owners=owners, payer=payer, on=on
            )
            context = {
                "form": form,
                "plan": plan,
                "statement": confirmations.transfer_statement(plan),
                "new_parties": confirmations.new_parties(plan),
                "note": note,
            }
            return _dialog(
                request,
                unit,
                "web/units/_ownership_transfer_confirm.html",
                _("确认产权变更"),
                context,
            )
    holders = [o for o in unit_occupancies(unit=unit, include_past=False) if o.role in TITLE_ROLES]
    return _dialog(
        request,
        unit,
        "web/units/_ownership_transfer.html",
        title,
        {"form": form, "holders": holders},
    )


def _open_charges(unit: Unit) -> list[tuple[int, str]]:
    """The unit's charges with anything outstanding today, as checkbox choices."""
    statement = statement_for_unit(unit=unit, as_of=timezone.localdate())
    choices = []
    for line in statement.lines:
        owed = line.position.principal_outstanding + line.position.penalty_outstanding
        if owed > 0:
            label = _("%(fee_item)s %(start)s — %(end)s，欠 ¥%(owed)s") % {
                "fee_item": line.fee_item,
                "start": line.period_start.isoformat(),
                "end": line.period_end.isoformat(),
                "owed": format_yuan(owed),
            }
            choices.append((line.charge_id, label))
    return choices


@get_or_post
@capability_required(*RECORD_PAYMENTS)
def payment_add(request: StaffRequest, code: str) -> HttpResponseBase:
    """登记收款 at the front desk (`payment_record`): back to the unit page with the receipt
    number. A reference already recorded for this unit and amount is not recorded twice."""
    unit = unit_or_404(request, code)
    form = PaymentForm(request.POST or None, open_charges=_open_charges(unit))
    if form.is_valid():
        data = form.cleaned_data
        reference = data["reference"].strip()
        unit_url = reverse("web:unit_detail", args=[unit.code])

        def save() -> tuple[str, str]:
            existed = bool(reference) and (
                Payment.objects.filter(channel=data["channel"], reference=reference).exists()
            )
            payment = payment_record(
                unit=unit,
                amount_fen=form.amount_fen(),
                received_on=data["received_on"],
                channel=data["channel"],
                reference=reference,
                designations=data["designations"],
                actor=request.user,
                # A cash payment without a reference is kept from being recorded twice by the
                # form's one-time token as well.
                idempotency_key=request.POST.get(TOKEN_FIELD, ""),
            )
            values = {"amount": format_yuan(payment.amount_fen), "receipt_no": payment.receipt_no}
            if existed:
                message = _("该流水号已登记过，未重复登记：¥%(amount)s，收据号 %(receipt_no)s。")
            else:
                message = _("已登记收款 ¥%(amount)s，收据号 %(receipt_no)s。")
            return message % values, unit_url

        with refusals_shown_on(form):
            return submitted_response(
                request, submission_once(request, save, fallback_url=unit_url)
            )
    return _dialog(request, unit, "web/units/_payment_add.html", _("登记收款"), {"form": form})
