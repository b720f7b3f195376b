"""备份与恢复 (backup and restore): the database, the uploaded and generated files under
MEDIA_ROOT and the secret key, in one folder with a manifest of SHA-256 sums.

A backup folder holds
- `database.sqlite3` (SQLite's online backup API, consistent while the server runs) or
  `database.dump` (PostgreSQL `pg_dump -Fc`, the connection from settings);
- `media/…`, every file under MEDIA_ROOT at its relative path;
- `secret_key`;
- `manifest.json`: format, propfee version, time, database vendor, the applied migrations, and
  each file's relative path, size and SHA-256.

A restore checks every sum before it touches anything, refuses a database that already holds
data unless forced, then puts the database back (SQLite: the backup API again, into the
configured file; PostgreSQL: `pg_restore --clean --if-exists --no-owner` in one transaction),
then the files and the secret key. Files are streamed in chunks, never read whole."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

import propfee

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
SECRET_FILE = "secret_key"
MEDIA_DIR = "media"
_CHUNK = 1024 * 1024
_SQLITE_PAGES = 1024

#: progress(label, done, total): called as work advances (the command draws a bar).
Progress = Callable[[str, int, int], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the operator."""


@dataclass
class BackupReport:
    folder: Path
    vendor: str
    database_bytes: int = 0
    media_files: int = 0
    media_bytes: int = 0
    migrations: int = 0


@dataclass
class RestoreReport:
    folder: Path
    vendor: str
    created_at: str
    version: str
    media_files: int = 0
    secret_key: str = ""  # "written" / "same" / "differs" (SECRET_KEY from the environment)
    notes: list[str] = field(default_factory=list)


def _quiet(label: str, done: int, total: int) -> None:
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)


def _media_files(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def _database() -> dict[str, Any]:
    return dict(settings.DATABASES["default"])


def _vendor() -> str:
    return connections["default"].vendor


def _pg_env() -> dict[str, str]:
    db = _database()
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _pg_args() -> list[str]:
    db = _database()
    args = []
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    return [*args, "--no-password"]


def _run(command: list[str]) -> None:
    try:
        result = subprocess.run(command, env=_pg_env(), capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupError(f"找不到 {command[0]}：请安装 PostgreSQL 客户端工具") from exc
    if result.returncode != 0:
        raise BackupError(f"{command[0]} 失败：{result.stderr.strip()[-2000:]}")


def migration_state() -> dict[str, list[str]]:
    """app label → the names of its applied migrations, sorted."""
    state: dict[str, list[str]] = {}
    for app, name in MigrationRecorder(connections["default"]).applied_migrations():
        state.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(state.items())}


# --- backup ----------------------------------------------------------------------------------


def _sqlite_backup(target: Path, progress: Progress) -> None:
    source = sqlite3.connect(str(_database()["NAME"]))
    destination = sqlite3.connect(str(target))
    try:

        def step(status: int, remaining: int, total: int) -> None:
            progress("数据库", total - remaining, total)

        with destination:
            source.backup(destination, pages=_SQLITE_PAGES, progress=step)
    finally:
        destination.close()
        source.close()


def _pg_backup(target: Path, progress: Progress) -> None:
    progress("数据库", 0, 1)
    _run(["pg_dump", "-Fc", *_pg_args(), "--file", str(target), str(_database()["NAME"])])
    progress("数据库", 1, 1)


def backup_create(folder: Path, *, progress: Progress = _quiet) -> BackupReport:
    """Write a backup into `folder` (new, or empty). Readable by its owner only."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"备份目录不是空的：{folder}")
    if folder.resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve()):
        raise BackupError(f"备份目录不能放在上传文件目录里：{folder}")
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    vendor = _vendor()
    report = BackupReport(folder=folder, vendor=vendor)
    if vendor == "sqlite":
        database = folder / SQLITE_FILE
        _sqlite_backup(database, progress)
    elif vendor == "postgresql":
        database = folder / PG_FILE
        _pg_backup(database, progress)
    else:
        raise BackupError(f"不支持的数据库：{vendor}")
    report.database_bytes = database.stat().st_size

    media_root = Path(settings.MEDIA_ROOT)
    media = list(_media_files(media_root))
    for done, path in enumerate(media, 1):
        _copy(path, folder / MEDIA_DIR / path.relative_to(media_root))
        report.media_bytes += path.stat().st_size
        progress("文件", done, len(media))
    report.media_files = len(media)

    secret = folder / SECRET_FILE
    secret.write_text(settings.SECRET_KEY)
    secret.chmod(0o600)

    files = [database, secret, *(folder / MEDIA_DIR / p.relative_to(media_root) for p in media)]
    sums = {}
    for done, path in enumerate(files, 1):
        sums[path.relative_to(folder).as_posix()] = {
            "sha256": sha256_of(path),
            "size": path.stat().st_size,
        }
        progress("校验和", done, len(files))
    migrations = migration_state()
    report.migrations = sum(len(names) for names in migrations.values())
    manifest = {
        "format": FORMAT,
        "propfee_version": propfee.__version__,
        "created_at": timezone.now().isoformat(),
        "database": {"vendor": vendor, "file": database.name},
        "migrations": migrations,
        "files": sums,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    return report


# --- restore ---------------------------------------------------------------------------------


def manifest_verify(folder: Path, *, progress: Progress = _quiet) -> dict[str, Any]:
    """The backup's manifest, after checking every file it lists against its size and SHA-256.
    BackupError names the first file that is missing or differs."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"不是 propfee 备份目录（缺少 {MANIFEST}）：{folder}") from exc
    except json.JSONDecodeError as exc:
        raise BackupError(f"{MANIFEST} 已损坏：{exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"不支持的备份格式：{manifest.get('format')}")
    files = manifest.get("files") or {}
    root = folder.resolve()
    for done, (name, expected) in enumerate(sorted(files.items()), 1):
        path = (folder / name).resolve()
        if not path.is_relative_to(root):
            raise BackupError(f"备份清单中的路径不合法：{name}")
        if not path.is_file():
            raise BackupError(f"备份不完整，缺少文件：{name}")
        if path.stat().st_size != expected["size"] or sha256_of(path) != expected["sha256"]:
            raise BackupError(f"备份已损坏，文件校验不符：{name}")
        progress("校验", done, len(files))
    database = manifest.get("database", {}).get("file")
    if database not in files or SECRET_FILE not in files:
        raise BackupError("备份清单不完整：缺少数据库或密钥")
    return manifest


def database_has_data() -> bool:
    """Whether the configured database holds any row of propfee's own tables."""
    connection = connections["default"]
    existing = set(connection.introspection.table_names())
    for model in apps.get_models():
        if not model.__module__.startswith("propfee."):
            continue
        if model._meta.db_table in existing and model._default_manager.using("default").exists():
            return True
    return False


def _sqlite_restore(source: Path, progress: Progress) -> None:
    target = Path(_database()["NAME"])
    target.parent.mkdir(parents=True, exist_ok=True)
    connections.close_all()
    backup = sqlite3.connect(str(source))
    live = sqlite3.connect(str(target))
    try:

        def step(status: int, remaining: int, total: int) -> None:
            progress("数据库", total - remaining, total)

        backup.backup(live, pages=_SQLITE_PAGES, progress=step)
    finally:
        live.close()
        backup.close()


def _pg_restore(source: Path, progress: Progress) -> None:
    connections.close_all()
    progress("数据库", 0, 1)
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            *_pg_args(),
            "--dbname",
            str(_database()["NAME"]),
            str(source),
        ]
    )
    progress("数据库", 1, 1)


