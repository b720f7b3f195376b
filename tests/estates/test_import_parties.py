"""Parties import: matching people already on file, occupancies, payers, personal-data cells."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.core.models import AuditAction, AuditEntry
from propfee.core.roles import Role
from propfee.estates.constants import PartyRole
from propfee.estates.models import Occupancy, Party, PartyPhone
from tests.estates.test_imports import csv_bytes, messages, run, xlsx_bytes
from tests.factories import BuildingFactory, PartyPhoneFactory, UnitFactory

HEADER = "房屋编码,姓名,身份,手机,邮箱,缴费人,起始日期,证件号"
VALID_ID = "110101199003071233"
OTHER_ID = "330106198506120015"
CREDIT_CODE = "91350100M000100Y43"


def parties_csv(*rows: str) -> bytes:
    return csv_bytes(HEADER, *rows)


def phones_of(party: Party) -> list[str]:
    return list(party.phones.order_by("position").values_list("number", flat=True))


def test_new_tenant_creates_party_phone_and_occupancy(unit, admin_user):
    report = run(
        "parties",
        parties_csv(f"DEMO-3-1502,李四,租户,10087654321,li@example.com,否,2024-03-01,{VALID_ID}"),
        actor=admin_user,
    )
    assert report.ok and report.applied, messages(report)
    assert report.created == 1
    tenant = Party.objects.get(name="李四")
    assert (tenant.email, tenant.id_number, tenant.is_organization) == (
        "li@example.com",
        VALID_ID,
        False,
    )
    assert phones_of(tenant) == ["10087654321"]
    assert PartyPhone.objects.get(party=tenant).number_reversed == "12345678001"
    occ = Occupancy.objects.get(party=tenant)
    assert (occ.unit, occ.role, occ.is_payer, occ.since, occ.until) == (
        unit,
        PartyRole.TENANT,
        False,
        dt.date(2024, 3, 1),
        None,
    )
    types = sorted(
        AuditEntry.objects.filter(action=AuditAction.CREATE).values_list("object_type", flat=True)
    )
    assert types == ["estates.occupancy", "estates.party"]
    party_entry = AuditEntry.objects.get(object_type="estates.party")
    assert party_entry.after["phones"] == ["10087654321"]


def test_existing_party_matched_by_name_and_phone_updates_email(owner, admin_user):
    content = parties_csv("DEMO-3-1502,王建国,业主,10012345678,wang@example.com,是,,")
    report = run("parties", content, actor=admin_user)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0), messages(report)
    assert Party.objects.count() == 1
    owner.refresh_from_db()
    assert owner.email == "wang@example.com"
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, object_type="estates.party")
    assert entry.before == {"email": ""}
    assert entry.after == {"email": "wang@example.com"}


def test_reimport_of_parties_is_all_unchanged(unit, admin_user):
    content = parties_csv(
        "DEMO-3-1502,李四,业主,10087654321；10087654322,li@example.com,是,2024-03-01,",
        "DEMO-3-1502,李小四,共有人,,,否,2024-03-01,",
    )
    assert run("parties", content, actor=admin_user).created == 2
    again = run("parties", content, actor=admin_user)
    assert again.ok and again.applied
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Party.objects.count() == 2
    assert Occupancy.objects.count() == 2
    assert PartyPhone.objects.count() == 2


def test_matched_by_name_on_the_same_unit_without_phone(owner, admin_user):
    report = run("parties", parties_csv("DEMO-3-1502,王建国,业主,,,,,"), actor=admin_user)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    assert Party.objects.count() == 1


def test_matched_by_id_number_adds_the_new_phone(owner, admin_user):
    owner.id_number = VALID_ID
    owner.save()
    report = run(
        "parties",
        parties_csv(f"DEMO-3-1502,王建国,业主,10099999999,,,,{VALID_ID}"),
        actor=admin_user,
    )
    assert report.updated == 1, messages(report)
    assert phones_of(owner) == ["10012345678", "10099999999"]
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, object_type="estates.party")
    assert entry.before == {"phones": ["10012345678"]}
    assert entry.after == {"phones": ["10012345678", "10099999999"]}


def test_id_number_of_someone_else(owner, admin_user):
    owner.id_number = VALID_ID
    owner.save()
    report = run("parties", parties_csv(f"DEMO-3-1502,张三,租户,,,,,{VALID_ID}"), actor=admin_user)
    assert messages(report) == ["第2行 证件号：该证件号已登记在另一个姓名下"]


def test_one_person_on_two_units_is_one_party(unit, admin_user):
    second = UnitFactory(building=unit.building, room="1503")
    content = parties_csv(
        "DEMO-3-1502,赵六,业主,10055555555,,是,,", f"{second.code},赵六,业主,10055555555,,是,,"
    )
    report = run("parties", content, actor=admin_user)
    assert report.created == 2, messages(report)
    party = Party.objects.get(name="赵六")
    assert Occupancy.objects.filter(party=party).count() == 2
    assert phones_of(party) == ["10055555555"]


def test_several_phones_with_any_separator(unit, admin_user):
    cell = '"10011111111；10022222222、10033333333/10044444444,10055555555"'
    report = run("parties", parties_csv(f"DEMO-3-1502,钱七,业主,{cell},,,,"), actor=admin_user)
    assert report.ok, messages(report)
    assert phones_of(Party.objects.get(name="钱七")) == [
        "10011111111",
        "10022222222",
        "10033333333",
        "10044444444",
        "10055555555",
    ]


def test_developer_is_an_organization_with_a_credit_code(unit, admin_user):
    report = run(
        "parties",
        parties_csv(f"DEMO-3-1502,阳光置业有限公司,开发商,,,否,,{CREDIT_CODE}"),
        actor=admin_user,
    )
    assert report.ok, messages(report)
    developer = Party.objects.get(name="阳光置业有限公司")
    assert developer.is_organization
    assert developer.id_number == CREDIT_CODE


def test_new_payer_replaces_the_current_payer(owner, unit, admin_user):
    report = run(
        "parties", parties_csv("DEMO-3-1502,李四,租户,10087654321,,是,,"), actor=admin_user
    )
    assert report.ok and report.applied, messages(report)
    old = Occupancy.objects.get(party=owner)
    assert old.is_payer is False and old.until is None
    assert Occupancy.objects.get(party__name="李四").is_payer is True
    release = AuditEntry.objects.get(action=AuditAction.UPDATE, object_type="estates.occupancy")
    assert (release.before, release.after) == ({"is_payer": True}, {"is_payer": False})


def test_payer_moves_within_one_file(owner, unit, admin_user):
    content = parties_csv(
        "DEMO-3-1502,王建国,业主,10012345678,,否,,", "DEMO-3-1502,李四,租户,10087654321,,是,,"
    )
    report = run("parties", content, actor=admin_user)
    assert (report.created, report.updated) == (1, 1), messages(report)
    payers = Occupancy.objects.filter(unit=unit, is_payer=True, until__isnull=True)
    assert [o.party.name for o in payers] == ["李四"]


def test_occupancy_changes_update(owner, admin_user):
    content = parties_csv("DEMO-3-1502,王建国,业主,10012345678,,是,2019-01-01,")
    report = run("parties", content, actor=admin_user)
    assert report.updated == 1
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, object_type="estates.occupancy")
    assert (entry.before, entry.after) == ({"since": "2020-06-01"}, {"since": "2019-01-01"})


def test_since_defaults_to_handover_date(unit, admin_user):
    run("parties", parties_csv("DEMO-3-1502,李四,租户,,,,,"), actor=admin_user)
    assert Occupancy.objects.get(party__name="李四").since == unit.handover_date


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("DEMO-9-999,李四,租户,,,,,", "第2行 房屋编码：房屋编码不存在：DEMO-9-999"),
        ("DEMO-3-1502,李四,租户,12345,,,,", "第2行 手机：手机号格式不正确：12345"),
        ("DEMO-3-1502,李四,租户,1001234567x,,,,", "第2行 手机：手机号格式不正确：1001234567x"),
        (
            "DEMO-3-1502,李四,房东,,,,,",
            "第2行 身份：不是可选的值：房东（可选：业主、租户、共有人、开发商）",
        ),
        ("DEMO-3-1502,李四,租户,,,对,,", "第2行 缴费人：只能填“是”或“否”：对"),
        ("DEMO-3-1502,李四,租户,,wang@,,,", "第2行 邮箱：邮箱格式不正确：wang@"),
        (
            "DEMO-3-1502,李四,租户,,,,,110101199003071234",
            "第2行 证件号：身份证号校验位不正确：110101199003071234",
        ),
        ("DEMO-3-1502,李四,租户,,,,,12345", "第2行 证件号：身份证号格式不正确：12345"),
        (
            f"DEMO-3-1502,某公司,开发商,,,,,{VALID_ID}",
            f"第2行 证件号：统一社会信用代码校验位不正确：{VALID_ID}",
        ),
        ("DEMO-3-1502,李四,租户,,,,2024-13-01,", "第2行 起始日期：日期不存在：2024-13-01"),
        (
            "DEMO-3-1502,李四,租户,,,,昨天,",
            "第2行 起始日期：日期格式不正确：昨天（应为 2024-03-01、2024/3/1 或 2024年3月1日）",
        ),
        (",李四,租户,,,,,", "第2行 房屋编码：不能为空"),
        ("DEMO-3-1502,,租户,,,,,", "第2行 姓名：不能为空"),
    ],
)
def test_bad_party_cells(unit, row, expected):
    report = run("parties", parties_csv(row))
    assert messages(report) == [expected]
    assert not Party.objects.exists()


def test_two_payers_for_one_unit_names_both_rows(unit):
    content = parties_csv(
        "DEMO-3-1502,李四,业主,,,是,,",
        "DEMO-3-1502,李小四,共有人,,,否,,",
        "DEMO-3-1502,张三,租户,,,是,,",
    )
    report = run("parties", content)
    assert messages(report) == [
        "第4行 缴费人：同一房屋只能有一个缴费人：第2行和第4行都把 DEMO-3-1502 的缴费人填为“是”"
    ]
    assert not Party.objects.exists()


def test_same_person_twice_on_one_unit(unit):
    content = parties_csv("DEMO-3-1502,李四,业主,10087654321,,,,", "DEMO-3-1502,李四,业主,,,,,")
    report = run("parties", content)
    assert messages(report) == ["第3行：与第2行重复：同一房屋、同一人、同一身份"]


def test_two_rows_disagree_on_a_persons_email(unit):
    second = UnitFactory(building=unit.building, room="1503")
    content = parties_csv(
        "DEMO-3-1502,李四,业主,10087654321,a@example.com,,,",
        f"{second.code},李四,业主,10087654321,b@example.com,,,",
    )
    report = run("parties", content)
    assert messages(report) == ["第3行 邮箱：与第2行填写的邮箱不一致"]


def test_id_number_stored_as_a_number_in_excel(unit):
    content = xlsx_bytes(
        ["房屋编码", "姓名", "身份", "证件号"], ["DEMO-3-1502", "李四", "业主", 110101199003071233]
    )
    report = run("parties", content, filename="p.xlsx")
    assert messages(report) == [
        "第2行 证件号：证件号被 Excel 存成了数字，末几位可能已丢失：请把该列设为文本格式后重新填写"
    ]


def test_phone_stored_as_a_number_in_excel(unit):
    content = xlsx_bytes(
        ["房屋编码", "姓名", "身份", "手机"], ["DEMO-3-1502", "李四", "业主", 10087654321]
    )
    report = run("parties", content, filename="p.xlsx")
    assert report.ok, messages(report)
    assert phones_of(Party.objects.get(name="李四")) == ["10087654321"]


def test_unit_outside_scope_is_reported_as_unknown(make_user, unit, other_unit):
    manager = make_user(Role.MANAGER, estates=[unit.estate])
    content = parties_csv(f"{other_unit.code},李四,租户,,,,,")
    report = run("parties", content, actor=manager)
    assert messages(report) == [f"第2行 房屋编码：房屋编码不存在：{other_unit.code}"]


def test_customer_service_may_import_parties(make_user, unit):
    service = make_user(Role.CUSTOMER_SERVICE, estates=[unit.estate])
    report = run("parties", parties_csv("DEMO-3-1502,李四,租户,,,,,"), actor=service)
    assert report.applied


def test_party_matched_by_phone_in_another_estate_is_the_same_person(owner, other_unit):
    PartyPhoneFactory(party=owner, number="10012340000", position=1)
    content = parties_csv(f"{other_unit.code},王建国,业主,10012340000,,是,,")
    report = run("parties", content)
    assert report.created == 1
    assert Party.objects.count() == 1
    assert Occupancy.objects.filter(party=owner).count() == 2


def test_parties_import_query_count_does_not_grow_per_row(estate, django_assert_max_num_queries):
    building = BuildingFactory(estate=estate, code="9")
    units = [UnitFactory(building=building, room=f"{n + 101}") for n in range(300)]
    rows = [f"{u.code},住户{n},业主,100{n:08d},,是,," for n, u in enumerate(units)]
    with django_assert_max_num_queries(30):
        report = run("parties", parties_csv(*rows))
    assert report.created == 300
    assert Occupancy.objects.filter(is_payer=True).count() == 300
    with django_assert_max_num_queries(15):
        again = run("parties", parties_csv(*rows))
    assert again.unchanged == 300
