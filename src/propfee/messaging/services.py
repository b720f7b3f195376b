"""Messaging writes: templates (create, edit, approve, the default set) and the outbox (queue,
send what is due, apply delivery reports, cancel).

Queuing and sending both go through the contact guard (`propfee.messaging.compliance`): only
the unit's current payer's own phone or e-mail, only 08:00–21:00 (configurable, never
22:00–08:00) and not on statutory holidays, at most N a day and M a week per unit. Sending
claims a batch in a short transaction and calls the providers outside it, so no database lock
is held across a network call. At send time a reminder whose unit has paid meanwhile is
cancelled (已缴清), a text the wording guard now refuses is failed and never sent, and a
demand that reached the payer — delivered SMS/WeChat, e-mail accepted
for the payer's own address — records a limitation restart (诉讼时效中断)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation

from propfee.collection.constants import RestartKind
from propfee.collection.models import LimitationRestart
from propfee.core.bulk import many_values
from propfee.core.models import AuditAction, User
from propfee.core.roles import Capability, require
from propfee.core.services import (
    audit_personal_data_redact,
    audit_record,
    model_snapshot,
    snapshot_diff,
)
from propfee.estates.models import Company, Occupancy, Party, PartyPhone, Unit
from propfee.estates.selectors import (
    company_estate_ids,
    current_payer,
    estates_cover_require,
    units_visible_to,
)
from propfee.messaging import providers
from propfee.messaging.compliance import (
    Problem,
    contact_allowed_from,
    contact_caps,
    contact_window,
    day_bounds,
    template_problems,
    template_variables,
    week_bounds,
    wording_problems,
)
from propfee.messaging.constants import (
    CONTACTED_STATUSES,
    DEFAULT_LANGUAGE,
    DEMAND_STAGES,
    PENDING_STATUSES,
    PRE_DUE_STAGES,
    STAGE_LABELS,
    Audience,
    Channel,
    MessageStatus,
    TemplateStatus,
)
from propfee.messaging.exports import recipient_masked
from propfee.messaging.models import Message, MessageTemplate
from propfee.messaging.providers.base import (
    Backend,
    DeliveryReport,
    OutgoingMessage,
    SendResult,
)
from propfee.messaging.rendering import message_values, text_render
from propfee.messaging.selectors import units_owing

TEMPLATE_FIELDS = (
    "name",
    "channel",
    "stage",
    "language",
    "audience",
    "subject",
    "body",
    "provider_template_code",
    "status",
)
# A message claimed by a sender is not due again for this long, so two workers never send it
# twice; if the sender dies mid-call it is retried after the lease.
CLAIM_LEASE = dt.timedelta(minutes=10)
SEND_BATCH = 200
# Limitation dates are Beijing dates, whatever TIME_ZONE says.
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Why a reminder was not sent: the unit paid between queuing and sending.
PAID_OFF_OVERDUE = "已缴清，取消发送（发送前核对：该房屋已无逾期欠费）"
PAID_OFF_OUTSTANDING = "已缴清，取消发送（发送前核对：该房屋已无待缴费用）"
# LimitationRestart.source_type of a restart whose evidence is an outbox message.
RESTART_SOURCE = "messaging.message"


class MessagingError(ValueError):
    """A messaging write the rules refuse; the message is for the user."""


class TemplateProblems(MessagingError):
    """A template with compliance problems: it may not be approved or sent."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("；".join(p.message for p in self.problems))


# --- templates -------------------------------------------------------------------------------


def template_check(template: MessageTemplate) -> list[Problem]:
    """The compliance problems of a stored (or unsaved) template."""
    return template_problems(
        channel=template.channel,
        stage=template.stage,
        audience=template.audience,
        subject=template.subject,
        body=template.body,
    )


@transaction.atomic
def template_create(
    *,
    company: Company,
    name: str,
    channel: str,
    stage: str,
    body: str,
    actor: User | None,
    subject: str = "",
    language: str = DEFAULT_LANGUAGE,
    audience: str = Audience.PAYER,
    provider_template_code: str = "",
) -> MessageTemplate:
    """A new draft template. It may have problems: they are shown, and block approval. A
    template serves the whole company: the actor must cover every estate."""
    estates_cover_require(actor, Capability.MANAGE_TEMPLATES, company_estate_ids(company.pk))
    stage = stage.strip()
    if not stage or not name.strip():
        raise MessagingError("请填写模板名称和催收阶段。")
    if MessageTemplate.objects.filter(
        company=company, channel=channel, stage=stage, language=language, audience=audience
    ).exists():
        raise MessagingError("该渠道、阶段、语言和发送对象已有模板，请直接编辑。")
    template = MessageTemplate.objects.create(
        company=company,
        name=name.strip(),
        channel=channel,
        stage=stage,
        language=language,
        audience=audience,
        subject=subject.strip(),
        body=body.strip(),
        provider_template_code=provider_template_code.strip(),
        updated_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=template,
        after=model_snapshot(template, TEMPLATE_FIELDS),
    )
    return template


