"""A collection policy's definition (催收策略定义): the typed, validated form of the JSON kept in
`PolicyVersion.definition` and of the YAML a manager exports and imports.

The stored JSON and the YAML are the same mapping; money in them is yuan as a decimal string
("5000.00"), turned into integer fen here. `definition_parse` checks everything and raises
`DefinitionError` listing every problem in Chinese, naming the stage and the field:

    tolerance: "50.00"             # 起催金额: a unit owing less has no case
    segments:                      # 重点 when any threshold is reached, else 一般
      key: {min_amount: "3000.00", min_months_owed: 6, min_risk: 70}
      cadence:                     # recurring tasks while a case is at or past `from_stage`
        from_stage: phone
        key: [{task: phone, every_days: 7}]
        general: [{task: phone, every_days: 14}, {task: visit, every_days: 30}]
    options: {dispute_holds: true, promise_grace_days: 3, messages_per_day: 1, messages_per_week: 3}
    stages:                        # in StageKey order, none twice; a case never skips one
      - key: reminder
        enter: {min_days_overdue: 1}              # every condition given must hold …
        actions:
          - {type: message, channel: sms, template: reminder, fallback: [wechat, email]}
        repeat: {every_days: 7, times: 3}         # the stage's actions 3 times in all
      - key: lawyer_letter
        enter:
          after_previous_days: 14                 # … days since the previous stage began
          any_of: [{min_amount: "5000.00"}, {min_days_overdue: 366}]   # … and one of these
        actions: [{type: document, document: lawyer_letter, deadline_days: 15}]
        approval: true

`after_previous_days` counts from the day the case entered the previous stage, or from the
case's last payment or promise when later ("without payment or promise"). `pre_due` is the
reminder before the due date: it takes `days_before_due` only and is not a case stage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from propfee.collection.constants import STAGE_ORDER, Segment, StageKey, TaskKind
from propfee.core.money import fen_to_yuan, yuan_to_fen

MESSAGE_CHANNELS = ("sms", "wechat", "email")
DOCUMENT_KINDS = ("notice", "final_demand", "lawyer_letter", "committee_letter", "statement")
ACTION_TYPES = ("message", "task", "document")
# Stage actions may not exceed this many days of delay or repetition (a year).
MAX_DAYS = 366


class DefinitionError(ValueError):
    """A policy definition that does not validate; `problems` lists every one, in Chinese."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("；".join(self.problems))


@dataclass(frozen=True)
class Condition:
    """Entry conditions of a stage. None = not required. Amounts in fen."""

    min_days_overdue: int | None = None
    min_amount_fen: int | None = None
    min_months_owed: int | None = None
    segment: str | None = None
    after_previous_days: int | None = None
    days_before_due: int | None = None
    any_of: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class MessageAction:
    channel: str
    template: str
    fallback: tuple[str, ...] = ()
    type: str = "message"


@dataclass(frozen=True)
class TaskAction:
    task: str
    due_in: int = 1
    title: str = ""
    type: str = "task"


@dataclass(frozen=True)
class DocumentAction:
    document: str
    deadline_days: int | None = None
    type: str = "document"


StageAction = MessageAction | TaskAction | DocumentAction


@dataclass(frozen=True)
class Repeat:
    every_days: int
    times: int


@dataclass(frozen=True)
class Stage:
    key: str
    enter: Condition
    actions: tuple[StageAction, ...]
    repeat: Repeat | None = None
    approval: bool = False
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or str(StageKey(self.key).label)


@dataclass(frozen=True)
class CadenceItem:
    task: str
    every_days: int
    title: str = ""


@dataclass(frozen=True)
class SegmentRules:
    """重点 (key) when principal ≥ min_amount_fen, or months owed ≥ min_months_owed, or the risk
    score ≥ min_risk (each None = not used); else 一般 (general)."""

    key_min_amount_fen: int | None = None
    key_min_months_owed: int | None = None
    key_min_risk: int | None = None
    cadence_from_stage: str | None = None
    cadence: Mapping[str, tuple[CadenceItem, ...]] = field(default_factory=dict)

    def segment_for(self, *, principal_fen: int, months_owed: int, risk: int) -> str:
        if (
            (self.key_min_amount_fen is not None and principal_fen >= self.key_min_amount_fen)
            or (self.key_min_months_owed is not None and months_owed >= self.key_min_months_owed)
            or (self.key_min_risk is not None and risk >= self.key_min_risk)
        ):
            return Segment.KEY
        return Segment.GENERAL


