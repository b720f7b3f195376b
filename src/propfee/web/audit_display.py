"""How an audit row reads to a person: its changes field by field with the fields' own names
and choice labels, personal data masked (lists and exports never show full phones or ID
numbers), an ownership transfer's owners by name, related objects (attachments, a plan's
installments) by what they are. Any row must render: an audit row is never a reason for the
log to fail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from propfee.core.models import AuditEntry
from propfee.core.money import format_yuan
from propfee.core.personal_data import email_mask, id_number_mask, phone_mask
from propfee.estates.constants import PartyRole

_MASKED_KEYS = {
    "phones": phone_mask,
    "phone": phone_mask,
    "number": phone_mask,
    "id_number": id_number_mask,
    "email": email_mask,
}
_EXTRA_LABELS = {
    "phones": gettext_lazy("手机"),
    "owners": gettext_lazy("产权人"),
    "on": gettext_lazy("变更日期"),
}


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def _field(object_type: str, key: str) -> Any:
    """The model field `key` names, or None: unknown types and keys, and the reverse side of a
    relation (a contact record's `attachments`), which has no label or choices of its own."""
    try:
        field = apps.get_model(object_type)._meta.get_field(key)
    except (LookupError, ValueError, FieldDoesNotExist):
        return None
    return None if field.auto_created and not field.concrete else field


def _related_label(object_type: str, key: str) -> str | None:
    """`attachments` of a contact record → 催收附件: the related model's name."""
    try:
        relation = apps.get_model(object_type)._meta.get_field(key)
    except (LookupError, ValueError, FieldDoesNotExist):
        return None
    related = getattr(relation, "related_model", None)
    return str(related._meta.verbose_name) if related is not None else None


def _label(object_type: str, key: str) -> str:
    if key in _EXTRA_LABELS:
        return str(_EXTRA_LABELS[key])
    field = _field(object_type, key)
    if field is not None:
        return str(field.verbose_name)
    return _related_label(object_type, key) or key


def _plain(value: Any) -> str:
    """A recorded value that is not a field's own (a list of attachments, a plan's schedule)
    as short text: a stored file by its name, a pair or record by its parts."""
    if isinstance(value, dict):
        name = value.get("name")
        if isinstance(name, str) and name:
            return name.rsplit("/", 1)[-1]
        return "，".join(f"{k}：{_plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " ".join(_plain(v) for v in value)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return "—" if value is None else str(value)


def _owner_shown(owner: Any) -> str:
    """One owner of a transfer row: `王建国（业主，缴费人）`; older rows name only the id."""
    if not isinstance(owner, dict):
        return str(owner)
    name = owner.get("name") or f"#{owner.get('party')}"
    role = owner.get("role")
    details = [str(PartyRole(role).label) if role in PartyRole.values else str(role or "")]
    if owner.get("is_payer"):
        details.append(_("缴费人"))
    return f"{name}（{'，'.join(d for d in details if d)}）"


def _installment_shown(item: Any) -> str:
    """One installment of a plan row, recorded as [due day, fen]: `2026-05-10 100.00`."""
    if isinstance(item, list | tuple) and len(item) == 2 and type(item[1]) is int:
        return f"{item[0]} {format_yuan(item[1])}"
    return _plain(item)


def _shown(object_type: str, key: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if key == "owners" and isinstance(value, list):
        return "、".join(_owner_shown(owner) for owner in value)
    if key == "installments" and isinstance(value, list):
        return "、".join(_installment_shown(item) for item in value)
    mask = _MASKED_KEYS.get(key)
    values = value if isinstance(value, list) else [value]
    if mask is not None:
        return "、".join(mask(str(v)) for v in values) or "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if key.endswith("_fen") and all(type(v) is int for v in values):
        return "、".join(format_yuan(v) for v in values)
    field = _field(object_type, key)
    choices = dict(field.flatchoices) if field is not None and field.choices else {}
    return (
        "、".join(str(choices.get(v, v)) if isinstance(v, str | int) else _plain(v) for v in values)
        or "—"
    )


def _shown_keys(object_type: str, keys: list[str]) -> list[str]:
    """Foreign keys are left out: their ids mean nothing to a reader, and the row's object
    (`王建国 · DEMO-3-1502 · 业主`) already names them."""
    return [key for key in keys if not getattr(_field(object_type, key), "many_to_one", False)]


def audit_changes(entry: AuditEntry) -> list[Change]:
    """The fields an audit row records, as (label, before, after), personal data masked."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    keys = _shown_keys(entry.object_type, list(dict.fromkeys([*before, *after])))
    return [
        Change(
            _label(entry.object_type, key),
            # A key only one side records (a transfer's date) is shown as a value, not a change.
            _shown(entry.object_type, key, before[key]) if key in before else "",
            _shown(entry.object_type, key, after[key]) if key in after else "",
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