@transaction.atomic
def template_update(
    *,
    template: MessageTemplate,
    actor: User | None,
    name: str,
    subject: str,
    body: str,
    provider_template_code: str = "",
) -> MessageTemplate:
    """Edit the text. A changed text returns an approved template to draft: what is sent
    is always exactly what a manager approved. The actor must cover every estate."""
    estates_cover_require(
        actor, Capability.MANAGE_TEMPLATES, company_estate_ids(template.company_id)
    )
    template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
    before = model_snapshot(template, TEMPLATE_FIELDS)
    template.name = name.strip() or template.name
    template.subject = subject.strip()
    template.body = body.strip()
    template.provider_template_code = provider_template_code.strip()
    if (template.subject, template.body, template.provider_template_code) != (
        before["subject"],
        before["body"],
        before["provider_template_code"],
    ):
        template.status = TemplateStatus.DRAFT
        template.approved_by = None
        template.approved_at = None
    template.updated_by = actor
    template.save()
    old, new = snapshot_diff(before, model_snapshot(template, TEMPLATE_FIELDS))
    if new:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=template, before=old, after=new)
    return template


@transaction.atomic
def template_approve(*, template: MessageTemplate, actor: User | None) -> MessageTemplate:
    """Approve a template for sending (审批). Refused while it has any compliance problem, and
    unless the actor covers every estate."""
    estates_cover_require(
        actor, Capability.APPROVE_TEMPLATES, company_estate_ids(template.company_id)
    )
    template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
    problems = template_check(template)
    if problems:
        raise TemplateProblems(problems)
    if template.is_approved:
        return template
    template.status = TemplateStatus.APPROVED
    template.approved_by = actor if actor is not None and actor.is_authenticated else None
    template.approved_at = timezone.now()
    template.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=template,
        before={"status": TemplateStatus.DRAFT},
        after={"status": TemplateStatus.APPROVED},
        note="审批消息模板",
    )
    return template


def template_for(
    *, company_id: int, channel: str, stage: str, language: str = DEFAULT_LANGUAGE
) -> MessageTemplate | None:
    """The approved payer template of a company for a channel, stage and language."""
    return MessageTemplate.objects.filter(
        company_id=company_id,
        channel=channel,
        stage=stage,
        language=language,
        audience=Audience.PAYER,
        status=TemplateStatus.APPROVED,
    ).first()


@transaction.atomic
def messaging_defaults_load(
    *, company: Company, actor: User | None = None, approve: bool = False
) -> int:
    """Add the default templates of the collection ladder (Chinese, polite, lawful) that the
    company does not have yet; returns how many were added. They are drafts for a manager to
    review and approve, unless `approve` (the demo company). Running it again adds nothing.
    Templates serve the whole company: the actor must cover every estate."""
    from propfee.messaging.defaults import DEFAULT_TEMPLATES

    estates_cover_require(actor, Capability.MANAGE_TEMPLATES, company_estate_ids(company.pk))

    existing = set(
        MessageTemplate.objects.filter(company=company, language=DEFAULT_LANGUAGE).values_list(
            "channel", "stage", "audience"
        )
    )
    now = timezone.now()
    added = [
        MessageTemplate(
            company=company,
            name=default.name,
            channel=default.channel,
            stage=default.stage,
            language=DEFAULT_LANGUAGE,
            audience=Audience.PAYER,
            subject=default.subject,
            body=default.body,
            status=TemplateStatus.APPROVED if approve else TemplateStatus.DRAFT,
            approved_at=now if approve else None,
            approved_by=actor if approve and actor is not None else None,
            updated_by=actor,
        )
        for default in DEFAULT_TEMPLATES
        if (default.channel, default.stage, Audience.PAYER) not in existing
    ]
    for template in added:
        problems = template_check(template)
        if problems:  # a default must pass its own checks; a test pins this too
            raise TemplateProblems(problems)
    MessageTemplate.objects.bulk_create(added)
    if added:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="messaging.messagetemplate",
            object_repr="默认消息模板",
            note=f"{company.name}：新增默认消息模板 {len(added)} 个"
            + ("（已审批）" if approve else "（草稿，待审批）"),
        )
    return len(added)


# --- recipients ------------------------------------------------------------------------------


def contacts_of(party: Party, channel: str) -> list[str]:
    """The party's own addresses on `channel`: mobile numbers for SMS, the e-mail address for
    e-mail. WeChat needs an openid bound by the owner portal; none is stored yet."""
    if channel == Channel.SMS:
        return [
            number
            for number in party.phones.order_by("position").values_list("number", flat=True)
            if len(number) == 11 and number.startswith("1")
        ]
    if channel == Channel.EMAIL:
        return [party.email] if party.email else []
    return []


