"""The daily collection run (催收批次, `propfee dunning run`).

For one company and one date the run, in a fixed number of queries whatever the number of
units:
1. reads every unit's overdue figures (one aggregate), the open cases, the policies, holds,
   promises, installment plans, last payments and the collectors' scopes and loads;
2. plans: opens a case for each unit owing at least the policy's tolerance without an open
   case, closes the cases whose unit owes nothing (`cleared`) or less than the tolerance
   (`below_tolerance`), refreshes the snapshots, segment, risk score and priority, assigns a
   collector, decides promises (kept/broken) and installment plans (defaulted), and decides
   each case's next due action from its policy (enter the next stage — never skipping one —,
   repeat the stage, a segment-cadence task) or why it is skipped (a hold, a contact cap);
3. writes it all in bulk, once: Action rows keyed "case:stage:step:YYYY-MM-DD" (a second run on
   the same day finds them and adds nothing), Tasks due in working days, CaseEvents, one audit
   row.
Messages and documents are handed to messaging and documents afterwards by `dunning_dispatch`
(one call each: rendering a PDF or passing the contact guard is per item by nature), so the
run holds its lock only for the set-based part.

Risk score (0–100, rule-based until a model replaces it):
  age     min(40, days the oldest charge is overdue × 40 ÷ 365)
  amount  min(30, overdue principal ÷ ¥10,000 × 30)
  months  min(15, months owed × 15 ÷ 12)
  history min(15, promises broken in the last 365 days × 8)
Priority = risk score, + 100 for a key (重点) case.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from propfee.collection.constants import (
    STAGE_ORDER,
    ActionKind,
    ActionStatus,
    CaseCloseReason,
    CaseStatus,
    HoldKind,
    PlanStatus,
    PromiseStatus,
    RunStatus,
    Segment,
    StageKey,
    TaskKind,
    TaskStatus,
)
from propfee.collection.definition import (
    Condition,
    Definition,
    DocumentAction,
    MessageAction,
    Stage,
    TaskAction,
    definition_parse,
)
from propfee.collection.models import (
    Action,
    Case,
    CaseEvent,
    DunningRun,
    Hold,
    Installment,
    InstallmentPlan,
    Promise,
    Task,
)
from propfee.collection.policies import estate_policy_versions
from propfee.collection.selectors import UnitOverdue, overdue_by_unit
from propfee.core.bulk import many_values, rows_insert, rows_insert_new, rows_update
from propfee.core.models import AuditAction, StaffScope, User
from propfee.core.money import format_yuan
from propfee.core.roles import Capability, Role, require
from propfee.core.services import audit_record
from propfee.core.workdays import working_days_add
from propfee.estates.models import Company, Unit
from propfee.payments.constants import PaymentStatus
from propfee.payments.models import Payment

APPROVAL_STEP = 90  # the step number of a stage's approval request
CADENCE_STEP = 50  # segment-cadence tasks are steps 50, 51, …
PREVIEW_LIMIT = 200  # actions listed in a report (the dry-run preview)


class DunningError(ValueError):
    """A run the rules refuse; the message is for the user."""


class DunningRunLocked(DunningError):
    """Another run of the same company is in progress."""


# --- the report ------------------------------------------------------------------------------


@dataclass
class RunReport:
    """What a run did (or, dry, would do); stored in DunningRun.report."""

    as_of: str
    dry_run: bool
    cases_opened: int = 0
    cases_closed: dict[str, int] = field(default_factory=dict)
    cases_open: int = 0
    actions_by_stage: dict[str, int] = field(default_factory=dict)
    actions_by_kind: dict[str, int] = field(default_factory=dict)
    skipped_by_hold: dict[str, int] = field(default_factory=dict)
    skipped_by_cap: int = 0
    awaiting_approval: int = 0
    approvals_requested: int = 0
    tasks_created: int = 0
    events_created: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    plans_defaulted: int = 0
    collectors_assigned: int = 0
    estates_without_policy: int = 0
    preview: list[dict[str, Any]] = field(default_factory=list)
    run_id: int | None = None
    unchanged_since: int | None = None  # the run of the same day nothing has changed since
    watermark: list[int] = field(default_factory=list)

    @property
    def actions_total(self) -> int:
        return sum(self.actions_by_stage.values())

    @property
    def cases_closed_total(self) -> int:
        return sum(self.cases_closed.values())

    @property
    def skipped_by_hold_total(self) -> int:
        return sum(self.skipped_by_hold.values())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def rows(self) -> list[tuple[str, str]]:
        """The report as (label, figure) lines, for the page and the command."""

        def label(choices: Any, value: str) -> str:
            try:
                return str(choices(value).label)
            except ValueError:
                return value

        rows = [(_("新立案"), str(self.cases_opened))]
        for reason, count in sorted(self.cases_closed.items()):
            rows.append(
                (_("结案：%(reason)s") % {"reason": label(CaseCloseReason, reason)}, str(count))
            )
        rows.append((_("在催案件"), str(self.cases_open)))
        for stage in STAGE_ORDER:
            if self.actions_by_stage.get(stage):
                rows.append(
                    (
                        _("动作：%(stage)s") % {"stage": label(StageKey, stage)},
                        str(self.actions_by_stage[stage]),
                    )
                )
        for kind, count in sorted(self.actions_by_kind.items()):
            rows.append((_("其中%(kind)s") % {"kind": label(ActionKind, kind)}, str(count)))
        for kind, count in sorted(self.skipped_by_hold.items()):
            rows.append((_("暂停跳过：%(kind)s") % {"kind": label(HoldKind, kind)}, str(count)))
        rows += [
            (_("超过联系上限跳过"), str(self.skipped_by_cap)),
            (_("提交审批"), str(self.approvals_requested)),
            (_("等待审批"), str(self.awaiting_approval)),
            (_("生成任务"), str(self.tasks_created)),
            (_("承诺兑现 / 违约"), f"{self.promises_kept} / {self.promises_broken}"),
            (_("分期违约"), str(self.plans_defaulted)),
            (_("分配催收员"), str(self.collectors_assigned)),
        ]
        if self.estates_without_policy:
            rows.append((_("未设置催收策略的项目"), str(self.estates_without_policy)))
        return rows


# --- the plan --------------------------------------------------------------------------------


@dataclass
class _CaseState:
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
_STATE_FIELDS = (
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
class _PlannedAction:
    case: _CaseState
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
class _Plan:
    as_of: dt.date
    report: RunReport
    new_cases: list[_CaseState] = field(default_factory=list)
    changed_cases: list[_CaseState] = field(default_factory=list)
    closes: list[tuple[int, str]] = field(default_factory=list)
    actions: list[_PlannedAction] = field(default_factory=list)
    events: list[tuple[_CaseState, str, str, dict[str, Any]]] = field(default_factory=list)
    loose_tasks: list[tuple[_CaseState, dict[str, Any]]] = field(default_factory=list)
    promise_updates: list[tuple[int, str, int]] = field(default_factory=list)
    plan_defaults: list[int] = field(default_factory=list)
    versions: dict[int, int | None] = field(default_factory=dict)


def _risk(fig: UnitOverdue, as_of: dt.date, broken: int) -> int:
    days = (as_of - fig.oldest_due_date).days
    age = min(40, days * 40 // 365)
    amount = min(30, fig.principal_overdue_fen * 30 // 1_000_000)
    months = min(15, fig.months_owed * 15 // 12)
    history = min(15, broken * 8)
    return max(0, age + amount + months + history)


def _meets_simple(cond: Condition, state: _CaseState, as_of: dt.date) -> bool:
    days = (as_of - state.oldest_due_date).days if state.oldest_due_date else 0
    if cond.min_days_overdue is not None and days < cond.min_days_overdue:
        return False
    if cond.min_amount_fen is not None and state.principal_overdue_fen < cond.min_amount_fen:
        return False
    if cond.min_months_owed is not None and state.months_owed < cond.min_months_owed:
        return False
    return cond.segment is None or state.segment == cond.segment


def _meets(cond: Condition, state: _CaseState, as_of: dt.date, reset_on: dt.date | None) -> bool:
    if not _meets_simple(cond, state, as_of):
        return False
    if cond.any_of and not any(_meets_simple(c, state, as_of) for c in cond.any_of):
        return False
    if cond.after_previous_days is not None and state.stage:
        base = max(d for d in (state.stage_entered_on, reset_on) if d is not None)
        if (as_of - base).days < cond.after_previous_days:
            return False
    return True


def _next_stage(definition: Definition, current: str) -> Stage | None:
    """The policy's first case stage after `current` in the ladder's order (never two)."""
    position = STAGE_ORDER.index(current) if current else -1
    for stage in definition.case_stages:
        if STAGE_ORDER.index(stage.key) > position:
            return stage
    return None


def _stage_reached(state: _CaseState, key: str) -> bool:
    return bool(state.stage) and STAGE_ORDER.index(state.stage) >= STAGE_ORDER.index(key)


class _Planner:
    """Builds the plan from what it reads; writes nothing."""

    def __init__(
        self,
        *,
        company: Company,
        as_of: dt.date,
        dry_run: bool,
        override: Definition | None,
    ) -> None:
        self.company = company
        self.as_of = as_of
        self.plan = _Plan(as_of=as_of, report=RunReport(as_of=f"{as_of:%Y-%m-%d}", dry_run=dry_run))
        self.override = override
        self._due_cache: dict[int, dt.date] = {}

    # -- reads --

    def _definitions(self) -> tuple[dict[int, Definition], dict[int, int | None]]:
        versions = estate_policy_versions(self.company)
        parsed: dict[int, Definition] = {}
        by_estate: dict[int, Definition] = {}
        version_ids: dict[int, int | None] = {}
        for estate_id, version in versions.items():
            if self.override is not None:
                by_estate[estate_id] = self.override
                version_ids[estate_id] = None
                continue
            if version.pk not in parsed:
                parsed[version.pk] = definition_parse(version.definition)
            by_estate[estate_id] = parsed[version.pk]
            version_ids[estate_id] = version.pk
        if self.override is not None:
            for estate_id in self.company.estates.values_list("pk", flat=True):
                by_estate.setdefault(estate_id, self.override)
                version_ids.setdefault(estate_id, None)
        return by_estate, version_ids

    def due_on(self, days: int) -> dt.date:
        if days not in self._due_cache:
            self._due_cache[days] = working_days_add(self.as_of, days)
        return self._due_cache[days]

    def build(self) -> _Plan:
        as_of, plan, report = self.as_of, self.plan, self.plan.report
        definitions, version_ids = self._definitions()
        plan.versions = version_ids
        figures = overdue_by_unit(company=self.company, as_of=as_of)
        report.estates_without_policy = len(
            {f.estate_id for f in figures.values()} - set(definitions)
        )
        originals: dict[int, tuple[Any, ...]] = {}
        states: dict[int, _CaseState] = {}
        for row in Case.objects.filter(company=self.company, status=CaseStatus.OPEN).values(
            "id", "unit_id", "estate_id", "opened_on", "last_run_on", *_STATE_FIELDS
        ):
            state = _CaseState(**row)
            states[state.unit_id] = state
            originals[state.unit_id] = tuple(row[f] for f in _STATE_FIELDS)

        # Close what is cleared or under the tolerance.
        for unit_id, state in list(states.items()):
            fig = figures.get(unit_id)
            definition = definitions.get(state.estate_id)
            if fig is None:
                plan.closes.append((state.id or 0, str(CaseCloseReason.CLEARED)))
            elif definition is not None and fig.principal_overdue_fen < definition.tolerance_fen:
                plan.closes.append((state.id or 0, str(CaseCloseReason.BELOW_TOLERANCE)))
            else:
                continue
            del states[unit_id]
            originals.pop(unit_id, None)
        for _case_id, reason in plan.closes:
            report.cases_closed[reason] = report.cases_closed.get(reason, 0) + 1

        # Open what owes at least the tolerance.
        for unit_id, fig in figures.items():
            definition = definitions.get(fig.estate_id)
            if unit_id in states or definition is None:
                continue
            if fig.principal_overdue_fen >= definition.tolerance_fen:
                state = _CaseState(
                    id=None, unit_id=unit_id, estate_id=fig.estate_id, opened_on=as_of
                )
                states[unit_id] = state
                plan.new_cases.append(state)
        report.cases_opened = len(plan.new_cases)
        report.cases_open = len(states)
        # A case of an estate left without any policy keeps its state until one is set.
        states = {u: s for u, s in states.items() if s.estate_id in definitions}
        unit_ids = list(states)

        broken = self._broken_promises(unit_ids)
        for unit_id, state in states.items():
            fig = figures[unit_id]
            definition = definitions[state.estate_id]
            state.principal_overdue_fen = fig.principal_overdue_fen
            state.months_owed = fig.months_owed
            state.oldest_due_date = fig.oldest_due_date
            state.risk_score = _risk(fig, as_of, broken.get(unit_id, 0))
            state.segment = definition.segments.segment_for(
                principal_fen=fig.principal_overdue_fen,
                months_owed=fig.months_owed,
                risk=state.risk_score,
            )
            state.priority = state.risk_score + (100 if state.segment == Segment.KEY else 0)
            state.policy_version_id = version_ids.get(state.estate_id)
        self._assign_collectors(states, figures)

        holds = self._holds(states, definitions)
        last_paid = self._last_payments(unit_ids)
        last_promised = self._last_promises(unit_ids)
        sent_today, sent_week = self._message_counts(states)
        managers = self._managers()

        for unit_id, state in states.items():
            definition = definitions[state.estate_id]
            reset = max(
                (d for d in (last_paid.get(unit_id), last_promised.get(unit_id)) if d),
                default=None,
            )
            self._decide(
                state,
                definition,
                holds.get(unit_id),
                reset,
                sent_today.get(state.id or 0, 0),
                sent_week.get(state.id or 0, 0),
                managers.get(state.estate_id),
            )

        for unit_id, state in states.items():
            if state.id is None:
                continue
            if tuple(getattr(state, f) for f in _STATE_FIELDS) != originals[unit_id]:
                plan.changed_cases.append(state)
        report.events_created = len(plan.events) + len(plan.closes) + len(plan.new_cases)
        report.tasks_created = len(plan.loose_tasks) + sum(
            1 for a in plan.actions if a.task is not None and a.status == ActionStatus.DONE
        )
        return plan

    def _broken_promises(self, unit_ids: list[int]) -> dict[int, int]:
        since = self.as_of - dt.timedelta(days=365)
        rows = (
            Promise.objects.filter(
                unit__estate__company=self.company,
                status=PromiseStatus.BROKEN,
                decided_on__gte=since,
            )
            .values("unit_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        wanted = set(unit_ids)
        return {r["unit_id"]: r["n"] for r in rows if r["unit_id"] in wanted}

    def _assign_collectors(
        self,
        states: dict[int, _CaseState],
        figures: Mapping[int, UnitOverdue],
    ) -> None:
        """Cases without a collector get the collector of their building, else of their
        estate; among several, the one with the fewest open cases (counting this run's)."""
        by_building: dict[int, list[int]] = defaultdict(list)
        by_estate: dict[int, list[int]] = defaultdict(list)
        for user_id, estate_id, building_id in StaffScope.objects.filter(
            estate__company=self.company, user__role=Role.COLLECTOR, user__is_active=True
        ).values_list("user_id", "estate_id", "building_id"):
            if building_id is None:
                by_estate[estate_id].append(user_id)
            else:
                by_building[building_id].append(user_id)
        if not by_building and not by_estate:
            return
        load: Counter[int] = Counter(
            state.collector_id for state in states.values() if state.collector_id is not None
        )
        for state in sorted(states.values(), key=lambda s: (-s.priority, s.unit_id)):
            if state.collector_id is not None:
                continue
            fig = figures[state.unit_id]
            candidates = by_building.get(fig.building_id) or by_estate.get(fig.estate_id)
            if not candidates:
                continue
            chosen = min(candidates, key=lambda uid: (load[uid], uid))
            state.collector_id = chosen
            load[chosen] += 1
            self.plan.report.collectors_assigned += 1

    def _managers(self) -> dict[int, int]:
        """The manager who gets an estate's approval tasks: the first by id scoped to it."""
        managers: dict[int, int] = {}
        for user_id, estate_id in (
            StaffScope.objects.filter(
                estate__company=self.company, user__role=Role.MANAGER, user__is_active=True
            )
            .order_by("user_id")
            .values_list("user_id", "estate_id")
        ):
            managers.setdefault(estate_id, user_id)
        return managers

    def _last_payments(self, unit_ids: list[int]) -> dict[int, dt.date]:
        rows = (
            Payment.objects.filter(
                unit__estate__company=self.company,
                status=PaymentStatus.RECORDED,
                received_on__lte=self.as_of,
                received_on__gt=self.as_of - dt.timedelta(days=400),
            )
            .values("unit_id")
            .annotate(last=Max("received_on"))
            .order_by()
        )
        wanted = set(unit_ids)
        return {r["unit_id"]: r["last"] for r in rows if r["unit_id"] in wanted}

    def _last_promises(self, unit_ids: list[int]) -> dict[int, dt.date]:
        rows = (
            Promise.objects.filter(unit__estate__company=self.company)
            .exclude(status=PromiseStatus.CANCELLED)
            .values("unit_id")
            .annotate(last=Max("created_at"))
            .order_by()
        )
        wanted = set(unit_ids)
        result = {}
        for r in rows:
            if r["unit_id"] in wanted:
                day = timezone.localdate(r["last"])
                if day <= self.as_of:
                    result[r["unit_id"]] = day
        return result

    def _message_counts(
        self, states: Mapping[int, _CaseState]
    ) -> tuple[dict[int, int], dict[int, int]]:
        """Message actions the run took per case today and in the 7 days to today."""
        rows = (
            Action.objects.filter(
                case__company=self.company,
                kind=ActionKind.MESSAGE,
                status=ActionStatus.DONE,
                on_date__gt=self.as_of - dt.timedelta(days=7),
                on_date__lte=self.as_of,
            )
            .values("case_id")
            .annotate(
                week=Count("id"),
                today=Count("id", filter=Q(on_date=self.as_of)),
            )
            .order_by()
        )
        today = {r["case_id"]: r["today"] for r in rows}
        week = {r["case_id"]: r["week"] for r in rows}
        return today, week

    def _holds(
        self, states: Mapping[int, _CaseState], definitions: Mapping[int, Definition]
    ) -> dict[int, tuple[str, str]]:
        """unit → (hold kind, reason) for the units whose escalation is paused today; promise
        and installment decisions are planned on the way."""
        as_of, plan, report = self.as_of, self.plan, self.plan.report
        holds: dict[int, tuple[str, str]] = {}
        for row in (
            Hold.objects.filter(unit__estate__company=self.company, starts_on__lte=as_of)
            .filter(Q(released_on__isnull=True) | Q(released_on__gt=as_of))
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=as_of))
            .exclude(kind__in=[HoldKind.PROMISE, HoldKind.INSTALLMENT])
            .values("unit_id", "kind", "ends_on", "reason")
            .order_by("starts_on", "id")
        ):
            state = states.get(row["unit_id"])
            if state is None:
                continue
            definition = definitions[state.estate_id]
            if row["kind"] == HoldKind.DISPUTE and not definition.options.dispute_holds:
                continue
            until = f"（至 {row['ends_on']:%Y-%m-%d}）" if row["ends_on"] else ""
            label = HoldKind(row["kind"]).label
            reason = f"暂停催收：{label}{until}" + (f"，{row['reason']}" if row["reason"] else "")
            holds.setdefault(row["unit_id"], (row["kind"], reason[:200]))

        # Promises: pending until their date + grace; then kept or broken from the payments.
        pending = list(
            Promise.objects.filter(
                unit__estate__company=self.company, status=PromiseStatus.PENDING
            ).values("id", "unit_id", "amount_fen", "promised_on", "created_at")
        )
        to_decide = []
        for p in pending:
            state = states.get(p["unit_id"])
            grace = (
                definitions[state.estate_id].options.promise_grace_days if state is not None else 3
            )
            deadline = p["promised_on"] + dt.timedelta(days=grace)
            if as_of <= deadline:
                if state is not None:
                    holds[p["unit_id"]] = (
                        HoldKind.PROMISE,
                        f"暂停催收：承诺于 {p['promised_on']:%Y-%m-%d} 缴费 "
                        f"{format_yuan(p['amount_fen'])} 元（宽限至 {deadline:%Y-%m-%d}）",
                    )
            else:
                to_decide.append((p, deadline))
        if to_decide:
            paid_rows = list(
                Payment.objects.filter(
                    unit_id__in=many_values(sorted({p["unit_id"] for p, _ in to_decide})),
                    status=PaymentStatus.RECORDED,
                    received_on__gte=min(timezone.localdate(p["created_at"]) for p, _ in to_decide),
                    received_on__lte=max(d for _, d in to_decide),
                ).values_list("unit_id", "received_on", "amount_fen")
            )
            for p, deadline in to_decide:
                start = timezone.localdate(p["created_at"])
                paid = sum(
                    amount
                    for unit_id, day, amount in paid_rows
                    if unit_id == p["unit_id"] and start <= day <= deadline
                )
                kept = paid >= p["amount_fen"]
                status = PromiseStatus.KEPT if kept else PromiseStatus.BROKEN
                plan.promise_updates.append((p["id"], status, paid))
                state = states.get(p["unit_id"])
                if kept:
                    report.promises_kept += 1
                    if state is not None:
                        plan.events.append(
                            (
                                state,
                                "promise_kept",
                                f"承诺缴费已兑现（期间实收 {format_yuan(paid)} 元）",
                                {"promise": p["id"]},
                            )
                        )
                    continue
                report.promises_broken += 1
                if state is None:
                    continue
                summary = (
                    f"承诺于 {p['promised_on']:%Y-%m-%d} "
                    f"缴费 {format_yuan(p['amount_fen'])} 元未兑现"
                    f"（期间实收 {format_yuan(paid)} 元），恢复催收"
                )
                plan.events.append((state, "promise_broken", summary, {"promise": p["id"]}))
                plan.loose_tasks.append(
                    (
                        state,
                        {
                            "kind": TaskKind.PHONE,
                            "title": "承诺缴费未兑现，请电话跟进",
                            "due_on": self.due_on(1),
                        },
                    )
                )

        # Installment plans: in good standing while the payments since approval cover every
        # installment due more than the plan's grace days ago; else defaulted.
        plans = list(
            InstallmentPlan.objects.filter(
                unit__estate__company=self.company, status=PlanStatus.ACTIVE
            ).values("id", "unit_id", "grace_days", "decided_at", "requested_at")
        )
        if plans:
            installments: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
            for plan_id, due_on, amount in Installment.objects.filter(
                plan_id__in=many_values([p["id"] for p in plans])
            ).values_list("plan_id", "due_on", "amount_fen"):
                installments[plan_id].append((due_on, amount))
            starts = {
                p["id"]: timezone.localdate(p["decided_at"] or p["requested_at"]) for p in plans
            }
            paid_by_unit: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
            for unit_id, day, amount in Payment.objects.filter(
                unit_id__in=many_values(sorted({p["unit_id"] for p in plans})),
                status=PaymentStatus.RECORDED,
                received_on__gte=min(starts.values()),
                received_on__lte=as_of,
            ).values_list("unit_id", "received_on", "amount_fen"):
                paid_by_unit[unit_id].append((day, amount))
            for plan_row in plans:
                start = starts[plan_row["id"]]
                paid = sum(a for d, a in paid_by_unit[plan_row["unit_id"]] if d >= start)
                plan_grace = dt.timedelta(days=plan_row["grace_days"])
                owed = sum(a for d, a in installments[plan_row["id"]] if d + plan_grace < as_of)
                state = states.get(plan_row["unit_id"])
                if paid >= owed:
                    if state is not None:
                        holds[plan_row["unit_id"]] = (HoldKind.INSTALLMENT, "暂停催收：分期履行中")
                    continue
                plan.plan_defaults.append(plan_row["id"])
                report.plans_defaulted += 1
                if state is not None:
                    plan.events.append(
                        (
                            state,
                            "plan_defaulted",
                            f"分期计划逾期未还（应还 {format_yuan(owed)} 元，"
                            f"实还 {format_yuan(paid)} 元），恢复催收",
                            {"plan": plan_row["id"]},
                        )
                    )
                    plan.loose_tasks.append(
                        (
                            state,
                            {
                                "kind": TaskKind.PHONE,
                                "title": "分期计划未按期还款，请电话跟进",
                                "due_on": self.due_on(1),
                            },
                        )
                    )
        return holds

    # -- decisions --

    def _stage_actions(
        self,
        state: _CaseState,
        stage: Stage,
        sent_today: int,
        sent_week: int,
        definition: Definition,
    ) -> list[_PlannedAction]:
        actions = []
        options = definition.options
        for step, item in enumerate(stage.actions):
            if isinstance(item, MessageAction):
                detail = {
                    "channel": item.channel,
                    "template": item.template,
                    "fallback": list(item.fallback),
                }
                if sent_today >= options.messages_per_day or sent_week >= options.messages_per_week:
                    reason = (
                        f"已达每日联系上限（{options.messages_per_day} 次）"
                        if sent_today >= options.messages_per_day
                        else f"已达每周联系上限（{options.messages_per_week} 次）"
                    )
                    actions.append(
                        _PlannedAction(
                            state,
                            stage.key,
                            step,
                            ActionKind.MESSAGE,
                            ActionStatus.SKIPPED,
                            reason,
                            detail,
                        )
                    )
                    self.plan.report.skipped_by_cap += 1
                    continue
                sent_today += 1
                sent_week += 1
                actions.append(
                    _PlannedAction(
                        state, stage.key, step, ActionKind.MESSAGE, ActionStatus.DONE, "", detail
                    )
                )
            elif isinstance(item, TaskAction):
                title = item.title or str(TaskKind(item.task).label)
                assignee = state.collector_id
                actions.append(
                    _PlannedAction(
                        state,
                        stage.key,
                        step,
                        ActionKind.TASK,
                        ActionStatus.DONE,
                        "",
                        {"task": item.task, "title": title, "due_in": item.due_in},
                        {
                            "kind": item.task,
                            "title": title,
                            "due_on": self.due_on(item.due_in),
                            "assigned_to_id": assignee,
                        },
                    )
                )
            elif isinstance(item, DocumentAction):
                actions.append(
                    _PlannedAction(
                        state,
                        stage.key,
                        step,
                        ActionKind.DOCUMENT,
                        ActionStatus.DONE,
                        "",
                        {"document": item.document, "deadline_days": item.deadline_days},
                    )
                )
        return actions

    def _decide(
        self,
        state: _CaseState,
        definition: Definition,
        hold: tuple[str, str] | None,
        reset_on: dt.date | None,
        sent_today: int,
        sent_week: int,
        manager_id: int | None,
    ) -> None:
        as_of, plan, report = self.as_of, self.plan, self.plan.report
        state.last_run_on = as_of
        if state.stage_last_on == as_of:
            return  # at most one stage step per case and day: a re-run adds nothing
        due: list[_PlannedAction] = []
        entering: Stage | None = None
        target = _next_stage(definition, state.stage)
        current = definition.stage(state.stage) if state.stage else None
        if target is not None and _meets(target.enter, state, as_of, reset_on):
            if target.approval and state.approved_stage != target.key:
                if state.pending_stage == target.key:
                    report.awaiting_approval += 1
                elif hold is None:
                    title = f"审批：{target.label}"
                    due.append(
                        _PlannedAction(
                            state,
                            target.key,
                            APPROVAL_STEP,
                            ActionKind.TASK,
                            ActionStatus.DONE,
                            "",
                            {"task": TaskKind.APPROVAL, "title": title, "approval_for": target.key},
                            {
                                "kind": TaskKind.APPROVAL,
                                "title": title,
                                "due_on": self.due_on(2),
                                "assigned_to_id": manager_id,
                            },
                        )
                    )
                    state.pending_stage = target.key
                    state.pending_since = as_of
                    report.approvals_requested += 1
                    plan.events.append(
                        (
                            state,
                            "approval_requested",
                            f"提交审批：进入“{target.label}”阶段",
                            {"stage": target.key},
                        )
                    )
            else:
                entering = target
                due = self._stage_actions(state, target, sent_today, sent_week, definition)
        elif (
            current is not None
            and current.repeat is not None
            and state.stage_runs < current.repeat.times
            and state.stage_last_on is not None
            and (as_of - state.stage_last_on).days >= current.repeat.every_days
        ):
            due = self._stage_actions(state, current, sent_today, sent_week, definition)

        cadence = self._cadence(state, definition) if entering is None and not due else []

        if hold is not None:
            if due or cadence:
                first = (due or cadence)[0]
                kind, reason = str(hold[0]), hold[1]
                plan.actions.append(
                    _PlannedAction(
                        state,
                        first.stage,
                        first.step,
                        first.kind,
                        ActionStatus.SKIPPED,
                        reason,
                        {"hold": kind},
                    )
                )
                report.skipped_by_hold[kind] = report.skipped_by_hold.get(kind, 0) + 1
            return

        if entering is not None:
            state.stage = entering.key
            state.stage_entered_on = as_of
            state.stage_runs = 1
            state.stage_last_on = as_of
            state.pending_stage = ""
            state.pending_since = None
            state.approved_stage = ""
            plan.events.append(
                (state, "stage", f"进入“{entering.label}”阶段", {"stage": entering.key})
            )
        elif due and due[0].step != APPROVAL_STEP:
            state.stage_runs += 1
            state.stage_last_on = as_of
        for action in due + cadence:
            plan.actions.append(action)
            if action.status == ActionStatus.DONE:
                stage, kind = str(action.stage), str(action.kind)
                report.actions_by_stage[stage] = report.actions_by_stage.get(stage, 0) + 1
                report.actions_by_kind[kind] = report.actions_by_kind.get(kind, 0) + 1
        for action in cadence:
            state.cadence_last = {**state.cadence_last, str(action.step): f"{as_of:%Y-%m-%d}"}

    def _cadence(self, state: _CaseState, definition: Definition) -> list[_PlannedAction]:
        rules = definition.segments
        if not rules.cadence_from_stage or not _stage_reached(state, rules.cadence_from_stage):
            return []
        actions = []
        for i, item in enumerate(rules.cadence.get(state.segment, ())):
            step = CADENCE_STEP + i + (0 if state.segment == Segment.KEY else 10)
            last_text = state.cadence_last.get(str(step))
            last = dt.date.fromisoformat(last_text) if last_text else state.stage_entered_on
            if last is None or (self.as_of - last).days < item.every_days:
                continue
            title = item.title or str(TaskKind(item.task).label)
            actions.append(
                _PlannedAction(
                    state,
                    state.stage,
                    step,
                    ActionKind.TASK,
                    ActionStatus.DONE,
                    "",
                    {"task": item.task, "title": title, "cadence": state.segment},
                    {
                        "kind": item.task,
                        "title": title,
                        "due_on": self.due_on(1),
                        "assigned_to_id": state.collector_id,
                    },
                )
            )
        return actions


