"""The demo company and the `demo`, `quickstart` and `serve` commands."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Q

from propfee.billing.models import Charge
from propfee.core.models import AuditAction, AuditEntry, StaffScope, User
from propfee.core.personal_data import phone_is_demo
from propfee.core.roles import Role
from propfee.estates.constants import PartyRole, UnitStatus, UnitType
from propfee.estates.demo import (
    BEHAVIOUR_WEIGHTS,
    DEMO_COMPANY_CODE,
    DEMO_DEVELOPER_NAME,
    DEMO_HISTORY_START,
    DEMO_PASSWORD,
    DEMO_SEED,
    Behaviour,
    DemoCompanyExists,
    DemoError,
    demo_behaviour,
    demo_company_delete,
    demo_company_load,
    demo_logins,
    demo_plan,
)
from propfee.estates.models import Building, Company, Occupancy, Party, PartyPhone, Unit
from propfee.estates.selectors import units_visible_to
from propfee.payments.models import Payment
from tests.factories import CompanyFactory

STAFF_USERNAMES = [
    "admin",
    "manager",
    "collector",
    "collector2",
    "service",
    "finance",
    "legal",
    "committee",
]


@pytest.fixture
def demo(db):
    return demo_company_load()


def _snapshot() -> dict[str, list]:
    """The loaded demo as plain values, independent of database ids."""
    return {
        "units": sorted(
            Unit.objects.values_list("code", "area_m2", "unit_type", "status", "handover_date")
        ),
        "occupancies": sorted(
            Occupancy.objects.values_list(
                "unit__code", "party__name", "role", "is_payer", "since", "until"
            ),
            key=str,
        ),
        "phones": sorted(PartyPhone.objects.values_list("party__name", "number")),
    }


def _share(part: int, whole: int) -> float:
    return part / whole


# --- determinism ---------------------------------------------------------------------------


def test_plan_same_seed_same_company_other_seed_other_people():
    first, again, other = demo_plan(), demo_plan(), demo_plan(seed=7)

    def people(plan):
        return [p.name for p in plan.parties], [p.number for p in plan.phones]

    assert [(u.code, u.area_m2, u.status) for u in first.units] == [
        (u.code, u.area_m2, u.status) for u in again.units
    ]
    assert people(first) == people(again)
    assert first.behaviours == again.behaviours
    # The buildings stay; the people, areas and behaviours change with the seed.
    assert [u.code for u in other.units] == [u.code for u in first.units]
    assert [p.name for p in other.parties[1:50]] != [p.name for p in first.parties[1:50]]
    assert [u.area_m2 for u in other.units] != [u.area_m2 for u in first.units]
    assert other.behaviours != first.behaviours


def test_load_is_deterministic_in_the_database(db):
    demo_company_load()
    first = _snapshot()
    assert demo_company_delete() is True
    assert not Unit.objects.exists() and not Party.objects.exists()
    demo_company_load()
    assert _snapshot() == first


def test_demo_behaviour_is_a_pure_function_of_code_and_seed():
    codes = [f"DEMO-3-{floor}0{n}" for floor in range(1, 20) for n in range(1, 5)]
    assert [demo_behaviour(c, DEMO_SEED) for c in codes] == [
        demo_behaviour(c, DEMO_SEED) for c in codes
    ]
    assert [demo_behaviour(c, 1) for c in codes] != [demo_behaviour(c, 2) for c in codes]
    assert {demo_behaviour(c, 3) for c in codes} <= set(Behaviour.values)
    assert sum(BEHAVIOUR_WEIGHTS.values()) == 100


# --- contents --------------------------------------------------------------------------------


def test_counts_types_and_statuses(demo):
    units = Unit.objects.filter(estate__company=demo.company)
    total = units.count()
    assert 2800 <= total <= 3200
    by_estate = dict(units.values_list("estate__code").annotate(n=Count("id")))
    assert set(by_estate) == {"DEMO", "WEST"}
    by_type = Counter(units.values_list("unit_type", flat=True))
    assert by_type[UnitType.SHOP] > 0 and by_type[UnitType.PARKING] > 0
    assert by_type[UnitType.RESIDENTIAL] > 0.8 * total
    by_status = Counter(units.values_list("status", flat=True))
    assert by_status[UnitStatus.OCCUPIED] > 0.8 * total
    assert by_status[UnitStatus.VACANT] > 0 and by_status[UnitStatus.RENOVATING] > 0
    assert Building.objects.filter(estate__code="DEMO").exclude(code__in=["S", "P"]).count() == 18
    assert Company.objects.get(code=DEMO_COMPANY_CODE).name == "安家物业服务有限公司"
    assert demo.counts["units"] == total


def test_codes_areas_and_dates(demo):
    units = list(Unit.objects.all())
    assert Unit.objects.filter(code="DEMO-5-2-1502", entrance="2", floor=15).exists()
    assert Unit.objects.filter(code="DEMO-3-1502", entrance="", floor=15).exists()
    assert Unit.objects.filter(code="WEST-3-802", entrance="", floor=8).exists()
    assert Unit.objects.filter(code="DEMO-S-101", unit_type=UnitType.SHOP).exists()
    assert Unit.objects.filter(code="DEMO-P-B1-001", unit_type=UnitType.PARKING, floor=-1).exists()
    # One convention per kind of building: every DEMO flat has a 单元, no WEST unit has one.
    # Only the two-entrance towers (5, 6, 15) carry a 单元 in their codes.
    with_entrance = Unit.objects.filter(estate__code="DEMO").exclude(entrance="")
    assert set(with_entrance.values_list("building__code", flat=True)) == {"5", "6", "15"}
    assert not Unit.objects.filter(estate__code="WEST").exclude(entrance="").exists()
    limits = {
        UnitType.RESIDENTIAL: (Decimal(60), Decimal(180)),
        UnitType.SHOP: (Decimal(30), Decimal(200)),
        UnitType.PARKING: (Decimal(12), Decimal(15)),
    }
    for unit in units:
        low, high = limits[unit.unit_type]
        assert low <= unit.area_m2 <= high, unit.code
        assert unit.area_m2 == unit.area_m2.quantize(Decimal("0.01"))
        assert unit.handover_date < dt.date.today()
    assert max(Occupancy.objects.values_list("since", flat=True)) < dt.date.today()


def test_personal_data_is_fake(demo):
    numbers = list(PartyPhone.objects.values_list("number", flat=True))
    assert len(numbers) > 2500
    assert all(phone_is_demo(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    emails = list(Party.objects.exclude(email="").values_list("email", flat=True))
    emails += list(User.objects.exclude(email="").values_list("email", flat=True))
    assert emails and all(e.endswith("@example.com") for e in emails)
    assert not Party.objects.exclude(id_number="").exists()
    assert Party.objects.filter(name__regex=r"^[\u4e00-\u9fff]{2,3}$").count() > 2500


def test_every_unit_has_exactly_one_current_payer(demo):
    payers = Count("occupancies", filter=Q(occupancies__is_payer=True, occupancies__until=None))
    assert set(Unit.objects.annotate(n=payers).values_list("n", flat=True)) == {1}


def test_one_payer_on_every_day_of_the_history_window(demo):
    """Billing history starts at DEMO_HISTORY_START: each unit's payer must be known on each day."""
    assert Unit.objects.filter(handover_date__lt=DEMO_HISTORY_START).count() == Unit.objects.count()
    assert not Occupancy.objects.filter(
        role=PartyRole.TENANT, since__gte=DEMO_HISTORY_START
    ).exists()
    transfers = Occupancy.objects.filter(until__gte=DEMO_HISTORY_START)
    assert transfers.exists()
    days = {DEMO_HISTORY_START, *(o.until for o in transfers)}
    days |= {o.until + dt.timedelta(days=1) for o in transfers}
    units = Unit.objects.count()
    for day in sorted(days):
        on_day = Occupancy.objects.filter(is_payer=True, since__lte=day).filter(
            Q(until=None) | Q(until__gte=day)
        )
        counts = on_day.values("unit").annotate(n=Count("id")).values_list("n", flat=True)
        assert len(counts) == units and set(counts) == {1}, day


