"""`propfee privacy purge [--company CODE] [--dry-run] [--as-of D] [--user NAME]`: remove the
personal data of people who left, owe nothing and are past their company's retention period
(个人信息保存期限届满), printing what was found and done. Without `--company`, every company,
each with its own period. Schedule it monthly (docs/operations.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from propfee.collection.privacy import PurgeReport, privacy_purge
from propfee.core.roles import PermissionDenied
from propfee.estates.commandline import command_actor, command_date
from propfee.estates.models import Company
from propfee.estates.services import ANONYMISED_NAME


def purge_table(reports: list[PurgeReport]) -> Table:
    table = Table(
        "物业公司",
        "保存年限",
        "符合条件",
        "已删除个人信息",
        "删除电话",
        "遮蔽消息接收人",
        "清理日志",
    )
    for r in reports:
        table.add_row(
            f"{r.company.code} {r.company.name}",
            f"{r.retention_years} 年",
            str(len(r.eligible)),
            "（预览）" if r.dry_run else str(r.parties),
            "—" if r.dry_run else str(r.phones),
            "—" if r.dry_run else str(r.messages),
            "—" if r.dry_run else str(r.audit_rows_redacted),
        )
    return table


class Command(BaseCommand):
    help = (
        "个人信息删除：已迁出、无欠费且超过保存期限的业主/住户，删除其联系方式与证件信息（purge）"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["purge"], help="purge：删除到期的个人信息")
        parser.add_argument("--company", help="物业公司编码（默认：所有公司）")
        parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="业务日期（默认：今天）")
        parser.add_argument("--dry-run", action="store_true", help="只预览，不写入")
        parser.add_argument("--user", help="以该员工的身份运行（检查其权限）")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = command_date(options.get("as_of"))
        actor = command_actor(options.get("user"))
        companies = Company.objects.order_by("code")
        if options.get("company"):
            companies = companies.filter(code=options["company"])
            if not companies.exists():
                raise CommandError(f"物业公司不存在：{options['company']}")
        elif actor is not None and actor.company_id is not None:
            companies = companies.filter(pk=actor.company_id)
        out = Console(file=self.stdout, width=120, highlight=False, soft_wrap=True)
        reports = []
        try:
            for company in companies:
                reports.append(
                    privacy_purge(
                        company=company, as_of=as_of, actor=actor, dry_run=options["dry_run"]
                    )
                )
        except PermissionDenied as exc:
            raise CommandError("该员工没有删除个人信息的权限（需要公司管理员）") from exc
        out.print(purge_table(reports))
        found = sum(len(r.eligible) for r in reports)
        if options["dry_run"]:
            out.print(f"预览：截至 {as_of.isoformat()}，共 {found} 位业主/住户的个人信息到期，")
            out.print("未写入任何数据。")
        else:
            done = sum(r.parties for r in reports)
            out.print(f"截至 {as_of.isoformat()}，已删除 {done} 位业主/住户的个人信息，")
            out.print(f"姓名改为“{ANONYMISED_NAME}”，账目记录保留。")
