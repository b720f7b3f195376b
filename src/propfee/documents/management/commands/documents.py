"""`propfee documents batch --kind notice --estate CODE [--as-of D] [--output FILE]`: every unit
of the estate with arrears gets a 催缴通知书, all in one print-ready PDF (one notice per page, in
route order), with a progress bar. Django commands do not nest, so the action is positional."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from propfee.core.roles import PermissionDenied
from propfee.documents.constants import DocumentKind
from propfee.documents.services import DocumentError, notices_batch_render
from propfee.estates.commandline import command_actor, command_company, command_date
from propfee.estates.models import Estate
from propfee.estates.selectors import estates_visible_to


class Command(BaseCommand):
    help = "文书：批量打印催缴通知书（一户一页，按楼栋、楼层排序，合并为一个PDF）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["batch"], help="batch：批量打印")
        parser.add_argument(
            "--kind", default=DocumentKind.NOTICE, choices=[DocumentKind.NOTICE], help="文书类型"
        )
        parser.add_argument("--estate", required=True, metavar="CODE", help="项目编码")
        parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="欠费截至日期（默认今天）")
        parser.add_argument("--deadline-days", type=int, help="缴费期限天数（默认15天）")
        parser.add_argument("--output", metavar="FILE", help="把PDF另存到该文件")
        parser.add_argument("--company", help="物业公司编码（只有一家公司时可省略）")
        parser.add_argument("--user", help="以该员工的身份生成（检查其权限与负责范围）")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = command_actor(options.get("user"))
        company = command_company(options.get("company"), actor)
        estates = Estate.objects.filter(company=company)
        if actor is not None:
            estates = estates_visible_to(actor).filter(company=company)
        estate = estates.filter(code=options["estate"].strip().upper()).first()
        if estate is None:
            raise CommandError(f"项目不存在：{options['estate']}")
        as_of = command_date(options["as_of"]) if options.get("as_of") else None
        progress = Progress(
            TextColumn("生成催缴通知书"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        try:
            with progress:
                task = progress.add_task("batch", total=None)

                def advance(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                batch = notices_batch_render(
                    estate=estate,
                    actor=actor,
                    kind=options["kind"],
                    as_of=as_of,
                    deadline_days=options.get("deadline_days"),
                    progress=advance,
                )
        except PermissionDenied as exc:
            raise CommandError("没有生成文书的权限（需要：生成文书与登记送达）") from exc
        except DocumentError as exc:
            raise CommandError(str(exc)) from exc
        path = Path(batch.file.path)
        if options.get("output"):
            output = Path(options["output"])
            shutil.copyfile(path, output)
            path = output
        out = Console(file=self.stdout, width=120, highlight=False, soft_wrap=True)
        out.print(
            f"{estate.code} {estate.name}：催缴通知书 {batch.document_count} 份，"
            f"共 {batch.page_count} 页 → {path}"
        )
        out.print(f"SHA-256：{batch.sha256}")
