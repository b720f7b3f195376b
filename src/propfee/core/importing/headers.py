"""From raw file rows to ImportRows: matching the header row to a kind's columns (Chinese or
English, in any order), then keeping the non-blank rows under it and their reading problems."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence

from propfee.core.importing.cells import CellValue, cell_text
from propfee.core.importing.files import BadCell, RawRow
from propfee.core.importing.kinds import ImportKind, ImportRow
from propfee.core.importing.report import RowError


def _header_key(text: str) -> str:
    """Headers match ignoring case, spaces, a required mark `*` and a unit in brackets."""
    text = re.sub(r"\s+", "", text).lower().lstrip("*").rstrip("*")
    return re.sub(r"[(（][^)）]*[)）]$", "", text)


def headers_match(
    kind: ImportKind,
    required: Collection[str],
    header_cells: Sequence[CellValue | BadCell],
    header_row: int,
) -> tuple[dict[int, str], dict[str, str], list[RowError]]:
    """Map file columns to column keys; every column key in `required` must be there.
    Returns (position → key, key → header as written, errors)."""
    lookup: dict[str, str] = {}
    for column in kind.columns:
        for name in (column.name_zh, column.name_en, *column.aliases):
            lookup[_header_key(name)] = column.key
    positions: dict[int, str] = {}
    written: dict[str, str] = {}
    errors: list[RowError] = []
    known = "、".join(f"{c.name_zh}/{c.name_en}" for c in kind.columns)
    for position, cell in enumerate(header_cells):
        if isinstance(cell, BadCell):
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
        if column.key in required and column.key not in written:
            errors.append(RowError(header_row, column.name_zh, "缺少必填列"))
    return positions, written, errors


def rows_build(
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
        if BadCell in map(type, cells):
            for position, key in items:
                cell = cells[position]
                if isinstance(cell, BadCell):
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
