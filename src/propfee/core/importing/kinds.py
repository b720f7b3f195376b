"""What an import kind is (项目/房屋/业主…): its columns, the rows it reads, the plan it makes,
and IMPORT_KINDS, the registry each app's `importers` module adds its kinds to."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import autodiscover_modules

from propfee.core.importing.cells import CellValue
from propfee.core.services import AuditBatch

if TYPE_CHECKING:
    from propfee.core.importing.context import ImportContext


class RowAction:
    """What an import does with one row, as shown in the preview column 操作."""

    CREATE = "新增"
    UPDATE = "更新"
    UNCHANGED = "不变"
    ERROR = "错误"


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
    # Whether an import of this kind can be limited to one estate (`import_run(estate=…)`,
    # `propfee import KIND FILE --estate CODE`): the plan then refuses every row of another
    # estate. Off unless the kind's plan reads `ImportContext.estate`.
    estate_limit: bool = False
    # The column naming each row's estate, if the kind has one: with an estate given it is
    # optional, and a blank or missing cell means that estate.
    estate_column: str = ""

    def column(self, key: str) -> ImportColumn:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)


class ImportKindRegistry(dict[str, ImportKind]):
    """Import kinds by name. Each app's `importers` module (or package) registers its kinds
    when it is imported; the registry imports those modules the first time it is read, so
    callers need no start-up wiring."""

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
