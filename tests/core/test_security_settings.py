"""Production settings from the environment: with the documented variables `propfee check
--deploy` is clean; PROPFEE_HTTPS turns on secure cookies, the https redirect behind a proxy and
HSTS; every page carries a Content-Security-Policy that the templates keep to; signed-in pages
are not cached."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse

import propfee
from propfee.core.middleware import NoStoreWhenSignedInMiddleware

SRC = Path(propfee.__file__).resolve().parent.parent


def propfee_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a production install, as docs/operations.md lists it."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PROPFEE_", "SECURE_", "SESSION_", "CSRF_", "DJANGO_"))
        and k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}
    }
    env.update(
        PYTHONPATH=os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]),
        PROPFEE_DATA_DIR=str(tmp_path),
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="0",
        ALLOWED_HOSTS="wuye.example.com",
        CSRF_TRUSTED_ORIGINS="https://wuye.example.com",
        PROPFEE_HTTPS="1",
    )
    env.update(extra)
    return env


def settings_in(env: dict[str, str], names: list[str]) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "propfee.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_with_the_documented_variables(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "propfee", "check", "--deploy"],
        env=propfee_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output


HTTPS_SETTINGS = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_PROXY_SSL_HEADER",
]


def test_propfee_https_switches_the_https_settings_on(tmp_path):
    on = settings_in(propfee_env(tmp_path), HTTPS_SETTINGS)
    assert on == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }
    off = settings_in(propfee_env(tmp_path, PROPFEE_HTTPS="0"), HTTPS_SETTINGS)
    assert off["SESSION_COOKIE_SECURE"] is False
    assert off["SECURE_SSL_REDIRECT"] is False
    assert off["SECURE_HSTS_SECONDS"] == 0
    assert off["SECURE_PROXY_SSL_HEADER"] is None


def test_each_setting_has_its_own_override(tmp_path):
    env = propfee_env(
        tmp_path,
        SECURE_HSTS_SECONDS="600",
        SECURE_SSL_REDIRECT="0",
        PROPFEE_PROXY_SSL_HEADER="X-Scheme",
        PROPFEE_LOGIN_FAILURE_LIMIT="5",
        PROPFEE_LOGIN_COOLOFF_MINUTES="30",
        PROPFEE_API_TOKEN_TTL_DAYS="30",
    )
    values = settings_in(
        env,
        [
            "SECURE_HSTS_SECONDS",
            "SECURE_SSL_REDIRECT",
            "SECURE_PROXY_SSL_HEADER",
            "AXES_FAILURE_LIMIT",
            "AXES_COOLOFF_TIME",
            "PROPFEE_API_TOKEN_TTL_DAYS",
        ],
    )
    assert values == {
        "SECURE_HSTS_SECONDS": 600,
        "SECURE_SSL_REDIRECT": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_SCHEME", "https"],
        "AXES_FAILURE_LIMIT": 5,
        "AXES_COOLOFF_TIME": "0:30:00",
        "PROPFEE_API_TOKEN_TTL_DAYS": 30,
    }


def csp_of(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part
    }


@pytest.mark.django_db
def test_every_page_has_a_strict_content_security_policy(client, admin_user):
    for response in (client.get("/accounts/login/"),):
        csp = csp_of(response)
        assert csp["default-src"] == ["'self'"]
        assert csp["script-src"] == ["'self'"]
        assert csp["style-src"] == ["'self'"]
        assert csp["frame-ancestors"] == ["'none'"]
        assert csp["object-src"] == ["'none'"]
    client.force_login(admin_user)
    for url in ("/", "/units/", "/reports/", "/audit/"):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
        assert csp_of(response)["script-src"] == ["'self'"], url


@pytest.mark.django_db
def test_api_docs_inline_styles_carry_the_nonce_of_the_policy(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/api/docs/")
    nonce = re.search(r'<style nonce="([^"]+)"', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in csp_of(response)["style-src"]
    assert "<script>" not in response.content.decode()


TEMPLATES = sorted((SRC / "propfee").rglob("templates/**/*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style(?![^>]*\bnonce=)[^>]*>", re.I)


def test_templates_keep_to_the_policy():
    """No inline script, event handler, style attribute or un-nonced <style> in any template:
    the browser would refuse them under the Content-Security-Policy."""
    offenders = [
        f"{template.relative_to(SRC / 'propfee')}: {match.group(0).strip()}"
        for template in TEMPLATES
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, STYLE_ATTRIBUTE, STYLE_ELEMENT)
        for match in pattern.finditer(template.read_text())
    ]
    assert len(TEMPLATES) > 50
    assert offenders == []


def rendered(status: int = 200, **headers: str):
    def view(request):
        response = HttpResponse("ok", status=status)
        for name, value in headers.items():
            response[name] = value
        return response

    return view


@pytest.mark.django_db
def test_signed_in_pages_are_not_stored(client, admin_user):
    anonymous = client.get("/")
    assert anonymous.status_code == 302
    assert not anonymous.has_header("Cache-Control")
    client.force_login(admin_user)
    for url in ("/", "/units/", "/api/v1/me/"):
        assert client.get(url)["Cache-Control"] == "no-store", url
    static = client.get("/static/web/propfee.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")


def test_a_page_that_chose_its_cache_control_keeps_it(rf, admin_user):
    request = rf.get("/")
    request.user = admin_user
    middleware = NoStoreWhenSignedInMiddleware(rendered(**{"Cache-Control": "private, max-age=60"}))
    assert middleware(request)["Cache-Control"] == "private, max-age=60"
    assert NoStoreWhenSignedInMiddleware(rendered())(request)["Cache-Control"] == "no-store"
