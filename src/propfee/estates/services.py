"""Estates writes: estates, buildings, units, parties and occupancies, ownership transfer.

Each service runs in one transaction and writes its audit row in it. Services check the
actor's capability; `actor=None` means the system itself (demo loader, migrations). Writes that
a person confirms first have a check that raises the same errors without writing
(`occupancy_end_check`, `ownership_transfer_plan`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from propfee.core.bulk import many_values
from propfee.core.models import AuditAction, AuditEntry, User
from propfee.core.personal_data import id_number_normalize, phone_normalize
from propfee.core.roles import Capability, require
from propfee.core.services import (
    AuditBatch,
    audit_personal_data_redact,
    audit_record,
    model_snapshot,
    personal_data_reveal_record,
    snapshot_diff,
)
from propfee.estates.constants import TITLE_ROLES, PartyRole, UnitStatus, UnitType
from propfee.estates.models import Building, Company, Estate, Occupancy, Party, PartyPhone, Unit

ESTATE_FIELDS = ("code", "name", "city", "address")
UNIT_FIELDS = (
    "building",
    "entrance",
    "room",
    "code",
    "floor",
    "area_m2",
    "unit_type",
    "handover_date",
    "status",
)
PARTY_FIELDS = ("name", "is_organization", "email", "id_number")
OCCUPANCY_FIELDS = ("unit", "party", "role", "is_payer", "since", "until")

_ESTATE_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_]{0,31}$")
_PART_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{0,31}$")
_FLOOR_RE = re.compile(r"^(?:B(\d+)-)?(\d+)$")
_ROOM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


class EstatesError(ValueError):
    """A write that the estates rules refuse; the message is for the user."""


def estate_code_check(code: str) -> str:
    code = code.strip().upper()
    if not _ESTATE_CODE_RE.match(code):
        raise EstatesError(f"项目编码只能包含大写字母、数字和下划线：{code}")
    return code


def unit_part_check(value: str, label: str) -> str:
    """A building code, entrance or room: letters, digits, underscore (rooms also `-`).
    Stored upper-case, so unit codes compare the same however they were typed."""
    value = value.strip().upper()
    pattern = _ROOM_RE if label == "房号" else _PART_RE
    if not pattern.match(value):
        allowed = "字母、数字、下划线和短横线" if label == "房号" else "字母、数字和下划线"
        raise EstatesError(f"{label}只能包含{allowed}：{value}")
    return value


def unit_code_build(*, estate_code: str, building_code: str, entrance: str, room: str) -> str:
    """`DEMO-3-1502`, or `DEMO-3-2-1502` when the building has entrances (单元)."""
    parts = [estate_code, building_code] + ([entrance] if entrance else []) + [room]
    return "-".join(parts)


def unit_floor_from_room(room: str) -> int | None:
    """1502 → 15, 301 → 3, B1-023 → -1 (basement), anything else → None."""
    match = _FLOOR_RE.match(room)
    if not match:
        return None
    basement, number = match.groups()
    if basement:
        return -int(basement)
    return int(number) // 100 if len(number) >= 3 else None


def building_name_default(code: str) -> str:
    return f"{code}栋" if code.isdigit() else code


# --- estates -----------------------------------------------------------------------------


@transaction.atomic
def estate_create(
    *, company: Company, code: str, name: str, city: str = "", address: str = "", actor: User | None
) -> Estate:
    require(actor, Capability.MANAGE_COMPANY)
    code = estate_code_check(code)
    if Estate.objects.filter(company=company, code=code).exists():
        raise EstatesError(f"项目编码已存在：{code}")
    estate = Estate.objects.create(
        company=company, code=code, name=name.strip(), city=city.strip(), address=address.strip()
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=estate,
        estate_id=estate.pk,
        after=model_snapshot(estate, ESTATE_FIELDS),
    )
    return estate


@transaction.atomic
def estate_update(
    *, estate: Estate, actor: User | None, name: str, city: str = "", address: str = ""
) -> Estate:
    require(actor, Capability.MANAGE_COMPANY)
    before = model_snapshot(estate, ESTATE_FIELDS)
    estate.name, estate.city, estate.address = name.strip(), city.strip(), address.strip()
    after = model_snapshot(estate, ESTATE_FIELDS)
    old, new = snapshot_diff(before, after)
    if new:
        estate.save(update_fields=["name", "city", "address", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=estate,
            estate_id=estate.pk,
            before=old,
            after=new,
        )
    return estate


# --- buildings and units -----------------------------------------------------------------


@transaction.atomic
def building_create(*, estate: Estate, code: str, name: str = "", actor: User | None) -> Building:
    require(actor, Capability.MANAGE_UNITS)
    code = unit_part_check(code, "楼栋编码")
    if Building.objects.filter(estate=estate, code=code).exists():
        raise EstatesError(f"楼栋已存在：{estate.code}-{code}")
    building = Building.objects.create(
        estate=estate, code=code, name=name.strip() or building_name_default(code)
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=building,
        estate_id=estate.pk,
        after={"estate": estate.pk, "code": building.code, "name": building.name},
    )
    return building


@transaction.atomic
def unit_create(
    *,
    building: Building,
    room: str,
    area_m2: Decimal,
    actor: User | None,
    entrance: str = "",
    unit_type: str = UnitType.RESIDENTIAL,
    handover_date: dt.date | None = None,
    status: str = UnitStatus.OCCUPIED,
) -> Unit:
    require(actor, Capability.MANAGE_UNITS)
    estate = building.estate
    room = unit_part_check(room, "房号")
    entrance = unit_part_check(entrance, "单元") if entrance else ""
    if area_m2 <= 0:
        raise EstatesError(f"建筑面积必须大于0：{area_m2}")
    code = unit_code_build(
        estate_code=estate.code, building_code=building.code, entrance=entrance, room=room
    )
    if Unit.objects.filter(estate=estate, code=code).exists():
        raise EstatesError(f"房屋已存在：{code}")
    unit = Unit.objects.create(
        estate=estate,
        building=building,
        entrance=entrance,
        room=room,
        code=code,
        floor=unit_floor_from_room(room),
        area_m2=area_m2,
        unit_type=unit_type,
        handover_date=handover_date,
        status=status,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=unit,
        estate_id=estate.pk,
        after=model_snapshot(unit, UNIT_FIELDS),
    )
    return unit


@transaction.atomic
def unit_update(
    *,
    unit: Unit,
    actor: User | None,
    area_m2: Decimal | None = None,
    unit_type: str | None = None,
    handover_date: dt.date | None = None,
    status: str | None = None,
) -> Unit:
    """Change a unit's attributes; its code, building and room never change."""
    require(actor, Capability.MANAGE_UNITS)
    before = model_snapshot(unit, UNIT_FIELDS)
    if area_m2 is not None:
        if area_m2 <= 0:
            raise EstatesError(f"建筑面积必须大于0：{area_m2}")
        unit.area_m2 = area_m2
    if unit_type is not None:
        unit.unit_type = unit_type
    if handover_date is not None:
        unit.handover_date = handover_date
    if status is not None:
        unit.status = status
    old, new = snapshot_diff(before, model_snapshot(unit, UNIT_FIELDS))
    if new:
        unit.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=unit,
            estate_id=unit.estate_id,
            before=old,
            after=new,
        )
    return unit