def _payer_contacts(unit_ids: Iterable[int], on: dt.date) -> dict[int, tuple[int, set[str]]]:
    """Each unit's current payer on `on` and every address of theirs (two queries)."""
    rows = list(
        Occupancy.objects.filter(unit_id__in=list(unit_ids), is_payer=True, since__lte=on)
        .filter(Q(until__isnull=True) | Q(until__gte=on))
        .values_list("unit_id", "party_id", "party__email")
    )
    phones: dict[int, set[str]] = defaultdict(set)
    for party_id, number in PartyPhone.objects.filter(
        party_id__in={party_id for _, party_id, _ in rows}
    ).values_list("party_id", "number"):
        phones[party_id].add(number)
    return {
        unit_id: (party_id, phones[party_id] | ({email} if email else set()))
        for unit_id, party_id, email in rows
    }


# --- the guard's counts ----------------------------------------------------------------------


def _contact_counts(unit_ids: Iterable[int], now: dt.datetime) -> dict[int, tuple[int, int]]:
    """Messages that reached each unit's payer today and this week (one query)."""
    day_start, day_end = day_bounds(now)
    week_start, week_end = week_bounds(now)
    rows = (
        Message.objects.filter(
            unit_id__in=list(unit_ids),
            status__in=CONTACTED_STATUSES,
            sent_at__gte=week_start,
            sent_at__lt=week_end,
        )
        .values("unit_id")
        .annotate(
            today=Count("id", filter=Q(sent_at__gte=day_start, sent_at__lt=day_end)),
            week=Count("id"),
        )
        .order_by()
    )
    return {row["unit_id"]: (row["today"], row["week"]) for row in rows}


def _hold_reason_hours(opens: dt.datetime) -> str:
    window = contact_window()
    return (
        f"不在允许联系时段（{window.start:%H:%M}–{window.end:%H:%M}，法定节假日除外），"
        f"顺延至 {timezone.localtime(opens):%Y-%m-%d %H:%M} 发送"
    )


def _next_day_opening(now: dt.datetime) -> dt.datetime:
    _, day_end = day_bounds(now)
    return contact_allowed_from(day_end)


# --- queue -----------------------------------------------------------------------------------


@dataclass
class _Plan:
    status: str
    next_attempt_at: dt.datetime
    error: str = ""


def _guard_plan(
    *, unit_id: int, not_before: dt.datetime | None, now: dt.datetime, counts: tuple[int, int]
) -> _Plan:
    """The queue-time guard: refused at the weekly cap, held for the daily cap or outside
    contact hours, else due at `not_before` (or now)."""
    caps = contact_caps()
    today, week = counts
    if week >= caps.per_week:
        return _Plan(
            MessageStatus.CANCELLED,
            now,
            f"本周已向该房屋发送 {week} 条消息，达到每周上限 {caps.per_week} 条，未发送",
        )
    due = max(now, not_before) if not_before else now
    if today >= caps.per_day and timezone.localtime(due).date() == timezone.localdate(now):
        opens = _next_day_opening(now)
        return _Plan(
            MessageStatus.HELD,
            opens,
            f"今日已向该房屋发送 {today} 条消息，达到每日上限 {caps.per_day} 条，"
            f"顺延至 {timezone.localtime(opens):%Y-%m-%d %H:%M} 发送",
        )
    opens = contact_allowed_from(due)
    if opens != due:
        return _Plan(MessageStatus.HELD, opens, _hold_reason_hours(opens))
    return _Plan(MessageStatus.QUEUED, due)


def message_queue(
    *,
    unit: Unit,
    channel: str,
    template: MessageTemplate,
    key: str,
    actor: User | None,
    as_of: dt.date | None = None,
    deadline: dt.date | None = None,
    not_before: dt.datetime | None = None,
    fallback_channels: Sequence[str] = (),
    recipient: str | None = None,
    values: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
) -> Message:
    """Render `template` for the unit's current payer and store it in the outbox, once per
    `key` (a second call with the same key returns the first message and writes nothing).

    The recipient is the payer's own address on `channel`; a `recipient` that is not one of
    theirs is refused (no third parties). When the payer has no address on `channel`, the
    next of `fallback_channels` that has one is used, with the company's approved template of
    the same stage. `values` may carry precomputed variables (the collection run's figures);
    missing ones come from the unit's statement on `as_of` (today)."""
    return _queue(
        unit=unit,
        channel=channel,
        template=template,
        key=key,
        actor=actor,
        as_of=as_of,
        deadline=deadline,
        not_before=not_before,
        fallback_channels=fallback_channels,
        recipient=recipient,
        values=values,
        now=now,
        fallback_of=None,
    )


def _message_by_key(company_id: int, key: str) -> tuple[str, Message | None]:
    """The idempotency key as stored, and the message already queued under it, if any."""
    key = key.strip()[:200]
    if not key:
        raise MessagingError("缺少幂等键。")
    return key, Message.objects.filter(company_id=company_id, key=key).first()


