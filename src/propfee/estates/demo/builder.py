"""The demo company as unsaved objects (DemoCompany, `demo_plan`): estates, buildings and units
from the layout, then each unit's owners, co-owner, tenant and status from its behaviour."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from propfee.core.models import User
from propfee.core.personal_data import DEMO_PHONE_PREFIX
from propfee.estates.constants import PartyRole, UnitStatus, UnitType
from propfee.estates.demo.behaviours import Behaviour, demo_behaviour
from propfee.estates.demo.constants import (
    DEMO_COMPANY_CODE,
    DEMO_COMPANY_NAME,
    DEMO_DEVELOPER_NAME,
    DEMO_HISTORY_START,
    DEMO_LAST_EVENT,
    DEMO_SEED,
)
from propfee.estates.demo.layout import BuildingLayout, EstateLayout, demo_layout
from propfee.estates.demo.logins import DemoLogin, demo_logins
from propfee.estates.demo.names import (
    FEMALE_GIVEN,
    MALE_GIVEN,
    SHOP_BRANDS,
    SHOP_TRADES,
    SURNAMES,
)
from propfee.estates.models import Building, Company, Estate, Occupancy, Party, PartyPhone, Unit
from propfee.estates.services import (
    building_name_default,
    unit_code_build,
    unit_floor_from_room,
)

# Shares of the unit-level choices, tuned so that the whole company ends up with about 5% of
# units paid by a tenant, 8% with a co-owner, 3% held by the developer and 2% transferred.
_P_TRANSFER = 0.026
_P_CO_OWNER = 0.10
_P_TENANT: dict[str, float] = {UnitType.RESIDENTIAL: 0.06, UnitType.SHOP: 0.55}
_P_RENOVATING: dict[str, float] = {UnitType.RESIDENTIAL: 0.03, UnitType.SHOP: 0.06}
_TENANT_BEHAVIOURS = frozenset(
    {
        Behaviour.ON_TIME,
        Behaviour.SOMETIMES_LATE,
        Behaviour.CHRONICALLY_LATE,
        Behaviour.DISPUTING,
    }
)


@dataclass
class DemoCompany:
    """What `demo_company_load` created (or `demo_plan` would create)."""

    seed: int
    company: Company
    estates: list[Estate]
    buildings: list[Building]
    units: list[Unit]
    parties: list[Party]
    phones: list[PartyPhone]
    occupancies: list[Occupancy]
    behaviours: dict[str, str]  # unit code → Behaviour value
    users: list[User]
    logins: list[DemoLogin]

    @property
    def counts(self) -> dict[str, int]:
        current = [o for o in self.occupancies if o.until is None]
        return {
            "estates": len(self.estates),
            "buildings": len(self.buildings),
            "units": len(self.units),
            "parties": len(self.parties),
            "phones": len(self.phones),
            "occupancies": len(self.occupancies),
            "closed_occupancies": len(self.occupancies) - len(current),
            "tenant_payers": sum(o.role == PartyRole.TENANT and o.is_payer for o in current),
            "co_owners": sum(o.role == PartyRole.CO_OWNER for o in current),
            "developer_units": sum(o.role == PartyRole.DEVELOPER for o in current),
            "users": len(self.users),
        }

    def unit_counts(self) -> Counter[tuple[str, str, str]]:
        """Units by (estate code, unit type, status)."""
        codes = {id(e): e.code for e in self.estates}
        return Counter((codes[id(u.estate)], u.unit_type, u.status) for u in self.units)


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))


class _Builder:
    """Builds the unsaved object graph of the demo company; no database access.

    Everything follows from the seed, so one seed always gives the same company. Each unit
    first gets an owner behaviour from `demo_behaviour`; the unit's other data is then derived
    from that behaviour, so the two never contradict each other (a unit the developer holds is
    always `vacant_or_developer`). Later steps (24 months of bills and payments) read the same
    behaviour from `DemoCompany.behaviours`.

    Personal data is fake on purpose: phone numbers are only in the never-dialable
    100xxxxxxxx range, e-mail addresses are only at example.com, and there are no ID numbers."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.company = Company(code=DEMO_COMPANY_CODE, name=DEMO_COMPANY_NAME)
        self.estates: list[Estate] = []
        self.buildings: list[Building] = []
        self.units: list[Unit] = []
        self.parties: list[Party] = []
        self.phones: list[PartyPhone] = []
        self.occupancies: list[Occupancy] = []
        self.behaviours: dict[str, str] = {}
        # Separate streams, so that changing one kind of data leaves the others as they were.
        self._phone_rng = random.Random(f"{seed}:phones")
        self._parking_rng = random.Random(f"{seed}:parking")
        self._phones_used: set[str] = set()
        self._female: dict[int, bool] = {}  # id(party) → gender, to name a spouse
        # Current flat owners by (estate, behaviour): parking spaces go to them.
        self._flat_owners: dict[tuple[str, str], list[Party]] = defaultdict(list)
        self.developer = self._party(
            name=DEMO_DEVELOPER_NAME, organization=True, email="yangguang-zhiye@example.com"
        )
        self._phones_add(self.developer, 2)

    # people

    def _party(self, *, name: str, organization: bool = False, email: str = "") -> Party:
        party = Party(company=self.company, name=name, is_organization=organization, email=email)
        self.parties.append(party)
        return party

    def _phones_add(self, party: Party, count: int) -> None:
        for position in range(count):
            while True:
                number = f"{DEMO_PHONE_PREFIX}{self._phone_rng.randrange(10**8):08d}"
                if number not in self._phones_used:
                    break
            self._phones_used.add(number)
            self.phones.append(
                PartyPhone(
                    party=party, number=number, number_reversed=number[::-1], position=position
                )
            )

    def _person(
        self, rng: random.Random, *, female: bool | None = None, reachable: bool = True
    ) -> Party:
        surname, pinyin, _w = rng.choices(SURNAMES, weights=[w for *_x, w in SURNAMES])[0]
        female = rng.random() < 0.5 if female is None else female
        given = rng.choice(FEMALE_GIVEN if female else MALE_GIVEN)
        email = f"{pinyin}{rng.randint(10, 9999)}@example.com" if rng.random() < 0.25 else ""
        party = self._party(name=surname + given, email=email)
        if reachable:
            phones = 2 if rng.random() < 0.08 else (0 if rng.random() < 0.02 else 1)
        else:
            phones = 0 if rng.random() < 0.3 else 1
        self._phones_add(party, phones)
        self._female[id(party)] = female
        return party

    def _shop_tenant(self, rng: random.Random) -> Party:
        if rng.random() < 0.6:
            name = f"杭州{rng.choice(SHOP_BRANDS)}{rng.choice(SHOP_TRADES)}有限公司"
            party = self._party(name=name, organization=True)
            self._phones_add(party, 1)
            return party
        return self._person(rng)

    def _occupy(
        self,
        unit: Unit,
        party: Party,
        role: str,
        *,
        payer: bool,
        since: dt.date,
        until: dt.date | None = None,
    ) -> None:
        self.occupancies.append(
            Occupancy(unit=unit, party=party, role=role, is_payer=payer, since=since, until=until)
        )

    # places

    def build(self) -> None:
        for layout in demo_layout():
            estate = Estate(
                company=self.company,
                code=layout.code,
                name=layout.name,
                city=layout.city,
                address=layout.address,
            )
            self.estates.append(estate)
            for building_layout in layout.buildings:
                building = Building(
                    estate=estate,
                    code=building_layout.code,
                    name=building_layout.name or building_name_default(building_layout.code),
                )
                self.buildings.append(building)
                for entrance, room, area in self._rooms(layout, building_layout):
                    unit = self._unit(estate, building, building_layout, entrance, room, area)
                    self._populate(unit, layout)

    def _rooms(self, estate: EstateLayout, b: BuildingLayout) -> Iterator[tuple[str, str, Decimal]]:
        """(entrance, room, area) of each unit of a building, in walking order."""
        rng = random.Random(f"{self.seed}:area:{estate.code}-{b.code}")
        if b.unit_type == UnitType.RESIDENTIAL:
            # A single-entrance tower needs no 单元 in its codes: DEMO-3-1502, DEMO-5-2-1502.
            entrances = [str(n) for n in range(1, b.entrances + 1)] if b.entrances > 1 else [""]
            for entrance in entrances:
                # One floor plan per position, the same on every floor, as towers are built.
                areas = [Decimal(a * 100 + rng.randint(-120, 180)) / 100 for a in b.flat_areas]
                for floor in range(1, b.floors + 1):
                    for position, area in enumerate(areas, start=1):
                        yield entrance, f"{floor}{position:02d}", area
        else:
            for room in b.rooms:
                if b.unit_type == UnitType.PARKING:
                    cents = rng.randint(1200, 1500)
                elif room.startswith("1"):
                    cents = rng.randint(3000, 12000)
                else:
                    cents = rng.randint(8000, 20000)
                yield "", room, Decimal(cents) / 100

    def _unit(
        self,
        estate: Estate,
        building: Building,
        layout: BuildingLayout,
        entrance: str,
        room: str,
        area: Decimal,
    ) -> Unit:
        code = unit_code_build(
            estate_code=estate.code, building_code=building.code, entrance=entrance, room=room
        )
        unit = Unit(
            estate=estate,
            building=building,
            entrance=entrance,
            room=room,
            code=code,
            floor=unit_floor_from_room(room),
            area_m2=area.quantize(Decimal("0.01")),
            unit_type=layout.unit_type,
            handover_date=layout.handover,
            status=UnitStatus.OCCUPIED,
        )
        self.units.append(unit)
        self.behaviours[code] = demo_behaviour(code, self.seed)
        return unit

    def _populate(self, unit: Unit, estate: EstateLayout) -> None:
        """Owners, co-owner, tenant and status of one unit, consistent with its behaviour."""
        behaviour = self.behaviours[unit.code]
        rng = random.Random(f"{self.seed}:{unit.code}")
        handover = unit.handover_date
        assert handover is not None
        if behaviour == Behaviour.VACANT_OR_DEVELOPER:
            unit.status = UnitStatus.VACANT
            unsold = unit.unit_type != UnitType.RESIDENTIAL or rng.random() < 0.5
            if estate.developer_holds_unsold and unsold:
                self._occupy(unit, self.developer, PartyRole.DEVELOPER, payer=True, since=handover)
                return
        if unit.unit_type == UnitType.PARKING:
            owner = self._parking_owner(estate, behaviour, rng)
            self._occupy(unit, owner, PartyRole.OWNER, payer=True, since=handover)
            return

        reachable = behaviour != Behaviour.UNREACHABLE
        since = handover
        transferred = rng.random() < _P_TRANSFER
        if transferred:
            since = _date_between(rng, handover + dt.timedelta(days=400), DEMO_LAST_EVENT)
            previous = self._person(rng)
            # The previous owner keeps is_payer on the closed row: it says who paid back then.
            until = since - dt.timedelta(days=1)
            self._occupy(unit, previous, PartyRole.OWNER, payer=True, since=handover, until=until)
        owner = self._person(rng, reachable=reachable)
        co_owner = None
        if rng.random() < _P_CO_OWNER:
            co_owner = self._person(rng, female=not self._female[id(owner)])

        if unit.status != UnitStatus.VACANT:
            recent = transferred and since >= DEMO_LAST_EVENT - dt.timedelta(days=365)
            if behaviour == Behaviour.UNREACHABLE and rng.random() < 0.4:
                unit.status = UnitStatus.VACANT
            elif rng.random() < (0.5 if recent else _P_RENOVATING[unit.unit_type]):
                unit.status = UnitStatus.RENOVATING
        tenant, tenant_since = None, None
        if (
            unit.status == UnitStatus.OCCUPIED
            and behaviour in _TENANT_BEHAVIOURS
            and rng.random() < _P_TENANT[unit.unit_type]
        ):
            start = max(since + dt.timedelta(days=60), dt.date(2021, 1, 1))
            latest = DEMO_HISTORY_START - dt.timedelta(days=1)
            if start <= latest:
                tenant_since = _date_between(rng, start, latest)
                tenant = (
                    self._shop_tenant(rng) if unit.unit_type == UnitType.SHOP else self._person(rng)
                )

        self._occupy(unit, owner, PartyRole.OWNER, payer=tenant is None, since=since)
        if co_owner is not None:
            self._occupy(unit, co_owner, PartyRole.CO_OWNER, payer=False, since=since)
        if tenant is not None and tenant_since is not None:
            self._occupy(unit, tenant, PartyRole.TENANT, payer=True, since=tenant_since)
        if unit.unit_type == UnitType.RESIDENTIAL:
            self._flat_owners[(estate.code, behaviour)].append(owner)

    def _parking_owner(self, estate: EstateLayout, behaviour: str, rng: random.Random) -> Party:
        """A flat owner of the same estate who behaves the same way (someone who does not pay
        for the flat does not pay for the space either); a new person when none is left."""
        pool = self._flat_owners[(estate.code, behaviour)]
        if pool:
            return pool.pop(self._parking_rng.randrange(len(pool)))
        return self._person(rng, reachable=behaviour != Behaviour.UNREACHABLE)


def demo_plan(*, seed: int = DEMO_SEED) -> DemoCompany:
    """The demo company as unsaved objects (no database access): the same seed, the same plan."""
    builder = _Builder(seed)
    builder.build()
    return DemoCompany(
        seed=seed,
        company=builder.company,
        estates=builder.estates,
        buildings=builder.buildings,
        units=builder.units,
        parties=builder.parties,
        phones=builder.phones,
        occupancies=builder.occupancies,
        behaviours=builder.behaviours,
        users=[],
        logins=demo_logins(),
    )
