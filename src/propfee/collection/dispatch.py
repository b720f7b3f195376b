"""Handing a run's message and document actions to messaging and documents (派发).

The run writes the actions set-based and quickly; each message then goes through messaging's
queue (the payer's own address, the contact window, the daily and weekly caps — the compliance
guard lives there) and each document is rendered by documents. Both are idempotent: the
message key is the action key, and an action is dispatched once (`dispatched_at`). A failure
is kept on the action (`detail["error"]`) and does not stop the others."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from propfee.collection.constants import ActionKind, ActionStatus
from propfee.collection.models import Action, DunningRun
from propfee.core.models import User


@dataclass
class DispatchSummary:
    messages: int = 0
    documents: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _message_send(action: Action, actor: User | None) -> dict[str, object]:
    """Queue the message of a message action through messaging; returns what to keep."""
    from propfee.messaging.services import message_queue, template_for

    detail = action.detail
    unit = action.case.unit
    channels = [detail["channel"], *detail.get("fallback", [])]
    template = None
    for channel in channels:
        template = template_for(
            company_id=action.case.company_id, channel=channel, stage=detail["template"]
        )
        if template is not None:
            break
    if template is None:
        raise ValueError(f"没有已审批的“{detail['template']}”阶段消息模板（{'/'.join(channels)}）")
    message = message_queue(
        unit=unit,
        channel=template.channel,
        template=template,
        key=action.key,
        actor=actor,
        as_of=action.on_date,
        fallback_channels=[c for c in channels if c != template.channel],
    )
    return {"message": message.pk, "message_status": message.status}


def _document_render(action: Action, actor: User | None) -> dict[str, object]:
    """Render the document of a document action through documents."""
    from propfee.documents.services import document_render

    detail = action.detail
    document = document_render(
        kind=detail["document"],
        unit=action.case.unit,
        actor=actor,
        as_of=action.on_date,
        deadline_days=detail.get("deadline_days"),
    )
    return {"document_id": document.pk}


def dunning_dispatch(
    *, run: DunningRun | None = None, actor: User | None, limit: int | None = None
) -> DispatchSummary:
    """Dispatch the message and document actions not dispatched yet (of `run`, else all)."""
    summary = DispatchSummary()
    actions = Action.objects.filter(
        kind__in=[ActionKind.MESSAGE, ActionKind.DOCUMENT],
        status=ActionStatus.DONE,
        dispatched_at__isnull=True,
    ).select_related("case__unit__estate", "case")
    if run is not None:
        actions = actions.filter(run=run)
    for action in actions.order_by("id")[:limit] if limit else actions.order_by("id"):
        handler = _message_send if action.kind == ActionKind.MESSAGE else _document_render
        try:
            with transaction.atomic():
                result = handler(action, actor)
                Action.objects.filter(pk=action.pk).update(
                    dispatched_at=timezone.now(), detail={**action.detail, **result}
                )
        except Exception as exc:  # kept on the action; the next dispatch does not retry it
            summary.failed += 1
            summary.errors.append(f"{action.key}：{exc}")
            Action.objects.filter(pk=action.pk).update(
                dispatched_at=timezone.now(), detail={**action.detail, "error": str(exc)[:500]}
            )
            continue
        if action.kind == ActionKind.MESSAGE:
            summary.messages += 1
        else:
            summary.documents += 1
    if summary.messages:
        from propfee.messaging.tasks import messages_send

        try:
            messages_send.enqueue()
        except Exception as exc:  # the worker may be off; cron's `messages send` sends them
            summary.errors.append(f"消息发送任务未能排队：{exc}")
    return summary
