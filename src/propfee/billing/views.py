"""计费 pages: the billing runs, choosing an estate and month → preview → 确认计费, a run's
charges by building, 撤销 with a reason, and 收费设置 (fee items, tariffs, contract terms).
Thin callers of the billing services and selectors; estates outside the user's scope are
answered with 404."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.forms import Form
from django.http import Http404, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from propfee.billing.exports import BILLING_RUN_EXPORT, CHARGE_EXPORT, TARIFF_EXPORT
from propfee.billing.forms import (
    BillingRunFilterForm,
    BillingRunForm,
    BillingRunReverseForm,
    ContractVersionForm,
    FeeItemForm,
    SetupEstateForm,
    TariffForm,
)
from propfee.billing.models import BillingRun
from propfee.billing.selectors import (
    billing_run_buildings,
    billing_run_charges,
    billing_runs_visible_to,
    contract_versions_of,
    fee_items_of,
    tariffs_of,
)
from propfee.billing.services import (
    BillingError,
    billing_run_post,
    billing_run_preview,
    billing_run_reverse,
    contract_version_create,
    fee_item_create,
    tariff_create,
)
from propfee.core.identifiers import id_parse
from propfee.core.roles import Capability
from propfee.estates.models import Estate
from propfee.estates.selectors import estates_visible_to
from propfee.web.access import StaffRequest, capability_required
from propfee.web.listing import export_list, export_requested, page_of, render_page_or_fragment


def _run_or_404(request: StaffRequest, pk: int) -> BillingRun:
    run = billing_runs_visible_to(request.user).filter(pk=pk).first()
    if run is None:
        raise Http404
    return run


def _estate_or_404(request: StaffRequest, pk: int) -> Estate:
    estate = estates_visible_to(request.user).filter(pk=pk).first()
    if estate is None:
        raise Http404
    return estate


@capability_required(Capability.MANAGE_BILLING)
def run_list(request: StaffRequest) -> HttpResponseBase:
    form = BillingRunFilterForm(request.GET or None, user=request.user)
    runs = form.filter(billing_runs_visible_to(request.user))
    if export_requested(request):
        return export_list(request, BILLING_RUN_EXPORT, runs, form=form)
    return render_page_or_fragment(
        request,
        "billing/run_list.html",
        "billing/_run_results.html",
        {"form": form, "page_obj": page_of(request, runs)},
    )


@capability_required(Capability.MANAGE_BILLING)
@require_http_methods(["GET", "POST"])
def run_new(request: StaffRequest) -> HttpResponseBase:
    """GET: the form. POST: the preview (writes nothing), or with `confirm` the posted run."""
    form = BillingRunForm(request.POST or request.GET or None, user=request.user)
    context: dict = {"form": form}
    if request.method == "POST" and form.is_valid():
        estate = _estate_or_404(request, form.cleaned_data["estate"])
        period = form.cleaned_data["period"]
        try:
            if "confirm" in request.POST:
                run = billing_run_post(estate=estate, period=period, actor=request.user)
                if run.charge_count:
                    messages.success(
                        request,
                        _("已计费：新增应收 %(count)s 笔。") % {"count": run.charge_count},
                    )
                else:
                    messages.info(
                        request,
                        _("没有新增应收：%(period)s 已计费 %(billed)s 笔，本次未重复计费。")
                        % {"period": period, "billed": run.already_billed_count},
                    )
                return redirect("billing:run_detail", pk=run.pk)
            context["preview"] = billing_run_preview(
                estate=estate, period=period, actor=request.user
            )
        except BillingError as error:
            form.add_error(None, str(error))
    return render(request, "billing/run_new.html", context)


@capability_required(Capability.MANAGE_BILLING)
def run_detail(request: StaffRequest, pk: int) -> HttpResponseBase:
    run = _run_or_404(request, pk)
    charges = billing_run_charges(run=run)
    if export_requested(request):
        return export_list(request, CHARGE_EXPORT, charges, estate_id=run.estate_id)
    return render_page_or_fragment(
        request,
        "billing/run_detail.html",
        "billing/_charge_results.html",
        {
            "run": run,
            "buildings": billing_run_buildings(run=run),
            "page_obj": page_of(request, charges),
        },
    )


@capability_required(Capability.MANAGE_BILLING)
@require_http_methods(["GET", "POST"])
def run_reverse(request: StaffRequest, pk: int) -> HttpResponseBase:
    """GET: the confirmation page (writes nothing). POST with a reason: the reversal."""
    run = _run_or_404(request, pk)
    form = BillingRunReverseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            billing_run_reverse(run=run, actor=request.user, reason=form.cleaned_data["reason"])
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("计费批次已撤销，其应收已删除。"))
            return redirect("billing:run_detail", pk=run.pk)
    return render(request, "billing/run_reverse.html", {"run": run, "form": form})


# --- 收费设置 -----------------------------------------------------------------------------------


def _setup_page(
    request: StaffRequest, estate: Estate, bound: dict[str, Form], status: int = 200
) -> HttpResponseBase:
    """The set-up page; `bound` holds the one submitted form that failed, with its errors."""
    context = {
        "estate": estate,
        "estate_form": SetupEstateForm(initial={"estate": estate.pk}, user=request.user),
        "fee_items": fee_items_of(company_id=estate.company_id),
        "tariffs": tariffs_of(estate=estate),
        "versions": contract_versions_of(estate=estate),
        "fee_item_form": bound.get("fee_item") or FeeItemForm(),
        "tariff_form": bound.get("tariff") or TariffForm(company_id=estate.company_id),
        "contract_form": bound.get("contract") or ContractVersionForm(),
    }
    return render(request, "billing/setup.html", context, status=status)


@capability_required(Capability.MANAGE_BILLING)
def setup(request: StaffRequest) -> HttpResponseBase:
    """收费设置 of one estate (the first the user may see unless `?estate=` says which)."""
    chosen = request.GET.get("estate", "")
    estates = estates_visible_to(request.user).order_by("code")
    estate = estates.filter(pk=id_parse(chosen)).first() if chosen else estates.first()
    if estate is None:
        raise Http404
    if export_requested(request):
        return export_list(request, TARIFF_EXPORT, tariffs_of(estate=estate), estate_id=estate.pk)
    return _setup_page(request, estate, {})


def _setup_write(
    request: StaffRequest, pk: int, key: str, form: Form, write: Callable[[Estate, dict], str]
) -> HttpResponseBase:
    """POST of one set-up form: the service's refusal shows on the form, success returns to
    the page."""
    estate = _estate_or_404(request, pk)
    if form.is_valid():
        try:
            message = write(estate, form.cleaned_data)
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, message)
            return redirect(f"{reverse('billing:setup')}?estate={estate.pk}")
    return _setup_page(request, estate, {key: form}, status=400)


@capability_required(Capability.MANAGE_BILLING)
@require_POST
def fee_item_new(request: StaffRequest, pk: int) -> HttpResponseBase:
    def write(estate: Estate, data: dict) -> str:
        item = fee_item_create(
            company=estate.company, code=data["code"], name=data["name"], actor=request.user
        )
        return _("已新增收费项目：%(name)s") % {"name": item.name}

    return _setup_write(request, pk, "fee_item", FeeItemForm(request.POST), write)


@capability_required(Capability.MANAGE_BILLING)
@require_POST
def tariff_new(request: StaffRequest, pk: int) -> HttpResponseBase:
    estate = _estate_or_404(request, pk)

    def write(estate: Estate, data: dict) -> str:
        tariff = tariff_create(estate=estate, actor=request.user, **data)
        return _("已保存收费标准：%(tariff)s，自 %(day)s 起执行") % {
            "tariff": tariff,
            "day": f"{tariff.effective_from:%Y-%m-%d}",
        }

    form = TariffForm(request.POST, company_id=estate.company_id)
    return _setup_write(request, pk, "tariff", form, write)


@capability_required(Capability.MANAGE_BILLING)
@require_POST
def contract_version_new(request: StaffRequest, pk: int) -> HttpResponseBase:
    def write(estate: Estate, data: dict) -> str:
        version = contract_version_create(estate=estate, actor=request.user, **data)
        return _("已保存合同条款，自 %(day)s 起执行") % {
            "day": f"{version.effective_from:%Y-%m-%d}"
        }

    return _setup_write(request, pk, "contract", ContractVersionForm(request.POST), write)
