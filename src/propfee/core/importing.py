"""Data imports (数据导入): reading CSV/XLSX files, matching headers, checking cells, and running
an import kind all-or-nothing with one audit summary. Each app registers its own kinds
(estates, units, parties; later charges, payments) in `IMPORT_KINDS` from its `importers.py`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import IntegrityError, connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone, translation
from django.utils.module_loading import autodiscover_modules

from propfee.core.models import AuditAction, AuditEntry, User
from propfee.core.roles import PermissionDenied, require

if TYPE_CHECKING:
    from propfee.estates.models import Company

logger = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=models.Model)

# A cell as read from the file: text (stripped; "" when blank), a number from an XLSX numeric
# cell, or a date from an XLSX date cell.
CellValue = str | Decimal | dt.date

PREVIEW_ROWS = 50


class RowAction:
    """What an import does with one row, as shown in the preview column 操作."""

    CREATE = "新增"
    UPDATE = "更新"
    UNCHANGED = "不变"
    ERROR = "错误"


ACTION_COLUMN = "操作"


@dataclass(frozen=True)
class RowError:
    """One problem in an import file. `row` is the row number as Excel shows it (header = 1);
    0 means the whole file. `column` is the header as written in the file (or the Chinese column
    name when the column is missing); "" for whole-file and row-level problems."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.row == 0:
            return self.message
        if self.column:
            return f"第{self.row}行 {self.column}：{self.message}"
        return f"第{self.row}行：{self.message}"


@dataclass
class ImportReport:
    """The outcome of one import run (or dry run)."""

    kind: str
    filename: str
    dry_run: bool
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    preview: list[dict[str, str]] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ImportColumn:
    """One column of an import file. `key` is the English header (`name_en`)."""

    name_zh: str
    name_en: str
    required: bool
    help: str
    example: CellValue = ""
    aliases: tuple[str, ...] = ()
    # Kept as text in the template, so Excel does not turn phone or ID numbers into numbers.
    as_text: bool = False

    @property
    def key(self) -> str:
        return self.name_en


@dataclass(slots=True)
class ImportRow:
    """One non-blank data row: its Excel row number and its cells as read, left to right (read
    them by column with `ImportContext.column`)."""

    number: int
    cells: list[CellValue]
    # Columns of this row already reported as bad while reading (formulas, error cells).
    bad: frozenset[str] = frozenset()


@dataclass
class ImportPlan:
    """What a kind would do with the checked rows: the action of every valid row, and `apply`,
    which writes everything and adds an audit row per created/updated object to the batch."""

    actions: dict[int, str]
    apply: Callable[[AuditBatch], None]
    estate_ids: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class ImportKind:
    """A kind of import file (项目/房屋/业主…): its columns, the capability it needs, and `plan`,
    which checks the rows and prepares the writes."""

    kind: str
    label: str
    columns: tuple[ImportColumn, ...]
    capability: str
    plan: Callable[[ImportContext, list[ImportRow]], ImportPlan]

    def column(self, key: str) -> ImportColumn:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)


class ImportKindRegistry(dict[str, ImportKind]):
    """Import kinds by name. Each app's `importers` module registers its kinds when it is
    imported; the registry imports those modules the first time it is read, so callers need
    no start-up wiring."""

    _lock = threading.Lock()
    _discovered = False

    def _discover(self) -> None:
        if self._discovered:
            return
        with self._lock:
            if not self._discovered:
                type(self)._discovered = True
                autodiscover_modules("importers")

    def __getitem__(self, key: str) -> ImportKind:
        self._discover()
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._discover()
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self._discover()
        return super().__iter__()

    def __len__(self) -> int:
        self._discover()
        return super().__len__()

    def get(self, key: str, default: Any = None) -> Any:
        self._discover()
        return super().get(key, default)

    def keys(self) -> Any:
        self._discover()
        return super().keys()

    def values(self) -> Any:
        self._discover()
        return super().values()

    def items(self) -> Any:
        self._discover()
        return super().items()


