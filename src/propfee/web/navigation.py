"""The staff navigation: only sections that are built and that the user's role may open."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from propfee.core.roles import Capability, role_can


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url_name: str
    icon: str
    capability: str | None = None


NAV_ITEMS = (
    NavItem("dashboard", _("工作台"), "web:dashboard", "speedometer2"),
    NavItem("estates", _("项目"), "web:estate_list", "buildings", Capability.VIEW_ESTATES),
    NavItem("units", _("房屋"), "web:unit_list", "house-door", Capability.VIEW_UNITS),
    NavItem("parties", _("业主住户"), "web:party_list", "people", Capability.VIEW_PARTIES),
    NavItem("imports", _("数据导入"), "web:import_upload", "upload", Capability.MANAGE_UNITS),
    NavItem("audit", _("操作日志"), "web:audit_list", "journal-text", Capability.VIEW_AUDIT),
)


def navigation_for(user) -> list[dict]:
    return [
        {"key": item.key, "label": item.label, "url": reverse(item.url_name), "icon": item.icon}
        for item in NAV_ITEMS
        if item.capability is None or role_can(user, item.capability)
    ]
