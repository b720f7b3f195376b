"""Cases (催收案件), the daily run (催收批次), the actions a run took and the tasks people work.

A case is one unit's collection while it owes at least the tolerance; the run opens, moves and
closes cases. Every action carries the idempotency key (case, stage, step, date), so a second run
on the same day finds its actions already there and does nothing."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.collection.constants import (
    ActionKind,
    ActionStatus,
    CaseCloseReason,
    CaseStatus,
    RunStatus,
    Segment,
    StageKey,
    TaskKind,
    TaskStatus,
)
from propfee.collection.models.policies import PolicyVersion
from propfee.core.models import User
from propfee.core.money import MoneyField
from propfee.estates.models import Company, Estate, Unit


class DunningRun(models.Model):
    """One daily run for a company as of a date (催收批次). At most one is `running` per company
    at a time (with the run lock of run/lock.py); `report` holds what it did: cases
    opened/closed, actions by stage, skipped by hold or cap."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="dunning_runs")
    as_of = models.DateField(_("业务日期"))
    status = models.CharField(
        _("状态"), max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    dry_run = models.BooleanField(_("试运行"), default=False)
    report = models.JSONField(_("运行结果"), default=dict, blank=True)
    error = models.TextField(_("错误信息"), blank=True)
    started_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # The run lock (run/lock.py): which process holds it ("host:pid") and its last sign of life.
    holder = models.CharField(_("运行进程"), max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(_("最后心跳"), null=True, blank=True)

    class Meta:
        verbose_name = _("催收批次")
        verbose_name_plural = _("催收批次")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company"],
                condition=Q(status="running"),
                name="dunningrun_one_running_per_company",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company} · {self.as_of:%Y-%m-%d}"


class Case(models.Model):
    """One unit's collection (催收案件). The figures are the last run's snapshot of the ledger;
    the ledger itself stays the truth."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="cases")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(
        _("状态"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    stage = models.CharField(_("催收阶段"), max_length=24, choices=StageKey.choices, blank=True)
    stage_entered_on = models.DateField(_("进入阶段日期"), null=True, blank=True)
    segment = models.CharField(
        _("分类"), max_length=16, choices=Segment.choices, default=Segment.GENERAL
    )
    priority = models.PositiveSmallIntegerField(_("优先级"), default=0)
    risk_score = models.PositiveSmallIntegerField(_("风险评分"), default=0)
    collector = models.ForeignKey(
        User,
        verbose_name=_("催收负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
    )
    policy_version = models.ForeignKey(
        PolicyVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason_codes = models.JSONField(_("欠费原因"), default=list, blank=True)
    principal_overdue_fen = MoneyField(_("逾期本金"), default=0)
    penalty_outstanding_fen = MoneyField(_("未缴违约金"), default=0)
    months_owed = models.PositiveSmallIntegerField(_("欠费月数"), default=0)
    oldest_due_date = models.DateField(_("最早应缴日期"), null=True, blank=True)
    opened_on = models.DateField(_("立案日期"))
    closed_on = models.DateField(_("结案日期"), null=True, blank=True)
    close_reason = models.CharField(
        _("结案原因"), max_length=24, choices=CaseCloseReason.choices, blank=True
    )
    last_run_on = models.DateField(_("最近运行日期"), null=True, blank=True)
    # The run's own bookkeeping of the stage: how many times its actions ran (the first entry
    # and each repeat) and when last; a stage awaiting a manager's approval (待审批) and one
    # approved for the next run to enter; when each segment-cadence task was last created.
    stage_runs = models.PositiveSmallIntegerField(_("本阶段执行次数"), default=0)
    stage_last_on = models.DateField(_("本阶段最近执行日期"), null=True, blank=True)
    pending_stage = models.CharField(
        _("待审批阶段"), max_length=24, choices=StageKey.choices, blank=True
    )
    pending_since = models.DateField(_("提交审批日期"), null=True, blank=True)
    approved_stage = models.CharField(
        _("已审批阶段"), max_length=24, choices=StageKey.choices, blank=True
    )
    cadence_last = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("催收案件")
        verbose_name_plural = _("催收案件")
        ordering = ["-priority", "-principal_overdue_fen", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"], condition=Q(status="open"), name="case_one_open_per_unit"
            ),
        ]
        indexes = [
            models.Index(fields=["estate", "status"], name="case_estate_status_idx"),
            models.Index(fields=["collector", "status"], name="case_collector_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_status_display()}"


class CaseEvent(models.Model):
    """A line of a case's timeline (案件动态): stage changes, messages, contacts, documents,
    promises, issues, legal steps. `object_type`/`object_id` point at the row it is about."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("类型"), max_length=32)
    happened_at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.CharField(_("摘要"), max_length=500)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("案件动态")
        verbose_name_plural = _("案件动态")
        ordering = ["case_id", "-happened_at", "-id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class Action(models.Model):
    """What a run did (or skipped, and why) for one step of a case's stage on one day.
    `key` = "case:stage:step:YYYY-MM-DD" is unique: the idempotency key of the design."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="actions")
    run = models.ForeignKey(
        DunningRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(_("催收阶段"), max_length=24, choices=StageKey.choices)
    step = models.PositiveSmallIntegerField(_("步骤"))
    on_date = models.DateField(_("日期"))
    key = models.CharField(max_length=80, unique=True)
    kind = models.CharField(_("动作"), max_length=16, choices=ActionKind.choices)
    status = models.CharField(_("结果"), max_length=16, choices=ActionStatus.choices)
    skip_reason = models.CharField(_("跳过原因"), max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When a message or document action was handed to messaging or documents (NULL: not yet).
    dispatched_at = models.DateTimeField(_("派发时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("催收动作")
        verbose_name_plural = _("催收动作")
        ordering = ["case_id", "on_date", "id"]
        indexes = [models.Index(fields=["on_date"], name="action_on_date_idx")]

    def __str__(self) -> str:
        return self.key


class Task(models.Model):
    """Work for a person (催收任务): a call, a visit, a delivery, an approval, due on a working
    day, assigned to the case's collector (or a manager for approvals)."""

    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="collection_tasks")
    action = models.OneToOneField(
        Action, null=True, blank=True, on_delete=models.SET_NULL, related_name="task"
    )
    kind = models.CharField(_("任务类型"), max_length=16, choices=TaskKind.choices)
    stage = models.CharField(_("催收阶段"), max_length=24, choices=StageKey.choices, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    title = models.CharField(_("任务内容"), max_length=200)
    due_on = models.DateField(_("截止日期"))
    priority = models.PositiveSmallIntegerField(_("优先级"), default=0)
    assigned_to = models.ForeignKey(
        User,
        verbose_name=_("执行人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="collection_tasks",
    )
    appointment_at = models.DateTimeField(_("预约时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    done_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.CharField(_("处理结果"), max_length=500, blank=True)
    # Who asked for the stage an approval task decides (a manager's 人工升级); None when the
    # run asked. The requester may not approve it (four eyes).
    requested_by = models.ForeignKey(
        User,
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("催收任务")
        verbose_name_plural = _("催收任务")
        ordering = ["due_on", "-priority", "id"]
        indexes = [
            models.Index(fields=["assigned_to", "status", "due_on"], name="task_queue_idx"),
        ]

    def __str__(self) -> str:
        return self.title
