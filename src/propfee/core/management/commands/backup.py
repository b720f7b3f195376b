"""`propfee backup DIR`: the database, the uploaded and generated files and the secret key into
DIR (new or empty), with a manifest of SHA-256 sums (`propfee.core.backup`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console

from propfee.core.backup import BackupError, backup_create
from propfee.core.management.progress import progress_bar


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


class Command(BaseCommand):
    help = "备份：数据库、上传与生成的文件、密钥，附SHA-256校验清单"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", metavar="DIR", help="备份目录（新建或空目录）")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Console(file=self.stdout, width=120, highlight=False, soft_wrap=True)
        try:
            with progress_bar() as progress:
                report = backup_create(Path(options["folder"]), progress=progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        out.print(f"备份完成：{report.folder.resolve()}")
        out.print(f"  数据库（{report.vendor}）：{_size(report.database_bytes)}")
        out.print(f"  文件：{report.media_files} 个，{_size(report.media_bytes)}")
        out.print(f"  已应用的迁移：{report.migrations} 个；密钥与 manifest.json 已写入")
        out.print("请把备份目录复制到本机以外的地方保存；其中有密钥和个人信息，注意保密。")
