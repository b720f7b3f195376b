"""`propfee import KIND FILE [--estate CODE] [--dry-run]`: import estates, units, parties (and
every other registered kind) from a CSV or XLSX file, all or nothing, printing every bad row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from propfee.core.importing import IMPORT_KINDS, ImportReport, import_run
from propfee.core.models import User
from propfee.core.roles import Capability, PermissionDenied
from propfee.core.uploads import UploadKind, size_text, upload_max_bytes
from propfee.estates.commandline import command_actor, command_company
from propfee.estates.models import Company, Estate
from propfee.estates.selectors import estates_visible_to

# Files shorter than this finish before a progress bar would be worth drawing.
_PROGRESS_MIN_ROWS = 2000


class _ProgressBar:
    """A rich progress bar on stderr, started on the first report of a long file."""

    def __init__(self) -> None:
        self.console = Console(stderr=True)
        self.progress: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.progress is None:
            if total < 2 * _PROGRESS_MIN_ROWS or not self.console.is_terminal:
                return
            self.progress = Progress(
                TextColumn("导入中"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("import", total=total)
        assert self.task is not None
        self.progress.update(self.task, completed=done, total=total)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


class Command(BaseCommand):
    help = "导入项目、房屋、业主等数据（CSV 或 XLSX，整份文件全部成功才写入）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", help="导入类型：" + "、".join(IMPORT_KINDS))
        parser.add_argument("file", help="CSV 或 XLSX 文件")
        parser.add_argument(
            "--estate",
            metavar="CODE",
            help="只导入该项目的数据（房屋、业主、应收）：其他项目的行报错；房屋文件可省略项目编码列",
        )
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入")
        parser.add_argument("--company", help="物业公司编码（只有一家公司时可省略）")
        parser.add_argument("--user", help="以该员工的身份导入（检查其权限与负责范围）")

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["kind"]
        if kind not in IMPORT_KINDS:
            raise CommandError(f"未知的导入类型：{kind}（可用：{'、'.join(IMPORT_KINDS)}）")
        estate_code = options.get("estate")
        if estate_code is not None and not IMPORT_KINDS[kind].estate_limit:
            usable = "、".join(k for k, v in IMPORT_KINDS.items() if v.estate_limit)
            label = IMPORT_KINDS[kind].label
            raise CommandError(f"导入{label}时不能使用 --estate（可用于：{usable}）")
        path = Path(options["file"])
        cap = upload_max_bytes(UploadKind.IMPORT)
        try:
            # The size cap before the file is read (the content is checked by import_run).
            if path.stat().st_size > cap:
                raise CommandError(
                    f"文件过大：{path.name} 有 {size_text(path.stat().st_size)}，"
                    f"导入文件不能超过 {size_text(cap)}（PROPFEE_UPLOAD_MAX_BYTES）"
                )
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件：{path}（{exc.strerror}）") from exc
        actor = command_actor(options.get("user"))
        company = command_company(options.get("company"), actor)
        estate = self._estate(estate_code, company, actor)

        bar = _ProgressBar()
        try:
            report = import_run(
                kind=kind,
                content=content,
                filename=path.name,
                actor=actor,
                company=company,
                estate=estate,
                dry_run=options["dry_run"],
                progress=bar,
            )
        except PermissionDenied as exc:
            needed = IMPORT_KINDS[kind].capability
            with translation.override(settings.LANGUAGE_CODE):
                label = str(Capability(needed).label) if needed in Capability.values else needed
            what = IMPORT_KINDS[kind].label
            raise CommandError(f"没有导入{what}的权限（需要：{label}）") from exc
        finally:
            bar.stop()
        self._print(report)
        if report.errors:
            raise CommandError(f"导入失败：{len(report.errors)} 处错误，未写入任何数据")

    def _estate(self, code: str | None, company: Company, actor: User | None) -> Estate | None:
        """The estate of `--estate CODE`: one of the company's, and one the actor (if any) may
        see; anything else is reported as not existing."""
        if code is None:
            return None
        estates = Estate.objects.filter(company=company)
        if actor is not None:
            estates = estates_visible_to(actor).filter(company=company)
        estate = estates.filter(code=code.strip().upper()).first()
        if estate is None:
            raise CommandError(f"项目不存在：{code}")
        return estate

    def _print(self, report: ImportReport) -> None:
        label = IMPORT_KINDS[report.kind].label
        mode = "（试运行，未写入）" if report.dry_run and report.ok else ""
        self.stdout.write(
            f"{label}导入 {report.filename}{mode}：共{report.total_rows}行，"
            f"新增 {report.created}，更新 {report.updated}，不变 {report.unchanged}，"
            f"错误 {len(report.errors)}"
        )
        for error in report.errors:
            self.stdout.write(str(error))
