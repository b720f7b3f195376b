"""`propfee restore DIR [--force]`: check every SHA-256 sum of the backup in DIR, then put the
database, the files and the secret key back (`propfee.core.backup`). A database that already
holds data is refused without `--force`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console

from propfee.core.backup import BackupError, backup_restore
from propfee.core.management.progress import progress_bar

_KEY = {
    "written": "密钥已写入数据目录",
    "same": "环境变量 SECRET_KEY 与备份中的密钥相同",
    "differs": "注意：环境变量 SECRET_KEY 与备份中的不同，请改为备份目录中 secret_key 的内容",
}


class Command(BaseCommand):
    help = "恢复：先核对备份的SHA-256校验和，再恢复数据库、文件和密钥"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", metavar="DIR", help="备份目录（propfee backup 生成）")
        parser.add_argument("--force", action="store_true", help="目标数据库已有数据时仍然覆盖")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Console(file=self.stdout, width=120, highlight=False, soft_wrap=True)
        try:
            with progress_bar() as progress:
                report = backup_restore(
                    Path(options["folder"]), force=options["force"], progress=progress
                )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        out.print(f"恢复完成：{report.folder.resolve()}")
        out.print(f"  备份时间：{report.created_at}（propfee {report.version}）")
        out.print(f"  数据库（{report.vendor}）已恢复；文件：{report.media_files} 个")
        out.print(f"  {_KEY[report.secret_key]}")
        for note in report.notes:
            out.print(f"  {note}")
        out.print("建议接着运行 propfee ledger verify 核对账目。")
