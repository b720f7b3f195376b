"""Core writes: the audit log. Every service that changes data calls `audit_record` inside its
own transaction, so the change and its audit row commit or roll back together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models

from propfee.core.models import AuditAction, AuditEntry, User

Snapshot = dict[str, Any]


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def model_snapshot(obj: models.Model, fields: Iterable[str]) -> Snapshot:
    """The JSON-ready values of `fields` on `obj` (foreign keys as ids)."""
    snapshot: Snapshot = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = getattr(field, "attname", name)
        snapshot[name] = _json_value(getattr(obj, attname))
    return snapshot


def snapshot_diff(before: Snapshot, after: Snapshot) -> tuple[Snapshot, Snapshot]:
    """Only the keys whose value changed, as (before, after)."""
    changed = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def _entry(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    estate_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str = "",
) -> AuditEntry:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    return AuditEntry(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        estate_id=estate_id,
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        note=note[:500],
    )


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    estate_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str = "",
) -> AuditEntry:
    """Write one audit row. Call it inside the transaction of the change it records."""
    entry = _entry(
        actor=actor,
        action=action,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        estate_id=estate_id,
        before=before,
        after=after,
        note=note,
    )
    entry.save()
    return entry


def audit_record_many(entries: Iterable[AuditEntry], *, batch_size: int = 2000) -> int:
    """Write prepared audit rows in bulk (imports); returns how many were written."""
    rows = list(entries)
    AuditEntry.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)


def audit_entry_build(**kwargs: Any) -> AuditEntry:
    """An unsaved audit row, for `audit_record_many`."""
    return _entry(**kwargs)


def personal_data_reveal_record(
    *, actor: User, obj: models.Model, fields: Iterable[str], estate_id: int | None = None
) -> AuditEntry:
    """Log that `actor` viewed the unmasked `fields` of `obj` (phones, ID number)."""
    return audit_record(
        actor=actor,
        action=AuditAction.REVEAL,
        obj=obj,
        estate_id=estate_id,
        note="查看：" + "、".join(fields),
    )
