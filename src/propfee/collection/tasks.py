"""Background tasks of collection (django-tasks): the daily run, for the worker
(`propfee worker`) or a scheduler to enqueue once a day per company."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django_tasks import task

from propfee.collection.services import dunning_run
from propfee.core.models import User
from propfee.estates.models import Company


@task()
def dunning_run_task(
    company_id: int, as_of: str | None = None, user_id: int | None = None
) -> dict[str, Any]:
    """Run the collection process for a company (as of `as_of`, "YYYY-MM-DD", default today)
    and return the run's report."""
    company = Company.objects.get(pk=company_id)
    actor = User.objects.get(pk=user_id) if user_id is not None else None
    day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    return dunning_run(company=company, as_of=day, actor=actor).as_dict()


@task()
def dunning_dispatch_task(run_id: int, user_id: int | None = None) -> dict[str, Any]:
    """Hand a run's messages and documents to messaging and documents."""
    from dataclasses import asdict

    from propfee.collection.models import DunningRun
    from propfee.collection.services import dunning_dispatch

    run = DunningRun.objects.get(pk=run_id)
    actor = User.objects.get(pk=user_id) if user_id is not None else None
    return asdict(dunning_dispatch(run=run, actor=actor))
