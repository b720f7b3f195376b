"""Filling a template with real figures (模板变量): the payer from estates, the amounts and
periods from the unit's ledger statement, as the words a message prints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.conf import settings

from propfee.core.money import format_yuan
from propfee.estates.models import Party, Unit
from propfee.ledger.selectors import statement_for_unit
from propfee.messaging.compliance import template_variables

DEFAULT_DEADLINE_DAYS = 15


def date_words(day: dt.date) -> str:
    """2026-12-12 → '2026年12月12日'."""
    return f"{day.year}年{day.month}月{day.day}日"


def month_words(day: dt.date) -> str:
    return f"{day.year}年{day.month}月"


def unit_words(unit: Unit) -> str:
    """How a message names a unit: estate, building, entrance and room (阳光花园3栋1502)."""
    entrance = unit.entrance
    if entrance and entrance.isdigit():
        entrance += "单元"
    return f"{unit.estate.name}{unit.building.name}{entrance}{unit.room}"


def deadline_default(as_of: dt.date) -> dt.date:
    """The deadline a message states unless the caller gives one (默认 15 天)."""
    days = getattr(settings, "PROPFEE_MESSAGE_DEADLINE_DAYS", DEFAULT_DEADLINE_DAYS)
    return as_of + dt.timedelta(days=days)


def payment_link(unit: Unit) -> str:
    """The owner's payment page for the unit (settings.PROPFEE_PAYMENT_LINK, where `{unit_code}`
    is replaced by the unit's code); empty when not configured."""
    pattern: str = getattr(settings, "PROPFEE_PAYMENT_LINK", "")
    return pattern.replace("{unit_code}", unit.code)


def message_values(
    *, unit: Unit, payer: Party, as_of: dt.date, deadline: dt.date | None = None
) -> dict[str, str]:
    """Every whitelisted variable's value for `unit` on `as_of`: the statement's outstanding
    amounts (本金 + 违约金) and the billing months with principal outstanding."""
    statement = statement_for_unit(unit=unit, as_of=as_of)
    owing = [line for line in statement.lines if line.position.principal_outstanding > 0]
    months = sorted({line.period_start.replace(day=1) for line in owing})
    if not months:
        periods = ""
    elif len(months) == 1:
        periods = month_words(months[0])
    else:
        periods = f"{month_words(months[0])}至{month_words(months[-1])}"
    earliest_due = min((line.due_date for line in owing), default=None)
    return {
        "name": payer.name,
        "unit": unit_words(unit),
        "unit_code": unit.code,
        "estate": unit.estate.name,
        "company": unit.estate.company.name,
        "date": date_words(as_of),
        "periods": periods,
        "months": str(len(months)),
        "amount": format_yuan(statement.total_outstanding_fen),
        "principal": format_yuan(statement.principal_outstanding_fen),
        "penalty": format_yuan(statement.penalty_outstanding_fen),
        "due_date": date_words(earliest_due) if earliest_due else "",
        "deadline": date_words(deadline or deadline_default(as_of)),
        "payment_link": payment_link(unit),
    }


def text_render(text: str, values: Mapping[str, str]) -> str:
    """`text` with each {variable} replaced by its value; a name without a value stays as
    written (the check reports it). Plain names only — no attribute access or format specs —
    so a template can never reach into an object."""
    for name in template_variables(text):
        if name in values:
            text = text.replace(f"{{{name}}}", values[name])
    return text
