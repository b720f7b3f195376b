"""The collection run's report (催收批次报告): what a run did or, dry, would do."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from propfee.collection.constants import (
    STAGE_ORDER,
    ActionKind,
    CaseCloseReason,
    HoldKind,
    StageKey,
)


@dataclass
class RunReport:
    """What a run did (or, dry, would do); stored in DunningRun.report."""

    as_of: str
    dry_run: bool
    cases_opened: int = 0
    cases_closed: dict[str, int] = field(default_factory=dict)
    cases_open: int = 0
    actions_by_stage: dict[str, int] = field(default_factory=dict)
    actions_by_kind: dict[str, int] = field(default_factory=dict)
    skipped_by_hold: dict[str, int] = field(default_factory=dict)
    skipped_by_cap: int = 0
    awaiting_approval: int = 0
    approvals_requested: int = 0
    tasks_created: int = 0
    events_created: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    plans_defaulted: int = 0
    plans_completed: int = 0
    collectors_assigned: int = 0
    estates_without_policy: int = 0
    pre_due_queued: int = 0  # 缴费提醒 queued for charges falling due (collection.reminders)
    pre_due_failed: int = 0
    preview: list[dict[str, Any]] = field(default_factory=list)
    run_id: int | None = None
    unchanged_since: int | None = None  # the run of the same day nothing has changed since
    watermark: list[int] = field(default_factory=list)

    @property
    def actions_total(self) -> int:
        return sum(self.actions_by_stage.values())

    @property
    def cases_closed_total(self) -> int:
        return sum(self.cases_closed.values())

    @property
    def skipped_by_hold_total(self) -> int:
        return sum(self.skipped_by_hold.values())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def rows(self) -> list[tuple[str, str]]:
        """The report as (label, figure) lines, for the page and the command."""

        def label(choices: Any, value: str) -> str:
            try:
                return str(choices(value).label)
            except ValueError:
                return value

        rows = [(_("新立案"), str(self.cases_opened))]
        for reason, count in sorted(self.cases_closed.items()):
            rows.append(
                (_("结案：%(reason)s") % {"reason": label(CaseCloseReason, reason)}, str(count))
            )
        rows.append((_("在催案件"), str(self.cases_open)))
        for stage in STAGE_ORDER:
            if self.actions_by_stage.get(stage):
                rows.append(
                    (
                        _("动作：%(stage)s") % {"stage": label(StageKey, stage)},
                        str(self.actions_by_stage[stage]),
                    )
                )
        for kind, count in sorted(self.actions_by_kind.items()):
            rows.append((_("其中%(kind)s") % {"kind": label(ActionKind, kind)}, str(count)))
        for kind, count in sorted(self.skipped_by_hold.items()):
            rows.append((_("暂停跳过：%(kind)s") % {"kind": label(HoldKind, kind)}, str(count)))
        rows += [
            (_("超过联系上限跳过"), str(self.skipped_by_cap)),
            (_("提交审批"), str(self.approvals_requested)),
            (_("等待审批"), str(self.awaiting_approval)),
            (_("生成任务"), str(self.tasks_created)),
            (_("承诺兑现 / 违约"), f"{self.promises_kept} / {self.promises_broken}"),
            (_("分期违约"), str(self.plans_defaulted)),
            (_("分期履行完毕"), str(self.plans_completed)),
            (_("分配催收员"), str(self.collectors_assigned)),
            (_("缴费提醒（到期前）"), str(self.pre_due_queued)),
        ]
        if self.pre_due_failed:
            rows.append((_("缴费提醒未能发送"), str(self.pre_due_failed)))
        if self.estates_without_policy:
            rows.append((_("未设置催收策略的项目"), str(self.estates_without_policy)))
        return rows
