"""`propfee public_list on|off|status [--company CODE] [--user NAME]`: turn the public arrears
list (欠费公示) on or off for a company — a company admin's decision; it is off by default."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from propfee.core.roles import PermissionDenied
from propfee.documents.public_list import company_public_list_set
from propfee.documents.services import DocumentError
from propfee.estates.commandline import command_actor, command_company


class Command(BaseCommand):
    help = "欠费公示：为物业公司启用（on）、停用（off）或查看（status）；默认停用"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["on", "off", "status"])
        parser.add_argument("--company", help="物业公司编码（只有一家公司时可省略）")
        parser.add_argument("--user", help="以该员工（公司管理员）的身份设置")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = command_actor(options.get("user"))
        company = command_company(options.get("company"), actor)
        if options["action"] != "status":
            try:
                company = company_public_list_set(
                    company=company, enabled=options["action"] == "on", actor=actor
                )
            except (PermissionDenied, DocumentError) as error:
                raise CommandError(str(error) or "没有权限") from error
        state = "已启用" if company.public_list_enabled else "未启用"
        self.stdout.write(f"{company.name}（{company.code}）欠费公示：{state}")