def _queue(
    *,
    unit: Unit,
    channel: str,
    template: MessageTemplate,
    key: str,
    actor: User | None,
    as_of: dt.date | None,
    deadline: dt.date | None,
    not_before: dt.datetime | None,
    fallback_channels: Sequence[str],
    recipient: str | None,
    values: Mapping[str, str] | None,
    now: dt.datetime | None,
    fallback_of: Message | None,
) -> Message:
    require(actor, Capability.SEND_MESSAGES)
    now = now or timezone.now()
    company_id = unit.estate.company_id
    key, existing = _message_by_key(company_id, key)
    if existing is not None:
        return existing
    # The stored state decides: an edit since the caller loaded it returned it to draft.
    template = MessageTemplate.objects.get(pk=template.pk)
    if template.company_id != company_id:
        raise MessagingError("模板不属于该房屋所在的物业公司。")
    if template.channel != channel:
        raise MessagingError("模板的渠道与发送渠道不一致。")
    if not template.is_approved:
        raise MessagingError(f"模板“{template.name}”尚未审批，不能发送。")
    if template.audience != Audience.PAYER:
        raise MessagingError("催缴消息只能使用面向缴费人的模板。")
    problems = template_check(template)
    if problems:
        raise TemplateProblems(problems)
    as_of = as_of or timezone.localdate(now)
    payer = current_payer(unit=unit, on=as_of)
    if payer is None:
        raise MessagingError(f"房屋 {unit.code} 没有登记缴费人，不能发送催缴消息。")

    remaining = [c for c in fallback_channels if c != channel]
    if recipient is not None:
        if recipient.strip() not in contacts_of(payer, channel):
            raise MessagingError("只能发送到缴费人本人登记的联系方式，不得向其他人发送欠费信息。")
        address = recipient.strip()
    else:
        addresses = contacts_of(payer, channel)
        while not addresses:
            if not remaining:
                raise MessagingError(
                    f"缴费人 {payer.name} 没有登记可用的{Channel(channel).label}联系方式。"
                )
            channel, remaining = remaining[0], remaining[1:]
            found = template_for(
                company_id=company_id,
                channel=channel,
                stage=template.stage,
                language=template.language,
            )
            if found is not None:
                template = found
                addresses = contacts_of(payer, channel)
        address = addresses[0]

    filled = dict(values or {})
    needed = set(_names(template)) - set(filled)
    if needed:
        computed = message_values(unit=unit, payer=payer, as_of=as_of, deadline=deadline)
        filled.update({k: v for k, v in computed.items() if k in needed})
    plan = _guard_plan(
        unit_id=unit.pk,
        not_before=not_before,
        now=now,
        counts=_contact_counts([unit.pk], now).get(unit.pk, (0, 0)),
    )
    try:
        with transaction.atomic():
            message = Message.objects.create(
                company_id=company_id,
                unit=unit,
                party=payer,
                recipient=address,
                channel=channel,
                template=template,
                stage=template.stage,
                subject=text_render(template.subject, filled),
                body=text_render(template.body, filled),
                params={name: filled.get(name, "") for name in _names(template)},
                deadline=deadline,
                status=plan.status,
                next_attempt_at=plan.next_attempt_at,
                not_before=not_before,
                error=plan.error,
                key=key,
                fallback_channels=remaining,
                fallback_of=fallback_of,
                queued_by=actor if actor is not None and actor.is_authenticated else None,
                queued_at=now,
            )
            if actor is not None:
                audit_record(
                    actor=actor,
                    action=AuditAction.CREATE,
                    obj=message,
                    estate_id=unit.estate_id,
                    after={"channel": channel, "recipient": address, "status": plan.status},
                    note=f"消息排队：{template.name}",
                )
    except IntegrityError:
        # The same key queued at the same moment by another process: theirs stands.
        existing = Message.objects.filter(company_id=company_id, key=key).first()
        if existing is None:
            raise
        return existing
    return message


def _names(template: MessageTemplate) -> list[str]:
    """The variables a template uses, subject first."""
    in_subject = template_variables(template.subject)
    return in_subject + [n for n in template_variables(template.body) if n not in in_subject]


#: Channels that carry a text the company writes itself; SMS and WeChat providers only send
#: templates registered with them, so a one-off message goes by e-mail.
FREE_TEXT_CHANNELS = (Channel.EMAIL,)


