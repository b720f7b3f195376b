"""Working days (工作日) in mainland China: Monday to Friday, less the statutory holidays, plus
the adjusted workdays (调休, a Saturday or Sunday worked to bridge a holiday), from the State
Council's yearly notice as published by `chinesecalendar`.

For a year the package does not know yet (the notice for year Y comes out late in Y−1), the
calendar falls back to Monday–Friday: a due date may then land on a holiday that was not known
when it was computed. `calendar_known(year)` tells whether a year is covered."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar
from chinese_calendar.constants import holidays as _HOLIDAYS
from chinese_calendar.constants import workdays as _WORKDAYS

_KNOWN_YEARS = frozenset(day.year for day in list(_HOLIDAYS) + list(_WORKDAYS))


def calendar_known(year: int) -> bool:
    """Whether the statutory holidays and adjusted workdays of `year` are known."""
    return year in _KNOWN_YEARS


@lru_cache(maxsize=4096)
def is_working_day(day: dt.date) -> bool:
    """Whether `day` is a working day: the official calendar where known, else Monday–Friday."""
    if calendar_known(day.year):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


def working_days_add(day: dt.date, n: int) -> dt.date:
    """The `n`-th working day after `day` (n ≥ 0; n = 0 gives `day` itself if it is a working
    day, else the next one). "Due in 2 working days" from a Friday is the next Tuesday."""
    if n < 0:
        raise ValueError("n must not be negative")
    current = day
    if n == 0:
        while not is_working_day(current):
            current += dt.timedelta(days=1)
        return current
    while n:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            n -= 1
    return current
