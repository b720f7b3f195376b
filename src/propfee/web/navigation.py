"""The staff navigation (导航栏): only sections that are built (settings.PROPFEE_NAV_SECTIONS)
and that the user's role may open, with related sections grouped into menus (NAV_GROUPS)."""

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
    """One section. The user needs any one of `capabilities` (none: everyone). Sections of the
    same `group` (a key of NAV_GROUPS) stand together in one menu."""

    key: str
    label: str | Promise
    url_name: str
    icon: str
    capabilities: tuple[str, ...] = ()
    group: str = ""

    def allowed(self, user: User) -> bool:
        return not self.capabilities or any(role_can(user, c) for c in self.capabilities)


# Menus of the navigation bar: key → (label, icon). A menu the user can open only one section of
# is shown as that section's own link.
NAV_GROUPS: dict[str, tuple[str | Promise, str]] = {
    "collection": (_("催收"), "telephone-outbound"),
    "records": (_("基础资料"), "buildings"),
    "fees": (_("收费"), "receipt"),
    "communication": (_("消息与文书"), "chat-dots"),
}

NAV_ITEMS = (
    NavItem("dashboard", _("工作台"), "web:dashboard", "speedometer2"),
    NavItem(
        "board",
        _("催收看板"),
        "collection:board",
        "kanban",
        (Capability.MANAGE_CASES,),
        "collection",
    ),
    NavItem(
        "today",
        _("今日任务"),
        "collection:today",
        "list-check",
        (Capability.WORK_CASES,),
        "collection",
    ),
    NavItem(
        "cases",
        _("催收案件"),
        "collection:case_list",
        "folder2-open",
        (Capability.WORK_CASES,),
        "collection",
    ),
    NavItem(
        "plans",
        pgettext_lazy("导航", "分期还款"),
        "collection:plan_list",
        "calendar2-week",
        (Capability.WORK_CASES,),
        "collection",
    ),
    NavItem(
        "issues",
        pgettext_lazy("导航", "服务问题"),
        "collection:issue_list",
        "tools",
        (Capability.WORK_CASES,),
        "collection",
    ),
    NavItem(
        "holds",
        pgettext_lazy("导航", "暂停催收"),
        "collection:hold_list",
        "pause-circle",
        (Capability.WORK_CASES,),
        "collection",
    ),
    NavItem(
        "legal",
        pgettext_lazy("导航", "法律事务"),
        "collection:legal_list",
        "bank",
        (Capability.MANAGE_LEGAL,),
        "collection",
    ),
    NavItem(
        "limitation",
        pgettext_lazy("导航", "时效预警"),
        "collection:limitation_list",
        "hourglass-split",
        (Capability.MANAGE_CASES,),
        "collection",
    ),
    NavItem(
        "collection",
        pgettext_lazy("导航", "催收批次"),
        "collection:run_list",
        "play-circle",
        (Capability.RUN_DUNNING,),
        "collection",
    ),
    NavItem(
        "policies",
        _("催收策略"),
        "collection:policy_list",
        "diagram-3",
        (Capability.MANAGE_POLICIES,),
        "collection",
    ),
    NavItem(
        "estates",
        pgettext_lazy("导航", "项目"),
        "web:estate_list",
        "buildings",
        (Capability.VIEW_ESTATES,),
        "records",
    ),
    NavItem(
        "units",
        pgettext_lazy("导航", "房屋"),
        "web:unit_list",
        "house-door",
        (Capability.VIEW_UNITS,),
        "records",
    ),
    NavItem(
        "parties", _("业主住户"), "web:party_list", "people", (Capability.VIEW_PARTIES,), "records"
    ),
    NavItem(
        "imports",
        _("数据导入"),
        "web:import_upload",
        "upload",
        (Capability.MANAGE_COMPANY, Capability.MANAGE_UNITS, Capability.MANAGE_PARTIES),
        "records",
    ),
    NavItem(
        "billing", _("计费"), "billing:run_list", "receipt", (Capability.MANAGE_BILLING,), "fees"
    ),
    NavItem(
        "waivers",
        _("减免审批"),
        "web:waiver_request_list",
        "check2-square",
        (Capability.APPROVE_WAIVERS, Capability.WRITE_OFF),
        "fees",
    ),
    NavItem("reports", _("报表"), "analytics:index", "bar-chart-line", (Capability.VIEW_REPORTS,)),
    NavItem(
        "messages",
        _("消息"),
        "messaging:outbox",
        "chat-dots",
        (Capability.VIEW_OUTBOX, Capability.MANAGE_TEMPLATES),
        "communication",
    ),
    NavItem(
        "documents",
        _("文书"),
        "documents:document_list",
        "file-earmark-text",
        (Capability.ISSUE_DOCUMENTS,),
        "communication",
    ),
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
            {
                "key": item.key,
                "label": item.label,
                "url": url,
                "icon": item.icon,
                "active": active,
                "group": item.group,
            }
        )
    return items


def navigation_menu(items: list[dict]) -> list[dict]:
    """`items` (from navigation_for) as the bar shows them: sections of one group become a menu
    `{"group", "label", "icon", "active", "sections"}`; a group with one section stays a link."""
    menu: list[dict] = []
    for item in items:
        last = menu[-1] if menu else None
        if item["group"] and last is not None and last.get("group") == item["group"]:
            last.setdefault("sections", [dict(last["first"])]).append(item)
            last["active"] = last["active"] or item["active"]
            continue
        entry = {"group": item["group"], "first": item, "active": item["active"]}
        menu.append(entry)
    shown = []
    for entry in menu:
        if "sections" in entry:
            label, icon = NAV_GROUPS[entry["group"]]
            shown.append(
                {
                    "group": entry["group"],
                    "label": label,
                    "icon": icon,
                    "active": entry["active"],
                    "sections": entry["sections"],
                }
            )
        else:
            shown.append(entry["first"])
    return shown
