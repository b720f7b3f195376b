"""The staff navigation (导航栏): only sections that are built (settings.PROPFEE_NAV_SECTIONS)
and that the user's role may open."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from propfee.core.models import User
from propfee.core.roles import Capability, role_can


@dataclass(frozen=True)
class NavItem:
    """One top-level section. The user needs any one of `capabilities` (none: everyone)."""

    key: str
    label: str | Promise
    url_name: str
    icon: str
    capabilities: tuple[str, ...] = ()

    def allowed(self, user: User) -> bool:
        return not self.capabilities or any(role_can(user, c) for c in self.capabilities)


NAV_ITEMS = (
    NavItem("dashboard", _("工作台"), "web:dashboard", "speedometer2"),
    NavItem(
        "estates",
        pgettext_lazy("导航", "项目"),
        "web:estate_list",
        "buildings",
        (Capability.VIEW_ESTATES,),
    ),
    NavItem(
        "units",
        pgettext_lazy("导航", "房屋"),
        "web:unit_list",
        "house-door",
        (Capability.VIEW_UNITS,),
    ),
    NavItem("parties", _("业主住户"), "web:party_list", "people", (Capability.VIEW_PARTIES,)),
    NavItem(
        "imports",
        _("数据导入"),
        "web:import_upload",
        "upload",
        (Capability.MANAGE_COMPANY, Capability.MANAGE_UNITS, Capability.MANAGE_PARTIES),
    ),
    NavItem("billing", _("计费"), "billing:run_list", "receipt", (Capability.MANAGE_BILLING,)),
    NavItem("audit", _("操作日志"), "web:audit_list", "journal-text", (Capability.VIEW_AUDIT,)),
)


def navigation_for(user: User, path: str = "") -> list[dict]:
    """The sections `user` may open, in order; `active` marks the one `path` is in."""
    built = set(getattr(settings, "PROPFEE_NAV_SECTIONS", [item.key for item in NAV_ITEMS]))
    items = []
    for item in NAV_ITEMS:
        if item.key not in built or not item.allowed(user):
            continue
        url = reverse(item.url_name)
        active = path == url if url == "/" else path.startswith(url)
        items.append(
            {"key": item.key, "label": item.label, "url": url, "icon": item.icon, "active": active}
        )
    return items
