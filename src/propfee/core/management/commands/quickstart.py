"""`propfee quickstart`: prepare a working system in one step. It migrates the database, loads
the demo company with its 24 months of bills and payments when the database has no company yet,
and prints where to log in and as whom. Running it again changes nothing."""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from propfee.core.management.commands.serve import url_for
from propfee.estates.demo import (
    DEMO_PASSWORD,
    DEMO_SEED,
    DemoError,
    demo_company_exists,
    demo_logins,
)
from propfee.estates.management.commands.demo import (
    collection_line,
    console_for,
    demo_load_with_history,
    history_arguments_add,
    history_line,
    logins_table,
    summary_table,
)
from propfee.estates.models import Company


class Command(BaseCommand):
    help = "初始化数据库、按需加载演示数据并显示登录信息 / Migrate, load the demo, print logins"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="访问地址（默认 127.0.0.1）")
        parser.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
        parser.add_argument(
            "--seed", type=int, default=DEMO_SEED, help=f"演示数据随机种子（默认 {DEMO_SEED}）"
        )
        history_arguments_add(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        console = console_for(self.stdout)
        console.print("正在初始化数据库… / Migrating the database…")
        call_command("migrate", interactive=False, verbosity=0, stdout=self.stdout)

        if not Company.objects.exists():
            console.print("数据库为空，正在加载演示数据… / Empty database: loading the demo…")
            started = time.perf_counter()
            try:
                with transaction.atomic():
                    demo, history, collection = demo_load_with_history(
                        seed=options["seed"], options=options
                    )
            except DemoError as exc:
                raise CommandError(str(exc)) from exc
            console.print(summary_table(demo))
            console.print(history_line(history))
            console.print(collection_line(collection))
            console.print(f"用时 {time.perf_counter() - started:.1f} 秒")
        else:
            console.print(
                "数据库中已有物业公司，未加载演示数据 / Company data exists: demo not loaded"
            )

        if demo_company_exists():
            console.print(logins_table(demo_logins()))
            console.print(f"演示账号密码 Demo password: [bold]{DEMO_PASSWORD}[/bold]")
        else:
            console.print("请使用已有账号登录 / Log in with an existing account")
        url = url_for(options["host"], options["port"])
        console.print(f"\n打开 Open: [bold]{url}[/bold]")
        console.print(
            f"启动服务 Start the server: propfee serve {options['host']}:{options['port']}"
        )
