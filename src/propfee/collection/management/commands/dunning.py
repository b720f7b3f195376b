"""`propfee dunning run [--as-of D] [--dry-run] [--company CODE] [--user NAME]`: the daily
collection run (催收批次), printing its report; exit status 1 when refused.
`propfee dunning unlock [--company CODE] [--user NAME]`: release a run lock left behind (the
rare manual case: a killed run's lock is taken over by the next run by itself), printing what
it released.

Django commands do not nest, so the action (`run`) is a positional argument. Schedule it once a
day (cron or the task worker: docs/operations.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from propfee.collection.definition import DefinitionError
from propfee.collection.services import (
    DunningError,
    RunReport,
    dunning_dispatch,
    dunning_run,
    dunning_run_unlock,
)
from propfee.core.roles import PermissionDenied
from propfee.estates.commandline import command_actor, command_company, command_date


def report_table(report: RunReport) -> Table:
    """The run's report as a table."""
    table = Table("项目", "数量", title=None, show_lines=False)
    for label, figure in report.rows():
        table.add_row(label, figure)
    return table


class Command(BaseCommand):
    help = (
        "催收批次：立案、结案、按催收策略推进各案件并生成任务和消息（run）；"
        "释放中断批次遗留的运行锁（unlock）"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action", choices=["run", "unlock"], help="run：运行催收批次；unlock：释放遗留的运行锁"
        )
        parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="业务日期（默认：今天）")
        parser.add_argument("--dry-run", action="store_true", help="只预览，不写入")
        parser.add_argument("--company", help="物业公司编码（只有一家公司时可省略）")
        parser.add_argument("--user", help="以该员工的身份运行（检查其权限）")
        parser.add_argument(
            "--force", action="store_true", help="即使当天批次之后没有任何变化也重新计算"
        )
        parser.add_argument(
            "--no-dispatch", action="store_true", help="不立即派发消息与文书（稍后由任务派发）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = command_date(options.get("as_of"))
        actor = command_actor(options.get("user"))
        company = command_company(options.get("company"), actor)
        out = Console(file=self.stdout, width=100, highlight=False, soft_wrap=True)  # type: ignore[arg-type]
        if options["action"] == "unlock":
            self._unlock(out, company, actor)
            return
        dry_run = options["dry_run"]
        status = Console(stderr=True).status("催收批次运行中…")
        try:
            with status:
                report = dunning_run(
                    company=company,
                    as_of=as_of,
                    actor=actor,
                    dry_run=dry_run,
                    dispatch=False,
                    force=options["force"],
                )
                summary = (
                    None if dry_run or options["no_dispatch"] else dunning_dispatch(actor=actor)
                )
        except PermissionDenied as exc:
            raise CommandError("没有运行催收批次的权限（需要：运行催收批次）") from exc
        except (DunningError, DefinitionError) as exc:
            raise CommandError(str(exc)) from exc
        mode = "（试运行，未写入）" if dry_run else ""
        out.print(f"{company.name} 催收批次 {as_of:%Y-%m-%d}{mode}")
        if report.unchanged_since:
            out.print(f"自本日批次 #{report.unchanged_since} 之后没有任何变化，无需执行新的动作")
        out.print(report_table(report))
        if summary is not None:
            out.print(
                f"派发：消息 {summary.messages} 条，文书 {summary.documents} 份，"
                f"失败 {summary.failed} 项"
            )
            for error in summary.errors[:20]:
                self.stderr.write(error)

    def _unlock(self, out: Console, company: Any, actor: Any) -> None:
        try:
            released = dunning_run_unlock(company=company, actor=actor)
        except PermissionDenied as exc:
            raise CommandError("没有解锁催收批次的权限（需要：运行催收批次）") from exc
        except DunningError as exc:
            raise CommandError(str(exc)) from exc
        if not released:
            out.print(f"{company.name} 没有遗留的运行锁，无需解锁")
            return
        for run in released:
            beat = (
                f"{timezone.localtime(run.heartbeat_at):%Y-%m-%d %H:%M:%S}"
                if run.heartbeat_at
                else "无"
            )
            out.print(
                f"已释放：催收批次 #{run.run_id}，业务日期 {run.as_of:%Y-%m-%d}，"
                f"开始于 {timezone.localtime(run.started_at):%Y-%m-%d %H:%M:%S}，"
                f"运行进程 {run.holder or '未知'}，最后心跳 {beat}"
            )
