"""Running an import kind all-or-nothing: read the file, match the header, let the kind check
every row and plan its writes, then write them with an audit row each and one summary row."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from propfee.core.importing.cells import cell_text
from propfee.core.importing.context import ImportContext
from propfee.core.importing.files import ImportFileError, import_file_read, row_blank
from propfee.core.importing.headers import headers_match, rows_build
from propfee.core.importing.kinds import IMPORT_KINDS, ImportKind, ImportPlan, ImportRow, RowAction
from propfee.core.importing.report import ImportReport, RowError
from propfee.core.models import AuditAction, User
from propfee.core.roles import PermissionDenied, require
from propfee.core.services import AuditBatch

if TYPE_CHECKING:
    from propfee.estates.models import Company, Estate

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 50
ACTION_COLUMN = "操作"


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
    """The company the import writes to: `company`, or the actor's own."""
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
    estate: Estate | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Check an import file and, unless `dry_run` or any row is bad, write it in one
    transaction with an audit row per created/updated object and one summary row.

    `estate` limits the import to one estate of the company (kinds with `estate_limit`
    only): a row of any other estate is an error, and the kind's estate column may be left
    out. `progress(done, total)` is called now and then; every row counts once when checked
    and once when written, so `total` is twice the number of rows."""
    import_kind = IMPORT_KINDS.get(kind)
    if import_kind is None:
        raise ValueError(f"未知的导入类型：{kind}")
    require(actor, import_kind.capability)
    company = _company_for(actor, company)
    required = {c.key for c in import_kind.columns if c.required}
    if estate is not None:
        if not import_kind.estate_limit:
            raise ValueError(f"导入{import_kind.label}时不能限定项目")
        if estate.company_id != company.pk:
            raise ValueError(f"项目不存在：{estate.code}")
        required.discard(import_kind.estate_column)
    report = ImportReport(kind=kind, filename=filename, dry_run=dry_run)

    try:
        raw_rows = import_file_read(content, filename)
    except ImportFileError as exc:
        report.errors.append(RowError(0, "", str(exc)))
        return report
    header_index = next((i for i, (_, cells) in enumerate(raw_rows) if not row_blank(cells)), None)
    if header_index is None:
        report.errors.append(RowError(0, "", "文件是空的"))
        return report
    header_number, header_cells = raw_rows[header_index]
    positions, headers, header_errors = headers_match(
        import_kind, required, header_cells, header_number
    )
    if header_errors:
        report.errors.extend(header_errors)
        return report
    width = max((i + 1 for i, c in enumerate(header_cells) if c != ""), default=0)
    rows, problems = rows_build(raw_rows[header_index + 1 :], positions, width)
    del raw_rows
    report.total_rows = len(rows)
    if not rows:
        report.errors.append(RowError(0, "", "文件中没有数据行（只有表头）"))
        return report

    ctx = ImportContext(
        kind=import_kind,
        company=company,
        actor=actor,
        estate=estate,
        required=required,
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
