"""Decisions on a case's stage approval (阶段审批: 律师函, 法律程序) taken from the manager's
board: refusing needs a reason. The decision itself (capability and scope, four eyes — whoever
asked for the stage may not approve it —, task closed, timeline line, audit row) is the run's
`case_stage_approve`."""

from __future__ import annotations

from django.db import transaction

from propfee.collection.models import Case
from propfee.collection.run import stage_requested_by
from propfee.collection.services import DunningError, case_stage_approve
from propfee.core.models import User

#: The longest reason kept with a refusal (the task's result holds 500 characters).
REASON_MAX = 400


class ApprovalError(DunningError):
    """A stage decision refused, with the reason to show."""


def _check(case: Case) -> None:
    if not case.pending_stage:
        raise ApprovalError("该案件没有待审批的阶段。")


@transaction.atomic
def case_stage_grant(*, case: Case, actor: User | None, note: str = "") -> Case:
    """Approve the stage `case` waits to enter; the next run enters it."""
    _check(case)
    return case_stage_approve(case=case, actor=actor, approve=True, note=note.strip()[:REASON_MAX])


@transaction.atomic
def case_stage_reject(*, case: Case, actor: User | None, reason: str) -> Case:
    """Refuse the stage `case` waits to enter, with a reason: the approval task is closed as
    不同意, the timeline and the audit log say why, and the case stays in its stage."""
    _check(case)
    reason = reason.strip()
    if not reason:
        raise ApprovalError("请填写不同意的原因。")
    return case_stage_approve(case=case, actor=actor, approve=False, note=reason[:REASON_MAX])


__all__ = ["ApprovalError", "case_stage_grant", "case_stage_reject", "stage_requested_by"]
