"""Collection policies as data (催收策略): a policy's versions hold the whole definition — ordered
stages with entry conditions, actions, cadence and approval, segment rules — as validated JSON,
so a version is immutable, exportable as YAML and referenced by every action it caused."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from propfee.core.models import TimeStampedModel, User
from propfee.estates.models import Company, Estate


class Policy(TimeStampedModel):
    """A named collection policy of a company; `is_default` applies it to estates that have no
    EstatePolicy row. The current definition is its latest version."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="policies")
    code = models.CharField(_("策略编码"), max_length=32)
    name = models.CharField(_("策略名称"), max_length=64)
    description = models.TextField(_("说明"), blank=True)
    is_default = models.BooleanField(_("公司默认策略"), default=False)

    class Meta:
        verbose_name = _("催收策略")
        verbose_name_plural = _("催收策略")
        ordering = ["company_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="policy_code_unique"),
            models.UniqueConstraint(
                fields=["company"],
                condition=models.Q(is_default=True),
                name="policy_one_default_per_company",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PolicyVersion(models.Model):
    """One immutable definition of a policy (`definition`: the JSON the policy services validate
    and document). Numbered from 1 per policy."""

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    definition = models.JSONField(_("策略定义"))
    note = models.CharField(_("修改说明"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("策略版本")
        verbose_name_plural = _("策略版本")
        ordering = ["policy_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="policyversion_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.policy} v{self.number}"


class EstatePolicy(models.Model):
    """Which policy an estate follows, when not the company default."""

    estate = models.OneToOneField(Estate, on_delete=models.CASCADE, related_name="policy_choice")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="estate_choices")

    class Meta:
        verbose_name = _("项目催收策略")
        verbose_name_plural = _("项目催收策略")

    def __str__(self) -> str:
        return f"{self.estate} → {self.policy}"
