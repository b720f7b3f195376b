"""Rows that change what exists: which cells differ (更新 or 不变), and writing those updates
in batches with a before/after audit row each; shared by every kind of the estates app."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import models
from django.utils import timezone

from propfee.core.importing import RowAction, rows_update
from propfee.core.models import AuditAction
from propfee.core.services import AuditBatch, model_snapshot


def changes_find(obj: Any, new: dict[str, Any]) -> dict[str, Any]:
    """The values in `new` that differ from `obj`'s (None means the cell was left blank)."""
    return {k: v for k, v in new.items() if v is not None and getattr(obj, k) != v}


def updates_apply(
    audit: AuditBatch,
    model: type[models.Model],
    changed: Sequence[tuple[Any, dict[str, Any]]],
    estate_of: Callable[[Any], int | None],
) -> None:
    """Set the changed values, write them with one batched UPDATE per set of changed fields,
    and audit before/after of the changed fields only."""
    now = timezone.now()
    by_fields: dict[tuple[str, ...], list[Any]] = {}
    for obj, diff in changed:
        names = tuple(sorted(diff))
        before = model_snapshot(obj, names)
        for name, value in diff.items():
            setattr(obj, name, value)
        obj.updated_at = now
        after = model_snapshot(obj, names)
        audit.add_object(
            AuditAction.UPDATE, obj, estate_id=estate_of(obj), before=before, after=after
        )
        by_fields.setdefault(names, []).append(obj)
    for names, objs in by_fields.items():
        rows = [(*(getattr(o, n) for n in names), now, o.pk) for o in objs]
        rows_update(model, [*names, "updated_at"], rows)


def row_action(created: bool, changed: bool) -> str:
    """The preview's 操作 of a valid row: 新增, 更新 or 不变."""
    if created:
        return RowAction.CREATE
    return RowAction.UPDATE if changed else RowAction.UNCHANGED
