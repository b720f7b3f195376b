"""A unit's timeline as the case page shows it (案件动态): charges by period, payments and their
reversals, waivers, messages, contact records, documents and their delivery, promises,
installment plans, holds, service issues, legal steps, limitation restarts and the cases' own
events, newest first. One query per source whatever the length of the history; the lines are
merged and cut into pages in Python (`before` is the cursor of "显示更早的记录")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from propfee.billing.models import Charge
from propfee.collection.models import (
    Case,
    CaseEvent,
    ContactRecord,
    Hold,
    InstallmentPlan,
    LegalMatter,
    LimitationRestart,
    Promise,
    ServiceIssue,
)
from propfee.core.models import User
from propfee.core.money import format_yuan
from propfee.documents.models import DeliveryEvidence, Document
from propfee.ledger.constants import WaiverStatus
from propfee.ledger.models import Waiver
from propfee.messaging.models import Message
from propfee.payments.constants import PaymentStatus
from propfee.payments.models import Payment

#: Lines per page of the case page's timeline.
TIMELINE_PAGE = 50


class Kind:
    """The kinds of lines (the badge), one per source."""

    CHARGE = "charge"
    PAYMENT = "payment"
    REVERSAL = "reversal"
    WAIVER = "waiver"
    MESSAGE = "message"
    CONTACT = "contact"
    DOCUMENT = "document"
    DELIVERY = "delivery"
    PROMISE = "promise"
    PLAN = "plan"
    HOLD = "hold"
    ISSUE = "issue"
    LEGAL = "legal"
    RESTART = "restart"
    EVENT = "event"


def kind_label(kind: str) -> str:
    return {
        Kind.CHARGE: _("应收"),
        Kind.PAYMENT: _("实收"),
        Kind.REVERSAL: _("冲销"),
        Kind.WAIVER: _("减免"),
        Kind.MESSAGE: _("消息"),
        Kind.CONTACT: _("催收记录"),
        Kind.DOCUMENT: _("文书"),
        Kind.DELIVERY: _("送达"),
        Kind.PROMISE: _("承诺缴费"),
        Kind.PLAN: _("分期"),
        Kind.HOLD: _("暂停催收"),
        Kind.ISSUE: _("服务问题"),
        Kind.LEGAL: _("法律事务"),
        Kind.RESTART: _("时效中断"),
        Kind.EVENT: _("案件"),
    }[kind]


#: The CaseEvents that only repeat a row the timeline shows from its own table.
_SHOWN_BY_ROW = {
    ("collection.contactrecord", "contact"),
    ("collection.promise", "promise"),
    ("collection.hold", "hold_created"),
    ("collection.serviceissue", "issue_created"),
    ("collection.installmentplan", "plan_requested"),
}
#: Legal steps come from the matter's own dates; its events but the recovery repeat them.
_LEGAL_TYPE = "collection.legalmatter"
_LEGAL_KEPT_KINDS = {"legal_recovered"}


@dataclass(frozen=True)
class TimelineLine:
    """One line of the timeline: when, what kind (badge), what happened, who, and where to look.
    `date_only` lines (a period, a received date, a legal step) have no time of day; `detail`
    is the exact text shown on expanding (a message's body); `contact` the record in full."""

    at: dt.datetime
    kind: str
    summary: str
    actor: User | None = None
    url: str = ""
    date_only: bool = False
    detail: str = ""
    status: str = ""
    contact: ContactRecord | None = None
    order: tuple[int, int] = (0, 0)  # ties: source rank, row id (newest first)

    @property
    def label(self) -> str:
        return kind_label(self.kind)


@dataclass
class TimelinePage:
    """A page of the timeline, newest first; `next_before` is the cursor of the next (older)
    page, None at the beginning of the history."""

    lines: list[TimelineLine] = field(default_factory=list)
    next_before: dt.datetime | None = None


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _day_after(at: dt.datetime) -> dt.date:
    """The first day none of whose lines are before `at` (for date columns: `day < this`)."""
    local = timezone.localtime(at)
    return local.date() + dt.timedelta(days=1 if local.time() != dt.time.min else 0)


def _yuan(fen: int) -> str:
    return "¥" + format_yuan(fen)


def _url(name: str, *args: Any) -> str:
    return reverse(name, args=args)


@dataclass
class _Source:
    """One source's lines, and the sort key below which it may have left rows out (it fetched
    `limit + 1` rows and there were more)."""

    lines: list[TimelineLine]
    horizon: dt.datetime | None


def _cut(rows: list[Any], limit: int, key: Callable[[Any], dt.datetime]) -> dt.datetime | None:
    if len(rows) > limit:
        return key(rows[-1])
    return None


def _fetch(qs: QuerySet[Any], limit: int) -> list[Any]:
    return list(qs[: limit + 1])


# --- the sources -------------------------------------------------------------------------------


def _events(case: Case, limit: int, before: dt.datetime | None) -> _Source:
    qs = CaseEvent.objects.filter(case__unit_id=case.unit_id).select_related("actor")
    if before is not None:
        qs = qs.filter(happened_at__lt=before)
    rows = _fetch(qs.order_by("-happened_at", "-id"), limit)
    lines = []
    for e in rows:
        if (e.object_type, e.kind) in _SHOWN_BY_ROW:
            continue
        if e.object_type == _LEGAL_TYPE and e.kind not in _LEGAL_KEPT_KINDS:
            continue
        url = ""
        if e.object_type == _LEGAL_TYPE and e.object_id:
            url = _url("collection:legal_detail", e.object_id)
        elif e.object_type == "collection.serviceissue" and e.object_id:
            url = _url("collection:issue_detail", e.object_id)
        lines.append(
            TimelineLine(
                e.happened_at, Kind.EVENT, e.summary, e.actor, url, status=e.kind, order=(0, e.pk)
            )
        )
    return _Source(lines, _cut(rows, limit, lambda e: e.happened_at))


def _charges(case: Case, limit: int, before: dt.datetime | None) -> _Source:
    """One line per billing period: its fee items and amounts, due date."""
    periods = Charge.objects.filter(unit_id=case.unit_id)
    if before is not None:
        periods = periods.filter(period_start__lt=_day_after(before))
    recent = periods.order_by("-period_start").values("period_start").distinct()[: limit + 1]
    rows = list(
        Charge.objects.filter(unit_id=case.unit_id, period_start__in=recent)
        .select_related("fee_item")
        .order_by("-period_start", "fee_item__code", "pk")
    )
    lines = []
    starts = []
    for start, group in groupby(rows, key=lambda c: c.period_start):
        charges = list(group)
        starts.append(start)
        items = "、".join(f"{c.fee_item.name} {_yuan(c.principal_fen)}" for c in charges)
        due = min(c.due_date for c in charges)
        summary = _("%(period)s 应收 %(total)s（%(items)s），应缴日期 %(due)s") % {
            "period": f"{start:%Y-%m}",
            "total": _yuan(sum(c.principal_fen for c in charges)),
            "items": items,
            "due": f"{due:%Y-%m-%d}",
        }
        lines.append(
            TimelineLine(
                _day_start(start),
                Kind.CHARGE,
                summary,
                url=_url("web:unit_detail", case.unit.code),
                date_only=True,
                order=(1, charges[0].pk),
            )
        )
    horizon = _day_start(starts[-1]) if len(starts) > limit else None
    return _Source(lines, horizon)


def _payments(case: Case, limit: int, before: dt.datetime | None) -> _Source:
    qs = Payment.objects.filter(unit_id=case.unit_id).select_related("recorded_by")
    if before is not None:
        qs = qs.filter(received_on__lt=_day_after(before))
    rows = _fetch(qs.order_by("-received_on", "-id"), limit)
    lines = []
    for p in rows:
        summary = _("收款 %(amount)s（%(channel)s，收据号 %(receipt)s）") % {
            "amount": _yuan(p.amount_fen),
            "channel": p.get_channel_display(),
            "receipt": p.receipt_no,
        }
        if p.status == PaymentStatus.REVERSED:
            summary += _("，已冲销")
        lines.append(
            TimelineLine(
                _day_start(p.received_on),
                Kind.PAYMENT,
                summary,
                p.recorded_by,
                _url("documents:receipt", p.pk),
                date_only=True,
                status=p.status,
                order=(2, p.pk),
            )
        )
    return _Source(lines, _cut(rows, limit, lambda p: _day_start(p.received_on)))


def _reversals(case: Case, limit: int, before: dt.datetime | None) -> _Source:
    qs = Payment.objects.filter(unit_id=case.unit_id, reversed_at__isnull=False).select_related(
        "reversed_by"
    )
    if before is not None:
        qs = qs.filter(reversed_at__lt=before)
    rows = _fetch(qs.order_by("-reversed_at", "-id"), limit)
    lines = [
        TimelineLine(
            p.reversed_at,
            Kind.REVERSAL,
            _("冲销 %(received)s 收款 %(amount)s（收据号 %(receipt)s）：%(reason)s")
            % {
                "received": f"{p.received_on:%Y-%m-%d}",
                "amount": _yuan(p.amount_fen),
                "receipt": p.receipt_no,
                "reason": p.reverse_reason,
            },
            p.reversed_by,
            order=(3, p.pk),
        )
        for p in rows
    ]
    return _Source(lines, _cut(rows, limit, lambda p: p.reversed_at))


def _waivers(case: Case, limit: int, before: dt.datetime | None) -> _Source:
    qs = Waiver.objects.filter(charge__unit_id=case.unit_id).select_related(
        "approved_by", "charge__fee_item"
    )
    if before is not None:
        qs = qs.filter(created_at__lt=before)
    rows = _fetch(qs.order_by("-created_at", "-id"), limit)
    lines = []
    for w in rows:
        summary = _("%(kind)s %(charge)s %(component)s %(amount)s：%(reason)s") % {
            "kind": w.get_kind_display(),
            "charge": f"{w.charge.fee_item.name} {w.charge.period_start:%Y-%m}",
            "component": w.get_component_display(),
            "amount": _yuan(w.amount_fen),
            "reason": w.reason,
        }
        if w.status == WaiverStatus.REVERSED:
            summary += _("（已撤销）")
        lines.append(
            TimelineLine(
                w.created_at, Kind.WAIVER, summary, w.approved_by, status=w.status, order=(4, w.pk)
            )
        )
    return _Source(lines, _cut(rows, limit, lambda w: w.created_at))


def _messages(case: Case, limit: int, before: dt.datetime | None) -> _Source:
    qs = Message.objects.filter(unit_id=case.unit_id).select_related("queued_by")
    if before is not None:
        qs = qs.filter(queued_at__lt=before)
    rows = _fetch(qs.order_by("-queued_at", "-id"), limit)
    lines = []
    for m in rows:
        summary = _("%(channel)s · %(status)s · %(title)s") % {
            "channel": m.get_channel_display(),
            "status": m.get_status_display(),
            "title": m.subject or m.body[:40],
        }
        if m.delivered_at:
            summary += _("（送达 %(at)s）") % {
                "at": f"{timezone.localtime(m.delivered_at):%Y-%m-%d %H:%M}"
            }
        lines.append(
            TimelineLine(
                m.queued_at,
                Kind.MESSAGE,
                summary,
                m.queued_by,
                _url("messaging:message_detail", m.pk),
                detail=m.body,
                status=m.status,
                order=(5, m.pk),
            )
        )
    return _Source(lines, _cut(rows, limit, lambda m: m.queued_at))


def _contacts(case: Case, limit: int, before: dt.datetime | None) -> _Source:
    qs = (
        ContactRecord.objects.filter(unit_id=case.unit_id)
        .select_related("recorded_by")
        .prefetch_related("attachments")
    )
    if before is not None:
        qs = qs.filter(contacted_at__lt=before)
    rows = _fetch(qs.order_by("-contacted_at", "-id"), limit)
    lines = [
        TimelineLine(
            c.contacted_at,
            Kind.CONTACT,
            f"{c.get_channel_display()}：{c.get_outcome_display()}",
            c.recorded_by,
            contact=c,
            status=c.outcome,
            order=(6, c.pk),
        )
        for c in rows
    ]
    return _Source(lines, _cut(rows, limit, lambda c: c.contacted_at))


def _documents(case: Case, limit: int, before: dt.datetime | None) -> _Source:
    qs = Document.objects.filter(unit_id=case.unit_id).select_related("created_by")
    if before is not None:
        qs = qs.filter(created_at__lt=before)
    rows = _fetch(qs.order_by("-created_at", "-id"), limit)
    lines = []
    for d in rows:
        summary = f"{d.get_kind_display()} {d.number}".strip() + f"：{d.title}"
        if d.amount_fen is not None:
            summary += _("，金额 %(amount)s") % {"amount": _yuan(d.amount_fen)}
        if d.deadline is not None:
            summary += _("，缴费期限 %(day)s") % {"day": f"{d.deadline:%Y-%m-%d}"}
        lines.append(
            TimelineLine(
                d.created_at,
                Kind.DOCUMENT,
                summary,
                d.created_by,
                _url("documents:document_file", d.pk),
                detail=d.text,
                order=(7, d.pk),
            )
        )
    return _Source(lines, _cut(rows, limit, lambda d: d.created_at))


def _deliveries(case: Case, limit: int, before: dt.datetime | None) -> _Source:
    qs = DeliveryEvidence.objects.filter(document__unit_id=case.unit_id).select_related(
        "document", "recorded_by"
    )
    if before is not None:
        qs = qs.filter(delivered_on__lt=_day_after(before))
    rows = _fetch(qs.order_by("-delivered_on", "-id"), limit)
    lines = []
    for e in rows:
        ref = e.tracking_no or e.reference or e.recipient
        summary = _("%(document)s 已%(method)s") % {
            "document": f"{e.document.get_kind_display()} {e.document.number}".strip(),
            "method": e.get_method_display(),
        }
        if ref:
            summary += f"（{ref}）"
        lines.append(
            TimelineLine(
                _day_start(e.delivered_on),
                Kind.DELIVERY,
                summary,
                e.recorded_by,
                _url("documents:evidence_file", e.pk) if e.file else "",
                date_only=True,
                order=(8, e.pk),
            )
        )
    return _Source(lines, _cut(rows, limit, lambda e: _day_start(e.delivered_on)))


def _promises(case: Case, limit: int, before: dt.datetime | None) -> _Source:
    qs = Promise.objects.filter(unit_id=case.unit_id).select_related("created_by")
    if before is not None:
        qs = qs.filter(created_at__lt=before)
    rows = _fetch(qs.order_by("-created_at", "-id"), limit)
    lines = [
        TimelineLine(
            p.created_at,
            Kind.PROMISE,
            _("承诺于 %(day)s 缴费 %(amount)s（%(status)s）")
            % {
                "day": f"{p.promised_on:%Y-%m-%d}",
                "amount": _yuan(p.amount_fen),
                "status": p.get_status_display(),
            },
            p.created_by,
            status=p.status,
            order=(9, p.pk),
        )
        for p in rows
    ]
    return _Source(lines, _cut(rows, limit, lambda p: p.created_at))


def _plans(case: Case, limit: int, before: dt.datetime | None) -> _Source:
    qs = InstallmentPlan.objects.filter(unit_id=case.unit_id).select_related("requested_by")
    if before is not None:
        qs = qs.filter(requested_at__lt=before)
    rows = _fetch(qs.order_by("-requested_at", "-id"), limit)
    lines = [
        TimelineLine(
            p.requested_at,
            Kind.PLAN,
            _("申请分期 %(total)s（%(status)s）：%(reason)s")
            % {"total": _yuan(p.total_fen), "status": p.get_status_display(), "reason": p.reason},
            p.requested_by,
            _url("collection:plan_list") + f"?unit={case.unit.code}",
            status=p.status,
            order=(10, p.pk),
        )
        for p in rows
    ]
    return _Source(lines, _cut(rows, limit, lambda p: p.requested_at))


def _holds(case: Case, limit: int, before: dt.datetime | None) -> _Source:
    """Holds of their own (manual, hardship, legal, dispute); those of a promise or a plan are
    on the promise's or plan's line."""
    qs = Hold.objects.filter(
        unit_id=case.unit_id, promise__isnull=True, plan__isnull=True
    ).select_related("created_by")
    if before is not None:
        qs = qs.filter(created_at__lt=before)
    rows = _fetch(qs.order_by("-created_at", "-id"), limit)
    lines = []
    for h in rows:
        summary = _("%(kind)s：%(start)s 至 %(end)s") % {
            "kind": h.get_kind_display(),
            "start": f"{h.starts_on:%Y-%m-%d}",
            "end": f"{h.ends_on:%Y-%m-%d}" if h.ends_on else _("另行通知"),
        }
        if h.reason:
            summary += f"，{h.reason}"
        if h.released_on:
            summary += _("（%(day)s 已解除）") % {"day": f"{h.released_on:%Y-%m-%d}"}
        lines.append(
            TimelineLine(
                h.created_at,
                Kind.HOLD,
                summary,
                h.created_by,
                _url("collection:hold_list") + f"?unit={case.unit.code}",
                order=(11, h.pk),
            )
        )
    return _Source(lines, _cut(rows, limit, lambda h: h.created_at))


def _issues(case: Case, limit: int, before: dt.datetime | None) -> _Source:
    qs = ServiceIssue.objects.filter(unit_id=case.unit_id).select_related("raised_by")
    if before is not None:
        qs = qs.filter(created_at__lt=before)
    rows = _fetch(qs.order_by("-created_at", "-id"), limit)
    lines = []
    for i in rows:
        summary = _("%(category)s（%(department)s，%(status)s）：%(description)s") % {
            "category": i.get_category_display(),
            "department": i.department,
            "status": i.get_status_display(),
            "description": i.description[:200],
        }
        if i.is_dispute:
            summary += _("；业主因此拒缴")
        lines.append(
            TimelineLine(
                i.created_at,
                Kind.ISSUE,
                summary,
                i.raised_by,
                _url("collection:issue_detail", i.pk),
                status=i.status,
                order=(12, i.pk),
            )
        )
    return _Source(lines, _cut(rows, limit, lambda i: i.created_at))


#: A legal matter's steps: (date field, who did it, what the line says).
_LEGAL_STEPS: tuple[tuple[str, str, str], ...] = (
    ("prepared_on", "created_by", "准备"),
    ("approved_on", "approved_by", "审批通过"),
    ("filed_on", "", "立案"),
    ("hearing_on", "", "开庭"),
    ("judgment_on", "", "判决"),
    ("enforcement_on", "", "申请执行"),
    ("closed_on", "", "结案"),
)


def _legal_step_label(step: str) -> str:
    return {
        "准备": _("准备"),
        "审批通过": _("审批通过"),
        "立案": _("立案"),
        "开庭": _("开庭"),
        "判决": _("判决"),
        "申请执行": _("申请执行"),
        "结案": _("结案"),
    }[step]


def _legal(case: Case, limit: int, before: dt.datetime | None) -> _Source:
    """One line per step of each matter, on the step's date; matters by their latest step."""
    latest = Coalesce(
        "closed_on",
        "enforcement_on",
        "judgment_on",
        "hearing_on",
        "filed_on",
        "approved_on",
        "prepared_on",
    )
    qs = (
        LegalMatter.objects.filter(unit_id=case.unit_id)
        .select_related("created_by", "approved_by")
        .annotate(latest_on=latest)
    )
    if before is not None:
        qs = qs.filter(prepared_on__lt=_day_after(before))
    rows = _fetch(qs.order_by(F("latest_on").desc(), "-id"), limit)
    lines = []
    for m in rows:
        for step, (field_name, actor_field, label) in enumerate(_LEGAL_STEPS):
            day = getattr(m, field_name)
            if day is None:
                continue
            summary = _("%(kind)s：%(step)s") % {
                "kind": m.get_kind_display(),
                "step": _legal_step_label(label),
            }
            if step == 0 and m.claim_fen:
                summary += _("，主张金额 %(amount)s") % {"amount": _yuan(m.claim_fen)}
            if field_name == "filed_on" and m.docket_no:
                summary += f"（{m.docket_no}）"
            lines.append(
                TimelineLine(
                    _day_start(day),
                    Kind.LEGAL,
                    summary,
                    getattr(m, actor_field) if actor_field else None,
                    _url("collection:legal_detail", m.pk),
                    date_only=True,
                    status=m.status,
                    order=(13, m.pk * 10 + step),
                )
            )
    return _Source(lines, _cut(rows, limit, lambda m: _day_start(m.latest_on)))


def _restarts(case: Case, limit: int, before: dt.datetime | None) -> _Source:
    qs = LimitationRestart.objects.filter(unit_id=case.unit_id)
    if before is not None:
        qs = qs.filter(occurred_on__lt=_day_after(before))
    rows = _fetch(qs.order_by("-occurred_on", "-id"), limit)
    lines = [
        TimelineLine(
            _day_start(r.occurred_on),
            Kind.RESTART,
            f"{r.get_kind_display()}：{r.description}",
            url=_url("collection:limitation_list") + f"?unit={case.unit.code}",
            date_only=True,
            order=(14, r.pk),
        )
        for r in rows
    ]
    return _Source(lines, _cut(rows, limit, lambda r: _day_start(r.occurred_on)))


_SOURCES = (
    _events,
    _charges,
    _payments,
    _reversals,
    _waivers,
    _messages,
    _contacts,
    _documents,
    _deliveries,
    _promises,
    _plans,
    _holds,
    _issues,
    _legal,
    _restarts,
)


def _merge(sources: Iterable[_Source], limit: int, before: dt.datetime | None) -> TimelinePage:
    lines: list[TimelineLine] = []
    horizons: list[dt.datetime] = []
    for source in sources:
        lines.extend(line for line in source.lines if before is None or line.at < before)
        if source.horizon is not None:
            horizons.append(source.horizon)
    lines.sort(key=lambda line: (line.at, line.order), reverse=True)
    # Below the newest horizon a truncated source may have rows it did not fetch: stop there
    # (the next page fetches from it again).
    cutoff = max(horizons) if horizons else None
    if cutoff is not None:
        safe = [line for line in lines if line.at > cutoff]
        lines = safe or [line for line in lines if line.at >= cutoff]
    page = lines[:limit]
    if page:
        # Never split lines of the same moment between two pages (the cursor is "before").
        last = page[-1].at
        page += [line for line in lines[limit:] if line.at == last]
    more = len(page) < len(lines) or cutoff is not None
    return TimelinePage(lines=page, next_before=page[-1].at if page and more else None)


def case_timeline(
    *, case: Case, limit: int = TIMELINE_PAGE, before: dt.datetime | None = None
) -> TimelinePage:
    """Everything about the case's unit, newest first, `limit` lines (a few more when lines of
    the same moment would be split) from before `before`. One query per source (16), however
    long the history."""
    return _merge((source(case, limit, before) for source in _SOURCES), limit, before)
