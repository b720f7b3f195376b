"""A manager's manual move of a case one stage up or down its policy's ladder (人工升级/降级),
with a reason. Never skips a stage; moving up into a stage that needs approval submits the same
approval request the daily run would (an approval task for the estate's manager and the case
waiting for the stage) instead of moving."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from propfee.collection.constants import (
    STAGE_ORDER,
    ActionKind,
    ActionStatus,
    CaseStatus,
    StageKey,
    TaskKind,
    TaskStatus,
)
from propfee.collection.definition import DefinitionError, Stage, definition_parse
from propfee.collection.models import Action, Case, CaseEvent, PolicyVersion, Task
from propfee.collection.policies import estate_policy_versions
from propfee.collection.run.plan import APPROVAL_DUE_WORKING_DAYS, APPROVAL_STEP
from propfee.collection.run.reading import estate_managers
from propfee.collection.workbench_selectors import cases_workable_by
from propfee.core.models import AuditAction, User
from propfee.core.roles import Capability, PermissionDenied, require
from propfee.core.services import audit_record
from propfee.core.workdays import working_days_add

UP = "up"
DOWN = "down"
# The approval request is the run's own (same step, due days and approver), so a run on the
# same day finds the request's action (same key) and the case waiting, and adds nothing.


class EscalationError(ValueError):
    """A stage move the rules refuse; the message is for the user."""


@dataclass(frozen=True)
class StageMove:
    """What a move would do: from `current` to `target` (with labels for the page), and whether
    it only submits an approval request (`needs_approval`)."""

    direction: str
    current: str
    current_label: str
    target: str
    target_label: str
    needs_approval: bool
    version: PolicyVersion


def _version_of(case: Case) -> PolicyVersion:
    """The policy version the case follows: the one it was last moved by, else the estate's."""
    if case.policy_version_id is not None:
        return PolicyVersion.objects.get(pk=case.policy_version_id)
    found = estate_policy_versions(case.company).get(case.estate_id)
    if found is None:
        raise EscalationError("该项目未设置催收策略，不能调整阶段")
    return found


def _stages(version: PolicyVersion) -> tuple[Stage, ...]:
    try:
        return definition_parse(version.definition).case_stages
    except DefinitionError as exc:
        raise EscalationError(f"催收策略有误，不能调整阶段：{exc}") from exc


def _label(key: str) -> str:
    return str(StageKey(key).label) if key in StageKey.values else "—"


def case_stage_move_plan(*, case: Case, direction: str) -> StageMove:
    """The move one stage `direction` ("up" or "down") along the case's policy ladder, or an
    EscalationError saying why there is none."""
    if direction not in (UP, DOWN):
        raise EscalationError("未知的调整方向")
    if case.status != CaseStatus.OPEN:
        raise EscalationError("案件已结案，不能调整阶段")
    version = _version_of(case)
    stages = _stages(version)
    position = STAGE_ORDER.index(case.stage) if case.stage else -1
    target: Stage | None
    if direction == UP:
        target = next((s for s in stages if STAGE_ORDER.index(s.key) > position), None)
        if target is None:
            raise EscalationError("已是催收策略的最后一个阶段，不能再升级")
        if case.pending_stage == target.key:
            raise EscalationError(f"进入“{target.label}”阶段已提交审批，请等待审批")
    else:
        lower = [s for s in stages if STAGE_ORDER.index(s.key) < position]
        if not lower:
            raise EscalationError("已是催收策略的第一个阶段，不能再降级")
        target = lower[-1]
    current = next((s for s in stages if s.key == case.stage), None)
    return StageMove(
        direction=direction,
        current=case.stage,
        current_label=current.label if current else _label(case.stage),
        target=target.key,
        target_label=target.label,
        needs_approval=direction == UP and target.approval and case.approved_stage != target.key,
        version=version,
    )


