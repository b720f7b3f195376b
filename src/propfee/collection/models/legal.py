"""Legal matters (法律事务): lawyer letters, payment orders, small claims, lawsuits and
arbitration as a status pipeline with dates, costs and recoveries; and the events that restart
a charge's limitation clock (诉讼时效中断)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.billing.models import Charge
from propfee.collection.constants import LegalKind, LegalStatus, RestartKind
from propfee.collection.models.cases import Case
from propfee.core.models import User
from propfee.core.money import MoneyField
from propfee.estates.models import Unit


class LegalMatter(models.Model):
    """One legal step against a unit's payer. Dates are filled as the matter moves through
    LegalStatus; `evidence` is the checklist (item → present)."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="legal_matters")
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="legal_matters"
    )
    kind = models.CharField(_("类型"), max_length=24, choices=LegalKind.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=LegalStatus.choices, default=LegalStatus.PREPARED
    )
    claim_fen = MoneyField(_("主张金额"), default=0)
    #: The charges the matter claims: those overdue when it was prepared (or filed). Its filing
    #: and its end restart the limitation clock of these charges only.
    claimed_charges = models.ManyToManyField(
        Charge, verbose_name=_("主张的应收"), related_name="+", blank=True
    )
    court_fee_fen = MoneyField(_("诉讼费"), default=0)
    lawyer_fee_fen = MoneyField(_("律师费"), default=0)
    recovered_fen = MoneyField(_("已回收金额"), default=0)
    court = models.CharField(_("受理法院/仲裁机构"), max_length=128, blank=True)
    docket_no = models.CharField(_("案号"), max_length=64, blank=True)
    law_firm = models.CharField(_("律师事务所"), max_length=128, blank=True)
    evidence = models.JSONField(_("证据清单"), default=dict, blank=True)
    credit_referral_eligible = models.BooleanField(_("可报送征信"), default=False)
    note = models.TextField(_("备注"), blank=True)
    prepared_on = models.DateField(_("准备日期"), default=timezone.localdate)
    approved_on = models.DateField(_("审批日期"), null=True, blank=True)
    approved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_on = models.DateField(_("立案日期"), null=True, blank=True)
    hearing_on = models.DateField(_("开庭日期"), null=True, blank=True)
    judgment_on = models.DateField(_("判决日期"), null=True, blank=True)
    enforcement_on = models.DateField(_("申请执行日期"), null=True, blank=True)
    closed_on = models.DateField(_("结案日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("法律事务")
        verbose_name_plural = _("法律事务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.get_kind_display()}"


class LimitationRestart(models.Model):
    """An event that restarts the limitation clock of the unit's charges due on or before
    `occurred_on` (民法典 art. 195): a demand that reached the payer with evidence, an
    acknowledgement (part payment, plan, promise), or a filing. `source_type`/`source_id` name
    the row that is its evidence."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="limitation_restarts")
    kind = models.CharField(_("中断事由"), max_length=24, choices=RestartKind.choices)
    occurred_on = models.DateField(_("发生日期"))
    description = models.CharField(_("说明"), max_length=500)
    source_type = models.CharField(max_length=64)
    source_id = models.BigIntegerField()
    #: The charges it restarts; empty = every charge of the unit due on or before the day (a
    #: demand or an acknowledgement of the whole debt). A legal matter's filing and end name
    #: the charges it claims.
    charges = models.ManyToManyField(
        Charge, verbose_name=_("所涉应收"), related_name="+", blank=True
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("时效中断")
        verbose_name_plural = _("时效中断")
        ordering = ["unit_id", "occurred_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id", "kind"], name="restart_one_per_source"
            ),
        ]
        indexes = [models.Index(fields=["unit", "occurred_on"], name="restart_unit_day_idx")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.kind} {self.occurred_on}"
