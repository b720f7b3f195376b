"""API tokens: they expire, their owner revokes them (page and `DELETE /api/v1/auth/token/`), a
password change revokes them; the OpenAPI schema and docs need a signed-in user."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from propfee.core.credentials import api_token_issue
from propfee.core.models import AuditAction, AuditEntry
from tests.conftest import PASSWORD

TOKEN = "/api/v1/auth/token/"
NEW_PASSWORD = "Another-pw-2026!"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def age(token: Token, days: int) -> None:
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - dt.timedelta(days=days))


def test_an_expired_token_is_refused_with_a_chinese_message(world, collector):
    token = api_token_issue(user=collector, actor=collector)
    age(token, 89)
    assert token_client(token.key).get("/api/v1/me/").status_code == 200
    age(token, 91)
    response = token_client(token.key).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {"detail": "API 令牌已过期，请重新获取。"}


def test_the_lifetime_is_a_setting(world, collector, settings):
    settings.PROPFEE_API_TOKEN_TTL_DAYS = 7
    token = api_token_issue(user=collector, actor=collector)
    age(token, 8)
    assert token_client(token.key).get("/api/v1/me/").status_code == 401


def test_signing_in_again_replaces_an_expired_token(world, collector):
    client = APIClient()
    first = client.post(TOKEN, {"username": "collector1", "password": PASSWORD}, format="json")
    key = first.json()["token"]
    again = client.post(TOKEN, {"username": "collector1", "password": PASSWORD}, format="json")
    assert again.json()["token"] == key  # still valid: the same token
    expires = dt.datetime.fromisoformat(first.json()["expires_at"])
    assert expires - Token.objects.get().created == dt.timedelta(days=90)

    age(Token.objects.get(), 91)
    renewed = client.post(TOKEN, {"username": "collector1", "password": PASSWORD}, format="json")
    assert renewed.status_code == 200
    assert renewed.json()["token"] != key
    assert token_client(renewed.json()["token"]).get("/api/v1/me/").status_code == 200


def test_delete_revokes_the_callers_token(world, collector, admin_user):
    token = api_token_issue(user=collector, actor=collector)
    other = api_token_issue(user=admin_user, actor=admin_user)
    client = token_client(token.key)
    assert client.delete(TOKEN).status_code == 204
    assert not Token.objects.filter(user=collector).exists()
    assert Token.objects.filter(pk=other.pk).exists()
    assert client.get("/api/v1/me/").status_code == 401
    entry = AuditEntry.objects.filter(action=AuditAction.DELETE).get()
    assert entry.object_type == "authtoken.token"
    assert entry.actor == collector
    assert token.key not in str(entry.object_repr) + entry.note


def test_delete_needs_a_signed_in_caller(anon):
    assert anon.delete(TOKEN).status_code == 401


def test_password_change_revokes_the_token(client, collector):
    token = api_token_issue(user=collector, actor=collector)
    client.force_login(collector)
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    collector.refresh_from_db()
    assert collector.check_password(NEW_PASSWORD)
    assert not Token.objects.filter(user=collector).exists()
    assert token_client(token.key).get("/api/v1/me/").status_code == 401
    assert AuditEntry.objects.filter(
        action=AuditAction.DELETE, object_type="authtoken.token", actor=collector
    ).exists()
    # Still signed in on the page where the password was changed.
    assert client.get("/").status_code == 200


def test_admin_set_password_revokes_the_token(client, collector, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    token = api_token_issue(user=collector, actor=collector)
    client.force_login(superuser)
    url = f"/admin/core/user/{collector.pk}/password/"
    # A form with errors changes nothing: the token stays.
    refused = client.post(
        url, {"usable_password": "true", "password1": NEW_PASSWORD, "password2": "different"}
    )
    assert refused.status_code == 200
    assert Token.objects.filter(pk=token.pk).exists()

    response = client.post(
        url, {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    collector.refresh_from_db()
    assert collector.check_password(NEW_PASSWORD)
    assert not Token.objects.filter(pk=token.pk).exists()
    assert AuditEntry.objects.filter(action=AuditAction.DELETE, actor=superuser).exists()


def test_token_page_creates_shows_once_and_revokes_after_confirmation(client, collector):
    client.force_login(collector)
    page = client.get("/accounts/api-token/").content.decode()
    assert "未生成" in page

    created = client.post("/accounts/api-token/", {"action": "create"}).content.decode()
    key = Token.objects.get(user=collector).key
    assert key in created
    assert "离开本页后将不再显示" in created
    shown = client.get("/accounts/api-token/").content.decode()
    assert key not in shown
    assert "有效" in shown

    confirming = client.post("/accounts/api-token/", {"action": "revoke"})
    assert "确定撤销 API 令牌？" in confirming.content.decode()
    assert Token.objects.filter(user=collector).exists()

    revoked = client.post("/accounts/api-token/", {"action": "revoke", "confirm": "1"})
    assert revoked.status_code == 302
    assert not Token.objects.filter(user=collector).exists()


def test_token_page_shows_an_expired_token(client, collector):
    age(api_token_issue(user=collector, actor=collector), 100)
    client.force_login(collector)
    assert "已过期" in client.get("/accounts/api-token/").content.decode()


def test_token_page_needs_sign_in(client):
    response = client.get("/accounts/api-token/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_schema_and_docs_need_a_signed_in_user(anon, client, admin_user):
    assert anon.get("/api/schema/").status_code in (401, 403)
    docs = client.get("/api/docs/")
    assert docs.status_code == 302
    assert docs["Location"].startswith("/accounts/login/")
    assert client.get("/api/docs/?script=").status_code == 302

    client.force_login(admin_user)
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    token = api_token_issue(user=admin_user, actor=admin_user)
    assert token_client(token.key).get("/api/schema/").status_code == 200
