"""Forms of the staff UI: list filters (each narrows a queryset the selectors already scoped)
and the import upload."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, cast

from django import forms
from django.apps import apps
from django.contrib.auth import forms as auth_forms
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.core.credentials import user_password_set
from propfee.core.identifiers import id_parse
from propfee.core.importing import IMPORT_KINDS
from propfee.core.models import AuditAction, AuditEntry, User
from propfee.core.uploads import UploadKind, upload_check
from propfee.estates.constants import UnitStatus, UnitType
from propfee.estates.models import Unit
from propfee.estates.selectors import buildings_visible_to, estates_visible_to
from propfee.web.audit_display import object_type_label

_PHONE_SUFFIX_RE = re.compile(r"^\d{3,11}$")


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


class BootstrapMixin:
    """Bootstrap 5 classes on every widget, and `is-invalid` on fields with errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in self.errors:  # type: ignore[attr-defined]
            if name in self.fields:  # type: ignore[attr-defined]
                widget = self.fields[name].widget  # type: ignore[attr-defined]
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class PasswordChangeForm(BootstrapMixin, auth_forms.PasswordChangeForm):
    """Django's password change, styled; saved by the service, which also revokes the API
    token."""

    def save(self, commit: bool = True) -> User:
        user_password_set(
            user=self.user, raw_password=self.cleaned_data["new_password1"], actor=self.user
        )
        return self.user


class FilterForm(BootstrapMixin, forms.Form):
    """A GET filter form: invalid fields are ignored instead of failing the page."""

    def values(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v not in (None, "")}


class UnitFilterForm(FilterForm):
    q = forms.CharField(label=_("搜索"), required=False, max_length=64)
    estate: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("项目"), queryset=None, required=False, empty_label=_("全部项目")
    )
    building: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("楼栋"), queryset=None, required=False, empty_label=_("全部楼栋")
    )
    unit_type = forms.ChoiceField(
        label=_("房屋类型"), required=False, choices=_blank(_("全部类型")) + UnitType.choices
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=_blank(_("全部状态")) + UnitStatus.choices
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        estate_field = cast(forms.ModelChoiceField, self.fields["estate"])
        estate_field.queryset = estates_visible_to(user).order_by("code")
        # Choosing an estate reloads the building choices (htmx).
        estate_field.widget.attrs.update(
            {
                "hx-get": reverse("web:building_options"),
                "hx-target": "#id_building",
                "hx-trigger": "change",
            }
        )
        estate_id = id_parse(self.data.get("estate")) if self.is_bound else None
        buildings = buildings_visible_to(user).order_by("code")
        cast(forms.ModelChoiceField, self.fields["building"]).queryset = (
            buildings.filter(estate_id=estate_id) if estate_id else buildings.none()
        )

    @property
    def query(self) -> str:
        return self.values().get("q", "").strip()

    def filter(self, units: QuerySet[Unit]) -> QuerySet[Unit]:
        """Narrow `units` by estate, building, type and status (the search `q` is applied by
        the `unit_search` selector)."""
        values = self.values()
        if "estate" in values:
            units = units.filter(estate=values["estate"])
        if "building" in values:
            units = units.filter(building=values["building"])
        if "unit_type" in values:
            units = units.filter(unit_type=values["unit_type"])
        if "status" in values:
            units = units.filter(status=values["status"])
        return units


class PartyFilterForm(FilterForm):
    q = forms.CharField(label=_("姓名或手机尾号"), required=False, max_length=64)

    @property
    def query(self) -> str:
        """The search text; the `party_search` selector applies it."""
        return str(self.values().get("q", "")).strip()


def audit_object_type_choices() -> list[tuple[str, Any]]:
    """Object types an audit row can be about: the models of propfee's apps by their names,
    and the import kinds."""
    choices: list[tuple[str, Any]] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("propfee."):
            continue
        for model in config.get_models():
            choices.append((model._meta.label_lower, model._meta.verbose_name))
    for kind in IMPORT_KINDS.values():
        choices.append((f"import.{kind.kind}", object_type_label(f"import.{kind.kind}")))
    return choices


class AuditFilterForm(FilterForm):
    action = forms.ChoiceField(
        label=_("操作"), required=False, choices=_blank(_("全部操作")) + AuditAction.choices
    )
    object_type = forms.ChoiceField(label=_("对象类型"), required=False)
    actor = forms.CharField(label=_("操作人"), required=False, max_length=64)
    date_from = forms.DateField(
        label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["object_type"]).choices = (
            _blank(_("全部类型")) + audit_object_type_choices()
        )

    def filter(self, entries: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        values = self.values()
        if "action" in values:
            entries = entries.filter(action=values["action"])
        if "object_type" in values:
            entries = entries.filter(object_type=values["object_type"])
        if "actor" in values:
            name = values["actor"].strip()
            entries = entries.filter(
                Q(actor__username__iexact=name) | Q(actor__display_name__contains=name)
            )
        # Days are local (Asia/Shanghai) days: [from 00:00, to + 1 day 00:00).
        if "date_from" in values:
            entries = entries.filter(at__gte=_day_start(values["date_from"]))
        if "date_to" in values:
            entries = entries.filter(at__lt=_day_start(values["date_to"] + dt.timedelta(days=1)))
        return entries


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class ImportUploadForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("导入类型"))
    file = forms.FileField(
        label=_("文件"),
        help_text=_("XLSX 或 CSV 文件，第一行为表头"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args: Any, kinds: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kind"]).choices = kinds

    def clean_file(self) -> Any:
        file = self.cleaned_data["file"]
        upload_check(file, kind=UploadKind.IMPORT)
        return file
