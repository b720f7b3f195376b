"""Billing months: `"2026-11"` ↔ the first day of the month, month ends and month arithmetic."""

from __future__ import annotations

import calendar
import datetime as dt
import re

_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """Not a billing month of the form YYYY-MM; the message is for the user."""


def period_parse(period: str) -> dt.date:
    """'2026-11' → date(2026, 11, 1)."""
    match = _PERIOD_RE.match(period.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise PeriodError(f"计费月份格式应为 YYYY-MM（例如 2026-11）：{period}")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def period_label(start: dt.date) -> str:
    return f"{start:%Y-%m}"


def months_add(start: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after `start`'s month."""
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(earlier: dt.date, later: dt.date) -> int:
    """Whole months from `earlier`'s month to `later`'s month (2026-01 → 2026-04: 3)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def month_end(start: dt.date, months: int = 1) -> dt.date:
    """The last day of the `months`-month period that begins in `start`'s month."""
    last = months_add(start, months - 1)
    return last.replace(day=calendar.monthrange(last.year, last.month)[1])
