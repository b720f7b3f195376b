"""Excel export (导出Excel) of any list: one mechanism for every list in the system.

A list describes its columns once — a Chinese header, how to get the value from a row and what
kind of value it is — and hands its rows (usually the same filtered queryset the page shows) to
`export_xlsx` or, from a view, `export_response`::

    UNIT_EXPORT = ExportList(
        name="房屋列表",
        object_type="estates.unit",
        columns=[
            Column("房屋编码", "code"),
            Column("建筑面积(㎡)", "area_m2", ColumnKind.NUMBER, number_format="0.00"),
            Column("交房日期", "handover_date", ColumnKind.DATE),
            Column("应收金额", lambda row: row.amount_fen, ColumnKind.MONEY_FEN),
            Column("缴费人手机", lambda row: row.payer_phones, ColumnKind.PHONE),
        ],
    )

    def unit_list(request):
        units = ...filtered queryset...
        if request.GET.get("export") == "xlsx":
            return export_response(actor=request.user, export=UNIT_EXPORT, rows=units)

What every export gets, so no list has to remember it:
- openpyxl in write-only mode: rows stream to a temporary file, memory stays flat for large
  lists; querysets are read with `.iterator()` in chunks.
- At most `settings.PROPFEE_EXPORT_MAX_ROWS` rows; beyond that the file is cut and says so.
- Money (`MONEY_FEN`, integer fen) is written as a number in yuan with two decimals
  (`#,##0.00`), dates and timestamps as real Excel dates (local time, Asia/Shanghai).
- Phones and ID numbers (`PHONE`, `ID_NUMBER`, `EMAIL`) are always masked: exports leave the
  system, so they never carry full personal data.
- Text that looks like a formula is written as text; characters Excel cannot hold are dropped.
- The header row is bold and frozen; a second sheet 导出说明 records list, filters, time, user.
- One audit row per export (action 导出, note "<list name>：<n>行").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from propfee.core.models import AuditAction, User
from propfee.core.money import fen_to_yuan
from propfee.core.personal_data import email_mask, id_number_mask, phone_mask
from propfee.core.services import audit_record

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
QUERYSET_CHUNK_SIZE = 2000
# Several values in one cell (a party's phones, a unit's occupants) are joined with this.
LIST_SEPARATOR = "、"


class ColumnKind(enum.StrEnum):
    """How a column's values are written."""

    TEXT = "text"
    NUMBER = "number"
    MONEY_FEN = "money_fen"
    DATE = "date"
    DATETIME = "datetime"
    PHONE = "phone"
    ID_NUMBER = "id_number"
    EMAIL = "email"


_MASKS: dict[ColumnKind, Callable[[str], str]] = {
    ColumnKind.PHONE: phone_mask,
    ColumnKind.ID_NUMBER: id_number_mask,
    ColumnKind.EMAIL: email_mask,
}

_DEFAULT_WIDTHS: dict[ColumnKind, float] = {
    ColumnKind.NUMBER: 12,
    ColumnKind.MONEY_FEN: 14,
    ColumnKind.DATE: 12,
    ColumnKind.DATETIME: 17,
    ColumnKind.PHONE: 16,
    ColumnKind.ID_NUMBER: 22,
    ColumnKind.EMAIL: 24,
}

ValueGetter = Callable[[Any], Any]


def _attribute_getter(path: str) -> ValueGetter:
    """`"building.name"` → a getter following attributes; a missing link gives None."""
    parts = path.split(".")

    def get(row: Any) -> Any:
        value = row
        for part in parts:
            if value is None:
                return None
            value = value.get(part) if isinstance(value, Mapping) else getattr(value, part)
        return value() if callable(value) else value

    return get


