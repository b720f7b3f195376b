"""The compliance rules of messaging (合规检查), in one place:

* `template_problems`: what is wrong with a template's text — whatever the wording guard
  (`propfee.core.wording_guard`: threats to cut utilities or block services, shaming,
  disclosure, threats, insults, false legal consequences, impersonation, marketing) finds,
  variables outside the whitelist, debt details in a text for non-payers, a final demand
  without a deadline. Every problem comes with a Chinese explanation.
* `wording_problems`: the wording guard alone, for texts that are not templates (a message
  at send time, a message typed by a collector).
* the contact guard: contact hours (never 22:00–08:00), statutory holidays, caps per unit per
  day and per week. The outbox applies it when queuing and again when sending.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import chinese_calendar
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from propfee.core.wording_guard import wording_findings, wording_message
from propfee.messaging.constants import (
    STAGES_NEEDING_DEADLINE,
    VARIABLES,
    Audience,
    Channel,
)


@dataclass(frozen=True)
class Problem:
    """One reason a template may not be approved or sent: a code for tests and programs, the
    explanation shown to staff, and the offending words as written."""

    code: str
    message: str
    excerpt: str = ""


# --- wording ---------------------------------------------------------------------------------


def wording_problems(text: str, *, dunning: bool = True) -> list[Problem]:
    """The wording guard's findings (`propfee.core.wording_guard`) as problems: threats to cut
    utilities or block services, shaming, disclosure to others, threats, insults, false legal
    consequences, impersonated authorities, marketing. Each quotes the words as written.
    `dunning`: the text is written to the payer about their fees (every payer template and
    message), so a cut or block needs no debt word nearby to count as a threat."""
    return [
        Problem(str(finding.category), wording_message(finding), finding.words)
        for finding in wording_findings(text, dunning=dunning)
    ]


_STRIP_CATEGORIES = ("Z", "P", "S", "C")


def _normalized(text: str) -> tuple[str, list[int]]:
    """The text with full-width forms folded (NFKC), lower case, and every space, punctuation
    mark, symbol and control character removed; with each kept character's index in `text`,
    so a match can be quoted as written."""
    kept: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        for folded in unicodedata.normalize("NFKC", char).lower():
            if unicodedata.category(folded)[0] in _STRIP_CATEGORIES:
                continue
            kept.append(folded)
            positions.append(index)
    return "".join(kept), positions


def _matches(text: str, patterns: tuple[re.Pattern[str], ...]) -> list[str]:
    """Every match of `patterns` in `text`, quoted from the original text."""
    normalized, positions = _normalized(text)
    found: list[str] = []
    spans: list[tuple[int, int]] = []
    for pattern in patterns:
        for match in pattern.finditer(normalized):
            # "暂停供水" also contains "停供": report the words once.
            if any(match.start() < end and start < match.end() for start, end in spans):
                continue
            spans.append((match.start(), match.end()))
            start, end = positions[match.start()], positions[match.end() - 1] + 1
            excerpt = text[start:end]
            if excerpt not in found:
                found.append(excerpt)
    return found


_VARIABLE_RE = re.compile(r"\{([^{}]*)\}")


def template_variables(text: str) -> list[str]:
    """The names between braces in `text`, in order of first use."""
    names: list[str] = []
    for name in _VARIABLE_RE.findall(text):
        if name not in names:
            names.append(name)
    return names


def _brace_problem(text: str) -> bool:
    """A brace that does not open or close a variable ("{name" or "name}")."""
    return "{" in _VARIABLE_RE.sub("", text) or "}" in _VARIABLE_RE.sub("", text)


def template_problems(
    *, channel: str, stage: str, audience: str, subject: str, body: str
) -> list[Problem]:
    """Everything that stops a template from being approved or sent; empty when it is clean."""
    text = f"{subject}\n{body}"
    problems: list[Problem] = []
    problems.extend(wording_problems(text, dunning=audience == Audience.PAYER))
    names = template_variables(subject) + [
        n for n in template_variables(body) if n not in template_variables(subject)
    ]
    for name in names:
        if name not in VARIABLES:
            problems.append(
                Problem(
                    "unknown_variable",
                    f"变量“{{{name}}}”不在可用变量列表中，发送时无法填写。",
                    f"{{{name}}}",
                )
            )
    if _brace_problem(subject) or _brace_problem(body):
        problems.append(Problem("braces", "花括号不成对：变量应写成 {name} 这样的形式。", "{ }"))
    if audience != Audience.PAYER:
        disclosed = [n for n in names if n in VARIABLES and VARIABLES[n].about_debt]
        for name in disclosed:
            problems.append(
                Problem(
                    "third_party_disclosure",
                    f"面向非缴费人的模板不能包含变量“{{{name}}}”（{VARIABLES[name].label}）："
                    "不得向缴费人以外的人披露欠费情况。",
                    f"{{{name}}}",
                )
            )
        for words in _matches(text, (re.compile(r"欠费|欠缴|拖欠|催缴|催收|未缴|逾期"),)):
            problems.append(
                Problem(
                    "third_party_disclosure",
                    f"面向非缴费人的模板不能提及欠费（“{words}”）："
                    "不得向缴费人以外的人披露欠费情况。",
                    words,
                )
            )
    if stage in STAGES_NEEDING_DEADLINE and "deadline" not in names:
        problems.append(
            Problem(
                "deadline_missing",
                "最后催告、律师函阶段的消息应写明缴费期限 {deadline}："
                "《民法典》第九百四十四条要求先催告业主在合理期限内支付。",
            )
        )
    if channel == Channel.EMAIL and not subject.strip():
        problems.append(Problem("subject_missing", "邮件模板需要填写标题。"))
    if not body.strip():
        problems.append(Problem("body_missing", "正文不能为空。"))
    return problems


# --- contact hours and caps ------------------------------------------------------------------

EARLIEST_START = dt.time(8, 0)
LATEST_END = dt.time(22, 0)


@dataclass(frozen=True)
class ContactWindow:
    """When messages may reach people: `start`–`end` local time, and whether statutory
    holidays (法定节假日, not ordinary weekends) are skipped."""

    start: dt.time
    end: dt.time
    skip_holidays: bool


def _time(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def contact_window() -> ContactWindow:
    """The configured window (settings.PROPFEE_MESSAGE_HOURS). It can only be narrowed:
    nothing may be sent between 22:00 and 08:00."""
    start_text, end_text = getattr(settings, "PROPFEE_MESSAGE_HOURS", ("08:00", "21:00"))
    start, end = _time(start_text), _time(end_text)
    if start < EARLIEST_START or end > LATEST_END or start >= end:
        raise ImproperlyConfigured(
            "PROPFEE_MESSAGE_HOURS must lie within 08:00–22:00 (no contact 22:00–08:00)"
        )
    return ContactWindow(start, end, getattr(settings, "PROPFEE_MESSAGE_SKIP_HOLIDAYS", True))


def day_allowed(day: dt.date, window: ContactWindow) -> bool:
    """Whether messages may go out on `day`: any day, except statutory holidays (国庆、春节…)
    when they are skipped. Weekends are allowed: owners read messages then."""
    if not window.skip_holidays:
        return True
    try:
        on_holiday, holiday_name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # a year the calendar does not cover yet
        return True
    return not (on_holiday and holiday_name)


def contact_allowed_from(at: dt.datetime, window: ContactWindow | None = None) -> dt.datetime:
    """`at` itself if a message may be sent then, else the next moment one may (the next
    allowed day's opening time), as an aware datetime."""
    window = window or contact_window()
    local = timezone.localtime(at)
    day = local.date()
    if day_allowed(day, window) and window.start <= local.time() < window.end:
        return at
    if local.time() >= window.end or not day_allowed(day, window):
        day += dt.timedelta(days=1)
    while not day_allowed(day, window):
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, window.start))


@dataclass(frozen=True)
class Caps:
    per_day: int
    per_week: int


def contact_caps() -> Caps:
    """Messages per unit per day and per calendar week (Monday–Sunday, local time)."""
    return Caps(
        per_day=getattr(settings, "PROPFEE_MESSAGE_CAP_DAY", 2),
        per_week=getattr(settings, "PROPFEE_MESSAGE_CAP_WEEK", 5),
    )


def day_bounds(at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The local day of `at` as [start, end)."""
    day = timezone.localtime(at).date()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def week_bounds(at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The local calendar week (Monday 00:00 to the next Monday) of `at` as [start, end)."""
    day = timezone.localtime(at).date()
    monday = day - dt.timedelta(days=day.weekday())
    start = timezone.make_aware(dt.datetime.combine(monday, dt.time.min))
    return start, start + dt.timedelta(days=7)