def message_compose(
    *,
    unit: Unit,
    body: str,
    actor: User | None,
    key: str,
    subject: str = "",
    channel: str = Channel.EMAIL,
    now: dt.datetime | None = None,
) -> Message:
    """A one-off message a collector writes to the unit's current payer (单条消息). The text
    passes the wording guard first (refused with the reasons, nothing stored), then the same
    contact guard as template messages: the payer's own address, contact hours and caps. It
    is checked once more when it is sent. Idempotent by `key`."""
    require(actor, Capability.SEND_MESSAGES)
    if actor is not None and not units_visible_to(actor).filter(pk=unit.pk).exists():
        raise MessagingError("无权向该房屋发送消息。")
    if channel not in FREE_TEXT_CHANNELS:
        raise MessagingError("短信和微信只能按已审批的模板发送；单条消息请使用邮件。")
    subject, body = subject.strip(), body.strip()
    if not body:
        raise MessagingError("正文不能为空。")
    if channel == Channel.EMAIL and not subject:
        raise MessagingError("邮件需要填写标题。")
    problems = wording_problems(f"{subject}\n{body}")
    if problems:
        raise TemplateProblems(problems)
    now = now or timezone.now()
    company_id = unit.estate.company_id
    key, existing = _message_by_key(company_id, key)
    if existing is not None:
        return existing
    payer = current_payer(unit=unit, on=timezone.localdate(now))
    if payer is None:
        raise MessagingError(f"房屋 {unit.code} 没有登记缴费人，不能发送消息。")
    addresses = contacts_of(payer, channel)
    if not addresses:
        raise MessagingError(
            f"缴费人 {payer.name} 没有登记可用的{Channel(channel).label}联系方式。"
        )
    plan = _guard_plan(
        unit_id=unit.pk,
        not_before=None,
        now=now,
        counts=_contact_counts([unit.pk], now).get(unit.pk, (0, 0)),
    )
    with transaction.atomic():
        message = Message.objects.create(
            company_id=company_id,
            unit=unit,
            party=payer,
            recipient=addresses[0],
            channel=channel,
            subject=subject[:200],
            body=body,
            status=plan.status,
            next_attempt_at=plan.next_attempt_at,
            error=plan.error,
            key=key,
            queued_by=actor if actor is not None and actor.is_authenticated else None,
            queued_at=now,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=message,
            estate_id=unit.estate_id,
            after={"channel": channel, "recipient": addresses[0], "status": plan.status},
            note="单条消息排队",
        )
    return message


