"""The reminder before the due date (缴费提醒, the policy's `pre_due` stage): a message to the
payer of every unit with a charge due in N days (the stage's `days_before_due`) that still has
principal outstanding. It is not a case stage — nothing is overdue yet — so it runs beside the
daily run rather than inside it.

The selection is one query for the whole company; each message then goes through messaging's
queue (the payer's own address, the contact window, the daily and weekly caps), keyed
"predue:<unit id>:<due date>" so a second call the same day, or the next day, queues nothing
new. A dry run counts what would be queued and writes nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from propfee.billing.models import Charge
from propfee.collection.constants import StageKey
from propfee.collection.definition import MessageAction, definition_parse
from propfee.collection.policies import estate_policy_versions
from propfee.core.models import AuditAction, User
from propfee.core.money import format_yuan
from propfee.estates.models import Company, Unit
from propfee.ledger.constants import Component, WaiverStatus
from propfee.ledger.models import Allocation, Waiver
from propfee.payments.constants import PaymentStatus
from propfee.payments.models import Payment

#: Days before the due date when a policy's pre_due stage does not say (the design's ladder).
DEFAULT_DAYS_BEFORE_DUE = 3
#: Units loaded at a time for queuing.
CHUNK = 500
#: Errors kept in a report (the count is always complete).
ERRORS_KEPT = 50


def pre_due_key(unit_id: int, due_date: dt.date) -> str:
    """The idempotency key of a unit's reminder for the charges due on `due_date`."""
    return f"predue:{unit_id}:{due_date:%Y-%m-%d}"


@dataclass(frozen=True)
class UnitDueSoon:
    """A unit's principal outstanding on the charges due on `due_date`."""

    unit_id: int
    estate_id: int
    due_date: dt.date
    principal_fen: int
    first_period: dt.date
    last_period: dt.date
    months: int


@dataclass(frozen=True)
class _EstateReminder:
    days_before_due: int
    action: MessageAction


@dataclass
class PreDueReport:
    """What a call did (or, dry, would do)."""

    as_of: str
    dry_run: bool
    due_dates: list[str] = field(default_factory=list)
    units: int = 0
    queued: int = 0
    already_queued: int = 0
    failed: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):  # SQLite returns dates computed by MIN()/MAX() as text
        return dt.date.fromisoformat(value[:10])
    assert isinstance(value, dt.date)
    return value


def _month_key(value: Any) -> str:
    return f"{_as_date(value):%Y-%m}"


