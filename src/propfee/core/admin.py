"""Django admin: superusers only; everyone else works in the staff UI.

Two kinds of model admin, so the admin can never bypass the services' rules or the audit log:
- `ReadOnlyAdmin` for personal data and money (parties, phones, occupancies, charges, the
  outbox, the audit log): the services are the only writers, because they check the rules and
  write the audit row; phones, ID numbers and e-mail addresses are shown masked, as in the
  staff UI's lists (docs/decisions.md).
- `AuditedAdmin` for set-up data (companies, estates, units, fee items, staff users): every
  add, change and delete writes propfee's own audit row, in the admin's transaction."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.db import models, transaction
from django.http import HttpRequest

from propfee.core.credentials import user_password_changed
from propfee.core.models import AuditAction, AuditEntry, StaffScope, User
from propfee.core.personal_data import email_mask, id_number_mask, phone_mask
from propfee.core.services import audit_record, model_snapshot, snapshot_diff


def _superuser_only(request) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


admin.site.has_permission = _superuser_only  # type: ignore[method-assign]
admin.site.site_header = "propfee 系统管理"

ADMIN_NOTE = "系统管理后台"
#: Never copied into an audit row, even as a hash.
_UNAUDITED_FIELDS = {"password", "created_at", "updated_at", "last_login"}
#: Keys of audit snapshots that hold personal data, and how the admin masks each.
_MASKS = {
    "phones": lambda v: [phone_mask(p) for p in v] if isinstance(v, list) else v,
    "phone": phone_mask,
    "id_number": id_number_mask,
    "email": email_mask,
    "recipient": lambda v: email_mask(v) if "@" in str(v) else phone_mask(str(v)),
}


def snapshot_masked(data: Any) -> Any:
    """An audit snapshot with its phones, ID number and e-mail masked, for display."""
    if not isinstance(data, dict):
        return data
    return {
        key: _MASKS[key](value) if key in _MASKS and value else value for key, value in data.items()
    }


class ReadOnlyAdmin(admin.ModelAdmin):
    """Look, never touch: written only by the services."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _audited_fields(obj: models.Model) -> list[str]:
    return [
        f.name
        for f in obj._meta.concrete_fields
        if not f.primary_key and f.name not in _UNAUDITED_FIELDS
    ]


def _estate_id(obj: models.Model) -> int | None:
    if obj._meta.label_lower == "estates.estate":
        return obj.pk
    return getattr(obj, "estate_id", None)


def admin_audit(
    request: HttpRequest, obj: models.Model, *, action: str, before: dict | None = None
) -> None:
    """The audit row of an admin write of `obj` (after it was saved, or before its delete)."""
    fields = _audited_fields(obj)
    if action == AuditAction.DELETE:
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action=action,
            obj=obj,
            estate_id=_estate_id(obj),
            before=model_snapshot(obj, fields),
            note=ADMIN_NOTE,
        )
        return
    after = model_snapshot(obj, fields)
    if before is not None:
        before, after = snapshot_diff(before, after)
        if not after:
            return
    audit_record(
        actor=request.user,  # type: ignore[arg-type]
        action=action,
        obj=obj,
        estate_id=_estate_id(obj),
        before=before,
        after=after,
        note=ADMIN_NOTE,
    )


class AuditedAdmin(admin.ModelAdmin):
    """Every add, change and delete (inlines included) writes an audit row."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = None
        if change and obj.pk is not None:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = model_snapshot(stored, _audited_fields(obj)) if stored else None
        super().save_model(request, obj, form, change)
        admin_audit(
            request,
            obj,
            action=AuditAction.UPDATE if change else AuditAction.CREATE,
            before=before if change else None,
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        admin_audit(request, obj, action=AuditAction.DELETE)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            admin_audit(request, obj, action=AuditAction.DELETE)
        super().delete_queryset(request, queryset)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        befores = {}
        for inline_form in formset.initial_forms:
            obj = inline_form.instance
            if obj.pk is not None and inline_form.has_changed():
                befores[obj.pk] = model_snapshot(
                    type(obj)._default_manager.get(pk=obj.pk), _audited_fields(obj)
                )
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            admin_audit(request, obj, action=AuditAction.DELETE)
            obj.delete()
        for obj in instances:
            is_new = obj.pk is None
            obj.save()
            admin_audit(
                request,
                obj,
                action=AuditAction.CREATE if is_new else AuditAction.UPDATE,
                before=None if is_new else befores.get(obj.pk),
            )
        formset.save_m2m()


class StaffScopeInline(admin.TabularInline):
    model = StaffScope
    extra = 0


@admin.register(User)
class StaffUserAdmin(AuditedAdmin, UserAdmin):
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
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type")
    fields = (
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "estate",
        "before_masked",
        "after_masked",
        "note",
    )
    readonly_fields = fields

    @admin.display(description="修改前")
    def before_masked(self, entry: AuditEntry) -> Any:
        return snapshot_masked(entry.before)

    @admin.display(description="修改后")
    def after_masked(self, entry: AuditEntry) -> Any:
        return snapshot_masked(entry.after)
