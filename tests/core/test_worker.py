"""`propfee worker --batch` works off the database task queue."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tasks import task
from django_tasks_db.models import DBTaskResult

_ran: list[int] = []


@task()
def record_number(number: int) -> int:
    _ran.append(number)
    return number * 2


@pytest.mark.django_db(transaction=True)
def test_worker_batch_runs_queued_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    _ran.clear()
    result = record_number.enqueue(21)
    assert DBTaskResult.objects.get(id=result.id).status == "READY"
    call_command("worker", batch=True)
    stored = DBTaskResult.objects.get(id=result.id)
    assert stored.status == "SUCCESSFUL"
    assert _ran == [21]
    assert stored.return_value == 42
