"""Django admin registrations for the billing domain (superusers only). Fee items, tariffs and
contracts are set up here until the staff UI has pages for them, each change with an audit row;
billing runs and charges are read-only here, because they are written and reversed only by the
billing services."""

from django.contrib import admin

from propfee.billing.models import BillingRun, Charge, Contract, ContractVersion, FeeItem, Tariff
from propfee.core.admin import AuditedAdmin, ReadOnlyAdmin


@admin.register(FeeItem)
class FeeItemAdmin(AuditedAdmin):
    list_display = ("code", "name", "company")
    list_filter = ("company",)
    search_fields = ("code", "name")


@admin.register(Tariff)
class TariffAdmin(AuditedAdmin):
    list_display = (
        "estate",
        "fee_item",
        "unit_type",
        "basis",
        "rate_yuan",
        "vacancy_discount_ratio",
        "effective_from",
        "effective_to",
    )
    list_filter = ("estate", "fee_item", "unit_type")


class ContractVersionInline(admin.TabularInline):
    model = ContractVersion
    extra = 0


@admin.register(Contract)
class ContractAdmin(AuditedAdmin):
    list_display = ("name", "estate")
    inlines = (ContractVersionInline,)


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    list_display = (
        "estate",
        "period_start",
        "status",
        "unit_count",
        "charge_count",
        "total_fen",
        "created_by",
        "created_at",
    )
    list_filter = ("estate", "status")


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin):
    list_display = ("unit", "fee_item", "period_start", "due_date", "principal_fen", "payer")
    list_filter = ("fee_item", "period_start")
    search_fields = ("unit__code",)
    raw_id_fields = ("unit", "payer", "billing_run")
    list_select_related = ("unit", "fee_item", "payer")
