"""Data imports (数据导入): CSV/XLSX files checked cell by cell and written all-or-nothing; each
app registers its kinds (estates, units, parties…) in `IMPORT_KINDS` from its `importers`."""

from propfee.core.bulk import many_values, rows_insert, rows_update
from propfee.core.importing.cells import (
    DATE_FORMATS_HINT,
    CellValue,
    Parser,
    amount_fen_parser,
    cell_text,
    choice_parser,
    date_parse,
    decimal_parser,
    text_parser,
    yes_no_parse,
)
from propfee.core.importing.context import ImportContext
from propfee.core.importing.files import ImportFileError, RawRow, import_file_read
from propfee.core.importing.kinds import (
    IMPORT_KINDS,
    ImportColumn,
    ImportKind,
    ImportKindRegistry,
    ImportPlan,
    ImportRow,
    RowAction,
    import_kind_register,
)
from propfee.core.importing.report import ImportReport, RowError
from propfee.core.importing.run import ACTION_COLUMN, PREVIEW_ROWS, import_run
from propfee.core.importing.templates import IMPORT_FILE_RULES, import_template_xlsx
from propfee.core.services import AuditBatch

__all__ = [
    "ACTION_COLUMN",
    "DATE_FORMATS_HINT",
    "IMPORT_FILE_RULES",
    "IMPORT_KINDS",
    "PREVIEW_ROWS",
    "AuditBatch",
    "CellValue",
    "ImportColumn",
    "ImportContext",
    "ImportFileError",
    "ImportKind",
    "ImportKindRegistry",
    "ImportPlan",
    "ImportReport",
    "ImportRow",
    "Parser",
    "RawRow",
    "RowAction",
    "RowError",
    "amount_fen_parser",
    "cell_text",
    "choice_parser",
    "date_parse",
    "decimal_parser",
    "import_file_read",
    "import_kind_register",
    "import_run",
    "import_template_xlsx",
    "many_values",
    "rows_insert",
    "rows_update",
    "text_parser",
    "yes_no_parse",
]
