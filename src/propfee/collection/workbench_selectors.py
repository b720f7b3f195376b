"""Reads of the collector's workbench (催收工作台): the cases a user may work, a collector's
day (今日任务) with the payer of each unit and the door-to-door route, and
the evening/weekend visit suggestions. Every read is scoped to the user (units outside the
scope do not exist for them) and costs a fixed number of queries whatever the number of rows."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from propfee.collection.constants import PromiseStatus, TaskKind, TaskStatus
from propfee.collection.models import Case, ContactAttachment, Promise, Task
from propfee.core.models import User
from propfee.core.roles import ROLE_CAPABILITIES, Capability, Role, role_can
from propfee.core.workdays import is_working_day
from propfee.estates.models import Estate, Occupancy, Party, PartyPhone, Unit
from propfee.estates.selectors import scope_for

#: Upcoming tasks shown (collapsed) below today's: the next this many days.
UPCOMING_DAYS = 3
#: Owners who work are at home after this time on working days, or at weekends and holidays.
EVENING_FROM = dt.time(18, 30)
REST_DAY_FROM = dt.time(10, 0)
#: Tasks walked from door to door (上门路线): visits and deliveries of notices.
DOOR_KINDS = (TaskKind.VISIT, TaskKind.DELIVER)
PAYERS = "current_payers"

_DIGITS_RE = re.compile(r"\d+")


def cases_workable_by(user: User) -> QuerySet[Case]:
    """The cases `user` may open and work: those of the units in the user's scope (whole
    estates or single buildings), for the roles that work cases; none for the others."""
    qs = Case.objects.all()
    if not role_can(user, Capability.WORK_CASES):
        return qs.none()
    scope = scope_for(user)
    if scope.empty:
        return qs.none()
    if scope.all:
        if scope.company_id is None:
            return qs
        return qs.filter(company_id=scope.company_id)
    return qs.filter(
        Q(estate_id__in=scope.estate_ids) | Q(unit__building_id__in=scope.building_ids)
    )


def contact_attachments_visible_to(user: User) -> QuerySet[ContactAttachment]:
    """The files of the contact records `user` sees: a contact record shows on the timeline
    of its unit's cases, so its files go with the cases the user may work."""
    units = cases_workable_by(user).values("unit_id")
    return ContactAttachment.objects.filter(contact__unit_id__in=units)


def tasks_workable_by(user: User) -> QuerySet[Task]:
    """The tasks of the units `user` may work."""
    if not role_can(user, Capability.WORK_CASES):
        return Task.objects.none()
    scope = scope_for(user)
    qs = Task.objects.all()
    if scope.empty:
        return qs.none()
    if scope.all:
        if scope.company_id is None:
            return qs
        return qs.filter(unit__estate__company_id=scope.company_id)
    return qs.filter(
        Q(unit__estate_id__in=scope.estate_ids) | Q(unit__building_id__in=scope.building_ids)
    )


def collectors_for(user: User) -> QuerySet[User]:
    """The staff whose task lists `user` may look at: everyone of the company who works cases
    for a manager (MANAGE_CASES), else only the user."""
    if not role_can(user, Capability.MANAGE_CASES) or user.company_id is None:
        return User.objects.filter(pk=user.pk)
    roles = [r for r in Role.values if Capability.WORK_CASES in ROLE_CAPABILITIES.get(r, ())]
    return User.objects.filter(company_id=user.company_id, is_active=True, role__in=roles).order_by(
        "display_name", "username"
    )


def _current_payers() -> Prefetch:
    """A unit's current payer occupancy (with the party and its phones) as `unit.current_payers`."""
    return Prefetch(
        "unit__occupancies",
        queryset=Occupancy.objects.filter(until__isnull=True, is_payer=True)
        .select_related("party")
        .prefetch_related(
            Prefetch("party__phones", queryset=PartyPhone.objects.order_by("position"))
        )
        .order_by("since", "pk"),
        to_attr=PAYERS,
    )


def payer_in(unit: Unit) -> Party | None:
    """The prefetched current payer of `unit` (see `_current_payers`)."""
    occupancies = getattr(unit, PAYERS, None)
    if occupancies is None:
        occupancies = list(
            unit.occupancies.filter(until__isnull=True, is_payer=True).select_related("party")
        )
    return occupancies[0].party if occupancies else None


def floor_of(unit: Unit) -> int | None:
    """The unit's floor: the recorded one, else read from the room number (1502 → 15, 302 → 3;
    a room of one or two digits is on the ground floor)."""
    if unit.floor is not None:
        return unit.floor
    digits = "".join(_DIGITS_RE.findall(unit.room or ""))
    if not digits:
        return None
    return int(digits[:-2]) if len(digits) >= 3 else 1


@dataclass(frozen=True)
class VisitSlot:
    """A time an owner who works is likely at home: a working day's evening or a rest day."""

    starts_at: dt.datetime
    is_rest_day: bool