IMPORT_KINDS: dict[str, ImportKind] = ImportKindRegistry()


def import_kind_register(kind: ImportKind) -> ImportKind:
    """Add `kind` to IMPORT_KINDS (called at import time of an app's `importers` module)."""
    dict.__setitem__(IMPORT_KINDS, kind.kind, kind)
    return kind


# --- cell parsers ------------------------------------------------------------------------
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


def choice_parser(choices: type[models.TextChoices]) -> Parser[str]:
    """One of a TextChoices, written as its Chinese label or its English value."""
    # The labels' source text is the Chinese; read it with translations off, so the parser
    # does not depend on the language active when the module happens to be imported.
    with translation.override(None):
        labels_zh = [(value, str(label)) for value, label in choices.choices]
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


# --- reading files -----------------------------------------------------------------------


class ImportFileError(ValueError):
    """The file as a whole cannot be read; the message is for the user."""


@dataclass(frozen=True)
class _BadCell:
    """A cell that cannot be used whatever its column: a formula or an Excel error value."""

    message: str


RawRow = tuple[int, list["CellValue | _BadCell"]]


def _blank(cells: list[CellValue | _BadCell]) -> bool:
    return cells.count("") == len(cells)


_EXCEL_TEXT_RE = re.compile(r'^="(.*)"$')


def _csv_rows(content: bytes) -> list[RawRow]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(
            "无法识别文件编码：请将文件另存为“CSV UTF-8（逗号分隔）”或 XLSX 后重新导入"
        )
    # Excel users write ="0571…" to keep leading zeros; the value is the inside.
    excel_text = '="' in text
    rows: list[RawRow] = []
    try:
        # Each CSV record is one Excel row, even when a quoted cell spans several lines.
        for number, record in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            cells: list[CellValue | _BadCell] = [raw.strip() for raw in record]
            if excel_text:
                cells = [_excel_text(c) for c in cells]
            rows.append((number, cells))
    except csv.Error as exc:
        raise ImportFileError(f"CSV 文件格式不正确：{exc}") from exc
    return rows


def _excel_text(cell: CellValue | _BadCell) -> CellValue | _BadCell:
    match = _EXCEL_TEXT_RE.match(cell) if isinstance(cell, str) else None
    return match.group(1).strip() if match else cell


def _xlsx_value(cell: Any) -> CellValue | _BadCell:
    data_type = getattr(cell, "data_type", "n")
    value = cell.value
    if data_type == "f":
        return _BadCell("单元格含有公式，请复制后“粘贴为数值”再导入")
    if data_type == "e":
        return _BadCell(f"单元格是错误值：{value}")
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # str() gives the shortest text that reads back as the same double, i.e. what the
        # sheet shows; the number is never used in float arithmetic.
        return Decimal(str(value))
    if hasattr(value, "text"):  # formula objects (array/data-table formulas)
        return _BadCell("单元格含有公式，请复制后“粘贴为数值”再导入")
    return str(value).strip()


def _xlsx_rows(content: bytes) -> list[RawRow]:
    from openpyxl import load_workbook

    try:
        # data_only=False so that formula cells are seen as formulas: the cached value of a
        # formula is only as fresh as the last save by Excel, and missing if another tool
        # wrote the file.
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise ImportFileError("无法读取 XLSX 文件：文件已损坏或不是 Excel 文件") from exc
    try:
        if not workbook.worksheets:
            raise ImportFileError("XLSX 文件中没有工作表")
        sheet = workbook.worksheets[0]
        # Some tools write a wrong sheet size; reading without it reads every row.
        sheet.reset_dimensions()
        rows: list[RawRow] = []
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            rows.append((number, [_xlsx_value(cell) for cell in cells]))
        return rows
    finally:
        workbook.close()