@transaction.atomic
def message_cancel(*, message: Message, actor: User | None, reason: str) -> Message:
    """Cancel a message that has not been sent yet (待发送/暂缓发送)."""
    require(actor, Capability.SEND_MESSAGES)
    message = Message.objects.select_for_update().get(pk=message.pk)
    if message.status not in PENDING_STATUSES:
        raise MessagingError("只能取消尚未发送的消息。")
    if not reason.strip():
        raise MessagingError("请填写取消原因。")
    before = message.status
    message.status = MessageStatus.CANCELLED
    message.error = f"已取消：{reason.strip()}"[:500]
    message.save(update_fields=["status", "error", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=message,
        estate_id=message.unit.estate_id,
        before={"status": before},
        after={"status": message.status},
        note=message.error,
    )
    return message


# --- send ------------------------------------------------------------------------------------


@dataclass
class SendSummary:
    """What one `messages_send_due` pass did."""

    sent: int = 0
    held: int = 0
    cancelled: int = 0
    retrying: int = 0
    failed: int = 0
    fallbacks: int = 0
    paid_off: int = 0  # of `cancelled`: the unit had paid (已缴清)
    refused: int = 0  # of `failed`: the wording guard refused the text at send time
    restarts: int = 0  # limitation restarts recorded for e-mail demands accepted for delivery
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (
            f"已发送 {self.sent} 条，暂缓 {self.held} 条，取消 {self.cancelled} 条，"
            f"待重试 {self.retrying} 条，失败 {self.failed} 条，改用备用渠道 {self.fallbacks} 条"
        )
        if self.paid_off:
            text += f"（取消中已缴清 {self.paid_off} 条）"
        if self.refused:
            text += f"（失败中措辞检查未通过 {self.refused} 条）"
        return text


def channel_backend(channel: str) -> Backend:
    """The backend that sends `channel` (the providers' registry, settings.PROPFEE_MESSAGING)."""
    return providers.backend_for(channel)


def _retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff: base × 2^(attempts − 1) (1, 2, 4, 8 … minutes by default)."""
    base = getattr(settings, "PROPFEE_MESSAGE_RETRY_SECONDS", 60)
    return dt.timedelta(seconds=base * 2 ** max(0, attempts - 1))


def _max_attempts() -> int:
    return int(getattr(settings, "PROPFEE_MESSAGE_MAX_ATTEMPTS", 5))


def _claim(now: dt.datetime, limit: int) -> list[int]:
    """Take up to `limit` due messages for this sender: push their next attempt past the
    lease in a short transaction (rows another sender holds are skipped on PostgreSQL)."""
    with transaction.atomic():
        due = Message.objects.filter(
            status__in=PENDING_STATUSES, next_attempt_at__lte=now
        ).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:limit])
        Message.objects.filter(id__in=ids).update(next_attempt_at=now + CLAIM_LEASE)
    return ids


def messages_send_due(*, now: dt.datetime | None = None, limit: int = 1000) -> SendSummary:
    """Send the messages that are due, through the backend of each one's channel.

    Outside contact hours everything due is held until the next opening. Inside, a reminder
    whose unit has paid since it was queued is cancelled (已缴清: a demand needs something
    overdue, a pre-due reminder anything outstanding; one query per batch), each other
    message passes the guard again (still the current payer's address; the wording guard, in
    case the rules changed since approval; the unit's daily and weekly caps), then goes to its
    backend. An e-mail demand the server accepts records a
    limitation restart (e-mail has no delivery report). A retryable failure is retried with
    exponential backoff up to PROPFEE_MESSAGE_MAX_ATTEMPTS; a final failure falls back to the
    next channel given at queue time."""
    now = now or timezone.now()
    summary = SendSummary()
    window = contact_window()
    opens = contact_allowed_from(now, window)
    if opens != now:
        summary.held = Message.objects.filter(
            status__in=PENDING_STATUSES, next_attempt_at__lte=now
        ).update(
            status=MessageStatus.HELD,
            next_attempt_at=opens,
            error=_hold_reason_hours(opens),
            updated_at=now,
        )
        return summary
    while limit > 0:
        ids = _claim(now, min(SEND_BATCH, limit))
        if not ids:
            break
        limit -= len(ids)
        _send_batch(ids, now, summary)
    return summary


def _send_batch(ids: list[int], now: dt.datetime, summary: SendSummary) -> None:
    batch = list(
        Message.objects.filter(id__in=ids)
        .select_related("unit__estate__company", "template")
        .order_by("next_attempt_at", "id")
    )
    unit_ids = {m.unit_id for m in batch}
    contacts = _payer_contacts(unit_ids, timezone.localdate(now))
    counts = _contact_counts(unit_ids, now)
    today: Counter[int] = Counter({u: c[0] for u, c in counts.items()})
    week: Counter[int] = Counter({u: c[1] for u, c in counts.items()})
    caps = contact_caps()
    batch = _paid_off_cancel(batch, now, summary)
    backends: dict[str, Backend] = {}
    accepted_demands: list[Message] = []
    for message in batch:
        party_id, addresses = contacts.get(message.unit_id, (None, set()))
        if party_id != message.party_id or message.recipient not in addresses:
            _finish(
                message,
                MessageStatus.CANCELLED,
                "接收人已不是该房屋当前缴费人登记的联系方式，未发送",
            )
            summary.cancelled += 1
            continue
        if week[message.unit_id] >= caps.per_week:
            _finish(
                message,
                MessageStatus.CANCELLED,
                f"本周已向该房屋发送 {week[message.unit_id]} 条消息，"
                f"达到每周上限 {caps.per_week} 条，未发送",
            )
            summary.cancelled += 1
            continue
        refused = wording_problems(f"{message.subject}\n{message.body}")
        if refused:
            # The rules may have changed since the template was approved or the message
            # queued: what would leave the company now is checked again and never sent.
            _finish(message, MessageStatus.FAILED, _refused_reason(refused))
            summary.failed += 1
            summary.refused += 1
            continue
        if today[message.unit_id] >= caps.per_day:
            opens = _next_day_opening(now)
            message.status = MessageStatus.HELD
            message.next_attempt_at = opens
            message.error = (
                f"今日已向该房屋发送 {today[message.unit_id]} 条消息，达到每日上限 "
                f"{caps.per_day} 条，顺延至 {timezone.localtime(opens):%Y-%m-%d %H:%M} 发送"
            )
            message.save(update_fields=["status", "next_attempt_at", "error", "updated_at"])
            summary.held += 1
            continue
        try:
            backend = backends.get(message.channel) or channel_backend(message.channel)
            backends[message.channel] = backend
            result = backend.send(_outgoing(message))
            provider = backend.name
        except Exception as error:  # a backend must never stop the other messages
            result = SendResult(accepted=False, error=str(error)[:400], retryable=True)
            provider = message.provider
        message.attempts += 1
        message.provider = provider
        if result.accepted:
            message.status = MessageStatus.SENT
            message.sent_at = now
            message.provider_id = result.provider_id
            message.cost_fen = result.cost_fen
            message.error = ""
            message.next_attempt_at = None
            message.save()
            today[message.unit_id] += 1
            week[message.unit_id] += 1
            summary.sent += 1
            if _accepted_means_reached(message):
                accepted_demands.append(message)
        elif result.retryable and message.attempts < _max_attempts():
            message.status = MessageStatus.QUEUED
            message.next_attempt_at = now + _retry_delay(message.attempts)
            message.error = f"第 {message.attempts} 次发送失败，将重试：{result.error}"[:500]
            message.save()
            summary.retrying += 1
        else:
            _finish(message, MessageStatus.FAILED, f"发送失败：{result.error}")
            summary.failed += 1
            if _fallback(message, now, summary):
                summary.fallbacks += 1
    if accepted_demands:
        # After the batch, one insert: a crash between a message's save and here loses only
        # the restart of an e-mail (the clock then shows the earlier, safer expiry date).
        summary.restarts += _restarts_record(
            [(m, timezone.localtime(now, SHANGHAI).date()) for m in accepted_demands]
        )


def _refused_reason(problems: Sequence[Problem]) -> str:
    return "发送前措辞检查未通过，未发送：" + "；".join(p.message for p in problems)


def _paid_off_cancel(batch: list[Message], now: dt.datetime, summary: SendSummary) -> list[Message]:
    """Cancel the reminders of the batch whose unit has paid since they were queued, and
    return the others. A demand (DEMAND_STAGES) goes out only while the unit owes something
    overdue, a pre-due reminder only while anything is outstanding; other stages are not
    checked. One read for the batch and at most one update per reason, whatever its size."""
    checked = [m for m in batch if m.stage in DEMAND_STAGES or m.stage in PRE_DUE_STAGES]
    if not checked:
        return batch
    owing = units_owing(unit_ids={m.unit_id for m in checked}, on=timezone.localdate(now))
    reasons: dict[int, str] = {}
    for message in checked:
        if message.stage in PRE_DUE_STAGES:
            if message.unit_id not in owing.outstanding:
                reasons[message.pk] = PAID_OFF_OUTSTANDING
        elif message.unit_id not in owing.overdue:
            reasons[message.pk] = PAID_OFF_OVERDUE
    for reason in set(reasons.values()):
        Message.objects.filter(
            pk__in=[pk for pk, why in reasons.items() if why == reason],
            status__in=PENDING_STATUSES,
        ).update(status=MessageStatus.CANCELLED, error=reason, next_attempt_at=None, updated_at=now)
    summary.cancelled += len(reasons)
    summary.paid_off += len(reasons)
    return [m for m in batch if m.pk not in reasons]


# --- limitation restarts ---------------------------------------------------------------------


def _is_evidence(message: Message) -> bool:
    """A demand sent by a backend that contacts people (not the console)."""
    return message.stage in DEMAND_STAGES and message.provider not in providers.SIMULATED_BACKENDS


def _accepted_means_reached(message: Message) -> bool:
    """E-mail has no delivery receipt: a demand the mail server accepted for the payer's own
    registered address "should have reached" them (诉讼时效规定 art. 8; 民法典 art. 137), so
    acceptance is its delivery for the limitation clock. SMS and WeChat wait for the
    provider's delivery report."""
    return message.channel == Channel.EMAIL and _is_evidence(message)


def _restart_description(message: Message) -> str:
    with translation.override("zh-hans"):
        stage = str(STAGE_LABELS.get(message.stage, message.stage))
        channel = str(Channel(message.channel).label)
    shown = recipient_masked(message)
    if message.channel == Channel.EMAIL:
        text = f"{stage}邮件已由邮件服务器接收，发往缴费人登记邮箱（{shown}），应当到达"
    else:
        text = f"{stage}{channel}已送达缴费人（{shown}）"
    return f"{text}；消息 #{message.pk}"


def _restarts_record(delivered: Sequence[tuple[Message, dt.date]]) -> int:
    """Record a limitation restart (催告送达) for each (demand, day it reached the payer), once
    per message (the unique source constraint makes a repeat a no-op), with one audit row for
    them all. Returns how many demands were given."""
    if not delivered:
        return 0
    with transaction.atomic():
        LimitationRestart.objects.bulk_create(
            [
                LimitationRestart(
                    unit_id=message.unit_id,
                    kind=RestartKind.DEMAND,
                    occurred_on=day,
                    description=_restart_description(message)[:500],
                    source_type=RESTART_SOURCE,
                    source_id=message.pk,
                )
                for message, day in delivered
            ],
            ignore_conflicts=True,
        )
        audit_record(
            actor=None,
            action=AuditAction.CREATE,
            object_type="collection.limitationrestart",
            object_repr="时效中断（电子催告送达）",
            after={"message_ids": [message.pk for message, _ in delivered]},
            note=f"电子催告已到达缴费人，登记诉讼时效中断 {len(delivered)} 条",
        )
    return len(delivered)


def _outgoing(message: Message) -> OutgoingMessage:
    template = message.template
    return OutgoingMessage(
        message_id=message.pk,
        channel=message.channel,
        recipient=message.recipient,
        subject=message.subject,
        body=message.body,
        template_code=template.provider_template_code if template else "",
        params={k: str(v) for k, v in (message.params or {}).items()},
    )


def _finish(message: Message, status: str, error: str) -> None:
    message.status = status
    message.error = error[:500]
    message.next_attempt_at = None
    message.save()


def _fallback(message: Message, now: dt.datetime, summary: SendSummary) -> Message | None:
    """Queue the message again on the next fallback channel that can reach the payer."""
    if not message.fallback_channels or message.template is None:
        return None
    template = None
    remaining = list(message.fallback_channels)
    while remaining and template is None:
        channel = remaining.pop(0)
        template = template_for(
            company_id=message.company_id,
            channel=channel,
            stage=message.stage,
            language=message.template.language,
        )
    if template is None:
        message.error = f"{message.error}；备用渠道没有已审批的模板"[:500]
        message.save(update_fields=["error", "updated_at"])
        return None
    try:
        return _queue(
            unit=message.unit,
            channel=template.channel,
            template=template,
            key=f"{message.key}>{template.channel}",
            actor=None,
            as_of=timezone.localdate(now),
            deadline=message.deadline,
            not_before=None,
            fallback_channels=remaining,
            recipient=None,
            values=None,
            now=now,
            fallback_of=message,
        )
    except MessagingError as error:
        message.error = f"{message.error}；改用备用渠道失败：{error}"[:500]
        message.save(update_fields=["error", "updated_at"])
        summary.errors.append(str(error))
        return None


# --- delivery reports ------------------------------------------------------------------------


def _report_skew() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "PROPFEE_DELIVERY_REPORT_SKEW_SECONDS", 300)))


