"""The collection run's services: `dunning_run` (the lock, the dry run, the unchanged re-run,
the plan written in one transaction with the installment plans review) and
`case_stage_approve`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from propfee.collection.constants import RunStatus, StageKey, TaskKind, TaskStatus
from propfee.collection.definition import Definition, definition_parse
from propfee.collection.models import Case, CaseEvent, DunningRun, Task
from propfee.collection.permissions import unit_action_require
from propfee.collection.plans import installment_plans_review
from propfee.collection.reminders import pre_due_reminders
from propfee.collection.run.lock import (
    DunningError,
    DunningRunLocked,
    run_lock_acquire,
    run_lock_busy,
    run_lock_release,
)
from propfee.collection.run.planner import Planner
from propfee.collection.run.reading import plan_preview
from propfee.collection.run.report import RunReport
from propfee.collection.run.writing import plan_apply
from propfee.core.models import AuditAction, User
from propfee.core.roles import Capability, require
from propfee.core.services import audit_record
from propfee.estates.models import Company
from propfee.estates.selectors import company_estate_ids, estates_cover_require

__all__ = ["DunningError", "DunningRunLocked", "case_stage_approve", "dunning_run"]

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
    if not dry_run:
        # The run acts on every estate of the company: only someone who covers them all.
        estates_cover_require(actor, Capability.RUN_DUNNING, company_estate_ids(company.pk))
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
        if run_lock_busy(company):
            raise DunningRunLocked(f"{company.name} 的催收批次正在运行中，请稍后再试运行。")
        plan = Planner(company=company, as_of=as_of, dry_run=True, override=override).build()
        plan.report.preview = plan_preview(plan)
        _pre_due_report(plan.report, company=company, as_of=as_of, dry_run=True, actor=actor)
        return plan.report

    run = run_lock_acquire(company=company, as_of=as_of, actor=actor)
    try:
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
                plan = Planner(company=company, as_of=as_of, dry_run=False, override=None).build()
                plan_apply(plan, run, company)
                # One rule for installment plans: the review ends the plans the plan found
                # defaulted or completed, from the same standings, after the run's own rows (a
                # case opened today gets its timeline line too).
                review = installment_plans_review(
                    company=company, as_of=as_of, actor=actor, standings=plan.plan_standings
                )
                report = plan.report
                report.events_created += review.events
                report.preview = plan_preview(plan)
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
    finally:
        # The lock covers the set-based part; reminders and dispatch follow without it.
        run_lock_release(company)
    # Reminders before the due date concern units without a case; outside the lock, whether or
    # not the actions are dispatched now (a re-run queues nothing: one key per unit and date).
    _pre_due_report(report, company=company, as_of=as_of, dry_run=False, actor=actor)
    if report.unchanged_since is None:
        DunningRun.objects.filter(pk=run.pk).update(report=report.as_dict())
    if dispatch:
        from propfee.collection.dispatch import dunning_dispatch

        dunning_dispatch(run=run, actor=actor)
    return report


def _pre_due_report(
    report: RunReport, *, company: Company, as_of: dt.date, dry_run: bool, actor: User | None
) -> None:
    pre_due = pre_due_reminders(company=company, as_of=as_of, dry_run=dry_run, actor=actor)
    report.pre_due_queued = pre_due.queued
    report.pre_due_failed = pre_due.failed


@transaction.atomic
def stage_requested_by(*, case: Case, user: User | None) -> bool:
    """Whether `user` asked for the stage `case` waits to enter (and so may not approve it)."""
    if user is None or not user.is_authenticated or not case.pending_stage:
        return False
    return Task.objects.filter(
        case=case,
        kind=TaskKind.APPROVAL,
        status=TaskStatus.OPEN,
        stage=case.pending_stage,
        requested_by=user,
    ).exists()


def case_stage_approve(
    *, case: Case, actor: User | None, approve: bool = True, note: str = ""
) -> Case:
    """A manager's decision on the stage a case waits to enter (律师函, 法律程序 …): approved,
    the next run enters it; refused, the request is withdrawn, the case stays where it is, and
    the run asks again only APPROVAL_ASK_AGAIN_DAYS later (`pending_since` keeps the refusal
    date)."""
    case = Case.objects.select_for_update().select_related("unit").get(pk=case.pk)
    unit_action_require(actor, Capability.APPROVE_COLLECTION, case.unit)
    if not case.pending_stage:
        raise DunningError("该案件没有待审批的阶段。")
    stage = case.pending_stage
    label = StageKey(stage).label
    if approve and stage_requested_by(case=case, user=actor):
        # Four eyes, as on waivers and installment plans: a manager's own move up is approved
        # by someone else.
        raise DunningError(_("不能审批自己提交的升级申请，请由其他负责人审批。"))
    if approve:
        case.approved_stage = stage
    case.pending_stage = ""
    case.pending_since = None if approve else timezone.localdate()
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