def _approval_request(
    case: Case, move: StageMove, today: dt.date, requested_by: User | None
) -> Task:
    """The daily run's approval request: an action keyed (case, stage, 90, day), its approval
    task for the manager, and the case waiting for the stage (saved by the caller). The task
    names who asked: that person may not approve it."""
    title = f"审批：{move.target_label}"
    action, _ = Action.objects.get_or_create(
        key=f"{case.pk}:{move.target}:{APPROVAL_STEP}:{today:%Y-%m-%d}",
        defaults={
            "case": case,
            "policy_version": move.version,
            "stage": move.target,
            "step": APPROVAL_STEP,
            "on_date": today,
            "kind": ActionKind.TASK,
            "status": ActionStatus.DONE,
            "detail": {
                "task": TaskKind.APPROVAL,
                "title": title,
                "approval_for": move.target,
                "manual": True,
            },
        },
    )
    task = Task.objects.filter(action=action).first()
    if task is None:
        task = Task.objects.create(
            case=case,
            unit_id=case.unit_id,
            action=action,
            kind=TaskKind.APPROVAL,
            stage=move.target,
            title=title,
            due_on=working_days_add(today, APPROVAL_DUE_WORKING_DAYS),
            priority=case.priority,
            assigned_to_id=estate_managers(case.company).get(case.estate_id),
            requested_by=requested_by,
        )
    elif task.status == TaskStatus.OPEN and task.requested_by_id is None and requested_by:
        task.requested_by = requested_by
        task.save(update_fields=["requested_by"])
    case.pending_stage = move.target
    case.pending_since = today
    return task


@transaction.atomic
def case_stage_move(*, case: Case, direction: str, reason: str, actor: User | None) -> Case:
    """Move the case one stage up or down its policy's ladder (a manager's decision, MANAGE_CASES),
    with the reason on the timeline and in the audit log. Up into a stage that needs approval
    submits the approval request instead; the run enters the stage once it is approved. A moved
    case's stage starts today: the run counts its repeats and the next stage's conditions from
    now, and performs no more stage step for it today."""
    require(actor, Capability.MANAGE_CASES)
    if actor is not None and not cases_workable_by(actor).filter(pk=case.pk).exists():
        raise PermissionDenied(Capability.MANAGE_CASES)
    reason = reason.strip()
    if not reason:
        raise EscalationError("请填写调整原因")
    case = Case.objects.select_for_update().select_related("company").get(pk=case.pk)
    move = case_stage_move_plan(case=case, direction=direction)
    today = timezone.localdate()
    before = {
        "stage": case.stage,
        "pending_stage": case.pending_stage,
        "approved_stage": case.approved_stage,
    }
    if move.needs_approval:
        requester = actor if actor is not None and actor.is_authenticated else None
        task = _approval_request(case, move, today, requester)
        case.save(update_fields=["pending_stage", "pending_since"])
        kind = "approval_requested"
        summary = f"人工升级，提交审批：进入“{move.target_label}”阶段。原因：{reason}"
        data = {"stage": move.target, "direction": direction, "task": task.pk}
    else:
        if case.pending_stage:
            # A waiting request to enter another stage no longer applies.
            Task.objects.filter(
                case=case, kind=TaskKind.APPROVAL, status=TaskStatus.OPEN, stage=case.pending_stage
            ).update(status=TaskStatus.CANCELLED, result=f"案件已人工调整至“{move.target_label}”")
        case.stage = move.target
        case.stage_entered_on = today
        case.stage_runs = 1
        case.stage_last_on = today
        case.pending_stage = ""
        case.pending_since = None
        case.approved_stage = ""
        case.policy_version = move.version
        case.save(
            update_fields=[
                "stage",
                "stage_entered_on",
                "stage_runs",
                "stage_last_on",
                "pending_stage",
                "pending_since",
                "approved_stage",
                "policy_version",
            ]
        )
        kind = "stage_manual"
        verb = "人工升级" if direction == UP else "人工降级"
        summary = f"{verb}：{move.current_label} → {move.target_label}。原因：{reason}"
        data = {"stage": move.target, "from": move.current, "direction": direction}
    CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor if actor is not None and actor.pk else None,
        summary=summary[:500],
        data={**data, "reason": reason},
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=case,
        estate_id=case.estate_id,
        before=before,
        after={
            "stage": case.stage,
            "pending_stage": case.pending_stage,
            "approved_stage": case.approved_stage,
        },
        note=summary,
    )
    return case
