"""Who may open a staff page: logged in, and holding the section's capability (else 403)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django_htmx.middleware import HtmxDetails

from propfee.core.models import User
from propfee.core.roles import role_can

View = Callable[..., HttpResponseBase]


class StaffRequest(HttpRequest):
    """The request of a staff page: behind login_required, so `user` is a staff User; and
    django-htmx's details of the htmx request (falsy when it is not one)."""

    user: User  # type: ignore[assignment]
    htmx: HtmxDetails


def capability_required(*capabilities: str) -> Callable[[View], View]:
    """Require login and every one of `capabilities`."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not all(role_can(request.user, c) for c in capabilities):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator
