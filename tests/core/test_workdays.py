"""Working days: the official calendar (statutory holidays, 调休 workdays) where known, else
Monday–Friday."""

import datetime as dt

import pytest

from propfee.core.workdays import calendar_known, is_working_day, working_days_add

D = dt.date


def test_2026_national_day_is_not_worked():
    assert calendar_known(2026)
    for day in range(1, 8):
        assert not is_working_day(D(2026, 10, day))  # 国庆节 10月1日–7日
    # Due in one working day from 30 September: the holiday is jumped, 8 October.
    assert working_days_add(D(2026, 9, 30), 1) == D(2026, 10, 8)


def test_adjusted_workdays_count():
    # 2026 的调休上班日：9月20日（星期日）与 10月10日（星期六）
    assert D(2026, 9, 20).weekday() == 6 and is_working_day(D(2026, 9, 20))
    assert D(2026, 10, 10).weekday() == 5 and is_working_day(D(2026, 10, 10))
    assert not is_working_day(D(2026, 9, 19))  # an ordinary Saturday
    # From Friday 18 September, one working day is that Sunday.
    assert working_days_add(D(2026, 9, 18), 1) == D(2026, 9, 20)
    assert working_days_add(D(2026, 10, 9), 1) == D(2026, 10, 10)


def test_weekends_and_zero():
    assert working_days_add(D(2026, 11, 27), 2) == D(2026, 12, 1)  # Friday + 2 → Tuesday
    assert working_days_add(D(2026, 11, 28), 0) == D(2026, 11, 30)  # Saturday → Monday
    assert working_days_add(D(2026, 11, 27), 0) == D(2026, 11, 27)
    with pytest.raises(ValueError):
        working_days_add(D(2026, 11, 27), -1)


def test_unknown_year_falls_back_to_monday_to_friday():
    assert not calendar_known(2099)
    assert is_working_day(D(2099, 1, 1))  # a Thursday; its holidays are not published
    assert not is_working_day(D(2099, 1, 3))  # a Saturday
    assert working_days_add(D(2099, 1, 2), 1) == D(2099, 1, 5)