# --- parties -----------------------------------------------------------------------------


def phones_normalize(phones: Sequence[str]) -> list[str]:
    """Normalised, de-duplicated phones in their given order (PersonalDataError if malformed)."""
    numbers: list[str] = []
    for raw in phones:
        if not str(raw).strip():
            continue
        number = phone_normalize(raw)
        if number not in numbers:
            numbers.append(number)
    return numbers


def _party_phones_set(party: Party, numbers: list[str]) -> None:
    party.phones.all().delete()
    PartyPhone.objects.bulk_create(
        PartyPhone(party=party, number=n, number_reversed=n[::-1], position=i)
        for i, n in enumerate(numbers)
    )


def _party_snapshot(party: Party, numbers: list[str]) -> dict:
    snapshot = model_snapshot(party, PARTY_FIELDS)
    snapshot["phones"] = numbers
    return snapshot


def party_audit_estate_ids(party: Party, *, acted_from: int | None = None) -> list[int | None]:
    """The estates whose 操作日志 gets a row about a change to, or a view of, `party`'s
    personal data: every estate where the party lives or lived (current and ended occupancies),
    so each estate's managers see what happened to their residents' data. The estate the
    change was made from (`acted_from`, a unit page) comes first; a party linked to no unit
    gets one row, without an estate unless one was given (company admins still see it)."""
    estate_ids: list[int | None] = [acted_from] if acted_from is not None else []
    for estate_id in (
        Occupancy.objects.filter(party=party)
        .order_by("unit__estate_id")
        .values_list("unit__estate_id", flat=True)
        .distinct()
    ):
        if estate_id not in estate_ids:
            estate_ids.append(estate_id)
    return estate_ids or [None]