def test_developer_holds_only_vacant_units_and_pays_for_them(demo):
    developer = Party.objects.get(name=DEMO_DEVELOPER_NAME)
    assert developer.is_organization
    held = Occupancy.objects.filter(party=developer, until=None)
    assert set(held.values_list("role", "is_payer")) == {(PartyRole.DEVELOPER, True)}
    assert set(held.values_list("unit__status", flat=True)) == {UnitStatus.VACANT}
    assert set(held.values_list("unit__estate__code", flat=True)) == {"DEMO"}
    assert 0.02 <= _share(held.count(), Unit.objects.count()) <= 0.04
    # Nobody else has anything to do with the developer's units.
    assert not Occupancy.objects.filter(unit__in=held.values("unit")).exclude(party=developer)
    for code in held.values_list("unit__code", flat=True):
        assert demo.behaviours[code] == Behaviour.VACANT_OR_DEVELOPER


def test_tenants_co_owners_and_transfers(demo):
    total = Unit.objects.count()
    current = Occupancy.objects.filter(until=None)
    tenant_payers = current.filter(role=PartyRole.TENANT, is_payer=True)
    assert 0.04 <= _share(tenant_payers.count(), total) <= 0.06
    assert not current.filter(role=PartyRole.TENANT, is_payer=False).exists()
    # Where a tenant pays, the owner does not.
    assert not current.filter(
        role=PartyRole.OWNER, is_payer=True, unit__in=tenant_payers.values("unit")
    ).exists()
    assert tenant_payers.filter(unit__unit_type=UnitType.SHOP).exists()
    assert 0.06 <= _share(current.filter(role=PartyRole.CO_OWNER).count(), total) <= 0.10

    closed = Occupancy.objects.exclude(until=None)
    assert 0.01 <= _share(closed.count(), total) <= 0.03
    for occupancy in closed:
        assert occupancy.role == PartyRole.OWNER and occupancy.since <= occupancy.until
        # The new owner took over the day after.
        successor = current.get(unit=occupancy.unit_id, role=PartyRole.OWNER)
        assert successor.since == occupancy.until + dt.timedelta(days=1)
        assert successor.party_id != occupancy.party_id


