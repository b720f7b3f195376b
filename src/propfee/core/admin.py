"""Django admin: superusers only; everyone else works in the staff UI."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.db import transaction

from propfee.core.credentials import user_password_changed
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

    def user_change_password(self, request, id, form_url=""):
        # Django's view saves the password and redirects (302) only when the form was valid;
        # what follows a password change (audit, API token revoked) joins its transaction.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = self.get_object(request, unquote(id))
                user_password_changed(user=user, actor=request.user)
        return response


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type")
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