# --- writing the plan ------------------------------------------------------------------------


def _apply(plan: _Plan, run: DunningRun, company: Company, actor: User | None) -> None:
    as_of, report = plan.as_of, plan.report
    now = timezone.now()
    # The timeline shows the run's events on its business date (a catch-up run for a past day
    # puts them on that day).
    event_at = (
        now
        if timezone.localdate(now) == as_of
        else timezone.make_aware(dt.datetime.combine(as_of, dt.time(9, 0)))
    )

    # Close.
    by_reason: dict[str, list[int]] = defaultdict(list)
    for case_id, reason in plan.closes:
        by_reason[reason].append(case_id)
    for reason, ids in by_reason.items():
        Case.objects.filter(pk__in=many_values(ids)).update(
            status=CaseStatus.CLOSED, closed_on=as_of, close_reason=reason, last_run_on=as_of
        )
    if plan.closes:
        closed = [case_id for case_id, _ in plan.closes]
        Task.objects.filter(case_id__in=many_values(closed), status=TaskStatus.OPEN).update(
            status=TaskStatus.CANCELLED, result="欠费已结清或低于起催金额，案件已结案"
        )
        rows_insert(
            CaseEvent,
            (
                "case_id",
                "kind",
                "happened_at",
                "actor_id",
                "summary",
                "object_type",
                "object_id",
                "data",
            ),
            [
                (
                    case_id,
                    "closed",
                    event_at,
                    None,
                    f"结案：{CaseCloseReason(reason).label}",
                    "",
                    None,
                    {"reason": reason},
                )
                for case_id, reason in plan.closes
            ],
        )

    # Open: plain rows (COPY on PostgreSQL), then their keys in one read.
    if plan.new_cases:
        open_fields = (
            "company_id",
            "estate_id",
            "unit_id",
            "status",
            "opened_on",
            "last_run_on",
            "reason_codes",
            "penalty_outstanding_fen",
            "close_reason",
            *_STATE_FIELDS,
        )
        rows_insert(
            Case,
            open_fields,
            [
                (
                    company.pk,
                    s.estate_id,
                    s.unit_id,
                    CaseStatus.OPEN,
                    as_of,
                    as_of,
                    [],
                    0,
                    "",
                    *(getattr(s, f) for f in _STATE_FIELDS),
                )
                for s in plan.new_cases
            ],
        )
        # Every open case opened today is this run's (or an earlier run's of the day, whose
        # units are not among the new ones): no look-up by the 100,000 unit ids.
        opened: dict[int, int] = dict(
            Case.objects.filter(
                company=company, status=CaseStatus.OPEN, opened_on=as_of
            ).values_list("unit_id", "pk")
        )
        for s in plan.new_cases:
            s.id = opened[s.unit_id]
        plan.events[:0] = [(s, "opened", "立案：欠费达到起催金额", {}) for s in plan.new_cases]

    # Update what changed.
    fields = (*_STATE_FIELDS, "last_run_on")
    _cases_update(fields, [(*(getattr(s, f) for f in fields), s.id) for s in plan.changed_cases])

    # Actions, then the tasks of the ones this run inserted.
    action_fields = (
        "case_id",
        "run_id",
        "policy_version_id",
        "stage",
        "step",
        "on_date",
        "key",
        "kind",
        "status",
        "skip_reason",
        "detail",
        "created_at",
    )
    by_key: dict[str, _PlannedAction] = {}
    for action in plan.actions:
        by_key[action.key(as_of)] = action
    existing = (
        set(
            Action.objects.filter(on_date=as_of, key__in=many_values(list(by_key))).values_list(
                "key", flat=True
            )
        )
        if by_key
        else set()
    )
    rows = [
        (
            a.case.id,
            run.pk,
            a.case.policy_version_id,
            a.stage,
            a.step,
            as_of,
            key,
            a.kind,
            a.status,
            a.skip_reason[:200],
            a.detail,
            now,
        )
        for key, a in by_key.items()
        if key not in existing
    ]
    rows_insert_new(Action, action_fields, rows, unique_fields=("key",))
    inserted = dict(Action.objects.filter(run=run).values_list("key", "pk"))
    task_fields = (
        "case_id",
        "unit_id",
        "action_id",
        "kind",
        "stage",
        "status",
        "title",
        "due_on",
        "priority",
        "assigned_to_id",
        "created_at",
        "result",
    )
    task_rows: list[tuple[Any, ...]] = [
        (
            a.case.id,
            a.case.unit_id,
            inserted[key],
            a.task["kind"],
            a.stage,
            TaskStatus.OPEN,
            a.task["title"][:200],
            a.task["due_on"],
            a.case.priority,
            a.task.get("assigned_to_id"),
            now,
            "",
        )
        for key, a in by_key.items()
        if a.task is not None and a.status == ActionStatus.DONE and key in inserted
    ]
    task_rows += [
        (
            s.id,
            s.unit_id,
            None,
            t["kind"],
            s.stage,
            TaskStatus.OPEN,
            t["title"],
            t["due_on"],
            s.priority,
            s.collector_id,
            now,
            "",
        )
        for s, t in plan.loose_tasks
    ]
    rows_insert(Task, task_fields, task_rows)
    report.tasks_created = len(task_rows)
    report.events_created = len(plan.events) + len(plan.closes)

    # Events.
    rows_insert(
        CaseEvent,
        (
            "case_id",
            "kind",
            "happened_at",
            "actor_id",
            "summary",
            "object_type",
            "object_id",
            "data",
        ),
        [
            (s.id, kind, event_at, None, summary[:500], "", None, data)
            for s, kind, summary, data in plan.events
        ],
    )

    # Promises and installment plans decided.
    rows_update(
        Promise,
        ("status", "decided_on", "paid_fen"),
        [(status, as_of, paid, pk) for pk, status, paid in plan.promise_updates],
    )
    if plan.promise_updates:
        Hold.objects.filter(
            promise_id__in=many_values([pk for pk, _, _ in plan.promise_updates]),
            released_on__isnull=True,
        ).update(released_on=as_of)
    if plan.plan_defaults:
        InstallmentPlan.objects.filter(pk__in=many_values(plan.plan_defaults)).update(
            status=PlanStatus.DEFAULTED, ended_on=as_of
        )
        Hold.objects.filter(
            plan_id__in=many_values(plan.plan_defaults), released_on__isnull=True
        ).update(released_on=as_of)


