"""A collection run's plan (催收批次计划): which cases open and close, their figures, risk
score, segment, priority and collector, the holds in force (promises kept or broken,
installment plans in good standing or not), then each case's stage decision (`stages.py`).

Risk score (0–100, rule-based until a model replaces it):
  age     min(40, days the oldest charge is overdue × 40 ÷ 365)
  amount  min(30, overdue principal ÷ ¥10,000 × 30)
  months  min(15, months owed × 15 ÷ 12)
  history min(15, promises broken in the last 365 days × 8)
Priority = risk score, + 100 for a key (重点) case.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from propfee.collection.constants import (
    ActionStatus,
    CaseCloseReason,
    HoldKind,
    PromiseStatus,
    Segment,
    TaskKind,
)
from propfee.collection.definition import Definition
from propfee.collection.plans import installment_standings
from propfee.collection.run import reading
from propfee.collection.run.plan import STATE_FIELDS, CaseState, Plan
from propfee.collection.run.report import RunReport
from propfee.collection.run.stages import StageDecider
from propfee.collection.selectors import UnitOverdue, overdue_by_unit
from propfee.core.money import format_yuan
from propfee.core.workdays import working_days_add
from propfee.estates.models import Company


def _risk(fig: UnitOverdue, as_of: dt.date, broken: int) -> int:
    days = (as_of - fig.oldest_due_date).days
    age = min(40, days * 40 // 365)
    amount = min(30, fig.principal_overdue_fen * 30 // 1_000_000)
    months = min(15, fig.months_owed * 15 // 12)
    history = min(15, broken * 8)
    return max(0, age + amount + months + history)


class Planner:
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
        self.plan = Plan(as_of=as_of, report=RunReport(as_of=f"{as_of:%Y-%m-%d}", dry_run=dry_run))
        self.override = override
        self._due_cache: dict[int, dt.date] = {}

    def due_on(self, days: int) -> dt.date:
        if days not in self._due_cache:
            self._due_cache[days] = working_days_add(self.as_of, days)
        return self._due_cache[days]

    def build(self) -> Plan:
        as_of, plan, report = self.as_of, self.plan, self.plan.report
        definitions, version_ids = reading.policy_definitions(self.company, self.override)
        plan.versions = version_ids
        figures = overdue_by_unit(company=self.company, as_of=as_of)
        report.estates_without_policy = len(
            {f.estate_id for f in figures.values()} - set(definitions)
        )
        originals: dict[int, tuple[Any, ...]] = {}
        states: dict[int, CaseState] = {}
        for row in reading.open_case_rows(self.company):
            state = CaseState(**row)
            states[state.unit_id] = state
            originals[state.unit_id] = tuple(row[f] for f in STATE_FIELDS)

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
                state = CaseState(
                    id=None, unit_id=unit_id, estate_id=fig.estate_id, opened_on=as_of
                )
                states[unit_id] = state
                plan.new_cases.append(state)
        report.cases_opened = len(plan.new_cases)
        report.cases_open = len(states)
        # A case of an estate left without any policy keeps its state until one is set.
        states = {u: s for u, s in states.items() if s.estate_id in definitions}
        unit_ids = list(states)

        broken = reading.broken_promise_counts(self.company, as_of, unit_ids)
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
        last_paid = reading.last_payment_days(self.company, as_of, unit_ids)
        last_promised = reading.last_promise_days(self.company, as_of, unit_ids)
        sent_today, sent_week = reading.message_counts(self.company, as_of)
        managers = reading.estate_managers(self.company)
        stages = StageDecider(plan=plan, due_on=self.due_on)

        for unit_id, state in states.items():
            definition = definitions[state.estate_id]
            reset = max(
                (d for d in (last_paid.get(unit_id), last_promised.get(unit_id)) if d),
                default=None,
            )
            stages.decide(
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
            if tuple(getattr(state, f) for f in STATE_FIELDS) != originals[unit_id]:
                plan.changed_cases.append(state)
        report.events_created = (
            len(plan.events) + len(plan.closes) + len(plan.new_cases) + plan.plan_events
        )
        report.tasks_created = len(plan.loose_tasks) + sum(
            1 for a in plan.actions if a.task is not None and a.status == ActionStatus.DONE
        )
        return plan

    def _assign_collectors(
        self,
        states: dict[int, CaseState],
        figures: Mapping[int, UnitOverdue],
    ) -> None:
        """Cases without a collector get the collector of their building, else of their
        estate; among several, the one with the fewest open cases (counting this run's)."""
        by_building, by_estate = reading.collector_scopes(self.company)
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

    def _holds(
        self, states: Mapping[int, CaseState], definitions: Mapping[int, Definition]
    ) -> dict[int, tuple[str, str]]:
        """unit → (hold kind, reason) for the units whose escalation is paused today; promise
        and installment decisions are planned on the way."""
        holds: dict[int, tuple[str, str]] = {}
        for row in reading.hold_rows(self.company, self.as_of):
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
        self._promises_decide(states, definitions, holds)
        self._plans_decide(states, holds)
        return holds

    def _promises_decide(
        self,
        states: Mapping[int, CaseState],
        definitions: Mapping[int, Definition],
        holds: dict[int, tuple[str, str]],
    ) -> None:
        """Promises: pending until their date + grace; then kept or broken from the payments."""
        as_of, plan, report = self.as_of, self.plan, self.plan.report
        to_decide = []
        for p in reading.pending_promises(self.company):
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
            paid_rows = reading.payments_between(
                (p["unit_id"] for p, _ in to_decide),
                min(timezone.localdate(p["created_at"]) for p, _ in to_decide),
                max(d for _, d in to_decide),
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

    def _plans_decide(
        self, states: Mapping[int, CaseState], holds: dict[int, tuple[str, str]]
    ) -> None:
        """Installment plans, by the one rule of `plans.installment_standings`: a plan in good
        standing holds escalation; a defaulted one resumes it with a call to make; a completed
        one ends. The plans review (`installment_plans_review`) writes those ends after the
        run's own rows; a dry run only counts them."""
        plan, report = self.plan, self.plan.report
        plan.plan_standings = installment_standings(company=self.company, as_of=self.as_of)
        for standing in plan.plan_standings:
            state = states.get(standing.unit_id)
            if standing.in_good_standing and not standing.completed:
                if state is not None:
                    holds[standing.unit_id] = (HoldKind.INSTALLMENT, "暂停催收：分期履行中")
                continue
            if state is not None:
                plan.plan_events += 1  # the review's line on the case
            if standing.completed:
                report.plans_completed += 1
            else:
                report.plans_defaulted += 1
                if state is not None:
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
