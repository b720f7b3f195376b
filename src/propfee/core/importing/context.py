"""ImportContext, what a kind's plan works with: the company, the actor, the estate the import
is limited to, which columns the file has, the error list and column-wise cell parsing."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models

from propfee.core.importing.cells import CellValue, Parser
from propfee.core.importing.kinds import ImportKind, ImportRow
from propfee.core.importing.report import RowError
from propfee.core.models import User

if TYPE_CHECKING:
    from propfee.estates.models import Company, Estate

T = TypeVar("T")
M = TypeVar("M", bound=models.Model)


class ImportContext:
    """Everything a kind's `plan` needs: the company, the actor, the estate the import is
    limited to (None: any estate the actor may touch), which columns the file has, the error
    list, column-wise cell parsing, bulk writing and progress reporting."""

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
        estate: Estate | None = None,
        required: Collection[str] | None = None,
    ) -> None:
        self.kind = kind
        self.company = company
        self.actor = actor
        self.estate = estate
        # The columns whose cells may not be blank (fewer than the kind's required columns
        # when the estate column is filled in from `estate`).
        self.required = frozenset(
            (c.key for c in kind.columns if c.required) if required is None else required
        )
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

    def column(
        self, rows: Sequence[ImportRow], key: str, parser: Parser[T], *, default: T | None = None
    ) -> list[T | None]:
        """The parsed cells of column `key`, one per row: `default` when blank or missing,
        None when bad.

        Each distinct cell value is parsed once (files repeat the same estates, types, dates
        and areas endlessly); a blank required cell without a default and every bad cell
        become errors."""
        if key not in self.headers:
            return [default] * len(rows)
        position = self.positions[key]
        required = key in self.required and default is None
        parsed: dict[CellValue, Any] = {}
        values: list[T | None] = []
        append = values.append
        for row in rows:
            raw = row.cells[position]
            if raw == "":
                if key in row.bad:
                    append(None)  # reported while reading
                    continue
                if required:
                    self.error(row.number, key, "不能为空")
                append(default)
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
