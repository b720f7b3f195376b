"""How an audit row reads to a person: its changes field by field with the fields' own names,
personal data masked (lists and exports never show full phones or ID numbers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from propfee.core.models import AuditEntry
from propfee.core.personal_data import email_mask, id_number_mask, phone_mask

_MASKED_KEYS = {
    "phones": phone_mask,
    "phone": phone_mask,
    "number": phone_mask,
    "id_number": id_number_mask,
    "email": email_mask,
}
_EXTRA_LABELS = {"phones": gettext_lazy("手机")}


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def _label(object_type: str, key: str) -> str:
    if key in _EXTRA_LABELS:
        return str(_EXTRA_LABELS[key])
    try:
        model = apps.get_model(object_type)
        return str(model._meta.get_field(key).verbose_name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return key


def _shown(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    mask = _MASKED_KEYS.get(key)
    values = value if isinstance(value, list) else [value]
    if mask is not None:
        return "、".join(mask(str(v)) for v in values) or "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return "、".join(str(v) for v in values) or "—"


def audit_changes(entry: AuditEntry) -> list[Change]:
    """The fields an audit row records, as (label, before, after), personal data masked."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    keys = list(dict.fromkeys([*before, *after]))
    return [
        Change(
            _label(entry.object_type, key),
            _shown(key, before.get(key)) if entry.before is not None else "",
            _shown(key, after.get(key)) if entry.after is not None else "",
        )
        for key in keys
    ]


def audit_changes_text(entry: AuditEntry) -> str:
    """The changes on one line, for exports: `建筑面积(㎡)：89.50 → 90.00；…`."""
    parts = []
    for change in audit_changes(entry):
        if change.before and change.after:
            parts.append(f"{change.label}：{change.before} → {change.after}")
        else:
            parts.append(f"{change.label}：{change.after or change.before}")
    return "；".join(parts)


def object_type_label(object_type: str) -> str:
    """`estates.unit` → 房屋, `import.units` → 数据导入·房屋; unknown types as they are."""
    if object_type.startswith("import."):
        from propfee.core.importing import IMPORT_KINDS

        kind = IMPORT_KINDS.get(object_type.removeprefix("import."))
        return f"{_('数据导入')}·{kind.label if kind else object_type}"
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type
