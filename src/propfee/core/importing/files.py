"""Reading an import file into raw rows: CSV in UTF-8 or GB18030, or the first sheet of an
XLSX, with formulas and Excel error values marked as bad cells."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from propfee.core.importing.cells import CellValue
from propfee.core.uploads import (
    UploadKind,
    UploadRefused,
    import_cells_message,
    import_max_cells,
    import_max_rows,
    import_rows_message,
    upload_check,
)


class ImportFileError(ValueError):
    """The file as a whole cannot be read; the message is for the user."""


@dataclass(frozen=True)
class BadCell:
    """A cell that cannot be used whatever its column: a formula or an Excel error value."""

    message: str


RawRow = tuple[int, list[CellValue | BadCell]]


def row_blank(cells: list[CellValue | BadCell]) -> bool:
    return cells.count("") == len(cells)


class _Budget:
    """Counts rows and cells as they are read and stops the reading at the import caps
    (`PROPFEE_IMPORT_MAX_ROWS`, `PROPFEE_IMPORT_MAX_CELLS`), before memory fills up."""

    def __init__(self) -> None:
        self.max_rows, self.max_cells = import_max_rows(), import_max_cells()
        self.cells = 0

    def take(self, number: int, width: int) -> None:
        self.cells += width
        if number > self.max_rows:
            raise ImportFileError(import_rows_message(number))
        if self.cells > self.max_cells:
            raise ImportFileError(import_cells_message(self.cells))


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
    budget = _Budget()
    try:
        # Each CSV record is one Excel row, even when a quoted cell spans several lines.
        for number, record in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            budget.take(number, len(record))
            cells: list[CellValue | BadCell] = [raw.strip() for raw in record]
            if excel_text:
                cells = [_excel_text(c) for c in cells]
            rows.append((number, cells))
    except csv.Error as exc:
        raise ImportFileError(f"CSV 文件格式不正确：{exc}") from exc
    return rows


def _excel_text(cell: CellValue | BadCell) -> CellValue | BadCell:
    match = _EXCEL_TEXT_RE.match(cell) if isinstance(cell, str) else None
    return match.group(1).strip() if match else cell


def _xlsx_value(cell: Any) -> CellValue | BadCell:
    data_type = getattr(cell, "data_type", "n")
    value = cell.value
    if data_type == "f":
        return BadCell("单元格含有公式，请复制后“粘贴为数值”再导入")
    if data_type == "e":
        return BadCell(f"单元格是错误值：{value}")
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
        return BadCell("单元格含有公式，请复制后“粘贴为数值”再导入")
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
        budget = _Budget()
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            budget.take(number, len(cells))
            rows.append((number, [_xlsx_value(cell) for cell in cells]))
        return rows
    finally:
        workbook.close()


def import_file_read(content: bytes, filename: str) -> list[RawRow]:
    """The rows of an import file (CSV in UTF-8/GB18030, or the first sheet of an XLSX) with
    their row numbers. Raises ImportFileError when the file as a whole cannot be read: not
    CSV or XLSX by its content, over the import's size, row or cell caps, or an XLSX that
    would unpack too large (checked from its zip directory before it is opened)."""
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV")
    if content:
        try:
            upload_check(io.BytesIO(content), kind=UploadKind.IMPORT, name=filename)
        except UploadRefused as exc:
            raise ImportFileError(exc.messages[0]) from exc
    if content.startswith(b"PK\x03\x04") or filename.lower().endswith((".xlsx", ".xlsm")):
        if not zipfile.is_zipfile(io.BytesIO(content)):
            raise ImportFileError("无法读取 XLSX 文件：文件已损坏或不是 Excel 文件")
        return _xlsx_rows(content)
    return _csv_rows(content)
