"""Messaging reads, scoped to the user: templates of the user's company, outbox messages of
the units the user may see (and the sum of their known costs), the preview of a template on a
real unit; and, for the sender, which units of a batch still owe anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.utils import timezone

from propfee.billing.models import Charge
from propfee.core.models import User
from propfee.core.roles import Capability, role_can
from propfee.estates.models import Unit
from propfee.estates.selectors import current_payer, scope_for
from propfee.ledger.rates import principal_outstanding_by_charge
from propfee.messaging.compliance import Problem, template_problems
from propfee.messaging.constants import CONTACTED_STATUSES
from propfee.messaging.models import Message, MessageTemplate
from propfee.messaging.rendering import message_values, text_render


def templates_visible_to(user: User) -> QuerySet[MessageTemplate]:
    """The templates of the user's company, for staff who write, approve or send messages."""
    scope = scope_for(user)
    qs = MessageTemplate.objects.select_related("approved_by", "updated_by")
    allowed = any(
        role_can(user, c)
        for c in (Capability.MANAGE_TEMPLATES, Capability.APPROVE_TEMPLATES, Capability.VIEW_OUTBOX)
    )
    if not allowed or scope.empty:
        return qs.none()
    if scope.company_id is None:
        return qs
    return qs.filter(company_id=scope.company_id)


def messages_visible_to(user: User) -> QuerySet[Message]:
    """Outbox messages of the units in the user's scope, newest first."""
    scope = scope_for(user)
    qs = Message.objects.select_related("unit__estate", "party", "template")
    if not role_can(user, Capability.VIEW_OUTBOX) or scope.empty:
        return qs.none()
    if scope.all:
        return qs.filter(company_id=scope.company_id) if scope.company_id is not None else qs
    return qs.filter(
        Q(unit__estate_id__in=scope.estate_ids) | Q(unit__building_id__in=scope.building_ids)
    )


@dataclass(frozen=True)
class OutboxCost:
    """The cost of a filtered outbox list: the sum of the costs the providers reported, and
    how many sent messages have no reported cost (left out of the sum, never counted as 0)."""

    known_fen: int
    sent_without_cost: int


def outbox_cost(messages: QuerySet[Message]) -> OutboxCost:
    """The known cost of `messages` (a filtered `messages_visible_to`), one aggregate query."""
    totals = messages.order_by().aggregate(
        known=Sum("cost_fen"),
        unknown=Count("id", filter=Q(cost_fen__isnull=True, status__in=CONTACTED_STATUSES)),
    )
    return OutboxCost(known_fen=int(totals["known"] or 0), sent_without_cost=totals["unknown"])


@dataclass(frozen=True)
class UnitsOwing:
    """Which units of a sending batch still owe principal on a day: anything at all
    (`outstanding`), and anything past its due date (`overdue`, a subset)."""

    outstanding: frozenset[int]
    overdue: frozenset[int]


def units_owing(*, unit_ids: Iterable[int], on: dt.date) -> UnitsOwing:
    """The units among `unit_ids` with principal outstanding on `on` (payments received and
    waivers effective up to that day count), and those with some of it overdue (due before
    `on`, design "Arrears and aging"). One query whatever the number of units.

    Principal only, like the arrears ledger and the collection run that opens and closes
    cases: penalty (违约金) needs the engine's replay per unit and is not chased alone."""
    ids = list(unit_ids)
    if not ids:
        return UnitsOwing(frozenset(), frozenset())
    rows = (
        principal_outstanding_by_charge(Charge.objects.filter(unit_id__in=ids), as_of=on)
        .filter(principal_outstanding_fen__gt=0)  # type: ignore[misc]
        .values("unit_id")
        .annotate(earliest_due=Min("due_date"))
        .order_by()
        .values_list("unit_id", "earliest_due")
    )
    outstanding: set[int] = set()
    overdue: set[int] = set()
    for unit_id, earliest_due in rows:
        outstanding.add(unit_id)
        if earliest_due < on:
            overdue.add(unit_id)
    return UnitsOwing(frozenset(outstanding), frozenset(overdue))


@dataclass(frozen=True)
class Preview:
    """A template filled with one unit's figures, and what the compliance check says."""

    subject: str
    body: str
    problems: list[Problem]
    payer_name: str
    note: str = ""


def template_preview(
    *,
    channel: str,
    stage: str,
    audience: str,
    subject: str,
    body: str,
    unit: Unit | None,
    as_of: dt.date | None = None,
) -> Preview:
    """The text as it would be sent to `unit`'s payer today (or sample values without a unit),
    with every compliance problem of the template."""
    from propfee.messaging.constants import VARIABLES

    problems = template_problems(
        channel=channel, stage=stage, audience=audience, subject=subject, body=body
    )
    as_of = as_of or timezone.localdate()
    payer = current_payer(unit=unit, on=as_of) if unit is not None else None
    if unit is None or payer is None:
        values = {name: str(variable.sample) for name, variable in VARIABLES.items()}
        note = "示例数据" if unit is None else f"房屋 {unit.code} 没有登记缴费人，以下为示例数据"
        return Preview(text_render(subject, values), text_render(body, values), problems, "", note)
    values = message_values(unit=unit, payer=payer, as_of=as_of)
    return Preview(text_render(subject, values), text_render(body, values), problems, payer.name)
