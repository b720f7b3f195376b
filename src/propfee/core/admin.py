"""Django admin: superusers only; everyone else works in the staff UI."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from propfee.core.models import AuditEntry, StaffScope, User


def _superuser_only(request) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


admin.site.has_permission = _superuser_only  # type: ignore[method-assign]
admin.site.site_header = "propfee 系统管理"


class StaffScopeInline(admin.TabularInline):
    model = StaffScope
    extra = 0


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    fieldsets = (
        *UserAdmin.fieldsets,
        ("propfee", {"fields": ("company", "role", "display_name")}),
    )
    list_display = ("username", "display_name", "company", "role", "is_active", "is_superuser")
    list_filter = ("role", "company", "is_active")
    inlines = [StaffScopeInline]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type")
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
