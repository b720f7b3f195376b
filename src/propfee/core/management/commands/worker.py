"""`propfee worker`: the background task worker (database backend, `django-tasks-db`).

Billing runs, the daily collection run and message sending are queued as tasks; this command
takes them from the database queue. With `--batch` it works off what is queued and exits, which
suits a cron job; without it, it runs until stopped."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "后台任务处理 / Run the background task worker"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue-name", default="*", help="队列名，默认全部 / queues (* = all)")
        parser.add_argument(
            "--batch",
            action="store_true",
            help="处理完已排队任务后退出 / exit when the queue is empty",
        )
        parser.add_argument(
            "--interval", type=float, default=1, help="轮询间隔（秒）/ poll interval"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command(
            "db_worker",
            queue_name=options["queue_name"],
            batch=options["batch"],
            interval=options["interval"],
            startup_delay=False,
        )