def party_reveal_record(
    *, actor: User, party: Party, fields: Iterable[str], estate_id: int | None = None
) -> list[AuditEntry]:
    """Log that `actor` viewed `party`'s unmasked `fields`: one row per estate of
    `party_audit_estate_ids` (`estate_id`: the estate it was viewed from)."""
    shown = list(fields)
    return [
        personal_data_reveal_record(actor=actor, obj=party, fields=shown, estate_id=estate)
        for estate in party_audit_estate_ids(party, acted_from=estate_id)
    ]


@dataclass(frozen=True, eq=False)
class NewParty:
    """A party not on file yet, named in the same write that links it to a unit (a new buyer
    or tenant). Compared by identity: two new people of the same name stay two people."""

    name: str
    phones: tuple[str, ...] = ()
    email: str = ""
    id_number: str = ""
    is_organization: bool = False


def new_party_check(details: NewParty) -> NewParty:
    """The details as `party_create` will store them; EstatesError/PersonalDataError if not
    acceptable. Lets a confirmation page refuse a bad phone before anything is written."""
    if not details.name.strip():
        raise EstatesError("姓名不能为空")
    return NewParty(
        name=details.name.strip(),
        phones=tuple(phones_normalize(details.phones)),
        email=details.email.strip(),
        id_number=id_number_normalize(details.id_number) if details.id_number.strip() else "",
        is_organization=details.is_organization,
    )


@transaction.atomic
def party_create(
    *,
    company: Company,
    name: str,
    actor: User | None,
    phones: Sequence[str] = (),
    email: str = "",
    id_number: str = "",
    is_organization: bool = False,
    estate_id: int | None = None,
) -> Party:
    """`estate_id`: the estate the party was entered for, so that estate's audit log shows it."""
    require(actor, Capability.MANAGE_PARTIES)
    if not name.strip():
        raise EstatesError("姓名不能为空")
    numbers = phones_normalize(phones)
    party = Party.objects.create(
        company=company,
        name=name.strip(),
        email=email.strip(),
        id_number=id_number_normalize(id_number) if id_number.strip() else "",
        is_organization=is_organization,
    )
    _party_phones_set(party, numbers)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=party,
        estate_id=estate_id,
        after=_party_snapshot(party, numbers),
    )
    return party


@transaction.atomic
def party_update(
    *,
    party: Party,
    actor: User | None,
    name: str | None = None,
    phones: Sequence[str] | None = None,
    email: str | None = None,
    id_number: str | None = None,
    estate_id: int | None = None,
) -> Party:
    """Change what is given (None: unchanged). One audit row per estate of
    `party_audit_estate_ids` (`estate_id`: the estate the change was made from, a unit page)."""
    require(actor, Capability.MANAGE_PARTIES)
    if party.anonymised_at is not None:
        # Its data was removed at the end of the retention period; a person who comes back is
        # entered as a new party, so the removal stays a removal.
        raise EstatesError("该业主/住户的个人信息已按保存期限删除，不能再修改；如需登记请新建")
    current = list(party.phones.values_list("number", flat=True))
    before = _party_snapshot(party, current)
    if name is not None:
        if not name.strip():
            raise EstatesError("姓名不能为空")
        party.name = name.strip()
    if email is not None:
        party.email = email.strip()
    if id_number is not None:
        party.id_number = id_number_normalize(id_number) if id_number.strip() else ""
    numbers = phones_normalize(phones) if phones is not None else current
    old, new = snapshot_diff(before, _party_snapshot(party, numbers))
    if new:
        party.save()
        if numbers != current:
            _party_phones_set(party, numbers)
        for estate in party_audit_estate_ids(party, acted_from=estate_id):
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=party,
                estate_id=estate,
                before=old,
                after=new,
            )
    return party


