"""The `propfee` command, `python -m propfee`, and the superuser-only Django admin."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from propfee.core.roles import Role
from tests.factories import UserFactory


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROPFEE_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, check=False)


def test_python_dash_m_propfee_is_the_management_entry(tmp_path):
    result = _run([sys.executable, "-m", "propfee", "check"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_console_script_lists_propfee_commands(tmp_path):
    script = Path(sys.executable).with_name("propfee")
    if not script.exists():
        script = Path(shutil.which("propfee") or "")
    assert script.is_file(), "the propfee console script is installed with the package"
    result = _run([str(script), "help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[estates]" in result.stdout
    assert "import" in result.stdout
    assert (tmp_path / "secret_key").read_text().strip(), "a secret key is generated once"


@pytest.mark.django_db
def test_admin_is_for_superusers_only(client):
    staff = UserFactory(role=Role.ADMIN, is_staff=True)
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]

    root = UserFactory(company=None, is_superuser=True, is_staff=True)
    client.force_login(root)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "propfee 系统管理" in response.content.decode()


def test_settings_defaults():
    from django.conf import settings

    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert ("en", "English") in settings.LANGUAGES
    assert settings.USE_TZ is True
