"""The demo company (演示数据): 安家物业服务有限公司 with two Hangzhou estates, about 3,000 units,
their owners, co-owners, tenants and developer, and one staff login per role.

Everything follows from a seed, so one seed always gives the same company. Each unit first gets an
owner behaviour from `demo_behaviour` (a pure function of the unit code and the seed). The unit's
other data is then derived from that behaviour, so the two never contradict each other: for
example, a unit the developer holds is always `vacant_or_developer`. Later steps (24 months of
bills and payments) read the same behaviour from `DemoCompany.behaviours`.

Personal data is fake on purpose: phone numbers are only in the never-dialable 100xxxxxxxx range,
e-mail addresses are only at example.com, and there are no ID numbers.

Unit codes, one convention per kind of building:
    DEMO flats   DEMO-<楼栋>-<房号>          DEMO-3-1502  (one staircase, no 单元)
                 DEMO-<楼栋>-<单元>-<房号>   DEMO-5-2-1502 (towers 5, 6 and 15 have two 单元)
    DEMO shops   DEMO-S-<房号>              DEMO-S-101   (沿街商铺, no 单元)
    parking      <项目>-P-<层>-<号>          DEMO-P-B1-001, WEST-P-B1-001 (地下车库)
    WEST flats   WEST-<楼栋>-<房号>          WEST-3-802   (mid-rise, one staircase, no 单元)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from propfee.core.models import AuditAction, AuditEntry, StaffScope, User
from propfee.core.personal_data import DEMO_PHONE_PREFIX
from propfee.core.roles import Role
from propfee.core.services import audit_entry_build, audit_record_many
from propfee.estates.constants import PartyRole, UnitStatus, UnitType
from propfee.estates.models import Building, Company, Estate, Occupancy, Party, PartyPhone, Unit
from propfee.estates.services import (
    building_name_default,
    unit_code_build,
    unit_floor_from_room,
)

DEMO_SEED = 20261127
DEMO_COMPANY_CODE = "ANJIA"
DEMO_COMPANY_NAME = "安家物业服务有限公司"
DEMO_DEVELOPER_NAME = "阳光置业有限公司"
# A public password: the demo accounts are meant to be shared and are documented everywhere.
DEMO_PASSWORD = "propfee-demo"
DEMO_SUPERUSER = "root"
DEMO_SUPERUSER_EMAIL = "root@example.com"
DEMO_NOTE = "演示数据"
# No generated event (transfer, new tenancy) is later than this, so all dates stay in the past.
DEMO_LAST_EVENT = dt.date(2026, 9, 30)
# The first month of the 24 months of billing history that builds on this demo. The payer flag
# belongs to a whole occupancy, not to a period (a paying tenant clears the owner's flag), so
# every tenancy starts before this date: from here on, every unit has exactly one payer on
# every day. Transfers do fall inside the window; the closed row keeps its payer flag.
DEMO_HISTORY_START = dt.date(2024, 12, 1)


class Behaviour(models.TextChoices):
    """How a unit's payer behaves (业主缴费行为), which drives the demo's payment history."""

    ON_TIME = "on_time", _("按时缴费")
    SOMETIMES_LATE = "sometimes_late", _("偶尔逾期")
    CHRONICALLY_LATE = "chronically_late", _("长期拖欠")
    DISPUTING = "disputing", _("服务纠纷")
    HARDSHIP = "hardship", _("经济困难")
    VACANT_OR_DEVELOPER = "vacant_or_developer", _("空置/开发商持有")
    UNREACHABLE = "unreachable", _("联系不上")


# Weight out of 100, and what each behaviour means for the demo data:
#   on_time              62  pays every bill by its due date; may rent out (tenant pays)
#   sometimes_late       16  pays most bills on time, some one to three months late
#   chronically_late      6  owes many months; pays in lumps after escalation
#   disputing             4  withholds fees over a service complaint (服务质量不满)
#   hardship              3  wants to pay but cannot; candidate for an installment plan
#   vacant_or_developer   6  unit is 空置: unsold and held by the developer (DEMO only; half of
#                            the flats and all shops and parking), or bought but not moved in
#   unreachable           3  owner does not answer; 40% of their units are empty, 30% of them
#                            have no phone on file
BEHAVIOUR_WEIGHTS: dict[str, int] = {
    Behaviour.ON_TIME: 62,
    Behaviour.SOMETIMES_LATE: 16,
    Behaviour.CHRONICALLY_LATE: 6,
    Behaviour.DISPUTING: 4,
    Behaviour.HARDSHIP: 3,
    Behaviour.VACANT_OR_DEVELOPER: 6,
    Behaviour.UNREACHABLE: 3,
}
_WEIGHT_TOTAL = sum(BEHAVIOUR_WEIGHTS.values())

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


def demo_behaviour(unit_code: str, seed: int = DEMO_SEED) -> str:
    """The owner behaviour of the unit `unit_code` under `seed`, drawn by BEHAVIOUR_WEIGHTS.

    A hash rather than a random stream, so a unit's behaviour does not depend on which other
    units exist or on the order in which they are built."""
    digest = hashlib.blake2b(f"{seed}:{unit_code}".encode(), digest_size=8).digest()
    point = int.from_bytes(digest, "big") % _WEIGHT_TOTAL
    for behaviour, weight in BEHAVIOUR_WEIGHTS.items():
        if point < weight:
            return behaviour
        point -= weight
    raise AssertionError("unreachable: weights cover the whole range")


# --- layout ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildingLayout:
    """One building of the demo: towers list floors × 单元 × flats per floor. Shops and parking
    list their rooms."""

    code: str
    unit_type: str
    handover: dt.date
    name: str = ""
    floors: int = 0
    entrances: int = 0  # 0 or 1: the building's codes carry no 单元 (DEMO-3-1502)
    flat_areas: tuple[int, ...] = ()  # nominal m² of each flat position on a floor
    rooms: tuple[str, ...] = ()


@dataclass(frozen=True)
class EstateLayout:
    code: str
    name: str
    city: str
    address: str
    buildings: tuple[BuildingLayout, ...]
    developer_holds_unsold: bool  # only DEMO still has unsold units


_PHASE_1 = dt.date(2019, 6, 28)
_PHASE_2 = dt.date(2020, 12, 26)
_WEST_HANDOVER = dt.date(2016, 9, 30)
# Flat sizes per position on a floor (end flats larger), the usual Hangzhou product lines.
_SMALL = (75, 62, 62, 75)
_MEDIUM = (128, 89, 89, 128)
_LARGE = (143, 98, 98, 143)
_XLARGE = (165, 118, 118, 165)
# building: (floors, 单元, layout); buildings 1–9 are phase 1, 10–18 phase 2.
_DEMO_TOWERS: dict[int, tuple[int, int, tuple[int, ...]]] = {
    1: (18, 1, _SMALL),
    2: (18, 1, _SMALL),
    3: (26, 1, _MEDIUM),
    4: (26, 1, _MEDIUM),
    5: (33, 2, _LARGE),
    6: (33, 2, _LARGE),
    7: (18, 1, _MEDIUM),
    8: (24, 1, _MEDIUM),
    9: (24, 1, _MEDIUM),
    10: (32, 1, _XLARGE),
    11: (32, 1, _XLARGE),
    12: (18, 1, _MEDIUM),
    13: (26, 1, _XLARGE),
    14: (26, 1, _XLARGE),
    15: (33, 2, _LARGE),
    16: (18, 1, _MEDIUM),
    17: (24, 1, _MEDIUM),
    18: (24, 1, _MEDIUM),
}
_WEST_FLOORS = (8, 8, 9, 9, 10, 10, 11, 11, 8, 9, 10, 11)
_WEST_AREAS = ((108, 136, 108), (96, 121, 96), (126, 158, 126))


def _parking_rooms(levels: dict[str, int]) -> tuple[str, ...]:
    return tuple(f"{level}-{n:03d}" for level, count in levels.items() for n in range(1, count + 1))


def demo_layout() -> tuple[EstateLayout, ...]:
    """The fixed shape of the two estates; the seed varies areas and people, not buildings."""
    demo_buildings = [
        BuildingLayout(
            code=str(n),
            unit_type=UnitType.RESIDENTIAL,
            handover=_PHASE_1 if n <= 9 else _PHASE_2,
            floors=floors,
            entrances=entrances,
            flat_areas=areas,
        )
        for n, (floors, entrances, areas) in _DEMO_TOWERS.items()
    ]
    demo_buildings.append(
        BuildingLayout(
            code="S",
            name="沿街商铺",
            unit_type=UnitType.SHOP,
            handover=_PHASE_1,
            rooms=tuple(f"1{n:02d}" for n in range(1, 37))
            + tuple(f"2{n:02d}" for n in range(1, 13)),
        )
    )
    demo_buildings.append(
        BuildingLayout(
            code="P",
            name="地下车库",
            unit_type=UnitType.PARKING,
            handover=_PHASE_1,
            rooms=_parking_rooms({"B1": 220, "B2": 140}),
        )
    )
    west_buildings = [
        BuildingLayout(
            code=str(n),
            unit_type=UnitType.RESIDENTIAL,
            handover=_WEST_HANDOVER,
            floors=floors,
            flat_areas=_WEST_AREAS[n % len(_WEST_AREAS)],
        )
        for n, floors in enumerate(_WEST_FLOORS, start=1)
    ]
    west_buildings.append(
        BuildingLayout(
            code="P",
            name="地下车库",
            unit_type=UnitType.PARKING,
            handover=_WEST_HANDOVER,
            rooms=_parking_rooms({"B1": 90}),
        )
    )
    return (
        EstateLayout(
            code="DEMO",
            name="阳光花园",
            city="杭州",
            address="杭州市余杭区良渚街道阳光路88号",
            buildings=tuple(demo_buildings),
            developer_holds_unsold=True,
        ),
        EstateLayout(
            code="WEST",
            name="西湖苑",
            city="杭州",
            address="杭州市西湖区西溪苑路16号",
            buildings=tuple(west_buildings),
            developer_holds_unsold=False,
        ),
    )


# --- names -------------------------------------------------------------------------------

# Common surnames with their pinyin (for e-mail addresses) and a rough frequency weight.
_SURNAME_TABLE = (
    "王wang7 李li7 张zhang7 刘liu5 陈chen6 杨yang4 黄huang3 赵zhao3 吴wu3 周zhou3 徐xu3 孙sun2 "
    "马ma2 朱zhu2 胡hu2 郭guo2 何he2 高gao2 林lin2 沈shen2 罗luo1 郑zheng1 梁liang1 谢xie1 "
    "宋song1 唐tang1 许xu1 韩han1 冯feng1 邓deng1 曹cao1 彭peng1 曾zeng1 肖xiao1 田tian1 "
    "董dong1 袁yuan1 潘pan1 蒋jiang1 蔡cai1 余yu1 杜du1 叶ye1 程cheng1 苏su1 魏wei1 吕lv1 "
    "丁ding1 姚yao1 陆lu1 钱qian1 顾gu1 金jin1 方fang1 汪wang1 范fan1 俞yu1 童tong1 应ying1 楼lou1"
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SURNAMES = [(m[1], m[2], int(m[3])) for m in re.finditer(r"(\S)([a-z]+)(\d+)", _SURNAME_TABLE)]
_MALE_GIVEN = _words(
    "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 凯 健 俊 帆 旭 宁 龙 林 阳 "
    "建华 建国 建军 志强 志明 海涛 国强 文斌 晓东 子豪 浩然 宇轩 俊杰 明辉 永刚 立新 家豪 振华 "
    "文博 天佑 国平 卫东 新民 建平 一鸣 嘉诚"
)
_FEMALE_GIVEN = _words(
    "芳 娜 敏 静 丽 艳 娟 霞 玲 婷 雪 慧 颖 琳 倩 洁 燕 萍 红 秀英 桂英 玉兰 丽华 晓燕 欣怡 "
    "梓涵 雨涵 诗涵 佳怡 婉婷 雅琴 美玲 淑芬 慧敏 晓丽 春梅 海燕 丽娟 思琪 若曦 晓红 秀珍 "
    "文静 亚萍 彩霞"
)
_SHOP_BRANDS = _words("味源 鑫达 安康 嘉禾 绿源 华联 悦颜 同仁 优品 启航 乐享 和顺 鲜果 金桥 宏运")
_SHOP_TRADES = _words(
    "餐饮管理 便利店 大药房 美容美发 教育咨询 水果超市 洗衣服务 五金建材 烘焙食品 房产经纪 "
    "宠物用品 茶饮"
)


# --- logins ------------------------------------------------------------------------------

_ROLE_ENGLISH: dict[str, str] = {
    Role.ADMIN: "company admin",
    Role.MANAGER: "estate manager",
    Role.COLLECTOR: "collector",
    Role.CUSTOMER_SERVICE: "customer service",
    Role.FINANCE: "finance",
    Role.LEGAL: "legal",
    Role.COMMITTEE: "owners' committee",
}

# username, role, display name, scope as (estate code, building code or None); admin is
# company-wide by role and needs no scope rows.
_STAFF: tuple[tuple[str, str, str, tuple[tuple[str, str | None], ...]], ...] = (
    ("admin", Role.ADMIN, "陈志远", ()),
    ("manager", Role.MANAGER, "林慧", (("DEMO", None),)),
    ("collector", Role.COLLECTOR, "王磊", (("DEMO", None),)),
    ("collector2", Role.COLLECTOR, "赵敏", (("WEST", "1"), ("WEST", "2"))),
    ("service", Role.CUSTOMER_SERVICE, "孙丽", (("DEMO", None), ("WEST", None))),
    ("finance", Role.FINANCE, "吴静", (("DEMO", None), ("WEST", None))),
    ("legal", Role.LEGAL, "郑国华", (("DEMO", None), ("WEST", None))),
    ("committee", Role.COMMITTEE, "钱文博", (("DEMO", None),)),
)


@dataclass(frozen=True)
class DemoLogin:
    """One demo account as the commands print it."""

    username: str
    display_name: str
    role: str  # a Role value, or "superuser" for root
    role_zh: str
    role_en: str
    scope: str  # 负责范围, in Chinese


def demo_logins() -> list[DemoLogin]:
    """The demo accounts (all with DEMO_PASSWORD), staff first, then the superuser."""
    names = {e.code: e.name for e in demo_layout()}
    logins = []
    with translation.override("zh-hans"):
        for username, role, display_name, scopes in _STAFF:
            if not scopes:
                scope = "全公司"
            elif all(b is None for _e, b in scopes):
                scope = "、".join(names[e] for e, _b in scopes)
            else:
                estate = names[scopes[0][0]]
                scope = estate + " " + "、".join(building_name_default(b or "") for _e, b in scopes)
            logins.append(
                DemoLogin(
                    username, display_name, role, str(Role(role).label), _ROLE_ENGLISH[role], scope
                )
            )
    logins.append(
        DemoLogin(DEMO_SUPERUSER, "系统管理员", "superuser", "超级用户", "superuser", "仅 /admin/")
    )
    return logins


@cache
def _password_hash() -> str:
    # Hashing is deliberately slow (PBKDF2); one hash shared by all demo accounts keeps the
    # load fast, and the password is public anyway.
    return make_password(DEMO_PASSWORD)


# --- the build ---------------------------------------------------------------------------


class DemoError(Exception):
    """The demo cannot be loaded as asked; the message is for the user."""


class DemoCompanyExists(DemoError):
    """The demo company is already in the database."""


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
    """Builds the unsaved object graph of the demo company; no database access."""

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
        surname, pinyin, _w = rng.choices(_SURNAMES, weights=[w for *_x, w in _SURNAMES])[0]
        female = rng.random() < 0.5 if female is None else female
        given = rng.choice(_FEMALE_GIVEN if female else _MALE_GIVEN)
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
            name = f"杭州{rng.choice(_SHOP_BRANDS)}{rng.choice(_SHOP_TRADES)}有限公司"
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


def demo_company_exists() -> bool:
    return Company.objects.filter(code=DEMO_COMPANY_CODE).exists()


def _users_build(demo: DemoCompany) -> tuple[list[User], list[StaffScope]]:
    password = _password_hash()
    estates = {e.code: e for e in demo.estates}
    buildings = {(b.estate.code, b.code): b for b in demo.buildings}
    users, scopes = [], []
    for username, role, display_name, scope_rows in _STAFF:
        user = User(
            username=username,
            password=password,
            company=demo.company,
            role=role,
            display_name=display_name,
            email=f"{username}@example.com",
        )
        users.append(user)
        for estate_code, building_code in scope_rows:
            building = buildings[(estate_code, building_code)] if building_code else None
            scopes.append(StaffScope(user=user, estate=estates[estate_code], building=building))
    return users, scopes


@transaction.atomic
def demo_company_load(*, seed: int = DEMO_SEED) -> DemoCompany:
    """Write the demo company in one transaction, set-based (a handful of bulk inserts per table).

    Raises DemoCompanyExists if it is already there, DemoError if a demo username is taken by
    someone else. An existing `root` user is left as it is."""
    if demo_company_exists():
        raise DemoCompanyExists(
            f"演示公司 {DEMO_COMPANY_CODE} 已存在 / The demo company {DEMO_COMPANY_CODE} exists"
        )
    demo = demo_plan(seed=seed)
    users, scopes = _users_build(demo)
    taken = set(
        User.objects.filter(username__in=[u.username for u in users]).values_list(
            "username", flat=True
        )
    )
    if taken:
        names = ", ".join(sorted(taken))
        raise DemoError(f"用户名已被占用，无法加载演示数据 / Usernames already taken: {names}")
    if not User.objects.filter(username=DEMO_SUPERUSER).exists():
        users.append(
            User(
                username=DEMO_SUPERUSER,
                password=_password_hash(),
                role=Role.ADMIN,
                display_name="系统管理员",
                email=DEMO_SUPERUSER_EMAIL,
                is_staff=True,
                is_superuser=True,
            )
        )

    demo.company.save()
    Estate.objects.bulk_create(demo.estates)
    Building.objects.bulk_create(demo.buildings)
    Unit.objects.bulk_create(demo.units)
    Party.objects.bulk_create(demo.parties)
    PartyPhone.objects.bulk_create(demo.phones)
    Occupancy.objects.bulk_create(demo.occupancies)
    User.objects.bulk_create(users)
    StaffScope.objects.bulk_create(scopes)
    demo.users = users
    audit_record_many(_audit_entries(demo))
    return demo


def _audit_entries(demo: DemoCompany) -> list[AuditEntry]:
    note = f"{DEMO_NOTE}（种子 {demo.seed}）"
    entries = [
        audit_entry_build(
            actor=None,
            action=AuditAction.CREATE,
            obj=demo.company,
            after={"code": demo.company.code, "name": demo.company.name},
            note=note,
        ),
        audit_entry_build(
            actor=None,
            action=AuditAction.IMPORT,
            object_type="core.user",
            object_repr="演示账号",
            after={"usernames": [u.username for u in demo.users]},
            note=note,
        ),
    ]
    for estate in demo.estates:
        units = [u for u in demo.units if u.estate is estate]
        unit_ids = {id(u) for u in units}
        occupancies = [o for o in demo.occupancies if id(o.unit) in unit_ids]
        entries.append(
            audit_entry_build(
                actor=None,
                action=AuditAction.IMPORT,
                obj=estate,
                estate_id=estate.pk,
                after={
                    "buildings": sum(b.estate is estate for b in demo.buildings),
                    "units": len(units),
                    "occupancies": len(occupancies),
                    "parties": len({id(o.party) for o in occupancies}),
                },
                note=note,
            )
        )
    return entries


@transaction.atomic
def demo_company_delete() -> bool:
    """Delete the demo company and everything the demo created (destructive; the command asks
    first). Audit rows stay: the log is never rewritten. Returns False if there was none."""
    company = Company.objects.filter(code=DEMO_COMPANY_CODE).first()
    if company is None:
        return False
    Occupancy.objects.filter(unit__estate__company=company).delete()
    Occupancy.objects.filter(party__company=company).delete()
    PartyPhone.objects.filter(party__company=company).delete()
    Party.objects.filter(company=company).delete()
    Unit.objects.filter(estate__company=company).delete()
    Building.objects.filter(estate__company=company).delete()
    User.objects.filter(company=company).delete()
    User.objects.filter(
        username=DEMO_SUPERUSER, company__isnull=True, email=DEMO_SUPERUSER_EMAIL
    ).delete()
    Estate.objects.filter(company=company).delete()
    audit_record_many(
        [
            audit_entry_build(
                actor=None,
                action=AuditAction.DELETE,
                obj=company,
                note=f"{DEMO_NOTE}：删除演示公司",
            )
        ]
    )
    company.delete()
    return True
