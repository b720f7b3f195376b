"""Core writes: the audit log, one row (`audit_record`) or many (`AuditBatch`) at a time, always
inside the transaction of the change it records, so the two commit or roll back together."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

from propfee.core.bulk import driver_value_adapter, many_values, rows_insert_adapted
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


def audit_entry_build(**kwargs: Any) -> AuditEntry:
    """An unsaved audit row: what `audit_record` saves, and what `AuditBatch.add` writes with
    the same arguments (a test keeps the two equal)."""
    return _entry(**kwargs)


class AuditBatch:
    """Many audit rows written with one bulk insert (COPY on PostgreSQL), inside the caller's
    transaction: imports (one row per created or updated object) and the demo loader.

    Every row shares the batch's time, actor and (unless given) note, and holds exactly what
    `audit_entry_build` would put in it. Rows are kept as tuples with their JSON already
    encoded, because building a model object per created unit would cost more than inserting
    the unit."""

    FIELDS = (
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "estate",
        "before",
        "after",
        "note",
    )

    def __init__(self, *, actor: User | None, note: str = "") -> None:
        self.actor_id = actor.pk if actor is not None and actor.is_authenticated else None
        self.note = note[:500]
        self.at = timezone.now()
        at_field = AuditEntry._meta.get_field("at")
        after_field = AuditEntry._meta.get_field("after")
        assert isinstance(at_field, models.DateTimeField)
        assert isinstance(after_field, models.JSONField)
        adapt_at = driver_value_adapter(at_field)
        self._at = adapt_at(self.at) if adapt_at else self.at
        self._encode = (after_field.encoder or json.JSONEncoder)().encode
        self.rows: list[tuple[Any, ...]] = []

    def add_row(
        self,
        action: str,
        object_type: str,
        object_id: Any,
        object_repr: str,
        estate_id: int | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        note: str | None = None,
    ) -> None:
        """One audit row; positional, for the one-row-per-created-object loops of big imports."""
        self.rows.append(
            (
                self._at,
                self.actor_id,
                action,
                object_type,
                str(object_id),
                object_repr[:200],
                estate_id,
                None if before is None else self._encode(before),
                None if after is None else self._encode(after),
                self.note if note is None else note[:500],
            )
        )

    def add(
        self,
        *,
        action: str,
        obj: models.Model | None = None,
        object_type: str = "",
        object_id: str = "",
        object_repr: str = "",
        estate_id: int | None = None,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        note: str | None = None,
    ) -> None:
        """One audit row, with the arguments of `audit_record` (`note` None: the batch's note)."""
        if obj is not None:
            object_type = object_type or obj._meta.label_lower
            object_id = object_id or str(obj.pk)
            object_repr = object_repr or str(obj)[:200]
        self.add_row(
            action,
            object_type,
            object_id,
            object_repr,
            estate_id,
            None if before is None else dict(before),
            None if after is None else dict(after),
            note,
        )

    def add_object(
        self,
        action: str,
        obj: models.Model,
        *,
        estate_id: int | None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """An audit row about `obj`, named as `audit_entry_build(obj=…)` names it."""
        label = obj._meta.label_lower
        self.add_row(action, label, obj.pk, str(obj), estate_id, before, after)

    def write(self) -> int:
        """Insert the rows added so far; returns how many were written."""
        count = len(self.rows)
        rows_insert_adapted(AuditEntry, self.FIELDS, self.rows)
        self.rows = []
        return count


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


#: What a removed personal value reads as in the audit log after `audit_personal_data_redact`.
REDACTED = "［已删除］"
#: Audit rows rewritten per bulk update by `audit_personal_data_redact`.
_REDACT_BATCH = 1000


def _redacted(value: Any, keys: tuple[str, ...], names: frozenset[str]) -> tuple[Any, bool]:
    """`value` with the values under `keys` and the strings equal to one of `names` replaced by
    REDACTED, at any depth; and whether anything changed."""
    if isinstance(value, dict):
        touched = False
        result = {}
        for key, item in value.items():
            if key in keys and item not in (None, "", [], REDACTED):
                result[key], changed = REDACTED, True
            else:
                result[key], changed = _redacted(item, keys, names)
            touched |= changed
        return result, touched
    if isinstance(value, list):
        items = [_redacted(item, keys, names) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    if isinstance(value, str) and value in names:
        return REDACTED, True
    return value, False


def audit_personal_data_redact(
    *,
    object_type: str,
    object_ids: Iterable[int | str],
    keys: Iterable[str],
    names: Iterable[str] = (),
) -> int:
    """Remove personal data from earlier audit rows about the given objects (个保法 art. 47):
    in `before`/`after`, the values under `keys` and any value equal to one of `names`
    (people's names, e.g. in an ownership transfer's list of owners) become REDACTED, at any
    depth; each of `names` is replaced in `object_repr` too. Who did what and when stays.
    Returns the rows changed.

    Reads and rewrites the rows in batches (one query each way per batch), never per object."""
    ids = sorted({str(pk) for pk in object_ids})
    keys = tuple(keys)
    names = frozenset(n for n in names if n)
    changed = 0
    for start in range(0, len(ids), _REDACT_BATCH):
        rows = list(
            AuditEntry.objects.filter(
                object_type=object_type,
                object_id__in=many_values(ids[start : start + _REDACT_BATCH]),
            ).only("pk", "before", "after", "object_repr")
        )
        dirty = []
        for row in rows:
            row.before, before_changed = _redacted(row.before, keys, names)
            row.after, after_changed = _redacted(row.after, keys, names)
            touched = before_changed or after_changed
            for name in names:
                if name in row.object_repr:
                    row.object_repr = row.object_repr.replace(name, REDACTED)
                    touched = True
            if touched:
                dirty.append(row)
        AuditEntry.objects.bulk_update(dirty, ["before", "after", "object_repr"], batch_size=500)
        changed += len(dirty)
    return changed
