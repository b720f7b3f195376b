"""Django admin registrations for the estates domain (superusers only)."""

from django.contrib import admin

from propfee.estates.models import Building, Company, Estate, Occupancy, Party, PartyPhone, Unit


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("code", "name")


@admin.register(Estate)
class EstateAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city", "company")


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ("estate", "code", "name")
    list_filter = ("estate",)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "unit_type", "area_m2", "status", "handover_date")
    list_filter = ("estate", "unit_type", "status")
    search_fields = ("code",)
    raw_id_fields = ("building",)


class PartyPhoneInline(admin.TabularInline):
    model = PartyPhone
    extra = 0
    exclude = ("number_reversed",)


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    list_display = ("name", "company", "is_organization")
    search_fields = ("name",)
    inlines = [PartyPhoneInline]


@admin.register(Occupancy)
class OccupancyAdmin(admin.ModelAdmin):
    list_display = ("unit", "party", "role", "is_payer", "since", "until")
    raw_id_fields = ("unit", "party")