@dataclass(frozen=True)
class Column:
    """One exported column.

    `value` is a callable taking the row, or an attribute path such as `"building.name"` or
    `"get_status_display"` (callables at the end of the path are called). For `PHONE`,
    `ID_NUMBER` and `EMAIL` the value may be a string or a list of strings; each is masked.
    `number_format` overrides the kind's Excel format (e.g. `"0.00"` for an area).
    """

    header: str
    value: ValueGetter | str
    kind: ColumnKind = ColumnKind.TEXT
    width: float | None = None
    number_format: str | None = None

    def getter(self) -> ValueGetter:
        return _attribute_getter(self.value) if isinstance(self.value, str) else self.value


@dataclass(frozen=True)
class ExportList:
    """An exportable list: its name (used in the file name and the audit note), the audit
    object type of its rows, and its columns."""

    name: str
    columns: Sequence[Column]
    object_type: str = ""


@dataclass
class ExportFile:
    """A written workbook: an open binary file positioned at 0, and what is in it."""

    file: IO[bytes]
    filename: str
    row_count: int
    truncated: bool


def _text(value: Any) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _local_naive(value: dt.datetime) -> dt.datetime:
    """Excel has no time zones: aware timestamps are written in the local time (Asia/Shanghai)."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(tzinfo=None)


class _CellWriter:
    """Turns a column's raw value into what goes into the sheet (a value or a styled cell)."""

    def __init__(self, sheet: WriteOnlyWorksheet, column: Column) -> None:
        self.sheet = sheet
        self.column = column
        self.kind = column.kind
        self.get = column.getter()
        self.mask = _MASKS.get(column.kind)

    def _styled(self, value: Any, number_format: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet, value=value)
        cell.number_format = number_format
        return cell

    def cell(self, row: Any) -> Any:
        value = self.get(row)
        if value is None or value == "":
            return None
        kind = self.kind
        if self.mask is not None:
            values = value if isinstance(value, list | tuple) else [value]
            return _text(LIST_SEPARATOR.join(self.mask(str(v)) for v in values if v))
        if kind is ColumnKind.MONEY_FEN:
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{self.column.header}: money is integer fen, got {value!r}")
            return self._styled(fen_to_yuan(value), self.column.number_format or MONEY_FORMAT)
        if kind is ColumnKind.NUMBER:
            if self.column.number_format:
                return self._styled(value, self.column.number_format)
            return value
        if kind is ColumnKind.DATETIME:
            if isinstance(value, dt.datetime):
                value = _local_naive(value)
            return self._styled(value, self.column.number_format or DATETIME_FORMAT)
        if kind is ColumnKind.DATE:
            if isinstance(value, dt.datetime):
                value = _local_naive(value).date()
            return self._styled(value, self.column.number_format or DATE_FORMAT)
        if isinstance(value, list | tuple):
            value = LIST_SEPARATOR.join(str(v) for v in value)
        if isinstance(value, bool):
            return "是" if value else "否"
        text = _text(value)
        if text.startswith("="):
            # openpyxl would store it as a formula; a name or note is never a formula.
            cell = WriteOnlyCell(self.sheet, value=text)
            cell.data_type = "s"
            return cell
        return text


def _rows_of(rows: Iterable[Any]) -> Iterable[Any]:
    if isinstance(rows, QuerySet):
        return rows.iterator(chunk_size=QUERYSET_CHUNK_SIZE)
    return rows


def export_filename(name: str, at: dt.datetime | None = None) -> str:
    """`房屋列表` → `房屋列表-20260315-0930.xlsx` (local time)."""
    at = timezone.localtime(at) if at is not None else timezone.localtime()
    safe = "".join(c for c in name if c not in '\\/:*?"<>|').strip() or "export"
    return f"{safe}-{at:%Y%m%d-%H%M}.xlsx"


def content_disposition(filename: str) -> str:
    """An attachment header any browser saves under the Chinese name (RFC 6266 / 5987), with an
    ASCII fallback for old clients."""
    fallback = filename.encode("ascii", "ignore").decode().replace('"', "").lstrip("-_ .")
    if fallback != filename:
        fallback = f"export-{fallback}" if fallback else "export"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def _sheet_discard(sheet: WriteOnlyWorksheet) -> None:
    """Finish and delete the temporary file openpyxl keeps for a half-written sheet."""
    with contextlib.suppress(Exception):
        sheet.close()
    writer = getattr(sheet, "_writer", None)
    if writer is not None:
        with contextlib.suppress(Exception):
            writer.cleanup()


