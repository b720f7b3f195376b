"""Collection models (催收), split by topic: policies, cases and their actions and tasks, contacts
with promises and installment plans, holds and service issues, legal matters and limitation."""

from propfee.collection.models.cases import Action, Case, CaseEvent, DunningRun, Task
from propfee.collection.models.contacts import (
    ContactAttachment,
    ContactRecord,
    Installment,
    InstallmentPlan,
    Promise,
)
from propfee.collection.models.holds import Hold, ServiceIssue
from propfee.collection.models.legal import LegalMatter, LimitationRestart
from propfee.collection.models.policies import EstatePolicy, Policy, PolicyVersion

__all__ = [
    "Action",
    "Case",
    "CaseEvent",
    "ContactAttachment",
    "ContactRecord",
    "DunningRun",
    "EstatePolicy",
    "Hold",
    "Installment",
    "InstallmentPlan",
    "LegalMatter",
    "LimitationRestart",
    "Policy",
    "PolicyVersion",
    "Promise",
    "ServiceIssue",
    "Task",
]
