"""Background tasks of messaging (django-tasks): sending what is due. The worker runs it
(`propfee worker`); the collection run enqueues it after queuing its messages; cron may run
`propfee messages send` instead."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django_tasks import task

from propfee.messaging.services import messages_send_due


@task()
def messages_send(limit: int = 1000) -> dict[str, Any]:
    """Send the messages that are due now; returns the pass's counts."""
    return asdict(messages_send_due(limit=limit))
