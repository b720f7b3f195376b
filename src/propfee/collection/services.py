"""Collection writes (催收), one place to import them from: policies (`policies.py`), the daily
run (`run.py`) and the dispatch of its messages and documents (`dispatch.py`)."""

from __future__ import annotations

from django.db import transaction

from propfee.collection.dispatch import DispatchSummary, dunning_dispatch
from propfee.collection.models import (
    Action,
    Case,
    CaseEvent,
    ContactAttachment,
    ContactRecord,
    DunningRun,
    EstatePolicy,
    Hold,
    InstallmentPlan,
    LegalMatter,
    LimitationRestart,
    Policy,
    PolicyVersion,
    Promise,
    ServiceIssue,
    Task,
)
from propfee.collection.policies import (
    PolicyError,
    estate_policy_set,
    policies_defaults_load,
    policy_create,
    policy_export_yaml,
    policy_import_yaml,
    policy_version_create,
)
from propfee.collection.reminders import PreDueReport, pre_due_reminders
from propfee.collection.run import (
    DunningError,
    DunningRunLocked,
    ReleasedRun,
    RunReport,
    dunning_run,
    dunning_run_unlock,
)
from propfee.collection.run import case_stage_approve as case_stage_decide
from propfee.collection.stage_approval import stage_approved
from propfee.core.models import User
from propfee.estates.models import Company


@transaction.atomic
def case_stage_approve(
    *, case: Case, actor: User | None, approve: bool = True, note: str = ""
) -> Case:
    """A manager's decision on the stage a case waits to enter (`case_stage_decide`); an
    approval then starts what the stage calls for (`stage_approval.stage_approved`: 法律程序
    prepares the legal matter)."""
    case = case_stage_decide(case=case, actor=actor, approve=approve, note=note)
    if approve:
        stage_approved(case=case, stage=case.approved_stage, actor=actor)
    return case


@transaction.atomic
def collection_data_delete(company: Company) -> None:
    """Delete every collection row of `company` (policies, runs, cases and all hanging off
    them): for deleting the demo company only; audit rows stay."""
    units = {"unit__estate__company": company}
    Hold.objects.filter(**units).delete()
    ServiceIssue.objects.filter(**units).delete()
    InstallmentPlan.objects.filter(**units).delete()
    Promise.objects.filter(**units).delete()
    ContactAttachment.objects.filter(contact__unit__estate__company=company).delete()
    ContactRecord.objects.filter(**units).delete()
    LegalMatter.objects.filter(**units).delete()
    LimitationRestart.objects.filter(**units).delete()
    Task.objects.filter(**units).delete()
    CaseEvent.objects.filter(case__company=company).delete()
    Action.objects.filter(case__company=company).delete()
    Case.objects.filter(company=company).delete()
    DunningRun.objects.filter(company=company).delete()
    EstatePolicy.objects.filter(estate__company=company).delete()
    PolicyVersion.objects.filter(policy__company=company).delete()
    Policy.objects.filter(company=company).delete()


__all__ = [
    "DispatchSummary",
    "DunningError",
    "DunningRunLocked",
    "PolicyError",
    "PreDueReport",
    "ReleasedRun",
    "RunReport",
    "case_stage_approve",
    "collection_data_delete",
    "dunning_dispatch",
    "dunning_run",
    "dunning_run_unlock",
    "estate_policy_set",
    "policies_defaults_load",
    "policy_create",
    "policy_export_yaml",
    "policy_import_yaml",
    "policy_version_create",
    "pre_due_reminders",
]
