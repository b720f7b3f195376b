"""The fixed shape of the demo's two Hangzhou estates: buildings, floors, 单元, flat sizes, shop
and parking rooms (the seed varies areas and people, never buildings)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from propfee.estates.constants import UnitType

# Unit codes, one convention per kind of building:
#     DEMO flats   DEMO-<楼栋>-<房号>          DEMO-3-1502  (one staircase, no 单元)
#                  DEMO-<楼栋>-<单元>-<房号>   DEMO-5-2-1502 (towers 5, 6 and 15 have two 单元)
#     DEMO shops   DEMO-S-<房号>              DEMO-S-101   (沿街商铺, no 单元)
#     parking      <项目>-P-<层>-<号>          DEMO-P-B1-001, WEST-P-B1-001 (地下车库)
#     WEST flats   WEST-<楼栋>-<房号>          WEST-3-802   (mid-rise, one staircase, no 单元)


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
