"""Staff credentials: passwords and API tokens (API 令牌). A token lasts
PROPFEE_API_TOKEN_TTL_DAYS from its creation, its owner may revoke it or make a new one, and a
password change revokes it. Every change is audited; the key itself is never written to the log."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from propfee.core.models import AuditAction, User
from propfee.core.services import audit_record

TOKEN_OBJECT_TYPE = "authtoken.token"


def api_token_ttl() -> dt.timedelta:
    return dt.timedelta(days=settings.PROPFEE_API_TOKEN_TTL_DAYS)


def api_token_expires_at(token: Token) -> dt.datetime:
    return token.created + api_token_ttl()


def api_token_expired(token: Token, *, now: dt.datetime | None = None) -> bool:
    return api_token_expires_at(token) <= (now or timezone.now())


def api_token_for(user: User) -> Token | None:
    """The user's token, expired or not (a user has at most one)."""
    return Token.objects.filter(user=user).first()


def _token_audit(*, user: User, actor: User | None, action: str, note: str) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=TOKEN_OBJECT_TYPE,
        object_id=str(user.pk),
        object_repr=_("%(user)s 的 API 令牌") % {"user": user},
        note=note,
    )


@transaction.atomic
def api_token_issue(*, user: User, actor: User | None) -> Token:
    """A new token for `user`; the previous one, if any, stops working."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    _token_audit(user=user, actor=actor, action=AuditAction.CREATE, note=_("生成 API 令牌"))
    return token


@transaction.atomic
def api_token_obtain(*, user: User) -> Token:
    """The token a sign-in with username and password hands out: the current one while it is
    valid, else a new one."""
    token = Token.objects.select_for_update().filter(user=user).first()
    if token is not None and not api_token_expired(token):
        return token
    return api_token_issue(user=user, actor=user)


@transaction.atomic
def api_token_revoke(*, user: User, actor: User | None, note: str = "") -> bool:
    """Delete `user`'s token; False if there was none (nothing is audited then)."""
    deleted, _detail = Token.objects.filter(user=user).delete()
    if not deleted:
        return False
    _token_audit(user=user, actor=actor, action=AuditAction.DELETE, note=note or _("撤销 API 令牌"))
    return True


@transaction.atomic
def user_password_set(*, user: User, raw_password: str | None, actor: User | None) -> None:
    """Set a new password (None: no password sign-in at all) and revoke the API token with it."""
    if raw_password is None:
        user.set_unusable_password()
    else:
        user.set_password(raw_password)
    user.save(update_fields=["password"])
    user_password_changed(user=user, actor=actor)


@transaction.atomic
def user_password_changed(*, user: User, actor: User | None) -> None:
    """What follows every password change, wherever it was made: an audit row, and the API
    token revoked, so a token obtained with the old password stops working."""
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=user, note=_("修改登录密码"))
    api_token_revoke(user=user, actor=actor, note=_("修改密码后撤销 API 令牌"))


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token …`, refused once the token is older than
    PROPFEE_API_TOKEN_TTL_DAYS."""

    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        user, token = super().authenticate_credentials(key)
        if api_token_expired(token):
            raise exceptions.AuthenticationFailed(_("API 令牌已过期，请重新获取。"))
        return user, token
