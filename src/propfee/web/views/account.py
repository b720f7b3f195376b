"""The signed-in user's own account: the API token page (API 令牌); the page a locked-out
sign-in gets (登录锁定); and the company admin's list of locked-out staff, to unlock them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from propfee.core.credentials import (
    api_token_expired,
    api_token_expires_at,
    api_token_for,
    api_token_issue,
    api_token_revoke,
)
from propfee.core.logins import lockout_message, login_lockouts, login_unlock
from propfee.core.models import User
from propfee.core.roles import Capability
from propfee.web.access import StaffRequest, capability_required


def login_locked_out(
    request: HttpRequest, response: HttpResponseBase | None = None, credentials: Any = None
) -> HttpResponse:
    """What axes answers instead of the login form while a sign-in is held back: the 登录锁定
    page, or for the API a 429 with the same message."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message()}, status=429)
    return render(request, "web/auth/locked_out.html", {"message": lockout_message()}, status=429)


@login_required
@require_http_methods(["GET", "POST"])
def api_token(request: StaffRequest) -> HttpResponse:
    """Whether the user has an API token and until when; make a new one (its key is shown once,
    right after) or revoke it after a confirmation."""
    user = request.user
    new_key = ""
    confirming = False
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            new_key = api_token_issue(user=user, actor=user).key
        elif action == "revoke" and request.POST.get("confirm") == "1":
            if api_token_revoke(user=user, actor=user):
                messages.success(request, _("API 令牌已撤销，使用它的程序将无法再访问系统。"))
            return redirect("web:api_token")
        elif action == "revoke":
            confirming = True
    token = api_token_for(user)
    return render(
        request,
        "web/auth/api_token.html",
        {
            "token": token,
            "expires_at": api_token_expires_at(token) if token else None,
            "expired": api_token_expired(token) if token else False,
            "new_key": new_key,
            "confirming": confirming,
        },
    )


@capability_required(Capability.MANAGE_COMPANY)
@require_http_methods(["GET", "POST"])
def login_lockout_list(request: StaffRequest) -> HttpResponse:
    """Staff of the admin's company who are locked out now, each with an unlock button."""
    company_users = User.objects.filter(company=request.user.company_id)
    if request.method == "POST":
        username = request.POST.get("username", "")
        if company_users.filter(username=username).exists():
            login_unlock(username=username, actor=request.user)
            messages.success(
                request, _("已解除 %(username)s 的登录锁定。") % {"username": username}
            )
        return redirect("web:login_lockout_list")
    lockouts = [lockout for lockout in login_lockouts() if lockout.kind == "username"]
    names = dict(
        company_users.filter(username__in=[lockout.value for lockout in lockouts]).values_list(
            "username", "display_name"
        )
    )
    rows = [
        {"lockout": lockout, "display_name": names[lockout.value]}
        for lockout in lockouts
        if lockout.value in names
    ]
    return render(request, "web/auth/lockout_list.html", {"rows": rows})
