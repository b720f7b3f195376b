"""Import kinds of the estates app: estates (项目), units (房屋) and parties (业主/住户).

Each kind parses the file column by column, looks up what exists with a few bulk queries, and
writes in bulk; `propfee.core.importing.import_run` runs it all-or-nothing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone

from propfee.core.importing import (
    AuditBatch,
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
    import_kind_register,
    many_values,
    rows_insert,
    rows_update,
    text_parser,
    yes_no_parse,
)
from propfee.core.models import AuditAction
from propfee.core.personal_data import id_number_normalize
from propfee.core.roles import Capability
from propfee.core.services import model_snapshot, snapshot_diff
from propfee.estates.constants import PartyRole, UnitStatus, UnitType
from propfee.estates.models import Building, Estate, Occupancy, Party, PartyPhone, Unit
from propfee.estates.selectors import estates_visible_to, scope_for
from propfee.estates.services import (
    ESTATE_FIELDS,
    OCCUPANCY_FIELDS,
    PARTY_FIELDS,
    building_code_from_label,
    building_name_default,
    credit_code_normalize,
    entrance_from_label,
    estate_code_check,
    phones_normalize,
    unit_code_build,
    unit_floor_from_room,
    unit_part_check,
)

# --- shared by the kinds -----------------------------------------------------------------


class ImportScope:
    """The estates (and, for staff scoped to single buildings, the buildings) an import may
    touch. Anything outside is reported exactly like something that does not exist."""

    def __init__(self, ctx: ImportContext) -> None:
        self.company = ctx.company
        self.everything = ctx.actor is None
        self.estate_ids: set[int] = set()
        self.whole_estate_ids: set[int] = set()
        self.building_ids: frozenset[int] = frozenset()
        if ctx.actor is not None:
            visible = estates_visible_to(ctx.actor).filter(company=ctx.company)
            self.estate_ids = set(visible.values_list("pk", flat=True))
            scope = scope_for(ctx.actor)
            self.whole_estate_ids = (
                set(self.estate_ids) if scope.all else self.estate_ids & scope.estate_ids
            )
            self.building_ids = scope.building_ids

    def estate_ok(self, estate_id: int) -> bool:
        return self.everything or estate_id in self.estate_ids

    def building_ok(self, estate_id: int, building_id: int | None) -> bool:
        """`building_id` None is a building the import would create."""
        if self.everything or estate_id in self.whole_estate_ids:
            return True
        return building_id is not None and building_id in self.building_ids

    def estates_by_code(self, codes: Iterable[str]) -> dict[str, Estate]:
        found = Estate.objects.filter(company=self.company, code__in=set(codes))
        return {e.code: e for e in found if self.estate_ok(e.pk)}

    def units_by_code(self, codes: Iterable[str]) -> dict[str, Unit]:
        """Units of the company with these codes that the actor may touch (other importers —
        charges, payments — find their units here too)."""
        found = Unit.objects.filter(
            estate__company=self.company, code__in=many_values(sorted(set(codes)))
        )
        return {
            unit.code: unit
            for unit in found
            if self.estate_ok(unit.estate_id) and self.building_ok(unit.estate_id, unit.building_id)
        }


def _changes(obj: Any, new: dict[str, Any]) -> dict[str, Any]:
    """The values in `new` that differ from `obj`'s (None means the cell was left blank)."""
    return {k: v for k, v in new.items() if v is not None and getattr(obj, k) != v}


def _updates_apply(
    audit: AuditBatch,
    model: type[models.Model],
    changed: Sequence[tuple[Any, dict[str, Any]]],
    estate_of: Callable[[Any], int | None],
) -> None:
    """Set the changed values, write them with one batched UPDATE per set of changed fields,
    and audit before/after of the changed fields only."""
    now = timezone.now()
    by_fields: dict[tuple[str, ...], list[Any]] = {}
    for obj, diff in changed:
        names = tuple(sorted(diff))
        before = model_snapshot(obj, names)
        for name, value in diff.items():
            setattr(obj, name, value)
        obj.updated_at = now
        after = model_snapshot(obj, names)
        audit.add_object(
            AuditAction.UPDATE, obj, estate_id=estate_of(obj), before=before, after=after
        )
        by_fields.setdefault(names, []).append(obj)
    for names, objs in by_fields.items():
        rows = [(*(getattr(o, n) for n in names), now, o.pk) for o in objs]
        rows_update(model, [*names, "updated_at"], rows)


def _action(created: bool, changed: bool) -> str:
    if created:
        return RowAction.CREATE
    return RowAction.UPDATE if changed else RowAction.UNCHANGED


