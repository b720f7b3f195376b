"""The outcome of an import: every problem with its row and column (RowError), and the counts
and preview of one run (ImportReport)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
