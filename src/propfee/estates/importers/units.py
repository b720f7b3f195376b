"""The units import kind (房屋): one row per unit, matched by the unit code built from 项目编码,
楼栋, 单元 and 房号; new buildings are created on the way, new units inserted as plain rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from propfee.core.importing import (
    CellValue,
    ImportColumn,
    ImportContext,
    ImportKind,
    ImportPlan,
    ImportRow,
    RowAction,
    cell_text,
    choice_parser,
    date_parse,
    decimal_parser,
    many_values,
    rows_insert,
)
from propfee.core.models import AuditAction
from propfee.core.roles import Capability
from propfee.core.services import AuditBatch
from propfee.estates.constants import UnitStatus, UnitType
from propfee.estates.importers.changes import changes_find, row_action, updates_apply
from propfee.estates.importers.estates import estate_code_parse
from propfee.estates.importers.scope import ImportScope
from propfee.estates.models import Building, Unit
from propfee.estates.services import (
    UNIT_FIELDS,
    building_code_from_label,
    building_name_default,
    entrance_from_label,
    unit_code_build,
    unit_floor_from_room,
    unit_part_check,
)

UNIT_COLUMNS = (
    ImportColumn(
        "项目编码",
        "estate",
        True,
        "房屋所属项目的编码，项目需已存在；命令行导入用 --estate 指定项目时可省略，留空即该项目",
        "DEMO",
    ),
    ImportColumn(
        "楼栋", "building", True, "楼栋编号，如 3、3栋、3号楼（都记为 3）；新楼栋会自动创建", "3栋"
    ),
    ImportColumn("单元", "entrance", False, "单元号，没有单元的楼栋留空；“2单元”记为 2", ""),
    ImportColumn("房号", "room", True, "房号，如 1502；地下室写成 B1-023", "1502"),
    ImportColumn(
        "建筑面积", "area_m2", True, "平方米，必须大于0，最多两位小数", "89.50", ("面积",)
    ),
    ImportColumn(
        "房屋类型",
        "type",
        False,
        "住宅、商铺、车位或办公；新房屋留空为住宅",
        "住宅",
        ("unit_type",),
    ),
    ImportColumn("交房日期", "handover_date", False, "例如 2020-06-01", dt.date(2020, 6, 1)),
    ImportColumn("状态", "status", False, "已入住、空置或装修中；新房屋留空为已入住", "已入住"),
)


def _building_parse(value: CellValue) -> str:
    return unit_part_check(building_code_from_label(cell_text(value)), "楼栋")


def _entrance_parse(value: CellValue) -> str:
    return unit_part_check(entrance_from_label(cell_text(value)), "单元")


def _room_parse(value: CellValue) -> str:
    return unit_part_check(cell_text(value), "房号")


# Unit.area_m2 is DecimalField(max_digits=10, decimal_places=2).
_AREA = decimal_parser(places=2, max_digits=10)
_UNIT_TYPE = choice_parser(UnitType)
_UNIT_STATUS = choice_parser(UnitStatus)
_UNIT_INSERT_FIELDS = ("estate", *UNIT_FIELDS, "created_at", "updated_at")


@dataclass(slots=True)
class _UnitDraft:
    number: int
    estate_id: int
    building_code: str
    entrance: str
    room: str
    code: str
    area_m2: Decimal
    unit_type: str | None
    handover_date: dt.date | None
    status: str | None


def _units_plan(ctx: ImportContext, rows: list[ImportRow]) -> ImportPlan:
    scope = ImportScope(ctx)
    if scope.limit_refused(ctx):
        return ImportPlan(actions={}, apply=lambda audit: None)
    # Limited to one estate, a blank or missing 项目编码 means that estate.
    limit = scope.limit
    estate_codes = ctx.column(
        rows, "estate", estate_code_parse, default=limit.code if limit is not None else None
    )
    columns = zip(
        rows,
        estate_codes,
        ctx.column(rows, "building", _building_parse),
        ctx.column(rows, "entrance", _entrance_parse),
        ctx.column(rows, "room", _room_parse),
        ctx.column(rows, "area_m2", _AREA),
        ctx.column(rows, "type", _UNIT_TYPE),
        ctx.column(rows, "handover_date", date_parse),
        ctx.column(rows, "status", _UNIT_STATUS),
        strict=True,
    )
    if limit is not None:
        estates = {limit.code: limit}
    else:
        estates = scope.estates_by_code({c for c in estate_codes if c is not None})
    buildings = {
        (b.estate_id, b.code): b
        for b in Building.objects.filter(estate_id__in=[e.pk for e in estates.values()])
    }
    seen: dict[tuple[int, str], int] = {}
    allowed: dict[tuple[int, str], bool] = {}
    failed = ctx.failed_rows
    drafts: list[_UnitDraft] = []
    for row, estate_code, building_code, entrance, room, area, type_, handover, status in columns:
        if limit is not None and estate_code is not None and estate_code != limit.code:
            ctx.error(row.number, "estate", f"不属于项目 {limit.code}：{estate_code}")
            continue
        estate = estates.get(estate_code) if estate_code is not None else None
        if estate_code is not None and estate is None:
            ctx.error(row.number, "estate", f"项目编码不存在：{estate_code}")
        if estate is None or building_code is None or room is None or area is None:
            continue
        estate_id = estate.pk
        key = (estate_id, building_code)
        if key not in allowed:
            building = buildings.get(key)
            allowed[key] = scope.building_ok(estate_id, building.pk if building else None)
        if not allowed[key]:
            ctx.error(row.number, "building", f"楼栋不在您的负责范围内：{building_code}")
            continue
        entrance = entrance or ""
        code = unit_code_build(
            estate_code=estate.code, building_code=building_code, entrance=entrance, room=room
        )
        first = seen.setdefault((estate_id, code), row.number)
        if first != row.number:
            ctx.error(row.number, "", f"房屋 {code} 在文件中重复（与第{first}行相同）")
        if row.number not in failed:
            drafts.append(
                _UnitDraft(
                    row.number,
                    estate_id,
                    building_code,
                    entrance,
                    room,
                    code,
                    area,
                    type_,
                    handover,
                    status,
                )
            )

    estate_ids = sorted({d.estate_id for d in drafts})
    existing: dict[tuple[int, str], Unit] = {}
    if drafts:
        codes = many_values(sorted({d.code for d in drafts}))
        for unit in Unit.objects.filter(estate_id__in=estate_ids, code__in=codes):
            existing[(unit.estate_id, unit.code)] = unit

    actions: dict[int, str] = {}
    new_units: list[_UnitDraft] = []
    new_buildings: dict[tuple[int, str], Building] = {}
    changed: list[tuple[Unit, dict[str, Any]]] = []
    for d in drafts:
        found = existing.get((d.estate_id, d.code))
        if found is None:
            key = (d.estate_id, d.building_code)
            if key not in buildings and key not in new_buildings:
                name = building_name_default(d.building_code)
                new_buildings[key] = Building(
                    estate_id=d.estate_id, code=d.building_code, name=name
                )
            new_units.append(d)
            actions[d.number] = RowAction.CREATE
            continue
        diff = changes_find(
            found,
            {
                "area_m2": d.area_m2,
                "unit_type": d.unit_type,
                "handover_date": d.handover_date,
                "status": d.status,
            },
        )
        if diff:
            changed.append((found, diff))
        actions[d.number] = row_action(False, bool(diff))

    def apply(audit: AuditBatch) -> None:
        building_ids = {key: b.pk for key, b in buildings.items()}
        for building in ctx.bulk_create(list(new_buildings.values())):
            building_ids[(building.estate_id, building.code)] = building.pk
            after = {"estate": building.estate_id, "code": building.code, "name": building.name}
            audit.add_object(
                AuditAction.CREATE, building, estate_id=building.estate_id, after=after
            )
        _units_insert(ctx, audit, new_units, building_ids)
        updates_apply(audit, Unit, changed, lambda u: u.estate_id)

    return ImportPlan(actions=actions, apply=apply, estate_ids=set(estate_ids))


def _units_insert(
    ctx: ImportContext,
    audit: AuditBatch,
    drafts: list[_UnitDraft],
    building_ids: dict[tuple[int, str], int],
) -> None:
    """Insert new units as plain rows (the hot path of a 100,000-unit import), read their ids
    back by code, and audit each with the snapshot `unit_create` records (the keys of
    UNIT_FIELDS; a test compares the two)."""
    if not drafts:
        return
    now = timezone.now()
    floors: dict[str, int | None] = {}
    rows = []
    for d in drafts:
        if d.room not in floors:
            floors[d.room] = unit_floor_from_room(d.room)
        rows.append(
            (
                d.estate_id,
                building_ids[(d.estate_id, d.building_code)],
                d.entrance,
                d.room,
                d.code,
                floors[d.room],
                d.area_m2,
                d.unit_type or UnitType.RESIDENTIAL.value,
                d.handover_date,
                d.status or UnitStatus.OCCUPIED.value,
                now,
                now,
            )
        )
    rows_insert(Unit, _UNIT_INSERT_FIELDS, rows, progress=ctx.write_progress)
    found = Unit.objects.filter(
        estate_id__in=sorted({d.estate_id for d in drafts}),
        code__in=many_values([d.code for d in drafts]),
    )
    ids = {(e, c): pk for pk, e, c in found.values_list("pk", "estate_id", "code")}
    add = audit.add_row
    for estate_id, building_id, entrance, room, code, floor, area, type_, day, status, *_ in rows:
        after = {
            "building": building_id,
            "entrance": entrance,
            "room": room,
            "code": code,
            "floor": floor,
            "area_m2": str(area),
            "unit_type": type_,
            "handover_date": day.isoformat() if day else None,
            "status": status,
        }
        add(
            AuditAction.CREATE, "estates.unit", ids[(estate_id, code)], code, estate_id, None, after
        )


UNITS_IMPORT = ImportKind(
    "units",
    "房屋",
    UNIT_COLUMNS,
    Capability.MANAGE_UNITS,
    _units_plan,
    estate_limit=True,
    estate_column="estate",
)