def _cases_update(fields: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Write the changed cases: on PostgreSQL one UPDATE … FROM unnest(arrays) (a statement
    per row costs ~0.2 ms each, 20 s for 100,000 cases); elsewhere `rows_update`."""
    if not rows or connection.vendor != "postgresql":
        rows_update(Case, fields, rows)
        return
    quote = connection.ops.quote_name
    casts = []
    for name in fields:
        internal = Case._meta.get_field(name).get_internal_type()
        casts.append(
            {
                "DateField": "date",
                "JSONField": "jsonb",
                "ForeignKey": "bigint",
                "BigIntegerField": "bigint",
                "PositiveSmallIntegerField": "integer",
                "PositiveIntegerField": "integer",
                "IntegerField": "integer",
            }.get(internal, "text")
        )
    columns = [str(getattr(Case._meta.get_field(name), "column", name)) for name in fields]
    arrays = ", ".join(
        f"unnest(%s::{'text' if cast == 'jsonb' else cast}[])" for cast in [*casts, "bigint"]
    )
    names = ", ".join(f"v{i}" for i in range(len(fields))) + ", id"
    sets = ", ".join(
        f"{quote(column)} = v{i}" + ("::jsonb" if casts[i] == "jsonb" else "")
        for i, column in enumerate(columns)
    )
    table = quote(Case._meta.db_table)
    encode = json.JSONEncoder().encode
    values = [list(col) for col in zip(*rows, strict=True)]
    for i, cast in enumerate(casts):
        if cast == "jsonb":
            values[i] = [encode(v) for v in values[i]]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {sets} FROM (SELECT {arrays}) AS v({names}) "
            f"WHERE {table}.id = v.id",
            values,
        )


def _preview(plan: _Plan) -> list[dict[str, Any]]:
    items = sorted(plan.actions, key=lambda a: (-a.case.priority, a.case.unit_id, a.step))
    units = (
        dict(
            Unit.objects.filter(
                pk__in=many_values(sorted({a.case.unit_id for a in items[:PREVIEW_LIMIT]}))
            ).values_list("pk", "code")
        )
        if items
        else {}
    )
    return [
        {
            "unit": units.get(a.case.unit_id, ""),
            "stage": str(a.stage),
            "kind": str(a.kind),
            "status": str(a.status),
            "what": a.detail.get("title")
            or a.detail.get("template")
            or a.detail.get("document")
            or "",
            "skip_reason": a.skip_reason,
            "new_case": a.case.opened_on == plan.as_of,
        }
        for a in items[:PREVIEW_LIMIT]
    ]


# --- the service -----------------------------------------------------------------------------


# Every table a run reads. Nothing is written without a new row in one of them: the house
# rule audit-logs every write (AuditEntry), and the inputs' own inserts are covered directly.
_WATERMARK_MODELS: tuple[type[Any], ...] = ()


def _watermark() -> list[int]:
    """The highest id of each table a run reads: equal before and after means nothing was
    written in between (one index look-up per table)."""
    global _WATERMARK_MODELS
    if not _WATERMARK_MODELS:
        from django.apps import apps

        _WATERMARK_MODELS = tuple(
            apps.get_model(label)
            for label in (
                "core.AuditEntry",
                "core.StaffScope",
                "billing.Charge",
                "payments.Payment",
                "ledger.Allocation",
                "ledger.Waiver",
                "collection.PolicyVersion",
                "collection.EstatePolicy",
                "collection.Case",
                "collection.Action",
                "collection.Task",
                "collection.Hold",
                "collection.Promise",
                "collection.InstallmentPlan",
                "collection.Installment",
            )
        )
    return [int(model.objects.aggregate(top=Max("pk"))["top"] or 0) for model in _WATERMARK_MODELS]


def _unchanged_since(company: Company, as_of: dt.date, mark: list[int]) -> DunningRun | None:
    """The finished run of `company` for `as_of` after which nothing was written, if any."""
    last = (
        DunningRun.objects.filter(company=company, status=RunStatus.FINISHED)
        .order_by("-finished_at", "-id")
        .first()
    )
    if last is None or last.as_of != as_of or last.report.get("watermark") != mark:
        return None
    return last


def _lock(company: Company, as_of: dt.date, actor: User | None) -> DunningRun:
    try:
        with transaction.atomic():
            return DunningRun.objects.create(
                company=company,
                as_of=as_of,
                status=RunStatus.RUNNING,
                started_by=actor if actor is not None and actor.is_authenticated else None,
            )
    except IntegrityError as exc:
        raise DunningRunLocked(
            f"{company.name} 的催收批次正在运行中，请等待其完成后再运行。"
        ) from exc


def dunning_run(
    *,
    company: Company,
    as_of: dt.date,
    actor: User | None,
    dry_run: bool = False,
    policy_override: Any = None,
    dispatch: bool = True,
    force: bool = False,
) -> RunReport:
    """Run the collection process for `company` on `as_of` (see the module's docstring).

    `dry_run` computes the same plan and writes nothing at all. `policy_override` (a policy
    definition mapping or a parsed Definition, dry-run only) is used for every estate instead
    of its own policy: the preview of an edited, unsaved policy. A second run while one is in
    progress is refused (DunningRunLocked). `dispatch` hands the new message and document
    actions to messaging and documents after the run (`dunning_dispatch`).

    A re-run on the same day when nothing at all was written since the last run (no new row in
    any table the run reads, no audit-logged change) returns at once: its plan would be empty.
    `force` plans again anyway."""
    require(actor, Capability.RUN_DUNNING)
    if actor is not None and actor.company_id not in (None, company.pk):
        raise DunningError("不能为其他物业公司运行催收批次。")
    override: Definition | None = None
    if policy_override is not None:
        if not dry_run:
            raise DunningError("未保存的策略只能试运行。")
        override = (
            policy_override
            if isinstance(policy_override, Definition)
            else definition_parse(policy_override)
        )
    if dry_run:
        if DunningRun.objects.filter(company=company, status=RunStatus.RUNNING).exists():
            raise DunningRunLocked(f"{company.name} 的催收批次正在运行中，请稍后再试运行。")
        plan = _Planner(company=company, as_of=as_of, dry_run=True, override=override).build()
        plan.report.preview = _preview(plan)
        return plan.report

    run = _lock(company, as_of, actor)
    try:
        with transaction.atomic():
            same = None if force else _unchanged_since(company, as_of, _watermark())
            if same is not None:
                # Nothing was written since the last run of the day: its plan would be empty.
                report = RunReport(
                    as_of=f"{as_of:%Y-%m-%d}",
                    dry_run=False,
                    cases_open=int(same.report.get("cases_open", 0)),
                    unchanged_since=same.pk,
                    run_id=run.pk,
                )
                report.watermark = list(same.report["watermark"])  # still nothing new
                run.status = RunStatus.FINISHED
                run.report = report.as_dict()
                run.finished_at = timezone.now()
                run.save(update_fields=["status", "report", "finished_at"])
                return report
            plan = _Planner(company=company, as_of=as_of, dry_run=False, override=None).build()
            _apply(plan, run, company, actor)
            report = plan.report
            report.preview = _preview(plan)
            report.run_id = run.pk
            run.status = RunStatus.FINISHED
            run.report = report.as_dict()
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "report", "finished_at"])
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                obj=run,
                after={
                    "as_of": report.as_of,
                    "cases_opened": report.cases_opened,
                    "cases_closed": report.cases_closed_total,
                    "actions": report.actions_total,
                    "tasks": report.tasks_created,
                },
                note=f"催收批次 {as_of:%Y-%m-%d}",
            )
            report.watermark = _watermark()
            run.report = report.as_dict()
            run.save(update_fields=["report"])
    except BaseException as exc:
        DunningRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    if dispatch:
        from propfee.collection.dispatch import dunning_dispatch

        dunning_dispatch(run=run, actor=actor)
    return report


@transaction.atomic
def case_stage_approve(
    *, case: Case, actor: User | None, approve: bool = True, note: str = ""
) -> Case:
    """A manager's decision on the stage a case waits to enter (律师函, 法律程序 …): approved,
    the next run enters it; refused, the request is withdrawn and the case stays where it is."""
    require(actor, Capability.RUN_DUNNING)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.pending_stage:
        raise DunningError("该案件没有待审批的阶段。")
    stage = case.pending_stage
    label = StageKey(stage).label
    if approve:
        case.approved_stage = stage
    case.pending_stage = ""
    case.pending_since = None
    case.save(update_fields=["approved_stage", "pending_stage", "pending_since"])
    Task.objects.filter(
        case=case, kind=TaskKind.APPROVAL, status=TaskStatus.OPEN, stage=stage
    ).update(
        status=TaskStatus.DONE,
        done_at=timezone.now(),
        done_by=actor if actor is not None and actor.is_authenticated else None,
        result=("同意" if approve else "不同意") + (f"：{note}" if note else ""),
    )
    summary = f"{'同意' if approve else '不同意'}进入“{label}”阶段" + (f"：{note}" if note else "")
    CaseEvent.objects.create(
        case=case,
        kind="approval",
        actor=actor if actor is not None and actor.is_authenticated else None,
        summary=summary[:500],
        data={"stage": stage, "approved": approve},
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=case,
        estate_id=case.estate_id,
        after={"stage": stage, "approved": approve},
        note=summary,
    )
    return case


__all__ = [
    "DunningError",
    "DunningRunLocked",
    "RunReport",
    "case_stage_approve",
    "dunning_run",
]
