"""Template context shared by every staff page: the navigation of built sections and whether
the quick search (房屋搜索) and unlocking sign-ins (登录锁定) are available to the user."""

from __future__ import annotations

from django.http import HttpRequest

from propfee.core.roles import Capability, role_can
from propfee.web.navigation import navigation_for, navigation_menu


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_menu": [], "can_search_units": False}
    items = navigation_for(user, request.path)
    return {
        "nav_items": items,
        "nav_menu": navigation_menu(items),
        "can_search_units": role_can(user, Capability.VIEW_UNITS),
        "can_unlock_logins": role_can(user, Capability.MANAGE_COMPANY),
    }