def due_soon_by_unit(
    *, due_on_by_estate: Mapping[int, dt.date], as_of: dt.date
) -> list[UnitDueSoon]:
    """The units of the given estates with principal outstanding on `as_of` (payments received
    and waivers effective up to that day count, as in `principal_outstanding_by_charge`) on
    the charges due on their estate's date. One query: allocations and waivers are summed once
    per target charge (grouped, joined) rather than in a subquery per charge."""
    if not due_on_by_estate:
        return []
    quote = connection.ops.quote_name
    charge, unit = (quote(m._meta.db_table) for m in (Charge, Unit))
    allocation, payment, waiver = (quote(m._meta.db_table) for m in (Allocation, Payment, Waiver))
    estates_by_date: dict[dt.date, list[int]] = defaultdict(list)
    for estate_id, due_on in sorted(due_on_by_estate.items()):
        estates_by_date[due_on].append(estate_id)
    where: list[str] = []
    params: list[Any] = []
    for due_on, estate_ids in sorted(estates_by_date.items()):
        where.append(
            f"(u.estate_id IN ({', '.join(['%s'] * len(estate_ids))}) AND c.due_date = %s)"
        )
        params.extend([*estate_ids, due_on])
    sql = f"""
        WITH target AS (
            SELECT c.id, c.unit_id, u.estate_id, c.due_date, c.period_start, c.principal_fen
            FROM {charge} c JOIN {unit} u ON u.id = c.unit_id
            WHERE {" OR ".join(where)}
        ), paid AS (
            SELECT a.charge_id, SUM(a.amount_fen) AS fen
            FROM {allocation} a
            JOIN target t ON t.id = a.charge_id
            JOIN {payment} p ON p.id = a.payment_id
            WHERE a.superseded_at IS NULL AND a.component = %s
              AND p.status = %s AND p.received_on <= %s
            GROUP BY a.charge_id
        ), waived AS (
            SELECT w.charge_id, SUM(w.amount_fen) AS fen
            FROM {waiver} w JOIN target t ON t.id = w.charge_id
            WHERE w.status = %s AND w.component = %s AND w.effective_on <= %s
            GROUP BY w.charge_id
        )
        SELECT t.unit_id, t.estate_id, t.due_date, t.period_start,
               t.principal_fen - COALESCE(paid.fen, 0) - COALESCE(waived.fen, 0) AS owed
        FROM target t
        LEFT JOIN paid ON paid.charge_id = t.id
        LEFT JOIN waived ON waived.charge_id = t.id
        WHERE t.principal_fen - COALESCE(paid.fen, 0) - COALESCE(waived.fen, 0) > 0
        ORDER BY t.unit_id, t.due_date
    """
    params += [
        Component.PRINCIPAL,
        PaymentStatus.RECORDED,
        as_of,
        WaiverStatus.ACTIVE,
        Component.PRINCIPAL,
        as_of,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # Summed here rather than grouped in SQL: the rows are the charges due on one or two days,
    # and the months they bill are needed for the message's wording.
    grouped: dict[tuple[int, int, dt.date], list[tuple[dt.date, int]]] = defaultdict(list)
    for unit_id, estate_id, due_date, period_start, owed in rows:
        grouped[(unit_id, estate_id, _as_date(due_date))].append((_as_date(period_start), owed))
    return [
        UnitDueSoon(
            unit_id=unit_id,
            estate_id=estate_id,
            due_date=due_date,
            principal_fen=sum(int(owed) for _, owed in lines),
            first_period=min(start for start, _ in lines),
            last_period=max(start for start, _ in lines),
            months=len({_month_key(start) for start, _ in lines}),
        )
        for (unit_id, estate_id, due_date), lines in grouped.items()
    ]


def _estate_reminders(company: Company) -> dict[int, _EstateReminder]:
    """Each estate's pre-due reminder from the policy it follows; estates whose policy has no
    pre_due stage (or no message in it) are left out."""
    parsed: dict[int, _EstateReminder | None] = {}
    result: dict[int, _EstateReminder] = {}
    for estate_id, version in estate_policy_versions(company).items():
        if version.pk not in parsed:
            stage = definition_parse(version.definition).stage(StageKey.PRE_DUE)
            action = (
                next((a for a in stage.actions if isinstance(a, MessageAction)), None)
                if stage is not None
                else None
            )
            parsed[version.pk] = (
                None
                if stage is None or action is None
                else _EstateReminder(
                    days_before_due=DEFAULT_DAYS_BEFORE_DUE
                    if stage.enter.days_before_due is None
                    else stage.enter.days_before_due,
                    action=action,
                )
            )
        found = parsed[version.pk]
        if found is not None:
            result[estate_id] = found
    return result


def _already_queued(company: Company, due: list[UnitDueSoon]) -> set[str]:
    """The keys among `due`'s that messaging already holds (one query, by due date rather than
    by a list of every key)."""
    dates = sorted({item.due_date for item in due})
    if not dates:
        return set()
    from propfee.messaging.models import Message

    match = Q()
    for day in dates:
        match |= Q(key__endswith=f":{day:%Y-%m-%d}")
    return set(
        Message.objects.filter(match, company_id=company.pk, key__startswith="predue:").values_list(
            "key", flat=True
        )
    )


def _month_words(day: dt.date) -> str:
    return f"{day.year}年{day.month}月"


def _values(item: UnitDueSoon) -> dict[str, str]:
    """The figures of the charges due (the statement's figures would add what is already
    overdue, which the run's own reminders speak of)."""
    periods = _month_words(item.first_period)
    if item.last_period != item.first_period and item.months > 1:
        periods += f"至{_month_words(item.last_period)}"
    amount = format_yuan(item.principal_fen)
    return {
        "periods": periods,
        "months": str(item.months),
        "amount": amount,
        "principal": amount,
        "penalty": format_yuan(0),
        "due_date": f"{item.due_date.year}年{item.due_date.month}月{item.due_date.day}日",
    }


def pre_due_reminders(
    *, company: Company, as_of: dt.date, dry_run: bool = False, actor: User | None = None
) -> PreDueReport:
    """Queue the pre-due reminder (缴费提醒) of every unit of `company` with a charge due
    `days_before_due` days after `as_of` (per the estate's policy) and principal outstanding
    on it: one message per unit and due date through messaging, with the company's approved
    template of the stage's channel (or of its fallbacks). Units whose message was queued
    before are counted as `already_queued`; a unit messaging refuses (no payer, no address,
    no approved template) is counted as `failed` with the reason and does not stop the others.
    `dry_run` counts what would be queued and writes nothing."""
    from propfee.messaging.models import MessageTemplate
    from propfee.messaging.services import MessagingError, message_queue, template_for

    report = PreDueReport(as_of=f"{as_of:%Y-%m-%d}", dry_run=dry_run)
    reminders = _estate_reminders(company)
    due_on = {
        estate_id: as_of + dt.timedelta(days=reminder.days_before_due)
        for estate_id, reminder in reminders.items()
    }
    report.due_dates = sorted({f"{day:%Y-%m-%d}" for day in due_on.values()})
    due = due_soon_by_unit(due_on_by_estate=due_on, as_of=as_of)
    report.units = len(due)
    existing = _already_queued(company, due)
    new = [item for item in due if pre_due_key(item.unit_id, item.due_date) not in existing]
    report.already_queued = len(due) - len(new)
    if dry_run:
        report.queued = len(new)
        return report

    templates: dict[MessageAction, MessageTemplate | None] = {}

    def template_of(action: MessageAction) -> MessageTemplate | None:
        if action not in templates:
            templates[action] = next(
                (
                    found
                    for channel in (action.channel, *action.fallback)
                    if (
                        found := template_for(
                            company_id=company.pk, channel=channel, stage=action.template
                        )
                    )
                    is not None
                ),
                None,
            )
        return templates[action]

    statuses: Counter[str] = Counter()

    def fail(item: UnitDueSoon, reason: str) -> None:
        report.failed += 1
        if len(report.errors) < ERRORS_KEPT:
            report.errors.append(f"{pre_due_key(item.unit_id, item.due_date)}：{reason}")

    for start in range(0, len(new), CHUNK):
        chunk = new[start : start + CHUNK]
        units = Unit.objects.select_related("estate__company", "building").in_bulk(
            [item.unit_id for item in chunk]
        )
        for item in chunk:
            action = reminders[item.estate_id].action
            template = template_of(action)
            channels = [action.channel, *action.fallback]
            if template is None:
                fail(item, f"没有已审批的“{action.template}”阶段消息模板（{'/'.join(channels)}）")
                continue
            try:
                with transaction.atomic():
                    message = message_queue(
                        unit=units[item.unit_id],
                        channel=template.channel,
                        template=template,
                        key=pre_due_key(item.unit_id, item.due_date),
                        actor=actor,
                        as_of=as_of,
                        deadline=item.due_date,
                        fallback_channels=[c for c in channels if c != template.channel],
                        values=_values(item),
                    )
            except MessagingError as exc:
                fail(item, str(exc))
                continue
            report.queued += 1
            statuses[message.status] += 1
    report.by_status = dict(sorted(statuses.items()))
    if report.queued:
        _audit(company, report, actor)
        _send_later()
    return report


def _audit(company: Company, report: PreDueReport, actor: User | None) -> None:
    from propfee.core.services import audit_record

    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="messaging.message",
            object_repr="缴费提醒",
            after={"as_of": report.as_of, "queued": report.queued, "due_dates": report.due_dates},
            note=f"{company.name}：缴费提醒排队 {report.queued} 条（{report.as_of}）",
        )


def _send_later() -> None:
    from propfee.messaging.tasks import messages_send

    def enqueue() -> None:
        try:
            messages_send.enqueue()
        except Exception:  # the worker may be off; cron's `messages send` sends them
            return

    transaction.on_commit(enqueue)