def import_file_read(content: bytes, filename: str) -> list[RawRow]:
    """The rows of an import file (CSV in UTF-8/GB18030, or the first sheet of an XLSX) with
    their row numbers. Raises ImportFileError when the file as a whole cannot be read."""
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV")
    if content.startswith(b"PK\x03\x04") or filename.lower().endswith((".xlsx", ".xlsm")):
        if not zipfile.is_zipfile(io.BytesIO(content)):
            raise ImportFileError("无法读取 XLSX 文件：文件已损坏或不是 Excel 文件")
        return _xlsx_rows(content)
    return _csv_rows(content)


def _header_key(text: str) -> str:
    """Headers match ignoring case, spaces, a required mark `*` and a unit in brackets."""
    text = re.sub(r"\s+", "", text).lower().lstrip("*").rstrip("*")
    return re.sub(r"[(（][^)）]*[)）]$", "", text)


# --- running an import -------------------------------------------------------------------


class ImportContext:
    """Everything a kind's `plan` needs: the company, the actor, which columns the file has,
    the error list, column-wise cell parsing, bulk writing and progress reporting."""

    def __init__(
        self,
        *,
        kind: ImportKind,
        company: Company,
        actor: User | None,
        filename: str,
        headers: dict[str, str],
        positions: dict[str, int],
        total_rows: int,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.kind = kind
        self.company = company
        self.actor = actor
        self.filename = filename
        self.headers = headers
        self.positions = positions
        self.total_rows = total_rows
        self.errors: list[RowError] = []
        self._error_rows: set[int] = set()
        self._progress = progress
        self._columns_read = 0

    def has(self, key: str) -> bool:
        """Whether the file has the column `key`."""
        return key in self.headers

    def column_title(self, key: str) -> str:
        """The column as the user wrote it, or its Chinese name when the file lacks it."""
        if key in self.headers:
            return self.headers[key]
        try:
            return self.kind.column(key).name_zh
        except KeyError:
            return key

    def error(self, row: int, key: str, message: str) -> None:
        """Record a problem with `row`; `key` "" for a problem of the row as a whole."""
        self.errors.append(RowError(row, self.column_title(key) if key else "", message))
        self._error_rows.add(row)

    def row_failed(self, row: int) -> bool:
        return row in self._error_rows

    @property
    def failed_rows(self) -> set[int]:
        """Numbers of the rows with an error so far (a live set, for tight loops)."""
        return self._error_rows

    def column(self, rows: Sequence[ImportRow], key: str, parser: Parser[T]) -> list[T | None]:
        """The parsed cells of column `key`, one per row: None when blank, missing or bad.

        Each distinct cell value is parsed once (files repeat the same estates, types, dates
        and areas endlessly); a blank required cell and every bad cell become errors."""
        if key not in self.headers:
            return [None] * len(rows)
        position = self.positions[key]
        required = self.kind.column(key).required
        parsed: dict[CellValue, Any] = {}
        values: list[T | None] = []
        append = values.append
        for row in rows:
            raw = row.cells[position]
            if raw == "":
                if required and key not in row.bad:
                    self.error(row.number, key, "不能为空")
                append(None)
                continue
            try:
                value = parsed[raw]
            except KeyError:
                try:
                    value = parser(raw)
                except ValueError as exc:
                    value = _Invalid(str(exc))
                parsed[raw] = value
            if type(value) is _Invalid:
                self.error(row.number, key, value.message)
                append(None)
            else:
                append(value)
        self._columns_read += 1
        if self._progress:
            share = min(self._columns_read, len(self.kind.columns)) / len(self.kind.columns)
            self._progress(int(self.total_rows * share), 2 * self.total_rows)
        return values

    def write_progress(self, done: int, of: int) -> None:
        """Report writing progress: `done` of the `of` rows of the main table are written."""
        if self._progress and of:
            total = self.total_rows
            self._progress(total + min(total, total * done // of), 2 * total)

    def bulk_create(self, objs: Sequence[M], *, batch_size: int = 2000) -> list[M]:
        """ORM `bulk_create` for tables whose new primary keys are needed at once."""
        if not objs:
            return []
        return type(objs[0])._default_manager.bulk_create(objs, batch_size=batch_size)


@dataclass(frozen=True, slots=True)
class _Invalid:
    message: str


# --- bulk writing ------------------------------------------------------------------------

_INSERT_BATCH = 10_000


def _db_converter(field: models.Field) -> Callable[[Any], Any] | None:
    """How a Python value of `field` is handed to the database driver, for the field types
    whose driver value differs from the Python value (the others pass through)."""
    internal = field.get_internal_type()
    if internal == "JSONField":
        # The same text as `json.dumps(value, cls=encoder)` (what Django writes), with one
        # encoder for all rows instead of one per value.
        encode = (getattr(field, "encoder", None) or json.JSONEncoder)().encode
        return lambda value: None if value is None else encode(value)
    if internal == "DateTimeField":
        probe = timezone.now()
        if connection.ops.adapt_datetimefield_value(probe) is probe:
            return None  # the driver takes aware datetimes as they are (PostgreSQL)
        last: list[Any] = [None, None]

        def adapt(value: Any) -> Any:
            # An import stamps every row with the same timestamp: adapt it once.
            if value is not last[0]:
                last[0], last[1] = value, connection.ops.adapt_datetimefield_value(value)
            return last[1]

        return adapt
    return None


def _columns(model: type[models.Model], fields: Sequence[str]) -> list[str]:
    return [str(getattr(model._meta.get_field(name), "column", name)) for name in fields]


def _rows_convert(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Sequence[Sequence[Any]]:
    """`rows` with JSON and datetime values adapted for the driver (the others as they are)."""
    model_fields = [model._meta.get_field(name) for name in fields]
    converters = [
        (i, c)
        for i, f in enumerate(model_fields)
        if isinstance(f, models.Field) and (c := _db_converter(f))
    ]
    if not converters:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for i, convert in converters:
            values[i] = convert(values[i])
        converted.append(values)
    return converted


def rows_insert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Insert plain tuples (values of `fields`, in order) into `model`'s table: COPY on
    PostgreSQL, executemany elsewhere. No model instances, no signals, no returned keys: for
    large imports, where building a model object per row costs more than the insert itself.
    JSON and datetime values are adapted here; other values go to the driver as they are."""
    if not rows:
        return
    rows = _rows_convert(model, fields, rows)
    _rows_write(model, fields, rows, progress)


def rows_update(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Update rows by primary key: each row holds the new values of `fields`, then the pk.
    One statement sent many times (executemany; pipelined on PostgreSQL), which unlike
    `bulk_update`'s CASE WHEN stays linear in the number of rows."""
    if not rows:
        return
    rows = _rows_convert(model, fields, rows)
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(c)} = %s" for c in _columns(model, fields))
    table = quote(model._meta.db_table)
    assert model._meta.pk is not None
    pk = quote(str(model._meta.pk.column))
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", rows)


def _rows_write(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Send rows whose values the driver takes as they are."""
    columns = _columns(model, fields)
    table = connection.ops.quote_name(model._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _INSERT_BATCH):
            batch = rows[start : start + _INSERT_BATCH]
            if connection.vendor == "postgresql":
                sql = f"COPY {table} ({column_list}) FROM STDIN"
                # COPY runs on the driver's cursor; errors still surface as Django's own.
                with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                    for values in batch:
                        copy.write_row(values)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({marks})", batch)
            if progress:
                progress(min(start + _INSERT_BATCH, len(rows)), len(rows))


class AuditBatch:
    """The audit rows of one import, written with one bulk insert in the import's transaction.

    Each row holds exactly what `propfee.core.services.audit_entry_build` would put in it (a
    test keeps the two equal). Rows are kept as tuples, JSON already encoded, because building
    a model object per created unit would cost more than inserting the unit."""

    FIELDS = (
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "estate",
        "before",
        "after",
        "note",
    )

    def __init__(self, *, actor: User | None, note: str) -> None:
        self.actor_id = actor.pk if actor is not None and actor.is_authenticated else None
        self.note = note[:500]
        self.at = timezone.now()
        adapt_at = _db_converter(AuditEntry._meta.get_field("at"))  # type: ignore[arg-type]
        self._at = adapt_at(self.at) if adapt_at else self.at
        encoder = AuditEntry._meta.get_field("after").encoder  # type: ignore[union-attr]
        self._encode = (encoder or json.JSONEncoder)().encode
        self.rows: list[tuple[Any, ...]] = []

    def add_row(
        self,
        action: str,
        object_type: str,
        object_id: Any,
        object_repr: str,
        estate_id: int | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        note: str | None = None,
    ) -> None:
        """One audit row; positional, for the one-row-per-created-object loops of big imports."""
        self.rows.append(
            (
                self._at,
                self.actor_id,
                action,
                object_type,
                str(object_id),
                object_repr[:200],
                estate_id,
                None if before is None else self._encode(before),
                None if after is None else self._encode(after),
                self.note if note is None else note[:500],
            )
        )

    def add(
        self,
        *,
        action: str,
        object_type: str,
        object_id: Any,
        object_repr: str,
        estate_id: int | None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        note: str | None = None,
    ) -> None:
        self.add_row(action, object_type, object_id, object_repr, estate_id, before, after, note)

    def add_object(
        self,
        action: str,
        obj: models.Model,
        *,
        estate_id: int | None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """An audit row about `obj`, named as `audit_entry_build(obj=…)` names it."""
        label = obj._meta.label_lower
        self.add_row(action, label, obj.pk, str(obj), estate_id, before, after)

    def write(self) -> int:
        _rows_write(AuditEntry, self.FIELDS, self.rows)
        return len(self.rows)


def _headers_match(
    kind: ImportKind, header_cells: Sequence[CellValue | _BadCell], header_row: int
) -> tuple[dict[int, str], dict[str, str], list[RowError]]:
    """Map file columns to column keys. Returns (position → key, key → header as written,
    errors)."""
    lookup: dict[str, str] = {}
    for column in kind.columns:
        for name in (column.name_zh, column.name_en, *column.aliases):
            lookup[_header_key(name)] = column.key
    positions: dict[int, str] = {}
    written: dict[str, str] = {}
    errors: list[RowError] = []
    known = "、".join(f"{c.name_zh}/{c.name_en}" for c in kind.columns)
    for position, cell in enumerate(header_cells):
        if isinstance(cell, _BadCell):
            errors.append(RowError(header_row, f"第{position + 1}列", "表头不能是公式"))
            continue
        title = cell_text(cell).strip()
        if not title:
            continue
        key = lookup.get(_header_key(title))
        if key is None:
            errors.append(RowError(header_row, title, f"无法识别的列名（可用的列：{known}）"))
        elif key in written:
            errors.append(RowError(header_row, title, f"列重复：与“{written[key]}”是同一列"))
        else:
            positions[position] = key
            written[key] = title
    for column in kind.columns:
        if column.required and column.key not in written:
            errors.append(RowError(header_row, column.name_zh, "缺少必填列"))
    return positions, written, errors


def _rows_build(
    raw_rows: Iterable[RawRow], positions: Mapping[int, str], width: int
) -> tuple[list[ImportRow], list[tuple[int, str, str]]]:
    """Non-blank rows as ImportRows, and the problems found while reading them as
    (row, column key or "", message)."""
    rows: list[ImportRow] = []
    problems: list[tuple[int, str, str]] = []
    items = list(positions.items())
    unmapped = [i for i in range(width) if i not in positions]
    for number, cells in raw_rows:
        count = len(cells)
        if cells.count("") == count:
            continue
        if count < width:
            cells = cells + [""] * (width - count)
        row = ImportRow(number, cells)  # type: ignore[arg-type]  # bad cells replaced below
        if _BadCell in map(type, cells):
            for position, key in items:
                cell = cells[position]
                if isinstance(cell, _BadCell):
                    row.bad |= {key}
                    cells[position] = ""
                    problems.append((number, key, cell.message))
        rows.append(row)
        if count > width or unmapped:
            stray = [i for i, c in enumerate(cells) if c != "" and i not in positions]
            beyond = [i for i in stray if i >= width]
            if beyond:
                message = f"该行比表头多出{len(beyond)}列（数字中的逗号需加引号）"
                problems.append((number, "", message))
            elif stray:
                problems.append((number, "", f"第{stray[0] + 1}列有内容，但该列没有表头"))
    return rows, problems


def _preview_row(
    kind: ImportKind, positions: dict[str, int], row: ImportRow, action: str
) -> dict[str, str]:
    preview = {
        c.name_zh: cell_text(row.cells[positions[c.key]]) if c.key in positions else ""
        for c in kind.columns
    }
    preview[ACTION_COLUMN] = action
    return preview


def _company_for(actor: User | None, company: Company | None) -> Company:
    if company is None:
        company = actor.company if actor is not None else None
    if company is None:
        raise ValueError("请指定物业公司")
    if actor is not None and not actor.is_superuser and actor.company_id != company.pk:
        raise PermissionDenied("company")
    return company


def import_run(
    *,
    kind: str,
    content: bytes,
    filename: str,
    actor: User | None,
    company: Company | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Check an import file and, unless `dry_run` or any row is bad, write it in one
    transaction with an audit row per created/updated object and one summary row.

    `progress(done, total)` is called now and then; every row counts once when checked and
    once when written, so `total` is twice the number of rows."""
    import_kind = IMPORT_KINDS.get(kind)
    if import_kind is None:
        raise ValueError(f"未知的导入类型：{kind}")
    require(actor, import_kind.capability)
    company = _company_for(actor, company)
    report = ImportReport(kind=kind, filename=filename, dry_run=dry_run)

    try:
        raw_rows = import_file_read(content, filename)
    except ImportFileError as exc:
        report.errors.append(RowError(0, "", str(exc)))
        return report
    header_index = next((i for i, (_, cells) in enumerate(raw_rows) if not _blank(cells)), None)
    if header_index is None:
        report.errors.append(RowError(0, "", "文件是空的"))
        return report
    header_number, header_cells = raw_rows[header_index]
    positions, headers, header_errors = _headers_match(import_kind, header_cells, header_number)
    if header_errors:
        report.errors.extend(header_errors)
        return report
    width = max((i + 1 for i, c in enumerate(header_cells) if c != ""), default=0)
    rows, problems = _rows_build(raw_rows[header_index + 1 :], positions, width)
    del raw_rows
    report.total_rows = len(rows)
    if not rows:
        report.errors.append(RowError(0, "", "文件中没有数据行（只有表头）"))
        return report

    ctx = ImportContext(
        kind=import_kind,
        company=company,
        actor=actor,
        filename=filename,
        headers=headers,
        positions={key: position for position, key in positions.items()},
        total_rows=len(rows),
        progress=progress,
    )
    for number, key, message in problems:
        ctx.error(number, key, message)
    if progress:
        progress(0, 2 * len(rows))
    plan = import_kind.plan(ctx, rows)

    for row in rows:
        action = RowAction.ERROR if ctx.row_failed(row.number) else plan.actions.get(row.number)
        if action == RowAction.CREATE:
            report.created += 1
        elif action == RowAction.UPDATE:
            report.updated += 1
        elif action == RowAction.UNCHANGED:
            report.unchanged += 1
        if len(report.preview) < PREVIEW_ROWS:
            preview = _preview_row(import_kind, ctx.positions, row, action or RowAction.ERROR)
            report.preview.append(preview)
    # Errors in the order a person reads the file: by row, then left to right.
    order = {headers[key]: position for position, key in positions.items()}
    report.errors = sorted(ctx.errors, key=lambda e: (e.row, order.get(e.column, -1)))
    if report.errors or dry_run:
        if progress:
            progress(2 * len(rows), 2 * len(rows))
        return report

    try:
        _apply(report, import_kind, plan, actor)
    except IntegrityError:
        # Someone changed the same data between the check and the write; nothing was written.
        logger.warning("import %s %s rolled back", kind, filename, exc_info=True)
        message = "导入失败，未写入任何数据：数据在导入期间被他人修改，请重新导入"
        report.errors.append(RowError(0, "", message))
        return report
    report.applied = True
    if progress:
        progress(2 * len(rows), 2 * len(rows))
    return report


@transaction.atomic
def _apply(report: ImportReport, kind: ImportKind, plan: ImportPlan, actor: User | None) -> None:
    """Write the plan and its audit rows, ending with the summary row that names the file."""
    audit = AuditBatch(actor=actor, note=f"导入：{report.filename}")
    plan.apply(audit)
    audit.add(
        action=AuditAction.IMPORT,
        object_type=f"import.{kind.kind}",
        object_id="",
        object_repr=report.filename,
        estate_id=next(iter(plan.estate_ids)) if len(plan.estate_ids) == 1 else None,
        after={
            "kind": kind.kind,
            "filename": report.filename,
            "total_rows": report.total_rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
        },
        note=(
            f"导入{kind.label}：{report.filename}，新增{report.created}，"
            f"更新{report.updated}，不变{report.unchanged}"
        ),
    )
    audit.write()


def many_values(values: Iterable[str] | Iterable[int]) -> RawSQL | list[Any]:
    """The right-hand side of a `field__in=` lookup for thousands of values, sent as one
    parameter (a PostgreSQL array, a JSON array on SQLite) instead of one placeholder each:
    one query, no parameter limit, no per-value work in the ORM."""
    items = list(values)
    if not items:
        return []  # Django answers `__in=[]` with no query at all
    if connection.vendor == "postgresql":
        cast = "bigint[]" if isinstance(items[0], int) else "text[]"
        return RawSQL(f"SELECT unnest(%s::{cast})", [items])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(items)])


# --- templates ---------------------------------------------------------------------------


def import_template_xlsx(kind: str) -> bytes:
    """A template to download: Chinese headers and an example row on the first sheet, and a
    second sheet 说明 explaining every column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    import_kind = IMPORT_KINDS[kind]
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = import_kind.label
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    for index, column in enumerate(import_kind.columns, start=1):
        letter = get_column_letter(index)
        header = sheet.cell(row=1, column=index, value=column.name_zh)
        header.font = Font(bold=True)
        if column.required:
            header.fill = required_fill
        example = sheet.cell(row=2, column=index, value=column.example or None)
        if isinstance(column.example, dt.date):
            example.number_format = "yyyy-mm-dd"
        if column.as_text:
            # Excel keeps only 15 significant digits of a number: an 18-digit ID number typed
            # into a General cell loses its last digits. Text format keeps it as typed.
            sheet.column_dimensions[letter].number_format = "@"
            example.number_format = "@"
        sheet.column_dimensions[letter].width = max(12, len(column.name_zh) * 3)
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet("说明")
    notes.append(["列名", "英文列名", "必填", "说明", "示例"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column in import_kind.columns:
        notes.append(
            [
                column.name_zh,
                column.name_en,
                "是" if column.required else "否",
                column.help,
                cell_text(column.example),
            ]
        )
    notes.append([])
    for line in IMPORT_FILE_RULES:
        notes.append([line])
    for letter, width in zip("ABCDE", (14, 16, 6, 70, 24), strict=True):
        notes.column_dimensions[letter].width = width

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


IMPORT_FILE_RULES = (
    "文件格式：XLSX（只读取第一个工作表）或 CSV（UTF-8 或 GBK 编码）。",
    "第1行是表头，列名可用中文或英文，顺序不限；空行会被忽略。",
    "整个文件要么全部导入，要么全部不导入：只要有一行有错，就不会写入任何数据。",
    "重复导入同一文件不会产生重复数据：已存在的记录按编码匹配，内容有变化才会更新。",
    "选填列留空表示不修改已有的值。",
    "单元格中不能有公式，请先“粘贴为数值”。",
    f"日期可写成 {DATE_FORMATS_HINT}，或使用 Excel 日期格式。",
)