def test_behaviours_match_weights_and_unit_data(demo):
    units = dict(Unit.objects.values_list("code", "status"))
    assert set(demo.behaviours) == set(units)
    shares = Counter(demo.behaviours.values())
    for behaviour, weight in BEHAVIOUR_WEIGHTS.items():
        assert abs(shares[behaviour] / len(units) - weight / 100) < 0.03, behaviour
    for code, behaviour in demo.behaviours.items():
        assert behaviour == demo_behaviour(code, DEMO_SEED)
        if behaviour == Behaviour.VACANT_OR_DEVELOPER:
            assert units[code] == UnitStatus.VACANT, code
    # Parking spaces go to a flat owner who behaves the same way where one is available.
    parking_owners = Occupancy.objects.filter(
        unit__unit_type=UnitType.PARKING, role=PartyRole.OWNER, until=None
    ).values("party")
    assert (
        Occupancy.objects.filter(
            party__in=parking_owners, unit__unit_type=UnitType.RESIDENTIAL
        ).count()
        > 300
    )


def test_one_user_per_role_with_scopes(demo):
    staff = {u.username: u for u in User.objects.filter(company=demo.company)}
    assert sorted(staff) == sorted(STAFF_USERNAMES)
    assert {u.role for u in staff.values()} == set(Role.values)
    assert all(u.display_name for u in staff.values())
    # One hash shared by every demo account (hashing is slow); check it once.
    assert len({u.password for u in User.objects.all()}) == 1
    assert staff["collector2"].check_password(DEMO_PASSWORD)
    assert not any(u.is_staff or u.is_superuser for u in staff.values())
    root = User.objects.get(username="root")
    assert root.is_superuser and root.is_staff and root.company is None

    def scope(username):
        return sorted(
            StaffScope.objects.filter(user=staff[username]).values_list(
                "estate__code", "building__code"
            ),
            key=str,
        )

    assert scope("admin") == []
    assert scope("manager") == scope("collector") == scope("committee") == [("DEMO", None)]
    assert scope("collector2") == [("WEST", "1"), ("WEST", "2")]

    west = units_visible_to(staff["collector2"])
    assert set(west.values_list("building__code", flat=True)) == {"1", "2"}
    assert (
        west.count()
        == Unit.objects.filter(estate__code="WEST", building__code__in=["1", "2"]).count()
    )
    assert (
        units_visible_to(staff["collector"]).count()
        == Unit.objects.filter(estate__code="DEMO").count()
    )
    assert units_visible_to(staff["admin"]).count() == Unit.objects.count()
    assert not units_visible_to(staff["committee"]).exists()
    assert [login.username for login in demo.logins] == [*STAFF_USERNAMES, "root"]