def _party_from(ref: Party | NewParty, *, unit: Unit, actor: User | None) -> Party:
    """`ref` itself, or the party created from its details in the unit's company."""
    if isinstance(ref, Party):
        return ref
    return party_create(
        company=unit.estate.company,
        name=ref.name,
        phones=ref.phones,
        email=ref.email,
        id_number=ref.id_number,
        is_organization=ref.is_organization,
        estate_id=unit.estate_id,
        actor=actor,
    )


# --- occupancies -------------------------------------------------------------------------


def _payer_release(unit: Unit, on: dt.date, actor: User | None) -> None:
    """Close the payer flag of the unit's current payer so a new payer can be set."""
    for occ in Occupancy.objects.select_for_update().filter(
        unit=unit, is_payer=True, until__isnull=True
    ):
        occ.is_payer = False
        occ.save(update_fields=["is_payer", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=occ,
            estate_id=unit.estate_id,
            before={"is_payer": True},
            after={"is_payer": False},
            note=f"缴费人变更 {on.isoformat()}",
        )


def _same_company_check(unit: Unit, parties: Sequence[Party]) -> None:
    """A party can only be linked to units of its own company."""
    for party in parties:
        if party.company_id != unit.estate.company_id:
            raise EstatesError(f"{party.name} 与房屋 {unit.code} 不属于同一物业公司")


@transaction.atomic
def occupancy_create(
    *,
    unit: Unit,
    party: Party,
    role: str,
    since: dt.date,
    actor: User | None,
    is_payer: bool = False,
) -> Occupancy:
    require(actor, Capability.MANAGE_PARTIES)
    if role not in PartyRole.values:
        raise EstatesError(f"身份不正确：{role}")
    _same_company_check(unit, [party])
    if Occupancy.objects.filter(unit=unit, party=party, role=role, until__isnull=True).exists():
        raise EstatesError(f"{party.name} 已是 {unit.code} 的{PartyRole(role).label}")
    if is_payer:
        _payer_release(unit, since, actor)
    occupancy = Occupancy.objects.create(
        unit=unit, party=party, role=role, is_payer=is_payer, since=since
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=occupancy,
        estate_id=unit.estate_id,
        after=model_snapshot(occupancy, OCCUPANCY_FIELDS),
    )
    return occupancy


@transaction.atomic
def occupant_add(
    *,
    unit: Unit,
    party: Party | NewParty,
    role: str,
    since: dt.date,
    actor: User | None,
    is_payer: bool = False,
) -> Occupancy:
    """Link a party to a unit (入住/租住/共有), creating the party first when it is new. One
    transaction: a refused occupancy leaves no orphan party behind."""
    require(actor, Capability.MANAGE_PARTIES)
    if role not in PartyRole.values:
        raise EstatesError(f"身份不正确：{role}")
    return occupancy_create(
        unit=unit,
        party=_party_from(party, unit=unit, actor=actor),
        role=role,
        since=since,
        is_payer=is_payer,
        actor=actor,
    )


def occupancy_end_check(*, occupancy: Occupancy, until: dt.date) -> None:
    """Raise EstatesError unless `occupancy` may end on `until` (writes nothing)."""
    if occupancy.until is not None:
        raise EstatesError("该住户关系已结束")
    if until < occupancy.since:
        raise EstatesError("结束日期不能早于起始日期")


@transaction.atomic
def occupancy_end(*, occupancy: Occupancy, until: dt.date, actor: User | None) -> Occupancy:
    require(actor, Capability.MANAGE_PARTIES)
    occupancy_end_check(occupancy=occupancy, until=until)
    occupancy.until = until
    occupancy.save(update_fields=["until", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=occupancy,
        estate_id=occupancy.unit.estate_id,
        before={"until": None},
        after={"until": until.isoformat()},
    )
    return occupancy


@dataclass(frozen=True)
class TransferPlan:
    """What `ownership_transfer` will do, checked but not written (the confirmation page)."""

    unit: Unit
    on: dt.date
    closing: list[Occupancy]  # the current title occupancies, ending the day before `on`
    new_owners: list[Party | NewParty]  # new details already normalised
    payer: Party | NewParty | None  # the new owner who pays; None while a tenant pays
    paying_tenant: Party | None

    @property
    def until(self) -> dt.date:
        return self.on - dt.timedelta(days=1)


def _distinct_owners(owners: Sequence[Party | NewParty]) -> list[Party | NewParty]:
    seen: set[int] = set()
    distinct: list[Party | NewParty] = []
    for owner in owners:
        if isinstance(owner, Party):
            if owner.pk in seen:
                continue
            seen.add(owner.pk)
        distinct.append(owner)
    return distinct


def ownership_transfer_plan(
    *,
    unit: Unit,
    new_owners: Sequence[Party | NewParty],
    on: dt.date,
    payer: Party | NewParty | None = None,
    lock: bool = False,
) -> TransferPlan:
    """Check an ownership transfer and say what it will do; EstatesError/PersonalDataError
    as `ownership_transfer` would raise them. `lock`: lock the closing occupancies (the
    transfer itself); the confirmation page reads without locking."""
    owners = _distinct_owners(new_owners)
    if not owners:
        raise EstatesError("请至少指定一位新业主")
    payer = payer or owners[0]
    if payer not in owners:
        raise EstatesError("缴费人必须是新业主之一")
    payer_index = owners.index(payer)
    _same_company_check(unit, [o for o in owners if isinstance(o, Party)])
    owners = [o if isinstance(o, Party) else new_party_check(o) for o in owners]
    current = Occupancy.objects.filter(unit=unit, until__isnull=True).select_related("party")
    closing_qs = current.filter(role__in=TITLE_ROLES).order_by("pk")
    if lock:
        closing_qs = closing_qs.select_for_update(of=("self",))
    closing = list(closing_qs)
    for occ in closing:
        if occ.since >= on:
            raise EstatesError(
                f"变更日期 {on.isoformat()} 不能早于或等于"
                f"现有产权的起始日期 {occ.since.isoformat()}"
            )
    tenant = current.filter(role=PartyRole.TENANT, is_payer=True).first()
    return TransferPlan(
        unit=unit,
        on=on,
        closing=closing,
        new_owners=owners,
        payer=None if tenant else owners[payer_index],
        paying_tenant=tenant.party if tenant else None,
    )


def _owner_entry(occ: Occupancy) -> dict:
    return {
        "party": occ.party_id,
        "name": occ.party.name,
        "role": occ.role,
        "is_payer": occ.is_payer,
    }


@transaction.atomic
def ownership_transfer(
    *,
    unit: Unit,
    new_owners: Sequence[Party | NewParty],
    on: dt.date,
    actor: User | None,
    payer: Party | NewParty | None = None,
    note: str = "",
) -> list[Occupancy]:
    """产权变更: close every current title occupancy (owner, co-owner, developer) the day before
    `on`, open owner occupancies for `new_owners` from `on` (creating the new parties among
    them), and make `payer` (default: the first new owner) the payer unless a tenant currently
    pays. History is kept, never overwritten."""
    require(actor, Capability.MANAGE_PARTIES)
    plan = ownership_transfer_plan(unit=unit, new_owners=new_owners, on=on, payer=payer, lock=True)
    parties = [_party_from(owner, unit=unit, actor=actor) for owner in plan.new_owners]
    payer_party = parties[plan.new_owners.index(plan.payer)] if plan.payer is not None else None
    previous = []
    for occ in plan.closing:
        previous.append(_owner_entry(occ))
        # A closed occupancy keeps its payer flag: it records who paid until `until`.
        occ.until = plan.until
        occ.save(update_fields=["until", "updated_at"])
    opened = [
        Occupancy.objects.create(
            unit=unit, party=party, role=PartyRole.OWNER, is_payer=party == payer_party, since=on
        )
        for party in parties
    ]
    audit_record(
        actor=actor,
        action=AuditAction.TRANSFER,
        obj=unit,
        estate_id=unit.estate_id,
        before={"owners": previous},
        after={"owners": [_owner_entry(o) for o in opened], "on": on.isoformat()},
        note=note,
    )
    return opened


# --- retention: removing the personal data of people who left (个人信息删除) ---------------

#: The name an anonymised party keeps (已注销业主): charges, payments and documents still point
#: at the party row, so statements and the ledger read as before without naming anyone.
ANONYMISED_NAME = "已注销业主"
#: Audit keys that hold a party's personal data (PARTY_FIELDS' personal ones and its phones).
PARTY_PERSONAL_KEYS = ("name", "email", "id_number", "phones")


@dataclass(frozen=True)
class AnonymisedParties:
    """What `parties_anonymise` did: parties changed, phones deleted, audit rows redacted."""

    parties: int
    phones: int
    audit_rows_redacted: int


@transaction.atomic
def parties_anonymise(
    *, party_ids: Sequence[int], actor: User | None, note: str = ""
) -> AnonymisedParties:
    """Remove the personal data of the given parties, already chosen by the retention rule
    (`propfee.ledger.retention`): the name becomes 已注销业主, e-mail and ID number are
    cleared, phones deleted; earlier audit rows about them lose the same values. Each party
    gets one audit row saying so, without the data itself. A party already anonymised is left
    alone, so a re-run changes nothing. Set-based: a fixed number of queries per batch."""
    require(actor, Capability.MANAGE_COMPANY)
    parties = list(
        Party.objects.select_for_update()
        .filter(pk__in=many_values(list(party_ids)), anonymised_at__isnull=True)
        .order_by("pk")
    )
    if not parties:
        return AnonymisedParties(0, 0, 0)
    ids = [p.pk for p in parties]
    names = {p.name for p in parties}
    occupancies = list(
        Occupancy.objects.filter(party_id__in=many_values(ids))
        .order_by()
        .values_list("pk", "unit__estate_id", "party_id", "unit_id")
    )
    estate_of = {party_id: estate_id for _pk, estate_id, party_id, _unit in occupancies}
    unit_ids = {unit_id for _pk, _estate, _party, unit_id in occupancies}
    phones, _ = PartyPhone.objects.filter(party_id__in=many_values(ids)).delete()
    now = timezone.now()
    for party in parties:
        party.name = ANONYMISED_NAME
        party.email = ""
        party.id_number = ""
        party.anonymised_at = now
        party.updated_at = now
    Party.objects.bulk_update(
        parties, ["name", "email", "id_number", "anonymised_at", "updated_at"], batch_size=500
    )
    redacted = audit_personal_data_redact(
        object_type=Party._meta.label_lower, object_ids=ids, keys=PARTY_PERSONAL_KEYS, names=names
    )
    redacted += audit_personal_data_redact(
        object_type=Occupancy._meta.label_lower,
        object_ids=[occupancy[0] for occupancy in occupancies],
        keys=(),
        names=names,
    )
    # Ownership transfers are logged on the unit, with the owners' names.
    redacted += audit_personal_data_redact(
        object_type=Unit._meta.label_lower,
        object_ids=sorted(unit_ids),
        keys=(),
        names=names,
    )
    batch = AuditBatch(actor=actor, note=note or "保存期限届满，删除个人信息")
    for party in parties:
        batch.add(
            action=AuditAction.ANONYMISE,
            obj=party,
            estate_id=estate_of.get(party.pk),
            after={"name": ANONYMISED_NAME, "removed": list(PARTY_PERSONAL_KEYS)},
        )
    batch.write()
    return AnonymisedParties(len(parties), phones, redacted)


# --- labels as people write them (imports) -----------------------------------------------

_NUMBERED_LABEL_RE = re.compile(r"^(\d+)\s*(?:号楼|栋|幢)$")
_NUMBERED_ENTRANCE_RE = re.compile(r"^(\d+)\s*单元$")
_CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def building_code_from_label(label: str) -> str:
    """`3栋`, `3号楼`, `3幢` → `3`; anything else unchanged (then checked by unit_part_check)."""
    label = label.strip()
    match = _NUMBERED_LABEL_RE.match(label)
    return match.group(1) if match else label


def entrance_from_label(label: str) -> str:
    """`2单元` → `2`; anything else unchanged."""
    label = label.strip()
    match = _NUMBERED_ENTRANCE_RE.match(label)
    return match.group(1) if match else label


def credit_code_normalize(raw: str) -> str:
    """An 18-character unified social credit code (统一社会信用代码, GB 32100) of an
    organisation such as a developer, upper-case, with a valid check character."""
    text = str(raw).strip().upper()
    if len(text) != 18 or any(c not in _CREDIT_CODE_CHARS for c in text):
        raise EstatesError(f"统一社会信用代码格式不正确：{raw}")
    pairs = zip(text[:17], _CREDIT_CODE_WEIGHTS, strict=True)
    total = sum(_CREDIT_CODE_CHARS.index(c) * w for c, w in pairs)
    if _CREDIT_CODE_CHARS[(31 - total % 31) % 31] != text[17]:
        raise EstatesError(f"统一社会信用代码校验位不正确：{raw}")
    return text
