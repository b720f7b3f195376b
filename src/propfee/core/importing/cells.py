"""Cell values of an import file and the parsers that check them, one per column: text,
numbers, yuan amounts, dates, choices and 是/否."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from django.db import models
from django.utils import translation

T = TypeVar("T")

# A cell as read from the file: text (stripped; "" when blank), a number from an XLSX numeric
# cell, or a date from an XLSX date cell.
CellValue = str | Decimal | dt.date

# A parser turns one non-blank cell into a value or raises ValueError with a Chinese message.
# Parsers are plain functions created once per column, so their results can be cached per
# distinct cell value: import files repeat the same estates, types, dates and areas endlessly.

Parser = Callable[[CellValue], T]


def cell_text(value: CellValue) -> str:
    """A cell as text: numbers without exponent or a trailing `.0`, dates as ISO dates."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return str(int(value))
        return format(value.normalize(), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def text_parser(max_length: int) -> Parser[str]:
    def parse(value: CellValue) -> str:
        text = cell_text(value)
        if len(text) > max_length:
            raise ValueError(f"不能超过{max_length}个字符")
        return text

    return parse


_NUMBER_RE = re.compile(r"^[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?$|^[+-]?\.\d+$")


def decimal_parser(
    *, places: int = 2, minimum: Decimal | None = None, max_digits: int = 12
) -> Parser[Decimal]:
    """Decimal numbers such as `89.5` or `1,089.50` (grouping commas allowed), at most `places`
    decimals. `minimum=None` means strictly greater than zero."""
    quantum = Decimal(1).scaleb(-places)
    limit = Decimal(10) ** (max_digits - places)

    def parse(value: CellValue) -> Decimal:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, str) and _NUMBER_RE.match(value.replace(" ", "")):
            number = Decimal(value.replace(" ", "").replace(",", ""))
        else:
            raise ValueError(f"不是有效的数字：{cell_text(value)}")
        shown = cell_text(value) if isinstance(value, Decimal) else value
        if minimum is None and number <= 0:
            raise ValueError(f"必须大于0：{shown}")
        if minimum is not None and number < minimum:
            raise ValueError(f"不能小于{minimum}：{shown}")
        try:
            rounded = number.quantize(quantum)
        except InvalidOperation as exc:
            raise ValueError(f"数值过大：{shown}") from exc
        if rounded != number:
            raise ValueError(f"最多{places}位小数：{shown}")
        if abs(rounded) >= limit:
            raise ValueError(f"数值过大：{shown}")
        return rounded

    return parse


def amount_fen_parser(*, allow_zero: bool = False) -> Parser[int]:
    """A yuan amount (`1234.50`, `1,234.5`) as integer fen; never negative."""
    decimal = decimal_parser(places=2, minimum=Decimal(0) if allow_zero else None, max_digits=15)

    def parse(value: CellValue) -> int:
        return int(decimal(value) * 100)

    return parse


_DATE_RE = re.compile(
    r"^(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|\.(\d{1,2})\.(\d{1,2})"
    r"|年(\d{1,2})月(\d{1,2})[日号]?)(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"
)
DATE_FORMATS_HINT = "2024-03-01、2024/3/1 或 2024年3月1日"


def date_parse(value: CellValue) -> dt.date:
    """2024-03-01, 2024/3/1, 2024.3.1, 2024年3月1日 or an Excel date cell."""
    if isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    text = cell_text(value).replace("\u00a0", " ").strip()
    match = _DATE_RE.match(text)
    if not match:
        raise ValueError(f"日期格式不正确：{text}（应为 {DATE_FORMATS_HINT}）")
    year, *rest = match.groups()
    month, day = [int(p) for p in rest if p is not None]
    try:
        parsed = dt.date(int(year), month, day)
    except ValueError as exc:
        raise ValueError(f"日期不存在：{text}") from exc
    if not 1900 <= parsed.year <= 2100:
        raise ValueError(f"日期不正确：{text}")
    return parsed


def choice_parser(
    choices: type[models.TextChoices], *, exclude: Collection[str] = ()
) -> Parser[str]:
    """One of a TextChoices (less the values in `exclude`), written as its Chinese label or its
    English value."""
    # The labels' source text is the Chinese; read it with translations off, so the parser
    # does not depend on the language active when the module happens to be imported.
    with translation.override(None):
        labels_zh = [
            (value, str(label)) for value, label in choices.choices if value not in exclude
        ]
    lookup: dict[str, str] = {}
    for value, label in labels_zh:
        lookup[label.strip().lower()] = value
        lookup[value.lower()] = value
    labels = "、".join(label for _, label in labels_zh)

    def parse(value: CellValue) -> str:
        text = cell_text(value)
        found = lookup.get(text.strip().lower())
        if found is None:
            raise ValueError(f"不是可选的值：{text}（可选：{labels}）")
        return found

    return parse


_YES = {"是", "y", "yes", "true", "1"}
_NO = {"否", "n", "no", "false", "0"}


def yes_no_parse(value: CellValue) -> bool:
    text = cell_text(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"只能填“是”或“否”：{cell_text(value)}")