@dataclass(frozen=True)
class Options:
    dispute_holds: bool = True
    promise_grace_days: int = 3
    messages_per_day: int = 1
    messages_per_week: int = 3


@dataclass(frozen=True)
class Definition:
    tolerance_fen: int
    stages: tuple[Stage, ...]
    segments: SegmentRules = SegmentRules()
    options: Options = Options()

    @property
    def case_stages(self) -> tuple[Stage, ...]:
        """The stages a case moves through (all but the pre-due reminder), in order."""
        return tuple(s for s in self.stages if s.key != StageKey.PRE_DUE)

    def stage(self, key: str) -> Stage | None:
        return next((s for s in self.stages if s.key == key), None)


# --- parsing ---------------------------------------------------------------------------------


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}：{message}" if where else message)

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(where, "应为键值结构")
            return {}
        return value

    def unknown(self, value: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
        for key in value:
            if key not in allowed:
                self.fail(where, f"不认识的字段“{key}”")

    def integer(
        self, value: Any, where: str, *, low: int = 0, high: int = MAX_DAYS * 10
    ) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, "应为整数")
            return None
        if not low <= value <= high:
            self.fail(where, f"应在 {low} 到 {high} 之间")
            return None
        return value

    def money(self, value: Any, where: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, float | bool):
            self.fail(where, '金额请写成带引号的元，如 "5000.00"')
            return None
        try:
            fen = yuan_to_fen(str(value))
        except ValueError:
            self.fail(where, f"不是有效金额：{value}")
            return None
        if fen < 0:
            self.fail(where, "金额不能为负数")
            return None
        return fen

    def boolean(self, value: Any, where: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(where, "应为 true 或 false")
            return default
        return value

    def text(self, value: Any, where: str, *, required: bool = False) -> str:
        if value is None or value == "":
            if required:
                self.fail(where, "不能为空")
            return ""
        if not isinstance(value, str):
            self.fail(where, "应为文字")
            return ""
        return value.strip()


_CONDITION_FIELDS = (
    "min_days_overdue",
    "min_amount",
    "min_months_owed",
    "segment",
    "after_previous_days",
    "days_before_due",
    "any_of",
)


def _condition(c: _Checker, raw: Any, where: str, *, nested: bool = False) -> Condition:
    value = c.mapping(raw, where)
    allowed = _CONDITION_FIELDS[:3] if nested else _CONDITION_FIELDS
    c.unknown(value, allowed, where)
    segment = value.get("segment")
    if segment is not None and segment not in Segment.values:
        c.fail(f"{where}.segment", f"应为 {'/'.join(Segment.values)}")
        segment = None
    any_of: list[Condition] = []
    if not nested and value.get("any_of") is not None:
        if not isinstance(value["any_of"], list) or not value["any_of"]:
            c.fail(f"{where}.any_of", "应为至少一项条件的列表")
        else:
            for i, item in enumerate(value["any_of"], 1):
                any_of.append(_condition(c, item, f"{where}.any_of 第{i}项", nested=True))
    return Condition(
        min_days_overdue=c.integer(value.get("min_days_overdue"), f"{where}.min_days_overdue"),
        min_amount_fen=c.money(value.get("min_amount"), f"{where}.min_amount"),
        min_months_owed=c.integer(
            value.get("min_months_owed"), f"{where}.min_months_owed", high=600
        ),
        segment=segment,
        after_previous_days=c.integer(
            value.get("after_previous_days"), f"{where}.after_previous_days", high=MAX_DAYS
        ),
        days_before_due=c.integer(
            value.get("days_before_due"), f"{where}.days_before_due", high=60
        ),
        any_of=tuple(any_of),
    )


def _action(c: _Checker, raw: Any, where: str) -> StageAction | None:
    value = c.mapping(raw, where)
    kind = value.get("type")
    if kind not in ACTION_TYPES:
        c.fail(f"{where}.type", f"应为 {'/'.join(ACTION_TYPES)}")
        return None
    if kind == "message":
        c.unknown(value, ("type", "channel", "template", "fallback"), where)
        channel = value.get("channel")
        if channel not in MESSAGE_CHANNELS:
            c.fail(f"{where}.channel", f"应为 {'/'.join(MESSAGE_CHANNELS)}")
        template = c.text(value.get("template"), f"{where}.template", required=True)
        if template and template not in STAGE_ORDER:
            c.fail(f"{where}.template", f"应为催收阶段编码之一（{'/'.join(STAGE_ORDER)}）")
        fallback = value.get("fallback") or []
        if not isinstance(fallback, list) or any(f not in MESSAGE_CHANNELS for f in fallback):
            c.fail(f"{where}.fallback", f"应为渠道列表（{'/'.join(MESSAGE_CHANNELS)}）")
            fallback = []
        return MessageAction(channel=str(channel), template=template, fallback=tuple(fallback))
    if kind == "task":
        c.unknown(value, ("type", "task", "due_in", "title"), where)
        task = value.get("task")
        if task not in TaskKind.values:
            c.fail(f"{where}.task", f"应为 {'/'.join(TaskKind.values)}")
        due_in = c.integer(value.get("due_in", 1), f"{where}.due_in", high=60)
        return TaskAction(
            task=str(task),
            due_in=1 if due_in is None else due_in,
            title=c.text(value.get("title"), f"{where}.title"),
        )
    c.unknown(value, ("type", "document", "deadline_days"), where)
    document = value.get("document")
    if document not in DOCUMENT_KINDS:
        c.fail(f"{where}.document", f"应为 {'/'.join(DOCUMENT_KINDS)}")
    deadline = c.integer(value.get("deadline_days"), f"{where}.deadline_days", low=3, high=90)
    return DocumentAction(document=str(document), deadline_days=deadline)


def _stage(c: _Checker, raw: Any, index: int) -> Stage | None:
    value = c.mapping(raw, f"第{index}个阶段")
    key = value.get("key")
    if key not in STAGE_ORDER:
        c.fail(f"第{index}个阶段", f"key 应为 {'/'.join(STAGE_ORDER)} 之一")
        return None
    where = f"阶段“{StageKey(key).label}”({key})"
    c.unknown(value, ("key", "name", "enter", "actions", "repeat", "approval"), where)
    enter = _condition(c, value.get("enter"), f"{where}.enter")
    if key == StageKey.PRE_DUE:
        if enter.days_before_due is None:
            c.fail(f"{where}.enter.days_before_due", "缴费提醒阶段须写明到期前几天发送")
        if any(
            v is not None
            for v in (
                enter.min_days_overdue,
                enter.min_amount_fen,
                enter.min_months_owed,
                enter.after_previous_days,
            )
        ):
            c.fail(f"{where}.enter", "缴费提醒阶段只能设置 days_before_due")
    elif enter.days_before_due is not None:
        c.fail(f"{where}.enter.days_before_due", "只有缴费提醒阶段可以设置")
    raw_actions = value.get("actions")
    actions: list[StageAction] = []
    if not isinstance(raw_actions, list) or not raw_actions:
        c.fail(f"{where}.actions", "至少需要一个动作")
    else:
        for i, item in enumerate(raw_actions, 1):
            action = _action(c, item, f"{where}.actions 第{i}项")
            if action is not None:
                actions.append(action)
    repeat = None
    if value.get("repeat") is not None:
        r = c.mapping(value["repeat"], f"{where}.repeat")
        c.unknown(r, ("every_days", "times"), f"{where}.repeat")
        every = c.integer(r.get("every_days"), f"{where}.repeat.every_days", low=1, high=MAX_DAYS)
        times = c.integer(r.get("times"), f"{where}.repeat.times", low=1, high=52)
        if every is None or times is None:
            if "every_days" not in r or "times" not in r:
                c.fail(f"{where}.repeat", "须同时设置 every_days 与 times")
        else:
            repeat = Repeat(every_days=every, times=times)
    return Stage(
        key=key,
        enter=enter,
        actions=tuple(actions),
        repeat=repeat,
        approval=c.boolean(value.get("approval"), f"{where}.approval", False),
        name=c.text(value.get("name"), f"{where}.name"),
    )


def _segments(c: _Checker, raw: Any) -> SegmentRules:
    value = c.mapping(raw, "segments")
    c.unknown(value, ("key", "cadence"), "segments")
    key = c.mapping(value.get("key"), "segments.key")
    c.unknown(key, ("min_amount", "min_months_owed", "min_risk"), "segments.key")
    cadence_raw = c.mapping(value.get("cadence"), "segments.cadence")
    c.unknown(cadence_raw, ("from_stage", *Segment.values), "segments.cadence")
    from_stage = cadence_raw.get("from_stage")
    if from_stage is not None and from_stage not in STAGE_ORDER:
        c.fail("segments.cadence.from_stage", f"应为 {'/'.join(STAGE_ORDER)} 之一")
        from_stage = None
    cadence: dict[str, tuple[CadenceItem, ...]] = {}
    for segment in Segment.values:
        items = cadence_raw.get(segment) or []
        where = f"segments.cadence.{segment}（{Segment(segment).label}）"
        if not isinstance(items, list):
            c.fail(where, "应为列表")
            continue
        parsed = []
        for i, item in enumerate(items, 1):
            entry = c.mapping(item, f"{where} 第{i}项")
            c.unknown(entry, ("task", "every_days", "title"), f"{where} 第{i}项")
            if entry.get("task") not in (TaskKind.PHONE, TaskKind.VISIT, TaskKind.DELIVER):
                c.fail(f"{where} 第{i}项.task", "应为 phone/visit/deliver")
                continue
            every = c.integer(
                entry.get("every_days"), f"{where} 第{i}项.every_days", low=1, high=MAX_DAYS
            )
            if every is None:
                c.fail(f"{where} 第{i}项.every_days", "须设置间隔天数")
                continue
            parsed.append(
                CadenceItem(
                    task=entry["task"],
                    every_days=every,
                    title=c.text(entry.get("title"), f"{where} 第{i}项.title"),
                )
            )
        cadence[segment] = tuple(parsed)
    if any(cadence.values()) and from_stage is None:
        c.fail("segments.cadence.from_stage", "设置了分类跟进频率时须写明从哪个阶段开始")
    return SegmentRules(
        key_min_amount_fen=c.money(key.get("min_amount"), "segments.key.min_amount"),
        key_min_months_owed=c.integer(
            key.get("min_months_owed"), "segments.key.min_months_owed", high=600
        ),
        key_min_risk=c.integer(key.get("min_risk"), "segments.key.min_risk", high=100),
        cadence_from_stage=from_stage,
        cadence=cadence,
    )


def _options(c: _Checker, raw: Any) -> Options:
    value = c.mapping(raw, "options")
    fields = ("dispute_holds", "promise_grace_days", "messages_per_day", "messages_per_week")
    c.unknown(value, fields, "options")
    default = Options()
    grace = c.integer(value.get("promise_grace_days"), "options.promise_grace_days", high=60)
    per_day = c.integer(value.get("messages_per_day"), "options.messages_per_day", low=1, high=10)
    per_week = c.integer(
        value.get("messages_per_week"), "options.messages_per_week", low=1, high=50
    )
    return Options(
        dispute_holds=c.boolean(value.get("dispute_holds"), "options.dispute_holds", True),
        promise_grace_days=default.promise_grace_days if grace is None else grace,
        messages_per_day=default.messages_per_day if per_day is None else per_day,
        messages_per_week=default.messages_per_week if per_week is None else per_week,
    )


TOP_LEVEL_FIELDS = ("code", "name", "description", "tolerance", "segments", "options", "stages")


def definition_parse(raw: Any) -> Definition:
    """The typed definition of `raw` (the stored JSON or a loaded YAML mapping); raises
    DefinitionError with every problem found. `code`, `name`, `description` at the top level
    are the policy's own and are ignored here."""
    c = _Checker()
    value = c.mapping(raw, "策略定义")
    c.unknown(value, TOP_LEVEL_FIELDS, "策略定义")
    tolerance = c.money(value.get("tolerance"), "tolerance（起催金额）")
    if "tolerance" not in value:
        c.fail("tolerance（起催金额）", "必须设置")
    raw_stages = value.get("stages")
    stages: list[Stage] = []
    if not isinstance(raw_stages, list) or not raw_stages:
        c.fail("stages", "至少需要一个催收阶段")
    else:
        for i, item in enumerate(raw_stages, 1):
            stage = _stage(c, item, i)
            if stage is not None:
                stages.append(stage)
    seen: set[str] = set()
    last = -1
    for stage in stages:
        label = f"阶段“{StageKey(stage.key).label}”({stage.key})"
        if stage.key in seen:
            c.fail(label, "重复出现")
            continue
        seen.add(stage.key)
        position = STAGE_ORDER.index(stage.key)
        if position < last:
            c.fail(label, "顺序不对：阶段须按 " + " → ".join(STAGE_ORDER) + " 的顺序排列")
        last = max(last, position)
    if stages and all(s.key == StageKey.PRE_DUE for s in stages):
        c.fail("stages", "除缴费提醒外至少需要一个逾期后的催收阶段")
    segments = _segments(c, value.get("segments"))
    if segments.cadence_from_stage and stages and segments.cadence_from_stage not in seen:
        c.fail("segments.cadence.from_stage", "该阶段不在本策略的阶段列表中")
    options = _options(c, value.get("options"))
    if c.problems:
        raise DefinitionError(c.problems)
    assert tolerance is not None
    return Definition(
        tolerance_fen=tolerance, stages=tuple(stages), segments=segments, options=options
    )


# --- back to data ----------------------------------------------------------------------------


def _yuan(fen: int) -> str:
    return str(fen_to_yuan(fen))


def _condition_data(condition: Condition) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if condition.days_before_due is not None:
        data["days_before_due"] = condition.days_before_due
    if condition.min_days_overdue is not None:
        data["min_days_overdue"] = condition.min_days_overdue
    if condition.min_amount_fen is not None:
        data["min_amount"] = _yuan(condition.min_amount_fen)
    if condition.min_months_owed is not None:
        data["min_months_owed"] = condition.min_months_owed
    if condition.segment is not None:
        data["segment"] = condition.segment
    if condition.after_previous_days is not None:
        data["after_previous_days"] = condition.after_previous_days
    if condition.any_of:
        data["any_of"] = [_condition_data(c) for c in condition.any_of]
    return data


def _action_data(action: StageAction) -> dict[str, Any]:
    if isinstance(action, MessageAction):
        data: dict[str, Any] = {
            "type": "message",
            "channel": action.channel,
            "template": action.template,
        }
        if action.fallback:
            data["fallback"] = list(action.fallback)
        return data
    if isinstance(action, TaskAction):
        data = {"type": "task", "task": action.task, "due_in": action.due_in}
        if action.title:
            data["title"] = action.title
        return data
    data = {"type": "document", "document": action.document}
    if action.deadline_days is not None:
        data["deadline_days"] = action.deadline_days
    return data


def definition_data(definition: Definition) -> dict[str, Any]:
    """The JSON/YAML mapping of `definition` (what `definition_parse` reads back)."""
    segments: dict[str, Any] = {}
    key: dict[str, Any] = {}
    rules = definition.segments
    if rules.key_min_amount_fen is not None:
        key["min_amount"] = _yuan(rules.key_min_amount_fen)
    if rules.key_min_months_owed is not None:
        key["min_months_owed"] = rules.key_min_months_owed
    if rules.key_min_risk is not None:
        key["min_risk"] = rules.key_min_risk
    if key:
        segments["key"] = key
    if any(rules.cadence.values()):
        cadence: dict[str, Any] = {"from_stage": rules.cadence_from_stage}
        for segment, items in rules.cadence.items():
            if items:
                cadence[segment] = [
                    {
                        "task": i.task,
                        "every_days": i.every_days,
                        **({"title": i.title} if i.title else {}),
                    }
                    for i in items
                ]
        segments["cadence"] = cadence
    stages = []
    for stage in definition.stages:
        data: dict[str, Any] = {"key": stage.key}
        if stage.name:
            data["name"] = stage.name
        data["enter"] = _condition_data(stage.enter)
        data["actions"] = [_action_data(a) for a in stage.actions]
        if stage.repeat is not None:
            data["repeat"] = {"every_days": stage.repeat.every_days, "times": stage.repeat.times}
        if stage.approval:
            data["approval"] = True
        stages.append(data)
    options = definition.options
    return {
        "tolerance": _yuan(definition.tolerance_fen),
        "segments": segments,
        "options": {
            "dispute_holds": options.dispute_holds,
            "promise_grace_days": options.promise_grace_days,
            "messages_per_day": options.messages_per_day,
            "messages_per_week": options.messages_per_week,
        },
        "stages": stages,
    }