# --- estates -----------------------------------------------------------------------------

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


def _estate_code_parse(value: CellValue) -> str:
    return estate_code_check(cell_text(value))


_NAME = text_parser(128)
_CITY = text_parser(64)
_ADDRESS = text_parser(255)


def _estates_plan(ctx: ImportContext, rows: list[ImportRow]) -> ImportPlan:
    codes = ctx.column(rows, "code", _estate_code_parse)
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
        diff = _changes(estate, values)
        if diff:
            changed.append((estate, diff))
        actions[row.number] = _action(False, bool(diff))

    def apply(audit: AuditBatch) -> None:
        for estate in ctx.bulk_create(new):
            after = model_snapshot(estate, ESTATE_FIELDS)
            audit.add_object(AuditAction.CREATE, estate, estate_id=estate.pk, after=after)
        _updates_apply(audit, Estate, changed, lambda e: e.pk)

    return ImportPlan(actions=actions, apply=apply)


# --- units -------------------------------------------------------------------------------

UNIT_COLUMNS = (
    ImportColumn("项目编码", "estate", True, "房屋所属项目的编码，项目需已存在", "DEMO"),
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
_UNIT_INSERT_FIELDS = (
    "estate",
    "building",
    "entrance",
    "room",
    "code",
    "floor",
    "area_m2",
    "unit_type",
    "handover_date",
    "status",
    "created_at",
    "updated_at",
)


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
    estate_codes = ctx.column(rows, "estate", _estate_code_parse)
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
    scope = ImportScope(ctx)
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
        diff = _changes(
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
        actions[d.number] = _action(False, bool(diff))

    def apply(audit: AuditBatch) -> None:
        building_ids = {key: b.pk for key, b in buildings.items()}
        for building in ctx.bulk_create(list(new_buildings.values())):
            building_ids[(building.estate_id, building.code)] = building.pk
            after = {"estate": building.estate_id, "code": building.code, "name": building.name}
            audit.add_object(
                AuditAction.CREATE, building, estate_id=building.estate_id, after=after
            )
        _units_insert(ctx, audit, new_units, building_ids)
        _updates_apply(audit, Unit, changed, lambda u: u.estate_id)

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


# --- parties -----------------------------------------------------------------------------

PARTY_COLUMNS = (
    ImportColumn("房屋编码", "unit", True, "房屋编码，如 DEMO-3-1502；房屋需已存在", "DEMO-3-1502"),
    ImportColumn("姓名", "name", True, "业主或住户的姓名；开发商写公司名称", "王建国"),
    ImportColumn("身份", "role", True, "业主、租户、共有人或开发商", "业主"),
    ImportColumn(
        "手机",
        "phone",
        False,
        "可填多个，用 ; ， 、 或 / 分隔；导入只添加新号码，不删除已有号码",
        "10012345678",
        ("手机号", "电话", "联系电话"),
        as_text=True,
    ),
    ImportColumn("邮箱", "email", False, "电子邮箱", "wang@example.com"),
    ImportColumn(
        "缴费人", "is_payer", False, "是或否；每套房屋只能有一个缴费人，填“是”会取代原缴费人", "是"
    ),
    ImportColumn(
        "起始日期",
        "since",
        False,
        "开始居住或持有的日期；新记录留空时取交房日期，没有交房日期则取今天",
        dt.date(2020, 6, 1),
    ),
    ImportColumn(
        "证件号",
        "id_number",
        False,
        "身份证号（18位）；开发商填统一社会信用代码。填写后按证件号识别同一人",
        "",
        ("身份证号", "证件号码"),
        as_text=True,
    ),
)

_PHONE_SPLIT_RE = re.compile(r"[;；,，、/]")
_ROLE = choice_parser(PartyRole)


def _unit_code_parse(value: CellValue) -> str:
    code = cell_text(value).strip().upper()
    if len(code) > 96:
        raise ValueError("不能超过96个字符")
    return code


def _phones_parse(value: CellValue) -> tuple[str, ...]:
    return tuple(phones_normalize(_PHONE_SPLIT_RE.split(cell_text(value))))


def _email_parse(value: CellValue) -> str:
    text = cell_text(value).strip()
    try:
        if len(text) > 254:
            raise ValidationError("too long")
        validate_email(text)
    except ValidationError as exc:
        raise ValueError(f"邮箱格式不正确：{text}") from exc
    return text


def _id_text_parse(value: CellValue) -> str:
    if isinstance(value, Decimal):
        raise ValueError(
            "证件号被 Excel 存成了数字，末几位可能已丢失：请把该列设为文本格式后重新填写"
        )
    text = cell_text(value).strip().upper()
    if len(text) > 32:
        raise ValueError("不能超过32个字符")
    return text


@dataclass(slots=True)
class _PartyRow:
    number: int
    unit_code: str
    name: str
    role: str
    phones: tuple[str, ...]
    email: str | None
    is_payer: bool | None
    since: dt.date | None
    id_number: str | None


def _party_rows_read(ctx: ImportContext, rows: list[ImportRow]) -> list[_PartyRow]:
    """The rows whose cells are all valid; the ID number is checked by the row's role (a
    resident ID for people, a unified social credit code for developers)."""
    read = []
    for row, unit_code, name, role, phones, email, is_payer, since, id_text in zip(
        rows,
        ctx.column(rows, "unit", _unit_code_parse),
        ctx.column(rows, "name", _NAME),
        ctx.column(rows, "role", _ROLE),
        ctx.column(rows, "phone", _phones_parse),
        ctx.column(rows, "email", _email_parse),
        ctx.column(rows, "is_payer", yes_no_parse),
        ctx.column(rows, "since", date_parse),
        ctx.column(rows, "id_number", _id_text_parse),
        strict=True,
    ):
        id_number = None
        if id_text and role is not None:
            rule = credit_code_normalize if role == PartyRole.DEVELOPER else id_number_normalize
            try:
                id_number = rule(id_text)
            except ValueError as exc:
                ctx.error(row.number, "id_number", str(exc))
        if ctx.row_failed(row.number) or unit_code is None or name is None or role is None:
            continue
        read.append(
            _PartyRow(
                row.number, unit_code, name, role, phones or (), email, is_payer, since, id_number
            )
        )
    return read


@dataclass(eq=False)
class _PartyTarget:
    """A party the file refers to: an existing one (`party`) or one to create."""

    name: str
    party: Party | None = None
    is_organization: bool = False
    email: str = ""
    id_number: str = ""
    phones: list[str] = field(default_factory=list)
    saved_phones: int = 0
    changed: bool = False
    # Which row set email / id_number, to report two rows that disagree.
    set_by: dict[str, int] = field(default_factory=dict)

    def merge(self, ctx: ImportContext, d: _PartyRow) -> bool:
        """Fold the row's details in; True when the row changes an existing party. Two rows
        giving one person different emails or ID numbers are an error."""
        changed = False
        for name, value, label in (
            ("email", d.email, "邮箱"),
            ("id_number", d.id_number, "证件号"),
        ):
            if not value or getattr(self, name) == value:
                continue
            if name in self.set_by:
                ctx.error(d.number, name, f"与第{self.set_by[name]}行填写的{label}不一致")
                continue
            setattr(self, name, value)
            self.set_by[name] = d.number
            changed = True
        if d.role == PartyRole.DEVELOPER and not self.is_organization:
            self.is_organization = changed = True
        for phone in d.phones:
            if phone not in self.phones:
                self.phones.append(phone)
                changed = True
        if self.party is None:
            return False
        self.changed = self.changed or changed
        return changed

    def snapshot(self, party: Party, phones: list[str]) -> dict[str, Any]:
        return {**model_snapshot(party, PARTY_FIELDS), "phones": list(phones)}


@dataclass(slots=True)
class _OccupancyDraft:
    unit: Unit
    target: _PartyTarget
    role: str
    is_payer: bool
    since: dt.date


class _PartyIndex:
    """What exists for the parties a file names, loaded with a handful of bulk queries (units,
    their current occupancies, parties sharing a phone or an ID number with the file, their
    phones), and the keys a row's person is matched by: ID number, name + any same phone, or
    name + a current occupancy of the same unit."""

    def __init__(self, ctx: ImportContext, rows: list[_PartyRow]) -> None:
        self.units = ImportScope(ctx).units_by_code(d.unit_code for d in rows)
        unit_ids = many_values([u.pk for u in self.units.values()])
        occupancies = list(Occupancy.objects.filter(unit_id__in=unit_ids, until__isnull=True))
        party_ids = {o.party_id for o in occupancies}
        # By the indexed reversed number, without a join: the company is checked when the
        # parties themselves are loaded below.
        reversed_numbers = sorted({p[::-1] for d in rows for p in d.phones})
        same_phone = PartyPhone.objects.filter(number_reversed__in=many_values(reversed_numbers))
        party_ids.update(same_phone.values_list("party_id", flat=True))
        same_id = Party.objects.filter(
            company=ctx.company,
            id_number__in=many_values(sorted({d.id_number for d in rows if d.id_number})),
        )
        party_ids.update(same_id.values_list("pk", flat=True))
        self.targets: dict[int, _PartyTarget] = {}
        found = Party.objects.filter(company=ctx.company, pk__in=many_values(sorted(party_ids)))
        for p in found.order_by("pk"):
            self.targets[p.pk] = _PartyTarget(p.name, p, p.is_organization, p.email, p.id_number)
        phones = PartyPhone.objects.filter(party_id__in=many_values(sorted(self.targets)))
        for party_id, number in phones.order_by("party_id", "position").values_list(
            "party_id", "number"
        ):
            self.targets[party_id].phones.append(number)

        self.by_id: dict[str, _PartyTarget] = {}
        self.by_name_phone: dict[tuple[str, str], _PartyTarget] = {}
        self.by_name_unit: dict[tuple[str, int], _PartyTarget] = {}
        for target in self.targets.values():
            target.saved_phones = len(target.phones)
            if target.id_number:
                self.by_id.setdefault(target.id_number, target)
            for number in target.phones:
                self.by_name_phone.setdefault((target.name, number), target)
        self.current: dict[tuple[int, int, str], Occupancy] = {}
        self.payers: dict[int, list[Occupancy]] = {}
        for occ in occupancies:
            self.current[(occ.unit_id, occ.party_id, occ.role)] = occ
            if occ.party_id in self.targets:
                occupant = self.targets[occ.party_id]
                self.by_name_unit.setdefault((occupant.name, occ.unit_id), occupant)
            if occ.is_payer:
                self.payers.setdefault(occ.unit_id, []).append(occ)

    def match(self, d: _PartyRow, unit: Unit) -> _PartyTarget | None:
        if d.id_number and d.id_number in self.by_id:
            return self.by_id[d.id_number]
        for number in d.phones:
            if (d.name, number) in self.by_name_phone:
                return self.by_name_phone[(d.name, number)]
        return self.by_name_unit.get((d.name, unit.pk))

    def remember(self, target: _PartyTarget, d: _PartyRow, unit: Unit) -> None:
        """Later rows of the file find this person too (one new party, not one per row)."""
        self.by_name_unit.setdefault((d.name, unit.pk), target)
        for number in d.phones:
            self.by_name_phone.setdefault((d.name, number), target)
        if target.id_number:
            self.by_id.setdefault(target.id_number, target)


def _parties_plan(ctx: ImportContext, rows: list[ImportRow]) -> ImportPlan:
    read = _party_rows_read(ctx, rows)
    index = _PartyIndex(ctx, read)
    actions: dict[int, str] = {}
    seen: dict[tuple[int, int, str], int] = {}
    payer_rows: dict[int, int] = {}
    payer_of_unit: dict[int, Occupancy | _OccupancyDraft] = {}
    new_targets: list[_PartyTarget] = []
    new_occupancies: list[_OccupancyDraft] = []
    occupancy_changes: dict[int, tuple[Occupancy, dict[str, Any]]] = {}
    occupancy_rows: dict[int, int] = {}
    today = timezone.localdate()

    for d in read:
        unit = index.units.get(d.unit_code)
        if unit is None:
            ctx.error(d.number, "unit", f"房屋编码不存在：{d.unit_code}")
            continue
        target = index.match(d, unit)
        if target is not None and d.id_number and target.name != d.name:
            ctx.error(d.number, "id_number", "该证件号已登记在另一个姓名下")
            continue
        created = target is None
        if target is None:
            target = _PartyTarget(name=d.name)
            new_targets.append(target)
        changed = target.merge(ctx, d)
        index.remember(target, d, unit)

        first = seen.setdefault((unit.pk, id(target), d.role), d.number)
        if first != d.number:
            ctx.error(d.number, "", f"与第{first}行重复：同一房屋、同一人、同一身份")
            continue
        if d.is_payer:
            other = payer_rows.setdefault(unit.pk, d.number)
            if other != d.number:
                ctx.error(
                    d.number,
                    "is_payer",
                    f"同一房屋只能有一个缴费人：第{other}行和第{d.number}行"
                    f"都把 {unit.code} 的缴费人填为“是”",
                )
                continue
        occ = index.current.get((unit.pk, target.party.pk, d.role)) if target.party else None
        if occ is None:
            since = d.since or unit.handover_date or today
            draft = _OccupancyDraft(unit, target, d.role, bool(d.is_payer), since)
            new_occupancies.append(draft)
            if d.is_payer:
                payer_of_unit[unit.pk] = draft
            created = True
        else:
            occupancy_rows[occ.pk] = d.number
            diff = _changes(occ, {"is_payer": d.is_payer, "since": d.since})
            if diff:
                occupancy_changes[occ.pk] = (occ, diff)
                changed = True
            if d.is_payer:
                payer_of_unit[unit.pk] = occ
        if not ctx.row_failed(d.number):
            actions[d.number] = _action(created, changed)

    # A new payer replaces the unit's current one, as occupancy_create does.
    for unit_id, payer in payer_of_unit.items():
        for current_payer in index.payers.get(unit_id, []):
            if current_payer is not payer:
                _, diff = occupancy_changes.get(current_payer.pk, (current_payer, {}))
                occupancy_changes[current_payer.pk] = (current_payer, {**diff, "is_payer": False})
                number = occupancy_rows.get(current_payer.pk)
                if number is not None and actions.get(number) == RowAction.UNCHANGED:
                    actions[number] = RowAction.UPDATE

    def apply(audit: AuditBatch) -> None:
        _parties_apply(
            ctx, audit, index, new_targets, new_occupancies, list(occupancy_changes.values())
        )

    estate_ids = {u.estate_id for u in index.units.values()}
    return ImportPlan(actions=actions, apply=apply, estate_ids=estate_ids)


def _parties_apply(
    ctx: ImportContext,
    audit: AuditBatch,
    index: _PartyIndex,
    new_targets: list[_PartyTarget],
    new_occupancies: list[_OccupancyDraft],
    occupancy_changes: list[tuple[Occupancy, dict[str, Any]]],
) -> None:
    now = timezone.now()
    parties = [
        Party(
            company=ctx.company,
            name=t.name,
            is_organization=t.is_organization,
            email=t.email,
            id_number=t.id_number,
        )
        for t in new_targets
    ]
    for target, created in zip(new_targets, ctx.bulk_create(parties), strict=True):
        target.party = created
        after = target.snapshot(created, target.phones)
        audit.add_object(AuditAction.CREATE, created, estate_id=None, after=after)
    changed = [t for t in index.targets.values() if t.changed]
    for target in changed:
        assert target.party is not None
        party = target.party
        before = target.snapshot(party, target.phones[: target.saved_phones])
        party.email, party.id_number = target.email, target.id_number
        party.is_organization = target.is_organization
        party.updated_at = now
        old, new = snapshot_diff(before, target.snapshot(party, target.phones))
        audit.add_object(AuditAction.UPDATE, party, estate_id=None, before=old, after=new)
    Party.objects.bulk_update(
        [t.party for t in changed if t.party is not None],
        ["email", "id_number", "is_organization", "updated_at"],
        batch_size=500,
    )
    rows_insert(
        PartyPhone,
        ("party", "number", "number_reversed", "position"),
        [
            (t.party.pk, n, n[::-1], i)
            for t in [*new_targets, *changed]
            if t.party is not None
            for i, n in enumerate(t.phones)
            if i >= t.saved_phones
        ],
    )

    # Clear payer flags first: the one-current-payer rule is checked row by row on PostgreSQL,
    # so a unit's new payer must not be set in the same statement that clears the old one.
    estate_of = {u.pk: u.estate_id for u in index.units.values()}
    releases = [(o, d) for o, d in occupancy_changes if d.get("is_payer") is False]
    others = [(o, d) for o, d in occupancy_changes if d.get("is_payer") is not False]
    for group in (releases, others):
        _updates_apply(audit, Occupancy, group, lambda o: estate_of[o.unit_id])
    occupancies = [
        Occupancy(
            unit=d.unit, party=d.target.party, role=d.role, is_payer=d.is_payer, since=d.since
        )
        for d in new_occupancies
    ]
    for occ in ctx.bulk_create(occupancies):
        after = model_snapshot(occ, OCCUPANCY_FIELDS)
        audit.add_object(AuditAction.CREATE, occ, estate_id=occ.unit.estate_id, after=after)


# --- registration ------------------------------------------------------------------------

ESTATES_IMPORT = import_kind_register(
    ImportKind("estates", "项目", ESTATE_COLUMNS, Capability.MANAGE_COMPANY, _estates_plan)
)
UNITS_IMPORT = import_kind_register(
    ImportKind("units", "房屋", UNIT_COLUMNS, Capability.MANAGE_UNITS, _units_plan)
)
PARTIES_IMPORT = import_kind_register(
    ImportKind("parties", "业主", PARTY_COLUMNS, Capability.MANAGE_PARTIES, _parties_plan)
)
