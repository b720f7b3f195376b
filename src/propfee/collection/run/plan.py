"""The plan of a collection run: the cases as the run sees them and what it is to write."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from propfee.collection.constants import Segment
from propfee.collection.plans import PlanStanding
from propfee.collection.run.report import RunReport

APPROVAL_STEP = 90  # the step number of a stage's approval request
APPROVAL_DUE_WORKING_DAYS = 2  # an approval task is due this many working days after the request
# After a manager refuses a stage, the run asks again only this many days later (if the stage's
# conditions still hold), not on every run.
APPROVAL_ASK_AGAIN_DAYS = 30
CADENCE_STEP = 50  # segment-cadence tasks are steps 50, 51, …


@dataclass
class CaseState:
    """An open case as the plan sees it (an existing row, or one to open: `id` None)."""

    id: int | None
    unit_id: int
    estate_id: int
    stage: str = ""
    stage_entered_on: dt.date | None = None
    stage_runs: int = 0
    stage_last_on: dt.date | None = None
    pending_stage: str = ""
    pending_since: dt.date | None = None
    approved_stage: str = ""
    cadence_last: dict[str, str] = field(default_factory=dict)
    segment: str = Segment.GENERAL
    priority: int = 0
    risk_score: int = 0
    collector_id: int | None = None
    policy_version_id: int | None = None
    principal_overdue_fen: int = 0
    months_owed: int = 0
    oldest_due_date: dt.date | None = None
    opened_on: dt.date | None = None
    last_run_on: dt.date | None = None


# The Case fields the run keeps current, written back in bulk when any changed.
STATE_FIELDS = (
    "stage",
    "stage_entered_on",
    "stage_runs",
    "stage_last_on",
    "pending_stage",
    "pending_since",
    "approved_stage",
    "cadence_last",
    "segment",
    "priority",
    "risk_score",
    "collector_id",
    "policy_version_id",
    "principal_overdue_fen",
    "months_owed",
    "oldest_due_date",
)


@dataclass
class PlannedAction:
    """One action the run takes (or skips) on a case; its key makes a re-run add nothing."""

    case: CaseState
    stage: str
    step: int
    kind: str
    status: str
    skip_reason: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    task: dict[str, Any] | None = None  # kind, title, due_on, assigned_to_id

    def key(self, as_of: dt.date) -> str:
        case = self.case.id or f"new-{self.case.unit_id}"
        return f"{case}:{self.stage}:{self.step}:{as_of:%Y-%m-%d}"


@dataclass
class Plan:
    """Everything a run decided, written by `plan_apply` in one go (or, dry, only reported)."""

    as_of: dt.date
    report: RunReport
    new_cases: list[CaseState] = field(default_factory=list)
    changed_cases: list[CaseState] = field(default_factory=list)
    closes: list[tuple[int, str]] = field(default_factory=list)
    actions: list[PlannedAction] = field(default_factory=list)
    events: list[tuple[CaseState, str, str, dict[str, Any]]] = field(default_factory=list)
    loose_tasks: list[tuple[CaseState, dict[str, Any]]] = field(default_factory=list)
    promise_updates: list[tuple[int, str, int]] = field(default_factory=list)
    plan_standings: list[PlanStanding] = field(default_factory=list)  # for the plans review
    plan_events: int = 0  # the timeline lines the plans review writes
    versions: dict[int, int | None] = field(default_factory=dict)