def backup_restore(
    folder: Path, *, force: bool = False, progress: Progress = _quiet
) -> RestoreReport:
    """Put the backup in `folder` back: sums first, then the database, the files, the key."""
    folder = Path(folder)
    manifest = manifest_verify(folder, progress=progress)
    vendor = _vendor()
    if manifest["database"]["vendor"] != vendor:
        raise BackupError(
            f"备份来自 {manifest['database']['vendor']} 数据库，当前配置的是 {vendor}，无法恢复"
        )
    if not force and database_has_data():
        raise BackupError("目标数据库中已有数据；确认要覆盖时请加 --force")
    report = RestoreReport(
        folder=folder,
        vendor=vendor,
        created_at=manifest.get("created_at", ""),
        version=manifest.get("propfee_version", ""),
    )
    database = folder / manifest["database"]["file"]
    if vendor == "sqlite":
        _sqlite_restore(database, progress)
    else:
        _pg_restore(database, progress)

    media_root = Path(settings.MEDIA_ROOT)
    prefix = MEDIA_DIR + "/"
    media = sorted(name for name in manifest["files"] if name.startswith(prefix))
    for done, name in enumerate(media, 1):
        _copy(folder / name, media_root / name[len(prefix) :])
        progress("文件", done, len(media))
    report.media_files = len(media)

    key = (folder / SECRET_FILE).read_text().strip()
    if os.environ.get("SECRET_KEY"):
        report.secret_key = "same" if os.environ["SECRET_KEY"] == key else "differs"
    else:
        key_file = Path(settings.DATA_DIR) / SECRET_FILE
        key_file.write_text(key)
        key_file.chmod(0o600)
        report.secret_key = "written"

    applied = migration_state()
    if applied != manifest.get("migrations"):
        report.notes.append("恢复后的迁移状态与备份清单不同，请检查")
    if report.version != propfee.__version__:
        report.notes.append(
            f"备份来自 propfee {report.version}，当前为 {propfee.__version__}："
            "请运行 propfee migrate"
        )
    return report
