"""The case timeline lines (案件动态) written by the plan, hold, service-issue and legal
services: one line on the unit's open case, if it has one."""

from __future__ import annotations

from typing import Any

from django.db import models

from propfee.collection.constants import CaseStatus
from propfee.collection.models import Case, CaseEvent
from propfee.core.models import User


def open_case_of(unit_id: int) -> Case | None:
    """The unit's open case (at most one: `case_one_open_per_unit`)."""
    return Case.objects.filter(unit_id=unit_id, status=CaseStatus.OPEN).first()


def case_event_record(
    *,
    unit_id: int,
    kind: str,
    summary: str,
    obj: models.Model | None = None,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
    case: Case | None = None,
) -> CaseEvent | None:
    """Add a line to the timeline of `case` (default: the unit's open case); nothing when the
    unit has no open case — the row itself stays on the unit."""
    case = case or open_case_of(unit_id)
    if case is None:
        return None
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor if actor is not None and actor.pk else None,
        summary=summary[:500],
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=obj.pk if obj is not None else None,
        data=data or {},
    )
