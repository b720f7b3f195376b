"""The parties import kind (业主/住户): one row per person (or company) and unit, matched to
existing parties by ID number, name + phone or name + unit; creates occupancies and phones."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
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
    many_values,
    rows_insert,
    text_parser,
    yes_no_parse,
)
from propfee.core.models import AuditAction
from propfee.core.personal_data import id_number_normalize
from propfee.core.roles import Capability
from propfee.core.services import AuditBatch, model_snapshot, snapshot_diff
from propfee.estates.constants import PartyRole
from propfee.estates.importers.changes import changes_find, row_action, updates_apply
from propfee.estates.importers.scope import ImportScope
from propfee.estates.models import Occupancy, Party, PartyPhone, Unit
from propfee.estates.services import (
    OCCUPANCY_FIELDS,
    PARTY_FIELDS,
    credit_code_normalize,
    phones_normalize,
)

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
_NAME = text_parser(128)
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

    def __init__(self, ctx: ImportContext, scope: ImportScope, rows: list[_PartyRow]) -> None:
        self.units = scope.units_by_code(d.unit_code for d in rows)
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
    scope = ImportScope(ctx)
    if scope.limit_refused(ctx):
        return ImportPlan(actions={}, apply=lambda audit: None)
    limit = scope.limit
    read = _party_rows_read(ctx, rows)
    index = _PartyIndex(ctx, scope, read)
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
        if limit is not None and unit.estate_id != limit.pk:
            ctx.error(d.number, "unit", f"不属于项目 {limit.code}：{d.unit_code}")
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
            diff = changes_find(occ, {"is_payer": d.is_payer, "since": d.since})
            if diff:
                occupancy_changes[occ.pk] = (occ, diff)
                changed = True
            if d.is_payer:
                payer_of_unit[unit.pk] = occ
        if not ctx.row_failed(d.number):
            actions[d.number] = row_action(created, changed)

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
        updates_apply(audit, Occupancy, group, lambda o: estate_of[o.unit_id])
    occupancies = [
        Occupancy(
            unit=d.unit, party=d.target.party, role=d.role, is_payer=d.is_payer, since=d.since
        )
        for d in new_occupancies
    ]
    for occ in ctx.bulk_create(occupancies):
        after = model_snapshot(occ, OCCUPANCY_FIELDS)
        audit.add_object(AuditAction.CREATE, occ, estate_id=occ.unit.estate_id, after=after)


PARTIES_IMPORT = ImportKind(
    "parties",
    "业主",
    PARTY_COLUMNS,
    Capability.MANAGE_PARTIES,
    _parties_plan,
    estate_limit=True,
)
