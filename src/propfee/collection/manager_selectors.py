"""Reads of the manager's board (催收看板): open cases by stage (the funnel), the approvals
queue (stage approvals, installment plans, waiver requests), each collector's workload, and the
overdue tasks. Every read is scoped to the manager's estates and costs a fixed number of queries
whatever the number of cases, tasks or collectors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TypeVar

from django.db.models import BooleanField, Count, ExpressionWrapper, F, Model, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from propfee.collection.constants import (
    STAGE_ORDER,
    CaseStatus,
    PlanStatus,
    PromiseStatus,
    StageKey,
    TaskKind,
    TaskStatus,
)
from propfee.collection.models import Case, ContactRecord, InstallmentPlan, Promise, Task
from propfee.core.models import User
from propfee.core.roles import Capability, Role, role_can
from propfee.estates.models import Estate
from propfee.estates.selectors import scope_for
from propfee.ledger.constants import WaiverRequestStatus
from propfee.ledger.models import WaiverRequest

M = TypeVar("M", bound=Model)

#: How many items of each approvals queue the board lists (the total is always shown).
QUEUE_LIMIT = 20
#: Contacts count towards the workload when recorded in the last this many days.
CONTACT_DAYS = 7


def _scoped(qs: QuerySet[M], user: User, unit: str) -> QuerySet[M]:
    """`qs` cut to the units in the scope of `user`, who must hold MANAGE_CASES; `unit` is the
    path from the model to its unit ("unit", "charge__unit")."""
    if not role_can(user, Capability.MANAGE_CASES):
        return qs.none()
    scope = scope_for(user)
    if scope.empty:
        return qs.none()
    if scope.all:
        if scope.company_id is None:
            return qs
        return qs.filter(**{f"{unit}__estate__company_id": scope.company_id})
    return qs.filter(
        Q(**{f"{unit}__estate_id__in": scope.estate_ids})
        | Q(**{f"{unit}__building_id__in": scope.building_ids})
    )


def _in_estate(qs: QuerySet[M], estate: Estate | None, unit: str) -> QuerySet[M]:
    return qs.filter(**{f"{unit}__estate_id": estate.pk}) if estate is not None else qs


def cases_managed_by(user: User, estate: Estate | None = None) -> QuerySet[Case]:
    """The cases of the units `user` manages (optionally of one estate)."""
    return _in_estate(_scoped(Case.objects.all(), user, "unit"), estate, "unit")


def tasks_managed_by(user: User, estate: Estate | None = None) -> QuerySet[Task]:
    """The tasks of the units `user` manages (optionally of one estate)."""
    return _in_estate(_scoped(Task.objects.all(), user, "unit"), estate, "unit")


# --- (a) cases by stage ------------------------------------------------------------------------


@dataclass(frozen=True)
class StageRow:
    """One stage of the funnel: its open cases and their overdue principal."""

    stage: str
    label: str
    cases: int
    principal_fen: int
    share: int  # percent of the largest stage's cases, for the bar's width


def stage_funnel(*, user: User, estate: Estate | None = None) -> list[StageRow]:
    """Open cases by stage in ladder order (a stage with no case shows 0; cases not yet in a
    stage come first as 未进入阶段). One query."""
    rows = {
        r["stage"]: (r["n"], r["principal"] or 0)
        for r in cases_managed_by(user, estate)
        .filter(status=CaseStatus.OPEN)
        .values("stage")
        .annotate(n=Count("id"), principal=Sum("principal_overdue_fen"))
        .order_by()
    }
    keys = ([""] if "" in rows else []) + list(STAGE_ORDER)
    top = max((n for n, _ in rows.values()), default=0)
    result = []
    for key in keys:
        count, principal = rows.get(key, (0, 0))
        label = str(StageKey(key).label) if key else gettext("未进入阶段")
        share = round(count * 100 / top) if top else 0
        result.append(StageRow(key, label, count, principal, share))
    return result


# --- (b) approvals queue -----------------------------------------------------------------------


@dataclass
class ApprovalsQueue:
    """What waits for a manager's decision: stage approvals (律师函, 法律程序), installment
    plans and waiver requests; each the first QUEUE_LIMIT and the total."""

    stages: list[Task] = field(default_factory=list)
    stages_total: int = 0
    plans: list[InstallmentPlan] = field(default_factory=list)
    plans_total: int = 0
    waivers: list[WaiverRequest] = field(default_factory=list)
    waivers_total: int = 0

    @property
    def total(self) -> int:
        return self.stages_total + self.plans_total + self.waivers_total


def stage_approvals(user: User, estate: Estate | None = None) -> QuerySet[Task]:
    """Open approval tasks of cases still waiting for that stage, oldest due first; each says
    whether `user` asked for it (`own_request`: then someone else approves it)."""
    return (
        tasks_managed_by(user, estate)
        .filter(
            kind=TaskKind.APPROVAL,
            status=TaskStatus.OPEN,
            case__status=CaseStatus.OPEN,
            case__pending_stage=F("stage"),
        )
        .annotate(
            own_request=ExpressionWrapper(Q(requested_by_id=user.pk), output_field=BooleanField())
        )
        .select_related("case", "unit__estate", "assigned_to", "case__collector")
        .order_by("due_on", "-priority", "pk")
    )


def approvals_queue(*, user: User, estate: Estate | None = None) -> ApprovalsQueue:
    """The three queues, six queries. Waiver requests are listed only for a user who may
    decide them (APPROVE_WAIVERS)."""
    stages = stage_approvals(user, estate)
    plans = (
        _in_estate(_scoped(InstallmentPlan.objects.all(), user, "unit"), estate, "unit")
        .filter(status=PlanStatus.REQUESTED)
        .select_related("unit__estate", "requested_by")
        .order_by("requested_at", "pk")
    )
    waivers = _in_estate(
        _scoped(WaiverRequest.objects.all(), user, "charge__unit"), estate, "charge__unit"
    ).filter(status=WaiverRequestStatus.PENDING)
    if not role_can(user, Capability.APPROVE_WAIVERS):
        waivers = waivers.none()
    waivers = waivers.select_related(
        "charge__unit__estate", "charge__fee_item", "requested_by"
    ).order_by("requested_at", "pk")
    return ApprovalsQueue(
        stages=list(stages[:QUEUE_LIMIT]),
        stages_total=stages.count(),
        plans=list(plans[:QUEUE_LIMIT]),
        plans_total=plans.count(),
        waivers=list(waivers[:QUEUE_LIMIT]),
        waivers_total=waivers.count(),
    )


def stage_approval_case(*, user: User, pk: int) -> Case | None:
    """The open case `pk` waiting for a stage approval, if `user` manages it."""
    return (
        cases_managed_by(user)
        .filter(pk=pk, status=CaseStatus.OPEN)
        .exclude(pending_stage="")
        .select_related("unit__estate", "unit__building", "collector")
        .first()
    )


# --- (c) collector workload --------------------------------------------------------------------


@dataclass
class CollectorLoad:
    """One collector's figures within the manager's scope."""

    collector: User
    open_cases: int = 0
    open_tasks: int = 0
    overdue_tasks: int = 0
    contacts_week: int = 0
    promises_pending: int = 0
    promises_kept: int = 0
    promises_broken: int = 0


def _month_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    start = today.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return start, end


def collector_workload(
    *, user: User, estate: Estate | None = None, today: dt.date | None = None
) -> list[CollectorLoad]:
    """Per collector: open cases, open and overdue tasks (approvals left out: they are the
    manager's), contacts recorded in the last CONTACT_DAYS days, and the promises due this month
    by status (a promise counts for whoever recorded it, else the case's collector). The
    collectors are those with a figure and the collectors scoped to the manager's estates; five
    queries whatever their number."""
    today = today or timezone.localdate()
    month_start, month_end = _month_bounds(today)
    loads: dict[int, CollectorLoad] = {}
    figures: dict[int, dict[str, int]] = {}

    def put(user_id: int | None, **values: int) -> None:
        if user_id is not None:
            figures.setdefault(user_id, {}).update(values)

    for case_row in (
        cases_managed_by(user, estate)
        .filter(status=CaseStatus.OPEN, collector__isnull=False)
        .values("collector_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        put(case_row["collector_id"], open_cases=case_row["n"])
    for task_row in (
        tasks_managed_by(user, estate)
        .filter(status=TaskStatus.OPEN, assigned_to__isnull=False)
        .exclude(kind=TaskKind.APPROVAL)
        .values("assigned_to_id")
        .annotate(n=Count("id"), late=Count("id", filter=Q(due_on__lt=today)))
        .order_by()
    ):
        put(task_row["assigned_to_id"], open_tasks=task_row["n"], overdue_tasks=task_row["late"])
    since = timezone.now() - dt.timedelta(days=CONTACT_DAYS)
    for contact_row in (
        _in_estate(_scoped(ContactRecord.objects.all(), user, "unit"), estate, "unit")
        .filter(contacted_at__gte=since, recorded_by__isnull=False)
        .values("recorded_by_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        put(contact_row["recorded_by_id"], contacts_week=contact_row["n"])
    for row in (
        _in_estate(_scoped(Promise.objects.all(), user, "unit"), estate, "unit")
        .filter(promised_on__gte=month_start, promised_on__lte=month_end)
        .annotate(who=Coalesce("contact__recorded_by_id", "case__collector_id"))
        .filter(who__isnull=False)
        .values("who")
        .annotate(
            pending=Count("id", filter=Q(status=PromiseStatus.PENDING)),
            kept=Count("id", filter=Q(status=PromiseStatus.KEPT)),
            broken=Count("id", filter=Q(status=PromiseStatus.BROKEN)),
        )
        .order_by()
    ):
        put(
            row["who"],
            promises_pending=row["pending"],
            promises_kept=row["kept"],
            promises_broken=row["broken"],
        )

    scope = scope_for(user)
    scoped_collectors = Q(role=Role.COLLECTOR)
    if not scope.all:
        scoped_collectors &= Q(scopes__estate_id__in=scope.estate_ids) | Q(
            scopes__building_id__in=scope.building_ids
        )
    if estate is not None:
        scoped_collectors &= Q(scopes__estate_id=estate.pk)
    people = User.objects.filter(Q(pk__in=list(figures)) | (scoped_collectors & Q(is_active=True)))
    if user.company_id is not None:
        people = people.filter(company_id=user.company_id)
    for person in people.distinct().order_by("display_name", "username"):
        loads[person.pk] = CollectorLoad(person, **figures.get(person.pk, {}))
    return sorted(
        loads.values(), key=lambda c: (-c.open_cases, -c.open_tasks, c.collector.username)
    )


# --- (d) overdue tasks -------------------------------------------------------------------------


def overdue_tasks(
    *,
    user: User,
    today: dt.date | None = None,
    estate: Estate | None = None,
    collector: User | None = None,
    kind: str = "",
) -> QuerySet[Task]:
    """Open tasks due before `today`, longest overdue first, with what the list shows."""
    today = today or timezone.localdate()
    tasks = tasks_managed_by(user, estate).filter(status=TaskStatus.OPEN, due_on__lt=today)
    if collector is not None:
        tasks = tasks.filter(assigned_to=collector)
    if kind:
        tasks = tasks.filter(kind=kind)
    return tasks.select_related("case", "unit__estate", "unit__building", "assigned_to").order_by(
        "due_on", "-priority", "pk"
    )
