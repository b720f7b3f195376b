"""Sign-in protection (登录保护): failed sign-ins on the staff login and the API token endpoint
are counted per username and per client address (django-axes); past the limit the sign-in is
held back for the cool-off, each lockout is written to propfee's audit log, and an admin can
unlock a username or an address early."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from propfee.core.models import AuditAction, User
from propfee.core.services import audit_record


def login_cooloff() -> dt.timedelta:
    return dt.timedelta(minutes=settings.PROPFEE_LOGIN_COOLOFF_MINUTES)


def lockout_message() -> str:
    """What a held-back person reads, on the login page and from the API."""
    return _("登录失败次数过多，已暂时锁定。请 %(minutes)s 分钟后再试，或联系公司管理员解锁。") % {
        "minutes": settings.PROPFEE_LOGIN_COOLOFF_MINUTES
    }


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. Behind PROPFEE_PROXY_COUNT reverse proxies it is the address the
    outermost proxy saw, taken from X-Forwarded-For counted from the right (each proxy appends
    the address it received from), so a client cannot choose it by sending the header itself."""
    proxies = settings.PROPFEE_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


class LoginGuardBackend(AxesStandaloneBackend):
    """Refuses a sign-in that is locked out, before any password is checked. Every sign-in a
    person can reach (the login page, the admin's, the API token endpoint) passes its request;
    a call without one (Django's test client, a shell) has no client to count and is left to
    the next backend instead of failing."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


class LoginGuardHandler(AxesDatabaseHandler):
    """axes' database handler that also writes one audit row (登录锁定) when a username or an
    address becomes locked out; attempts during a lockout add none."""

    def user_login_failed(
        self, sender: Any, credentials: dict, request: Any = None, **kwargs: Any
    ) -> None:
        was_locked = bool(getattr(request, "axes_locked_out", False))
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None or was_locked or not getattr(request, "axes_locked_out", False):
            return
        username = (credentials or {}).get("username") or ""
        user = User.objects.filter(username=username).first() if username else None
        audit_record(
            actor=None,
            action=AuditAction.LOCKOUT,
            obj=user,
            object_type="core.user",
            object_id=str(user.pk) if user else "",
            object_repr=username[:200],
            after={
                "username": username,
                "ip_address": request.axes_ip_address,
                "failures": request.axes_failures_since_start,
                "path": request.axes_path_info,
            },
            note=_("连续登录失败 %(count)s 次，锁定 %(minutes)s 分钟")
            % {
                "count": request.axes_failures_since_start,
                "minutes": settings.PROPFEE_LOGIN_COOLOFF_MINUTES,
            },
        )


@dataclass(frozen=True)
class Lockout:
    """A username or a client address held back now, and until when."""

    kind: str  # "username" | "ip_address"
    value: str
    failures: int
    until: dt.datetime


def login_lockouts() -> list[Lockout]:
    """Usernames and addresses whose failures within the cool-off reach the limit."""
    since = timezone.now() - login_cooloff()
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)
    lockouts = []
    for kind in ("username", "ip_address"):
        rows = (
            recent.exclude(**{f"{kind}__isnull": True})
            .values(kind)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=settings.PROPFEE_LOGIN_FAILURE_LIMIT)
            .order_by(kind)
        )
        lockouts += [
            Lockout(kind, row[kind], row["failures"], row["last"] + login_cooloff()) for row in rows
        ]
    return lockouts


@transaction.atomic
def login_unlock(*, username: str = "", ip_address: str = "", actor: User | None) -> int:
    """Forget the failed sign-ins of `username` and/or from `ip_address`, so they may sign in
    again at once; audited. Returns how many attempt records were removed."""
    if not username and not ip_address:
        raise ValueError(_("请指定用户名或 IP 地址"))
    attempts = AccessAttempt.objects.all()
    if username:
        attempts = attempts.filter(username=username)
    if ip_address:
        attempts = attempts.filter(ip_address=ip_address)
    removed, _detail = attempts.delete()
    user = User.objects.filter(username=username).first() if username else None
    audit_record(
        actor=actor,
        action=AuditAction.UNLOCK,
        obj=user,
        object_type="core.user",
        object_id=str(user.pk) if user else "",
        object_repr=username or ip_address,
        after={"username": username, "ip_address": ip_address, "removed": removed},
        note=_("解除登录锁定"),
    )
    return removed
