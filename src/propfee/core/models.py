"""Core models: staff users with a role and an estate scope, and the audit log (操作日志)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.core.roles import Role


class TimeStampedModel(models.Model):
    """Abstract base: when a row was created and last changed."""

    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class User(AbstractUser):
    """A staff user (员工账号): one company, one role, scoped by StaffScope rows."""

    company = models.ForeignKey(
        "estates.Company",
        verbose_name=_("物业公司"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, default=Role.COLLECTOR)
    display_name = models.CharField(_("姓名"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("员工")
        verbose_name_plural = _("员工")

    def __str__(self) -> str:
        return self.display_name or self.username


class StaffScope(models.Model):
    """One estate (optionally one building in it) a staff user works on (负责范围)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="scopes")
    estate = models.ForeignKey("estates.Estate", on_delete=models.CASCADE, related_name="+")
    building = models.ForeignKey(
        "estates.Building", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("负责范围")
        verbose_name_plural = _("负责范围")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "estate", "building"], name="staffscope_unique"
            ),
            models.UniqueConstraint(
                fields=["user", "estate"],
                condition=models.Q(building__isnull=True),
                name="staffscope_unique_whole_estate",
            ),
        ]

    def __str__(self) -> str:
        where = self.building.name if self.building_id else self.estate.name
        return f"{self.user} · {where}"


class AuditAction(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    TRANSFER = "transfer", _("产权变更")
    IMPORT = "import", _("导入")
    REVEAL = "reveal", _("查看个人信息")
    EXPORT = "export", _("导出")
    ANONYMISE = "anonymise", _("删除个人信息")
    LOCKOUT = "lockout", _("登录锁定")
    UNLOCK = "unlock", _("解除登录锁定")


class AuditEntry(models.Model):
    """One write (or one view of unmasked personal data): who, when, what, before and after."""

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    estate = models.ForeignKey(
        "estates.Estate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
    )
    before = models.JSONField(_("修改前"), null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("修改后"), null=True, blank=True, encoder=DjangoJSONEncoder)
    note = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("操作日志")
        verbose_name_plural = _("操作日志")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.object_repr}"


class SubmissionToken(models.Model):
    """One form submission that wrote money or a document (表单提交凭据): the one-time token the
    form carried, claimed in the same transaction as the write. The unique key makes a second
    post of the same form (a double click, a retry, the back button) find the first one and
    its outcome page instead of writing again."""

    key = models.CharField(_("提交凭据"), max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    claimed_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    result_url = models.CharField(_("结果页面"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("表单提交凭据")
        verbose_name_plural = _("表单提交凭据")

    def __str__(self) -> str:
        return f"{self.key} · {self.claimed_at:%Y-%m-%d %H:%M}"