def test_audit_summary_per_estate(demo):
    entries = AuditEntry.objects.filter(action=AuditAction.IMPORT, object_type="estates.estate")
    assert sorted(entries.values_list("estate__code", flat=True)) == ["DEMO", "WEST"]
    assert all("演示数据" in e.note for e in entries)
    demo_entry = entries.get(estate__code="DEMO")
    assert demo_entry.after["units"] == Unit.objects.filter(estate__code="DEMO").count()


def test_load_runs_in_a_bounded_number_of_queries(db, django_assert_max_num_queries):
    # Set-based: about a hundred bulk inserts (SQLite's 999-parameter batches), never per unit.
    with django_assert_max_num_queries(200):
        demo_company_load()
    assert Unit.objects.count() > 2800


def test_load_refuses_when_loaded_or_usernames_taken(db):
    User.objects.create_user(username="collector", password="x")
    with pytest.raises(DemoError, match="collector"):
        demo_company_load()
    assert not Company.objects.exists()
    User.objects.filter(username="collector").delete()
    demo_company_load()
    with pytest.raises(DemoCompanyExists):
        demo_company_load()


# --- commands --------------------------------------------------------------------------------


def _run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


# The commands' tests load two months of bills and payments: the full 24 months are tested
# once, in tests/ledger/test_demo_history.py.
SHORT_HISTORY = ("--history-months", "2")


def test_demo_command_refuses_a_second_load_without_force(db):
    output = _run("demo", *SHORT_HISTORY)
    assert "DEMO 阳光花园" in output and "collector2" in output and DEMO_PASSWORD in output
    assert "共 2 个月的账单与收款" in output
    units, payments = Unit.objects.count(), Payment.objects.count()
    assert payments > 3000
    with pytest.raises(CommandError, match="--force"):
        _run("demo", *SHORT_HISTORY)
    assert Unit.objects.count() == units and Company.objects.count() == 1
    assert Payment.objects.count() == payments

    names = set(Party.objects.values_list("name", flat=True))
    _run("demo", "--force", "--noinput", "--seed", "7", *SHORT_HISTORY)
    assert Company.objects.count() == 1 and Unit.objects.count() == units
    assert Payment.objects.exists() and Payment.objects.count() != payments
    assert set(Party.objects.values_list("name", flat=True)) != names
    assert User.objects.filter(username__in=STAFF_USERNAMES).count() == len(STAFF_USERNAMES)


def test_demo_command_force_asks_first(db, monkeypatch):
    demo_company_load()
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="已取消"):
        _run("demo", "--force")
    assert Company.objects.filter(code=DEMO_COMPANY_CODE).exists()


def test_quickstart_is_idempotent_and_prints_logins(db):
    first = _run("quickstart", "--port", "8123", *SHORT_HISTORY)
    units, charges, payments = Unit.objects.count(), Charge.objects.count(), Payment.objects.count()
    second = _run("quickstart", "--port", "8123", *SHORT_HISTORY)
    assert Company.objects.count() == 1 and Unit.objects.count() == units > 2800
    assert Charge.objects.count() == charges > 6000 and Payment.objects.count() == payments
    assert "正在加载演示数据" in first and "未加载演示数据" in second
    assert "共 2 个月的账单与收款" in first and "账单与收款" not in second
    for output in (first, second):
        assert "http://127.0.0.1:8123/" in output and DEMO_PASSWORD in output
        for login in demo_logins():
            assert login.username in output and login.role_zh in output and login.role_en in output


def test_quickstart_leaves_an_existing_company_alone(db):
    CompanyFactory(code="REAL", name="真实物业")
    output = _run("quickstart")
    assert not Company.objects.filter(code=DEMO_COMPANY_CODE).exists()
    assert "collector2" not in output and "已有账号" in output


def test_serve_prints_the_url_then_runs_the_server(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "propfee.core.management.commands.serve.call_command",
        lambda *args, **kwargs: calls.append((args, kwargs)),
    )
    assert "http://127.0.0.1:8000/" in _run("serve")
    assert calls[-1] == (("runserver", "127.0.0.1:8000"), {"use_reloader": False})
    assert "http://127.0.0.1:9000/" in _run("serve", "0.0.0.0:9000")
    assert calls[-1][0] == ("runserver", "0.0.0.0:9000")
    _run("serve", "9001")
    assert calls[-1][0] == ("runserver", "127.0.0.1:9001")
    with pytest.raises(CommandError):
        _run("serve", "localhost")
