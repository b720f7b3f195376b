"""Staff roles (角色) and what each may do.

The table below is the single source of truth for permissions; selectors and services ask
`role_can(user, capability)` and never test role names themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from propfee.core.models import User


class Role(models.TextChoices):
    ADMIN = "admin", _("公司管理员")
    MANAGER = "manager", _("项目经理")
    COLLECTOR = "collector", _("催收专员")
    CUSTOMER_SERVICE = "customer_service", _("客服")
    FINANCE = "finance", _("财务")
    LEGAL = "legal", _("法务")
    COMMITTEE = "committee", _("业主委员会")


class Capability(models.TextChoices):
    VIEW_ESTATES = "view_estates", _("查看项目与楼栋")
    VIEW_UNITS = "view_units", _("查看房屋")
    VIEW_PARTIES = "view_parties", _("查看业主与住户")
    REVEAL_PERSONAL_DATA = "reveal_personal_data", _("查看完整手机号与证件号")
    MANAGE_COMPANY = "manage_company", _("管理项目")
    MANAGE_UNITS = "manage_units", _("管理楼栋与房屋")
    MANAGE_PARTIES = "manage_parties", _("管理业主、住户与产权变更")
    VIEW_AUDIT = "view_audit", _("查看操作日志")
    MANAGE_BILLING = "manage_billing", _("管理收费与计费")
    RECORD_PAYMENTS = "record_payments", _("登记收款")
    REVERSE_PAYMENTS = "reverse_payments", _("冲销收款")
    APPROVE_WAIVERS = "approve_waivers", _("审批减免")


_ALL_READ = {Capability.VIEW_ESTATES, Capability.VIEW_UNITS, Capability.VIEW_PARTIES}

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(
        _ALL_READ
        | {
            Capability.REVEAL_PERSONAL_DATA,
            Capability.MANAGE_COMPANY,
            Capability.MANAGE_UNITS,
            Capability.MANAGE_PARTIES,
            Capability.VIEW_AUDIT,
            Capability.MANAGE_BILLING,
            Capability.RECORD_PAYMENTS,
            Capability.REVERSE_PAYMENTS,
            Capability.APPROVE_WAIVERS,
        }
    ),
    Role.MANAGER: frozenset(
        _ALL_READ
        | {
            Capability.REVEAL_PERSONAL_DATA,
            Capability.MANAGE_UNITS,
            Capability.MANAGE_PARTIES,
            Capability.VIEW_AUDIT,
            Capability.MANAGE_BILLING,
            Capability.RECORD_PAYMENTS,
            Capability.REVERSE_PAYMENTS,
            Capability.APPROVE_WAIVERS,
        }
    ),
    Role.COLLECTOR: frozenset(_ALL_READ | {Capability.REVEAL_PERSONAL_DATA}),
    # The front desk (客服) takes cash, so it records payments; reversing one is for finance.
    Role.CUSTOMER_SERVICE: frozenset(
        _ALL_READ
        | {
            Capability.REVEAL_PERSONAL_DATA,
            Capability.MANAGE_PARTIES,
            Capability.RECORD_PAYMENTS,
        }
    ),
    Role.FINANCE: frozenset(
        _ALL_READ
        | {Capability.MANAGE_BILLING, Capability.RECORD_PAYMENTS, Capability.REVERSE_PAYMENTS}
    ),
    Role.LEGAL: frozenset(_ALL_READ | {Capability.REVEAL_PERSONAL_DATA}),
    # The owners' committee sees aggregate figures only: estates and buildings, no units or people.
    Role.COMMITTEE: frozenset({Capability.VIEW_ESTATES}),
}

# Roles whose scope is the whole company regardless of their estate assignments.
COMPANY_WIDE_ROLES = frozenset({Role.ADMIN})


def role_can(user: User, capability: str) -> bool:
    """Whether `user` holds `capability`. Superusers hold every capability."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return capability in ROLE_CAPABILITIES.get(user.role, frozenset())


class PermissionDenied(Exception):
    """Raised by a service when the actor lacks the capability the write needs."""


def require(user: User | None, capability: str) -> None:
    """Raise PermissionDenied unless `user` may do `capability`; `None` is the system itself."""
    if user is None:
        return
    if not role_can(user, capability):
        raise PermissionDenied(capability)
