"""Django admin registrations for the estates domain (superusers only). Set-up data is edited
here with an audit row per change; parties, their phones and occupancies are read-only and
masked, because they are personal data written only by the services (docs/decisions.md)."""

from django.contrib import admin

from propfee.core.admin import AuditedAdmin, ReadOnlyAdmin
from propfee.core.personal_data import email_mask, id_number_mask, phone_mask
from propfee.estates.models import Building, Company, Estate, Occupancy, Party, Unit


@admin.register(Company)
class CompanyAdmin(AuditedAdmin):
    list_display = ("code", "name", "personal_data_retention_years")


@admin.register(Estate)
class EstateAdmin(AuditedAdmin):
    list_display = ("code", "name", "city", "company")


@admin.register(Building)
class BuildingAdmin(AuditedAdmin):
    list_display = ("estate", "code", "name")
    list_filter = ("estate",)


@admin.register(Unit)
class UnitAdmin(AuditedAdmin):
    list_display = ("code", "unit_type", "area_m2", "status", "handover_date")
    list_filter = ("estate", "unit_type", "status")
    search_fields = ("code",)
    raw_id_fields = ("building",)


@admin.register(Party)
class PartyAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "company",
        "is_organization",
        "phones_masked",
        "id_number_masked",
        "anonymised_at",
    )
    search_fields = ("name",)
    fields = (
        "company",
        "name",
        "is_organization",
        "phones_masked",
        "email_masked",
        "id_number_masked",
        "anonymised_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("phones")

    @admin.display(description="手机")
    def phones_masked(self, party: Party) -> str:
        return "、".join(phone_mask(p.number) for p in party.phones.all())

    @admin.display(description="证件号")
    def id_number_masked(self, party: Party) -> str:
        return id_number_mask(party.id_number)

    @admin.display(description="邮箱")
    def email_masked(self, party: Party) -> str:
        return email_mask(party.email)


@admin.register(Occupancy)
class OccupancyAdmin(ReadOnlyAdmin):
    list_display = ("unit", "party", "role", "is_payer", "since", "until")
    raw_id_fields = ("unit", "party")
