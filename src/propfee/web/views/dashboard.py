"""工作台: what the user can see at a glance, and the quick search."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from propfee.core.roles import Capability, role_can
from propfee.estates.selectors import (
    buildings_visible_to,
    estates_visible_to,
    parties_visible_to,
    units_visible_to,
)
from propfee.web.access import StaffRequest


@login_required
def dashboard(request: StaffRequest) -> HttpResponse:
    user = request.user
    counts = []
    if role_can(user, Capability.VIEW_ESTATES):
        counts += [
            ("estates", estates_visible_to(user).count()),
            ("buildings", buildings_visible_to(user).count()),
        ]
    if role_can(user, Capability.VIEW_UNITS):
        counts.append(("units", units_visible_to(user).count()))
    if role_can(user, Capability.VIEW_PARTIES):
        counts.append(("parties", parties_visible_to(user).count()))
    return render(request, "web/dashboard.html", {"counts": dict(counts)})
