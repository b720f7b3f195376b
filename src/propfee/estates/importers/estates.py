"""The estates import kind (项目): one row per estate of the company, matched by 项目编码;
also the estate-code cell parser the other kinds share."""

from __future__ import annotations

from typing import Any

from propfee.core.importing import (
    CellValue,
    ImportColumn,
    ImportContext,
    ImportKind,
    ImportPlan,
    ImportRow,
    RowAction,
    cell_text,
    text_parser,
)
from propfee.core.models import AuditAction
from propfee.core.roles import Capability
from propfee.core.services import AuditBatch, model_snapshot
from propfee.estates.importers.changes import changes_find, row_action, updates_apply
from propfee.estates.importers.scope import ImportScope
from propfee.estates.models import Estate
from propfee.estates.services import ESTATE_FIELDS, estate_code_check

ESTATE_COLUMNS = (
    ImportColumn(
        "项目编码",
        "code",
        True,
        "项目的简短编码，只能用大写字母、数字和下划线，例如 DEMO；已有的编码会更新该项目",
        "DEMO",
    ),
    ImportColumn("项目名称", "name", True, "小区或项目的名称", "阳光花园"),
    ImportColumn("城市", "city", False, "所在城市", "杭州"),
    ImportColumn("地址", "address", False, "项目地址", "西湖区文三路100号"),
)


def estate_code_parse(value: CellValue) -> str:
    """An estate code as written in a cell (项目编码), upper-cased."""
    return estate_code_check(cell_text(value))


_NAME = text_parser(128)
_CITY = text_parser(64)
_ADDRESS = text_parser(255)


def _estates_plan(ctx: ImportContext, rows: list[ImportRow]) -> ImportPlan:
    codes = ctx.column(rows, "code", estate_code_parse)
    names = ctx.column(rows, "name", _NAME)
    cities = ctx.column(rows, "city", _CITY)
    addresses = ctx.column(rows, "address", _ADDRESS)
    scope = ImportScope(ctx)
    existing = {
        e.code: e
        for e in Estate.objects.filter(company=ctx.company, code__in={c for c in codes if c})
    }
    actions: dict[int, str] = {}
    seen: dict[str, int] = {}
    new: list[Estate] = []
    changed: list[tuple[Estate, dict[str, Any]]] = []
    for row, code, name, city, address in zip(rows, codes, names, cities, addresses, strict=True):
        if code is None:
            continue
        first = seen.setdefault(code, row.number)
        if first != row.number:
            ctx.error(row.number, "code", f"项目编码在文件中重复（与第{first}行相同）：{code}")
        estate = existing.get(code)
        if estate is not None and not scope.estate_ok(estate.pk):
            ctx.error(row.number, "code", f"项目编码已被占用：{code}")
        if ctx.row_failed(row.number):
            continue
        values = {"name": name, "city": city, "address": address}
        if estate is None:
            new.append(
                Estate(company=ctx.company, code=code, **{k: v or "" for k, v in values.items()})
            )
            actions[row.number] = RowAction.CREATE
            continue
        diff = changes_find(estate, values)
        if diff:
            changed.append((estate, diff))
        actions[row.number] = row_action(False, bool(diff))

    def apply(audit: AuditBatch) -> None:
        for estate in ctx.bulk_create(new):
            after = model_snapshot(estate, ESTATE_FIELDS)
            audit.add_object(AuditAction.CREATE, estate, estate_id=estate.pk, after=after)
        updates_apply(audit, Estate, changed, lambda e: e.pk)

    return ImportPlan(actions=actions, apply=apply)


ESTATES_IMPORT = ImportKind(
    "estates", "项目", ESTATE_COLUMNS, Capability.MANAGE_COMPANY, _estates_plan
)
