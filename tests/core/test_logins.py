"""Sign-in protection: repeated failures on the staff login and the API token endpoint lock the
username (and the client address) out with a Chinese message; lockouts are audited; the cool-off
ends them; an admin unlocks them from the command line or the 登录锁定 page."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client, override_settings
from rest_framework.test import APIClient

from propfee.core.logins import client_ip, login_lockouts, login_unlock
from propfee.core.models import AuditAction, AuditEntry
from propfee.core.roles import Role
from tests.conftest import PASSWORD
from tests.factories import CompanyFactory, UserFactory

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"
LIMIT = 10  # the default of PROPFEE_LOGIN_FAILURE_LIMIT


def fail_logins(client, username: str, times: int):
    response = None
    for _ in range(times):
        response = client.post(LOGIN, {"username": username, "password": "wrong-password"})
    return response


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Each failed sign-in hashes a password; the cheapest hasher keeps these tests quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client_from(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def test_defaults_and_the_test_clients_sign_in(settings, client, collector):
    assert settings.AXES_FAILURE_LIMIT == 10
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AUTHENTICATION_BACKENDS[0] == "propfee.core.logins.LoginGuardBackend"
    # Django's test client authenticates without a request: not counted, not refused.
    assert client.login(username="collector1", password=PASSWORD)
    client.logout()
    client.force_login(collector)
    assert client.get("/").status_code == 200


def test_staff_login_locks_out_after_the_limit_with_a_chinese_page(client, collector):
    below = fail_logins(client, "collector1", LIMIT - 1)
    assert below.status_code == 200  # the login form again, with its error
    assert "用户名或密码不正确" in below.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.LOCKOUT).exists()

    locked = fail_logins(client, "collector1", 1)
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "登录已锁定" in html
    assert "登录失败次数过多，已暂时锁定。请 15 分钟后再试，或联系公司管理员解锁。" in html
    assert "Account locked" not in html
    assert "web/auth/locked_out.html" in [t.name for t in locked.templates]

    # Even the right password is held back now.
    right = client.post(LOGIN, {"username": "collector1", "password": PASSWORD})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session

    entry = AuditEntry.objects.get(action=AuditAction.LOCKOUT)
    assert entry.object_type == "core.user"
    assert entry.object_id == str(collector.pk)
    assert entry.after["username"] == "collector1"
    assert entry.after["failures"] == LIMIT
    assert entry.after["ip_address"] == "127.0.0.1"
    assert "锁定 15 分钟" in entry.note


def test_lockout_ends_after_the_cool_off(client, collector):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False):
        assert fail_logins(client, "collector1", LIMIT).status_code == 429
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 14, tzinfo=dt.UTC), tick=False):
        assert (
            client.post(LOGIN, {"username": "collector1", "password": PASSWORD}).status_code == 429
        )
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 16, tzinfo=dt.UTC), tick=False):
        response = client.post(LOGIN, {"username": "collector1", "password": PASSWORD})
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(collector.pk)


def test_a_success_clears_earlier_failures(client, collector):
    fail_logins(client, "collector1", LIMIT - 1)
    assert client.post(LOGIN, {"username": "collector1", "password": PASSWORD}).status_code == 302
    client.logout()
    # Counting starts again from zero: nine more are allowed, the tenth locks.
    assert fail_logins(client, "collector1", LIMIT - 1).status_code == 200
    assert fail_logins(client, "collector1", 1).status_code == 429


@override_settings(AXES_FAILURE_LIMIT=3, PROPFEE_LOGIN_FAILURE_LIMIT=3)
def test_the_limit_is_a_setting(client, collector):
    assert fail_logins(client, "collector1", 2).status_code == 200
    assert fail_logins(client, "collector1", 1).status_code == 429


def test_one_address_trying_many_usernames_is_held_back(client, collector, make_user):
    make_user(Role.FINANCE, username="finance1")
    for i in range(LIMIT):
        client.post(LOGIN, {"username": f"guess{i}", "password": "x"})
    response = client.post(LOGIN, {"username": "finance1", "password": PASSWORD})
    assert response.status_code == 429
    # From another address the same user signs in.
    other = client_from("10.0.0.9")
    assert other.post(LOGIN, {"username": "finance1", "password": PASSWORD}).status_code == 302


def test_api_token_endpoint_locks_out_with_a_chinese_429(collector):
    client = APIClient()
    for _ in range(LIMIT - 1):
        response = client.post(TOKEN, {"username": "collector1", "password": "x"}, format="json")
        assert response.status_code == 400
    response = client.post(TOKEN, {"username": "collector1", "password": "x"}, format="json")
    assert response.status_code == 429
    assert response.json() == {
        "detail": "登录失败次数过多，已暂时锁定。请 15 分钟后再试，或联系公司管理员解锁。"
    }
    right = client.post(TOKEN, {"username": "collector1", "password": PASSWORD}, format="json")
    assert right.status_code == 429
    assert "token" not in right.json()
    assert AuditEntry.objects.filter(action=AuditAction.LOCKOUT).count() == 1


def test_failures_on_the_api_and_the_login_page_count_together(client, collector):
    api = APIClient()
    for _ in range(LIMIT // 2):
        api.post(TOKEN, {"username": "collector1", "password": "x"}, format="json")
    assert fail_logins(client, "collector1", LIMIT - LIMIT // 2).status_code == 429


def test_unlock_lets_the_user_in_again_and_is_audited(client, collector, admin_user):
    fail_logins(client, "collector1", LIMIT)
    assert [(lk.kind, lk.value) for lk in login_lockouts()] == [
        ("username", "collector1"),
        ("ip_address", "127.0.0.1"),
    ]
    assert login_unlock(username="collector1", actor=admin_user) == 1
    assert login_lockouts() == []
    assert client.post(LOGIN, {"username": "collector1", "password": PASSWORD}).status_code == 302
    entry = AuditEntry.objects.get(action=AuditAction.UNLOCK)
    assert entry.actor == admin_user
    assert entry.object_id == str(collector.pk)


def test_login_command_lists_and_unlocks(client, collector):
    fail_logins(client, "collector1", LIMIT)
    out = StringIO()
    call_command("login", "locked", stdout=out)
    assert "collector1" in out.getvalue()
    assert "127.0.0.1" in out.getvalue()

    out = StringIO()
    call_command("login", "unlock", "collector1", stdout=out)
    assert "已解除登录锁定：collector1" in out.getvalue()
    assert client.post(LOGIN, {"username": "collector1", "password": PASSWORD}).status_code == 302
    assert AuditEntry.objects.filter(action=AuditAction.UNLOCK, actor=None).count() == 1


def test_company_admin_unlocks_own_staff_on_the_lockout_page(client, collector, admin_user):
    UserFactory(company=CompanyFactory(code="OTHER"), username="outsider")
    fail_logins(client_from("10.0.0.1"), "collector1", LIMIT)
    fail_logins(client_from("10.0.0.2"), "outsider", LIMIT)

    client.force_login(admin_user)
    page = client.get("/accounts/lockouts/")
    assert page.status_code == 200
    rows = page.content.decode()
    assert "collector1" in rows
    assert "outsider" not in rows  # another company's staff

    # Another company's user cannot be unlocked from here.
    client.post("/accounts/lockouts/", {"username": "outsider"})
    assert "outsider" in [lk.value for lk in login_lockouts()]

    response = client.post("/accounts/lockouts/", {"username": "collector1"})
    assert response.status_code == 302
    assert "collector1" not in [lk.value for lk in login_lockouts()]
    assert AuditEntry.objects.get(action=AuditAction.UNLOCK).actor == admin_user


def test_lockout_page_needs_a_company_admin(client, collector):
    client.force_login(collector)
    assert client.get("/accounts/lockouts/").status_code == 403
    assert client.post("/accounts/lockouts/", {"username": "collector1"}).status_code == 403


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.2.3.4", "10.0.0.1"),  # no proxy: the header is the client's own claim
        (1, "1.2.3.4", "1.2.3.4"),
        (1, "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # a forged left entry is ignored
        (2, "6.6.6.6, 1.2.3.4, 10.0.0.5", "1.2.3.4"),
    ],
)
def test_client_address_behind_proxies(rf, settings, proxies, forwarded, expected):
    settings.PROPFEE_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