def delivery_time_clamp(
    message: Message, at: dt.datetime, now: dt.datetime
) -> tuple[dt.datetime, bool]:
    """The delivery time to record for a report dated `at`, and whether the date can be
    trusted. A message cannot reach anyone before it was sent, nor after now: the time is
    clamped to [sent, now]. A date up to PROPFEE_DELIVERY_REPORT_SKEW_SECONDS (default 5
    minutes) ahead of our clock is the provider's clock running fast and is trusted; a date
    before sending or further ahead is not — the message is delivered all the same, but such
    a report never restarts the limitation clock (it would be evidence of a day nobody can
    vouch for)."""
    sent = message.sent_at or message.queued_at
    trusted = sent <= at <= now + _report_skew()
    return max(sent, min(at, now)), trusted


def _untrusted_time_note(at: dt.datetime) -> str:
    shown = f"{timezone.localtime(at, SHANGHAI):%Y-%m-%d %H:%M:%S}"
    return f"送达回执时间异常（{shown}，早于发送时间或晚于当前时间），未登记诉讼时效中断"


@transaction.atomic
def delivery_report_apply(*, provider: str, reports: Sequence[DeliveryReport]) -> int:
    """Record the provider's delivery reports (送达回执): delivered, or undeliverable — which
    falls back to the next channel. A delivered demand (DEMAND_STAGES, not the console)
    records a limitation restart on its delivery day in Beijing time, unless the report's date
    cannot be trusted (`delivery_time_clamp`: before sending, or in the future). Reports for
    unknown ids are ignored; a report applied twice changes nothing. Returns how many messages
    changed."""
    by_id = {
        m.provider_id: m
        for m in Message.objects.filter(
            provider=provider, provider_id__in=[r.provider_id for r in reports if r.provider_id]
        ).select_related("unit__estate", "template")
    }
    changed = 0
    now = timezone.now()
    demands: list[tuple[Message, dt.date]] = []
    for report in reports:
        message = by_id.get(report.provider_id)
        if message is None or message.status in (
            MessageStatus.DELIVERED,
            MessageStatus.FAILED,
            MessageStatus.CANCELLED,
        ):
            continue
        if report.delivered:
            at, trusted = delivery_time_clamp(message, report.at, now)
            message.status = MessageStatus.DELIVERED
            message.delivered_at = at
            message.error = "" if trusted else _untrusted_time_note(report.at)
            message.save(update_fields=["status", "delivered_at", "error", "updated_at"])
            if trusted and _is_evidence(message):
                demands.append((message, timezone.localtime(at, SHANGHAI).date()))
        else:
            message.status = MessageStatus.FAILED
            message.error = f"未送达：{report.error or '服务商未说明原因'}"[:500]
            message.save(update_fields=["status", "error", "updated_at"])
            _fallback(message, now, SendSummary())
        changed += 1
    _restarts_record(demands)
    return changed


# --- retention (个人信息删除) ------------------------------------------------------------------


def messages_recipient_redact(*, party_ids: Sequence[int]) -> int:
    """Replace the stored recipient address of the parties' messages by its masked form
    (138****5678, w***@example.cn), as lists show it, when their personal data is removed.
    The exact texts stay: they are the evidence of what was demanded and when (docs/decisions.md).
    Cancels nothing: a party past retention owes nothing, so nothing of theirs is pending.
    Returns the messages changed; batches of a fixed number of queries."""
    messages = list(
        Message.objects.filter(party_id__in=many_values(list(party_ids)))
        .only("pk", "channel", "recipient")
        .order_by("pk")
    )
    changed = []
    for message in messages:
        masked = recipient_masked(message)
        if masked != message.recipient:
            message.recipient = masked
            changed.append(message)
    Message.objects.bulk_update(changed, ["recipient"], batch_size=500)
    audit_personal_data_redact(
        object_type=Message._meta.label_lower,
        object_ids=[m.pk for m in messages],
        keys=("recipient",),
    )
    return len(changed)
