"""Staff roles (角色) and what each may do.

The table below is the single source of truth for permissions; selectors and services ask
`role_can(user, capability)` and never test role names themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core import exceptions as django_exceptions
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
    MANAGE_TEMPLATES = "manage_templates", _("编辑消息模板")
    APPROVE_TEMPLATES = "approve_templates", _("审批消息模板")
    VIEW_OUTBOX = "view_outbox", _("查看消息记录")
    SEND_MESSAGES = "send_messages", _("发送与取消消息")
    REQUEST_WAIVERS = "request_waivers", _("申请减免")
    WRITE_OFF = "write_off", _("审批坏账核销")
    VIEW_REPORTS = "view_reports", _("查看报表")
    ISSUE_DOCUMENTS = "issue_documents", _("生成文书与登记送达")
    APPROVE_PUBLIC_NOTICES = "approve_public_notices", _("审批欠费公示")
    RUN_DUNNING = "run_dunning", _("运行催收批次")
    MANAGE_POLICIES = "manage_policies", _("管理催收策略")
    WORK_CASES = "work_cases", _("处理催收任务与催收记录")
    MANAGE_CASES = "manage_cases", _("分派催收案件")
    APPROVE_COLLECTION = "approve_collection", _("审批分期与法律事务")
    MANAGE_LEGAL = "manage_legal", _("办理法律事务")


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
            Capability.MANAGE_TEMPLATES,
            Capability.APPROVE_TEMPLATES,
            Capability.VIEW_OUTBOX,
            Capability.SEND_MESSAGES,
            Capability.REQUEST_WAIVERS,
            Capability.WRITE_OFF,
            Capability.VIEW_REPORTS,
            Capability.ISSUE_DOCUMENTS,
            Capability.APPROVE_PUBLIC_NOTICES,
            Capability.RUN_DUNNING,
            Capability.MANAGE_POLICIES,
            Capability.WORK_CASES,
            Capability.MANAGE_CASES,
            Capability.APPROVE_COLLECTION,
            Capability.MANAGE_LEGAL,
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
            Capability.MANAGE_TEMPLATES,
            Capability.APPROVE_TEMPLATES,
            Capability.VIEW_OUTBOX,
            Capability.SEND_MESSAGES,
            Capability.REQUEST_WAIVERS,
            Capability.VIEW_REPORTS,
            Capability.ISSUE_DOCUMENTS,
            Capability.APPROVE_PUBLIC_NOTICES,
            Capability.RUN_DUNNING,
            Capability.MANAGE_POLICIES,
            Capability.WORK_CASES,
            Capability.MANAGE_CASES,
            Capability.APPROVE_COLLECTION,
            Capability.MANAGE_LEGAL,
        }
    ),
    # Reports of a collector or legal officer cover only their assigned estates or buildings.
    # Staff who talk to owners may ask for a 减免 (REQUEST_WAIVERS); a manager decides it.
    Role.COLLECTOR: frozenset(
        _ALL_READ
        | {
            Capability.VIEW_OUTBOX,
            Capability.SEND_MESSAGES,
            Capability.REVEAL_PERSONAL_DATA,
            Capability.VIEW_REPORTS,
            Capability.ISSUE_DOCUMENTS,
            Capability.REQUEST_WAIVERS,
            Capability.WORK_CASES,
        }
    ),
    # The front desk (客服) takes cash, so it records payments; reversing one is for finance.
    Role.CUSTOMER_SERVICE: frozenset(
        _ALL_READ
        | {
            Capability.VIEW_OUTBOX,
            Capability.REVEAL_PERSONAL_DATA,
            Capability.MANAGE_PARTIES,
            Capability.RECORD_PAYMENTS,
            Capability.ISSUE_DOCUMENTS,
            Capability.REQUEST_WAIVERS,
        }
    ),
    Role.FINANCE: frozenset(
        _ALL_READ
        | {
            Capability.MANAGE_BILLING,
            Capability.RECORD_PAYMENTS,
            Capability.REVERSE_PAYMENTS,
            Capability.VIEW_REPORTS,
            Capability.REQUEST_WAIVERS,
        }
    ),
    Role.LEGAL: frozenset(
        _ALL_READ
        | {
            Capability.VIEW_OUTBOX,
            Capability.REVEAL_PERSONAL_DATA,
            Capability.VIEW_REPORTS,
            Capability.ISSUE_DOCUMENTS,
            Capability.REQUEST_WAIVERS,
            Capability.WORK_CASES,
            Capability.MANAGE_LEGAL,
        }
    ),
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


class ScopeTooNarrow(PermissionDenied, django_exceptions.PermissionDenied):
    """Raised by a service when a company-wide setting (an estate's collection policy, a message
    template, the company's daily run) is changed by someone whose scope does not cover every
    estate it concerns. The message is for the user; a view that lets it through answers 403
    with it."""


def require(user: User | None, capability: str) -> None:
    """Raise PermissionDenied unless `user` may do `capability`; `None` is the system itself."""
    if user is None:
        return
    if not role_can(user, capability):
        raise PermissionDenied(capability)
