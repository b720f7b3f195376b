"""Choices of the ledger domain; the values are the engine's component names."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from propfee.core.roles import Role
from propfee.ledger import engine


class Component(models.TextChoices):
    PRINCIPAL = engine.PRINCIPAL, _("本金")
    PENALTY = engine.PENALTY, _("违约金")


class WaiverStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    REVERSED = "reversed", _("已撤销")


class WaiverKind(models.TextChoices):
    """减免 (a concession: a service problem, hardship, a negotiated settlement) or 坏账核销 (a
    write-off of what cannot be collected). Both reduce the charge alike — collection rates
    count both as waived — but reports tell them apart and a write-off needs WRITE_OFF."""

    WAIVER = "waiver", _("减免")
    WRITE_OFF = "write_off", _("坏账核销")


class WriteOffReason(models.TextChoices):
    """Why a debt is written off (坏账核销原因)."""

    LIMITATION_EXPIRED = "limitation_expired", _("诉讼时效已过")
    UNREACHABLE = "unreachable", _("无法联系")
    ENFORCEMENT_TERMINATED = "enforcement_terminated", _("法院裁定终结执行")
    OTHER = "other", _("其他")


class WaiverRequestStatus(models.TextChoices):
    """A request (减免申请) is decided once: pending → approved or rejected."""

    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


#: Default approval limits (审批权限) per role and component, in fen per charge: the most a role
#: may approve in 减免 on one charge, counting the active 减免 already approved on it; None =
#: no limit. A company changes them with WaiverApprovalLimit rows (`waiver_limit_set`).
#: Roles without APPROVE_WAIVERS approve nothing whatever is written here.
DEFAULT_APPROVAL_LIMITS_FEN: dict[tuple[str, str], int | None] = {
    (Role.MANAGER, engine.PENALTY): None,
    (Role.MANAGER, engine.PRINCIPAL): 200_000,  # ¥2,000.00
    (Role.ADMIN, engine.PENALTY): None,
    (Role.ADMIN, engine.PRINCIPAL): None,
}