def workbook_write(
    *,
    export: ExportList,
    rows: Iterable[Any],
    target: IO[bytes],
    max_rows: int,
    about: Mapping[str, str] | None = None,
) -> tuple[int, bool]:
    """Write `rows` as the first sheet of a new workbook into `target`.

    Returns (rows written, whether the list was cut at `max_rows`). `about` adds lines to the
    导出说明 sheet (e.g. the filters in use).
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=export.name[:31] or "Sheet1")
    for index, column in enumerate(export.columns, start=1):
        width = column.width or _DEFAULT_WIDTHS.get(column.kind) or max(10, len(column.header) * 2)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"

    bold = Font(bold=True)
    centered = Alignment(horizontal="center", vertical="center")
    header = []
    for column in export.columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = bold
        cell.alignment = centered
        header.append(cell)
    sheet.append(header)

    writers = [_CellWriter(sheet, column) for column in export.columns]
    count = 0
    truncated = False
    try:
        for row in _rows_of(rows):
            if count >= max_rows:
                truncated = True
                break
            sheet.append([writer.cell(row) for writer in writers])
            count += 1
    except BaseException:
        _sheet_discard(sheet)
        raise

    info = workbook.create_sheet(title="导出说明")
    info.column_dimensions["A"].width = 14
    info.column_dimensions["B"].width = 60
    info.append(["列表", export.name])
    for label, value in (about or {}).items():
        info.append([label, _text(value)])
    info.append(["行数", count])
    if truncated:
        info.append(["提示", f"超过导出上限，仅导出前 {max_rows} 行，请缩小筛选范围后分批导出。"])
    info.append(["说明", "手机号、证件号等个人信息已做脱敏处理。"])
    workbook.save(target)
    return count, truncated


def export_xlsx(
    *,
    actor: User | None,
    export: ExportList,
    rows: Iterable[Any],
    about: Mapping[str, str] | None = None,
    estate_id: int | None = None,
    max_rows: int | None = None,
) -> ExportFile:
    """Write the workbook to a temporary file and record the export in the audit log."""
    limit = max_rows if max_rows is not None else settings.PROPFEE_EXPORT_MAX_ROWS
    now = timezone.now()
    details = {"导出时间": f"{timezone.localtime(now):%Y-%m-%d %H:%M}"}
    if actor is not None and actor.is_authenticated:
        details["导出人"] = str(actor)
    details.update(about or {})
    # Handed to the caller open (a FileResponse closes it when sent), so no `with` here.
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
    try:
        count, truncated = workbook_write(
            export=export, rows=rows, target=target, max_rows=limit, about=details
        )
    except BaseException:
        target.close()
        raise
    target.seek(0)
    note = f"{export.name}：{count}行"
    if truncated:
        note += f"（超过上限 {limit} 行，已截断）"
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=export.object_type or "export",
        object_repr=export.name,
        estate_id=estate_id,
        note=note,
    )
    return ExportFile(
        file=target,
        filename=export_filename(export.name, now),
        row_count=count,
        truncated=truncated,
    )


def export_response(
    *,
    actor: User | None,
    export: ExportList,
    rows: Iterable[Any],
    about: Mapping[str, str] | None = None,
    estate_id: int | None = None,
    max_rows: int | None = None,
) -> FileResponse:
    """`export_xlsx` as a download: streamed from the temporary file, closed when sent."""
    written = export_xlsx(
        actor=actor,
        export=export,
        rows=rows,
        about=about,
        estate_id=estate_id,
        max_rows=max_rows,
    )
    response = FileResponse(written.file, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(written.filename)
    response["X-Export-Rows"] = str(written.row_count)
    if written.truncated:
        response["X-Export-Truncated"] = "1"
    return response
