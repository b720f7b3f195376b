"""`propfee messages send`: send the messages that are due (for cron, every few minutes).

Outside contact hours it holds what is due until the next opening and sends nothing. Django
commands do not nest, so the action (`send`) is a positional argument."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from propfee.messaging.services import messages_send_due


class Command(BaseCommand):
    help = "消息发送：发送到期的待发送消息（send），适合由 cron 每隔几分钟运行"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["send"], help="send：发送到期消息")
        parser.add_argument("--limit", type=int, default=1000, help="本次最多处理的消息数")

    def handle(self, *args: Any, **options: Any) -> None:
        summary = messages_send_due(limit=max(1, options["limit"]))
        self.stdout.write(str(summary))
        for error in summary.errors:
            self.stderr.write(error)
