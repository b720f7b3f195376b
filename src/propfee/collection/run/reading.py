"""What a collection run reads, each in one query whatever the number of units: the policies,
the open cases, holds, promises, payments, message counts and the staff's scopes."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.db.models import Count, Max, Q
from django.utils import timezone

from propfee.collection.constants import (
    ActionKind,
    ActionStatus,
    CaseStatus,
    HoldKind,
    PromiseStatus,
)
from propfee.collection.definition import Definition, definition_parse
from propfee.collection.models import Action, Case, Hold, Promise
from propfee.collection.policies import estate_policy_versions
from propfee.collection.run.plan import STATE_FIELDS, Plan
from propfee.core.bulk import many_values
from propfee.core.models import StaffScope
from propfee.core.roles import Role
from propfee.estates.models import Company, Unit
from propfee.payments.constants import PaymentStatus
from propfee.payments.models import Payment

PREVIEW_LIMIT = 200  # actions listed in a report (the dry-run preview)


def policy_definitions(
    company: Company, override: Definition | None
) -> tuple[dict[int, Definition], dict[int, int | None]]:
    """estate → its policy's definition, and estate → the policy version id (None for
    `override`, an unsaved definition used for every estate)."""
    versions = estate_policy_versions(company)
    parsed: dict[int, Definition] = {}
    by_estate: dict[int, Definition] = {}
    version_ids: dict[int, int | None] = {}
    for estate_id, version in versions.items():
        if override is not None:
            by_estate[estate_id] = override
            version_ids[estate_id] = None
            continue
        if version.pk not in parsed:
            parsed[version.pk] = definition_parse(version.definition)
        by_estate[estate_id] = parsed[version.pk]
        version_ids[estate_id] = version.pk
    if override is not None:
        for estate_id in company.estates.values_list("pk", flat=True):
            by_estate.setdefault(estate_id, override)
            version_ids.setdefault(estate_id, None)
    return by_estate, version_ids


def open_case_rows(company: Company) -> list[dict[str, Any]]:
    """The open cases with the fields the run keeps current."""
    return list(
        Case.objects.filter(company=company, status=CaseStatus.OPEN).values(
            "id", "unit_id", "estate_id", "opened_on", "last_run_on", *STATE_FIELDS
        )
    )


def broken_promise_counts(
    company: Company, as_of: dt.date, unit_ids: Collection[int]
) -> dict[int, int]:
    """unit → promises broken in the 365 days to `as_of`."""
    since = as_of - dt.timedelta(days=365)
    rows = (
        Promise.objects.filter(
            unit__estate__company=company,
            status=PromiseStatus.BROKEN,
            decided_on__gte=since,
        )
        .values("unit_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    wanted = set(unit_ids)
    return {r["unit_id"]: r["n"] for r in rows if r["unit_id"] in wanted}


def collector_scopes(company: Company) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """The active collectors by building and, for the estate-wide ones, by estate."""
    by_building: dict[int, list[int]] = defaultdict(list)
    by_estate: dict[int, list[int]] = defaultdict(list)
    for user_id, estate_id, building_id in StaffScope.objects.filter(
        estate__company=company, user__role=Role.COLLECTOR, user__is_active=True
    ).values_list("user_id", "estate_id", "building_id"):
        if building_id is None:
            by_estate[estate_id].append(user_id)
        else:
            by_building[building_id].append(user_id)
    return by_building, by_estate


def estate_managers(company: Company) -> dict[int, int]:
    """The manager who gets an estate's approval tasks: the first by id scoped to it."""
    managers: dict[int, int] = {}
    for user_id, estate_id in (
        StaffScope.objects.filter(
            estate__company=company, user__role=Role.MANAGER, user__is_active=True
        )
        .order_by("user_id")
        .values_list("user_id", "estate_id")
    ):
        managers.setdefault(estate_id, user_id)
    return managers


def last_payment_days(
    company: Company, as_of: dt.date, unit_ids: Collection[int]
) -> dict[int, dt.date]:
    """unit → the day of its last recorded payment (in the 400 days to `as_of`)."""
    rows = (
        Payment.objects.filter(
            unit__estate__company=company,
            status=PaymentStatus.RECORDED,
            received_on__lte=as_of,
            received_on__gt=as_of - dt.timedelta(days=400),
        )
        .values("unit_id")
        .annotate(last=Max("received_on"))
        .order_by()
    )
    wanted = set(unit_ids)
    return {r["unit_id"]: r["last"] for r in rows if r["unit_id"] in wanted}


def last_promise_days(
    company: Company, as_of: dt.date, unit_ids: Collection[int]
) -> dict[int, dt.date]:
    """unit → the day its last (not cancelled) promise was made, up to `as_of`."""
    rows = (
        Promise.objects.filter(unit__estate__company=company)
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
            if day <= as_of:
                result[r["unit_id"]] = day
    return result


def message_counts(company: Company, as_of: dt.date) -> tuple[dict[int, int], dict[int, int]]:
    """Message actions the run took per case today and in the 7 days to today."""
    rows = (
        Action.objects.filter(
            case__company=company,
            kind=ActionKind.MESSAGE,
            status=ActionStatus.DONE,
            on_date__gt=as_of - dt.timedelta(days=7),
            on_date__lte=as_of,
        )
        .values("case_id")
        .annotate(
            week=Count("id"),
            today=Count("id", filter=Q(on_date=as_of)),
        )
        .order_by()
    )
    today = {r["case_id"]: r["today"] for r in rows}
    week = {r["case_id"]: r["week"] for r in rows}
    return today, week


def hold_rows(company: Company, as_of: dt.date) -> list[Mapping[str, Any]]:
    """The holds in force on `as_of` other than promises' and plans' (the run decides those
    from the promises and plans themselves), oldest first."""
    return list(
        Hold.objects.filter(unit__estate__company=company, starts_on__lte=as_of)
        .filter(Q(released_on__isnull=True) | Q(released_on__gt=as_of))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=as_of))
        .exclude(kind__in=[HoldKind.PROMISE, HoldKind.INSTALLMENT])
        .values("unit_id", "kind", "ends_on", "reason")
        .order_by("starts_on", "id")
    )


def pending_promises(company: Company) -> list[Mapping[str, Any]]:
    return list(
        Promise.objects.filter(unit__estate__company=company, status=PromiseStatus.PENDING).values(
            "id", "unit_id", "amount_fen", "promised_on", "created_at"
        )
    )


def payments_between(
    unit_ids: Iterable[int], start: dt.date, end: dt.date
) -> list[tuple[int, dt.date, int]]:
    """(unit, day, fen) of the payments recorded for `unit_ids` and received in [start, end]."""
    return list(
        Payment.objects.filter(
            unit_id__in=many_values(sorted(set(unit_ids))),
            status=PaymentStatus.RECORDED,
            received_on__gte=start,
            received_on__lte=end,
        ).values_list("unit_id", "received_on", "amount_fen")
    )


def plan_preview(plan: Plan) -> list[dict[str, Any]]:
    """The first PREVIEW_LIMIT actions by priority, as the report lists them."""
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
