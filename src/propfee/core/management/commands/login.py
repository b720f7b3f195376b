"""`propfee login locked` lists the usernames and client addresses held back after too many
failed sign-ins; `propfee login unlock USERNAME [--ip ADDR]` (or `--ip ADDR` alone) lets them
sign in again at once, written to the audit log. docs/operations.md, "Security"."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from propfee.core.logins import login_lockouts, login_unlock
from propfee.estates.commandline import command_actor


class Command(BaseCommand):
    help = "登录锁定：列出被锁定的用户名与 IP（locked），解除锁定（unlock）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["locked", "unlock"])
        parser.add_argument("username", nargs="?", default="", help="要解锁的用户名")
        parser.add_argument("--ip", default="", help="要解锁的 IP 地址")
        parser.add_argument("--user", help="以该员工的身份操作（记入操作日志）")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Console(file=self.stdout, width=100, highlight=False, soft_wrap=True)  # type: ignore[arg-type]
        if options["action"] == "locked":
            lockouts = login_lockouts()
            if not lockouts:
                out.print("目前没有被锁定的用户名或 IP。")
                return
            table = Table("类型", "用户名 / IP", "失败次数", "自动解锁时间")
            for lockout in lockouts:
                table.add_row(
                    "用户名" if lockout.kind == "username" else "IP",
                    lockout.value,
                    str(lockout.failures),
                    f"{timezone.localtime(lockout.until):%Y-%m-%d %H:%M}",
                )
            out.print(table)
            return
        username, ip_address = options["username"], options["ip"]
        if not username and not ip_address:
            raise CommandError("请指定用户名或 --ip 地址")
        removed = login_unlock(
            username=username, ip_address=ip_address, actor=command_actor(options.get("user"))
        )
        out.print(f"已解除登录锁定：{username or ip_address}（清除 {removed} 条失败记录）")