def visit_slots(now: dt.datetime, count: int = 2) -> list[VisitSlot]:
    """The next evening of a working day (from 18:30; today's if it is not past) and the next
    rest day (weekend or statutory holiday, from 10:00), earliest first, by the official working
    days calendar (调休 included)."""
    local = timezone.localtime(now)
    tz = local.tzinfo
    evening: VisitSlot | None = None
    rest: VisitSlot | None = None
    day = local.date()
    for _ in range(60):
        if is_working_day(day):
            start = dt.datetime.combine(day, EVENING_FROM, tzinfo=tz)
            if evening is None and start >= local - dt.timedelta(hours=2):
                evening = VisitSlot(max(start, local.replace(second=0, microsecond=0)), False)
        elif rest is None:
            start = dt.datetime.combine(day, REST_DAY_FROM, tzinfo=tz)
            end = dt.datetime.combine(day, dt.time(20, 30), tzinfo=tz)
            if local < end:
                rest = VisitSlot(max(start, local.replace(second=0, microsecond=0)), True)
        if evening and rest:
            break
        day += dt.timedelta(days=1)
    return sorted([s for s in (evening, rest) if s], key=lambda s: s.starts_at)[:count]


@dataclass
class DayTask:
    """One task of a collector's day, with what the list shows about it."""

    task: Task
    payer: Party | None
    days_overdue: int
    owed_fen: int
    floor: int | None

    @property
    def overdue_task(self) -> bool:
        return self.task.due_on < timezone.localdate()


@dataclass
class RouteFloor:
    floor: int | None
    items: list[DayTask]


@dataclass
class RouteBuilding:
    """One building of the walk: its floors from the bottom up."""

    estate_name: str
    building_name: str
    floors: list[RouteFloor]

    @property
    def count(self) -> int:
        return sum(len(f.items) for f in self.floors)


@dataclass
class CollectorDay:
    """A collector's day (今日任务): due today or overdue (by priority, then due date), the
    next days' tasks, and today's door tasks as a route by building and floor."""

    today: dt.date
    due: list[DayTask] = field(default_factory=list)
    upcoming: list[DayTask] = field(default_factory=list)
    route: list[RouteBuilding] = field(default_factory=list)
    slots: list[VisitSlot] = field(default_factory=list)


def _day_task(task: Task, today: dt.date) -> DayTask:
    case = task.case
    owed = case.principal_overdue_fen + case.penalty_outstanding_fen if case else 0
    oldest = case.oldest_due_date if case else None
    return DayTask(
        task=task,
        payer=payer_in(task.unit),
        days_overdue=(today - oldest).days if oldest and oldest < today else 0,
        owed_fen=owed,
        floor=floor_of(task.unit),
    )


def _route(items: list[DayTask]) -> list[RouteBuilding]:
    def building_key(d: DayTask) -> tuple[str, str, int]:
        unit = d.task.unit
        return (unit.estate.code, unit.building.code, unit.building_id)

    def walk_key(d: DayTask) -> tuple[str, str, int, int, str, str, int]:
        floor = d.floor if d.floor is not None else -1
        unit = d.task.unit
        return (*building_key(d), floor, unit.entrance, unit.room, d.task.pk)

    route = []
    for _, group in groupby(sorted(items, key=walk_key), key=building_key):
        rows = list(group)
        unit = rows[0].task.unit
        floors = [
            RouteFloor(floor=floor, items=list(stops))
            for floor, stops in groupby(rows, key=lambda d: d.floor)
        ]
        route.append(RouteBuilding(unit.estate.name, unit.building.name, floors))
    return route


def collector_day(*, user: User, collector: User, today: dt.date | None = None) -> CollectorDay:
    """`collector`'s open tasks due up to `UPCOMING_DAYS` ahead, as `user` may see them. Three
    queries: the tasks with their case and unit, the payers, their phones."""
    today = today or timezone.localdate()
    tasks = list(
        tasks_workable_by(user)
        .filter(
            assigned_to=collector,
            status=TaskStatus.OPEN,
            due_on__lte=today + dt.timedelta(days=UPCOMING_DAYS),
        )
        .select_related("case", "unit__building", "unit__estate")
        .prefetch_related(_current_payers())
        .order_by("-priority", "due_on", "pk")
    )
    day = CollectorDay(today=today, slots=visit_slots(timezone.now()))
    for task in tasks:
        item = _day_task(task, today)
        (day.due if task.due_on <= today else day.upcoming).append(item)
    day.route = _route([d for d in day.due if d.task.kind in DOOR_KINDS])
    return day


def case_list_rows(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases as the case list shows them: unit, estate, collector, the payer, whether a promise
    is pending; highest priority first."""
    pending = Promise.objects.filter(case=OuterRef("pk"), status=PromiseStatus.PENDING)
    return (
        cases.select_related("unit__building", "estate", "collector")
        .annotate(has_promise=Exists(pending))
        .prefetch_related(_current_payers())
        .order_by("-priority", "-principal_overdue_fen", "pk")
    )


def case_open_tasks(*, case: Case) -> QuerySet[Task]:
    return (
        case.tasks.filter(status=TaskStatus.OPEN)
        .select_related("assigned_to")
        .order_by("due_on", "pk")
    )


def case_with_payer(case: Case) -> Party | None:
    """The current payer of the case's unit, with phones."""
    occupancy = (
        Occupancy.objects.filter(unit_id=case.unit_id, until__isnull=True, is_payer=True)
        .select_related("party")
        .prefetch_related(
            Prefetch("party__phones", queryset=PartyPhone.objects.order_by("position"))
        )
        .order_by("since", "pk")
        .first()
    )
    return occupancy.party if occupancy else None


def estates_of_cases(user: User) -> QuerySet[Estate]:
    """The estates of the cases `user` may work (for the case list's filter)."""
    return Estate.objects.filter(pk__in=cases_workable_by(user).values("estate_id")).order_by(
        "code"
    )
