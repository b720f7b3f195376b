"""`propfee backup DIR` and `propfee restore DIR`, run as an operator runs them: a seeded
database with generated and uploaded PDFs is backed up, restored into a FRESH database (a new
SQLite file; on PostgreSQL a new database made by the test) and a fresh data folder, and then
`propfee ledger verify` is clean, every table has the same number of rows and every document
file reads back with the same SHA-256. A backup with one byte changed is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import dj_database_url
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {**os.environ, "PROPFEE_DATA_DIR": str(data_dir)}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    env.pop("SECRET_KEY", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def _propfee(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "propfee", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if ok:
        assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def _facts(env: dict[str, str]) -> dict:
    result = _propfee(env, "shell", "-c", "from tests.core.backup_seed import facts; facts()")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _round_trip(tmp_path: Path, source_url: str | None, target_url: str | None) -> None:
    source = _env(tmp_path / "source", source_url)
    _propfee(source, "migrate", "-v", "0")
    _propfee(source, "shell", "-c", "from tests.core.backup_seed import seed; seed()")
    before = _facts(source)
    assert before["counts"]["billing_charge"] == 12
    assert len(before["files"]) == 4  # notice, receipt, contract, batch of notices
    for stored in before["files"].values():
        assert stored["file_sha256"] == stored["stored_sha256"]

    backup = tmp_path / "backup"
    result = _propfee(source, "backup", str(backup))
    assert "备份完成" in result.stdout
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["propfee_version"]
    assert "0001_initial" in manifest["migrations"]["estates"]
    assert sum(name.startswith("media/") for name in manifest["files"]) == 4
    assert "secret_key" in manifest["files"]

    target = _env(tmp_path / "target", target_url)
    result = _propfee(target, "restore", str(backup))
    assert "恢复完成" in result.stdout
    verify = _propfee(target, "ledger", "verify")
    assert "核销记录与重算结果一致" in verify.stdout
    after = _facts(target)
    assert after["counts"] == before["counts"]
    assert after["files"] == before["files"]
    key = (tmp_path / "target" / "secret_key").read_text().strip()
    assert key == (tmp_path / "source" / "secret_key").read_text().strip()

    # A second restore into the now non-empty database needs --force.
    refused = _propfee(target, "restore", str(backup), ok=False)
    assert refused.returncode != 0
    assert "--force" in refused.stderr
    _propfee(target, "restore", str(backup), "--force")
    assert _facts(target)["counts"] == before["counts"]

    # One byte changed anywhere in the backup: refused before anything is touched.
    tampered_file = next((backup / "media").rglob("*.pdf"))
    data = bytearray(tampered_file.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered_file.write_bytes(bytes(data))
    fresh = _env(tmp_path / "fresh", target_url and _other_database(target_url))
    refused = _propfee(fresh, "restore", str(backup), ok=False)
    assert refused.returncode != 0
    assert "校验不符" in refused.stderr
    assert not (tmp_path / "fresh" / "media").exists()


# --- SQLite -----------------------------------------------------------------------------------


def test_backup_and_restore_on_sqlite(tmp_path):
    _round_trip(tmp_path, None, None)


# --- PostgreSQL -------------------------------------------------------------------------------

_created: list[str] = []


def _server_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _other_database(url: str) -> str:
    """A new, empty database on the same server as `url` (dropped after the test)."""
    import psycopg

    parsed = dj_database_url.parse(url)
    name = f"propfee_bk_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(
        host=parsed["HOST"],
        port=parsed["PORT"] or 5432,
        user=parsed["USER"],
        password=parsed["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    _created.append(name)
    base = url.rsplit("/", 1)[0]
    return f"{base}/{name}"


@pytest.fixture
def fresh_postgres():
    url = _server_url()
    if url is None:
        pytest.skip("PostgreSQL round trip: runs when DATABASE_URL is a PostgreSQL database")
    yield lambda: _other_database(url)
    import psycopg

    parsed = dj_database_url.parse(url)
    with psycopg.connect(
        host=parsed["HOST"],
        port=parsed["PORT"] or 5432,
        user=parsed["USER"],
        password=parsed["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        while _created:
            conn.execute(f'DROP DATABASE IF EXISTS "{_created.pop()}" WITH (FORCE)')


def test_backup_and_restore_on_postgresql(tmp_path, fresh_postgres):
    _round_trip(tmp_path, fresh_postgres(), fresh_postgres())
