"""A collection run's stage decisions (催收阶段): for each case, enter the policy's next stage
when its conditions are met (never skipping one; asking for approval first where the stage
needs it), repeat the current stage on its cadence, or add a segment-cadence task; a hold
turns the first due action into a skipped one, the contact caps skip messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from propfee.collection.constants import STAGE_ORDER, ActionKind, ActionStatus, Segment, TaskKind
from propfee.collection.definition import (
    Condition,
    Definition,
    DocumentAction,
    MessageAction,
    Stage,
    TaskAction,
)
from propfee.collection.run.plan import (
    APPROVAL_ASK_AGAIN_DAYS,
    APPROVAL_DUE_WORKING_DAYS,
    APPROVAL_STEP,
    CADENCE_STEP,
    CaseState,
    Plan,
    PlannedAction,
)


def _meets_simple(cond: Condition, state: CaseState, as_of: dt.date) -> bool:
    days = (as_of - state.oldest_due_date).days if state.oldest_due_date else 0
    if cond.min_days_overdue is not None and days < cond.min_days_overdue:
        return False
    if cond.min_amount_fen is not None and state.principal_overdue_fen < cond.min_amount_fen:
        return False
    if cond.min_months_owed is not None and state.months_owed < cond.min_months_owed:
        return False
    return cond.segment is None or state.segment == cond.segment


def _meets(cond: Condition, state: CaseState, as_of: dt.date, reset_on: dt.date | None) -> bool:
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


def _stage_reached(state: CaseState, key: str) -> bool:
    return bool(state.stage) and STAGE_ORDER.index(state.stage) >= STAGE_ORDER.index(key)


class StageDecider:
    """Decides each case's next due action into `plan`; reads and writes nothing."""

    def __init__(self, *, plan: Plan, due_on: Callable[[int], dt.date]) -> None:
        self.as_of = plan.as_of
        self.plan = plan
        self.due_on = due_on  # the date `n` working days after the run's date

    def _stage_actions(
        self,
        state: CaseState,
        stage: Stage,
        sent_today: int,
        sent_week: int,
        definition: Definition,
    ) -> list[PlannedAction]:
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
                        PlannedAction(
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
                    PlannedAction(
                        state, stage.key, step, ActionKind.MESSAGE, ActionStatus.DONE, "", detail
                    )
                )
            elif isinstance(item, TaskAction):
                title = item.title or str(TaskKind(item.task).label)
                assignee = state.collector_id
                actions.append(
                    PlannedAction(
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
                    PlannedAction(
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

    def decide(
        self,
        state: CaseState,
        definition: Definition,
        hold: tuple[str, str] | None,
        reset_on: dt.date | None,
        sent_today: int,
        sent_week: int,
        manager_id: int | None,
    ) -> None:
        """Plan `state`'s actions for the day (or the skip a hold makes of them)."""
        as_of, plan, report = self.as_of, self.plan, self.plan.report
        state.last_run_on = as_of
        if state.stage_last_on == as_of:
            return  # at most one stage step per case and day: a re-run adds nothing
        due: list[PlannedAction] = []
        entering: Stage | None = None
        target = _next_stage(definition, state.stage)
        current = definition.stage(state.stage) if state.stage else None
        if target is not None and _meets(target.enter, state, as_of, reset_on):
            if target.approval and state.approved_stage != target.key:
                refused_lately = (
                    not state.pending_stage
                    and state.pending_since is not None
                    and (as_of - state.pending_since).days < APPROVAL_ASK_AGAIN_DAYS
                )
                if state.pending_stage == target.key:
                    report.awaiting_approval += 1
                elif hold is None and not refused_lately:
                    title = f"审批：{target.label}"
                    due.append(
                        PlannedAction(
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
                                "due_on": self.due_on(APPROVAL_DUE_WORKING_DAYS),
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
                    PlannedAction(
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

    def _cadence(self, state: CaseState, definition: Definition) -> list[PlannedAction]:
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
                PlannedAction(
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
