"""The unit page's writes: edit the unit, edit an occupant, add an occupant, end an occupancy
and transfer ownership — each works for a role that may, is refused (403) to one that may not,
is not found (404) outside the scope, shows the services' refusals in Chinese, and (ending,
transfer) writes nothing until confirmed."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from propfee.core.models import AuditAction, AuditEntry
from propfee.core.roles import ROLE_CAPABILITIES, Capability, Role
from propfee.estates.models import Occupancy, Party, Unit
from propfee.web.unit_forms import PartyEditForm
from tests.factories import OccupancyFactory, PartyFactory, PartyPhoneFactory

pytestmark = pytest.mark.django_db

UNIT_URL = "/units/DEMO-3-1502/"
DIALOG = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "write-dialog"}
OPTIONS = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "party-options"}
TRANSFER_STATEMENT = (
    "原业主 王建国 的产权关系将于 2026-02-28 结束；新业主 李娜 自 2026-03-01 起为业主并为缴费人"
)


@pytest.fixture
def customer_service(make_user, estate):
    return make_user(Role.CUSTOMER_SERVICE, username="cs1", estates=[estate])


@pytest.fixture
def paying_tenant(unit, owner, company):
    """A current tenant of 1502 who pays instead of the owner."""
    Occupancy.objects.filter(unit=unit, party=owner).update(is_payer=False)
    occupancy = OccupancyFactory(
        unit=unit, party__name="赵六", role="tenant", is_payer=True, since=dt.date(2024, 1, 1)
    )
    return occupancy.party


def _writes(html: str) -> set[str]:
    return set(re.findall(r'data-write="([a-z_]+)"', html))


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _audit(action: str, object_type: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, object_type=object_type).order_by("pk"))


def _transfer_data(**extra) -> dict:
    data = {"q": "", "on": "2026-03-01", "note": "", "payer": ""}
    data.update(extra)
    return data


# --- the unit page's buttons -------------------------------------------------------------


def test_manager_sees_every_write_button(signed_in, manager, unit, owner, tenant):
    page = signed_in(manager).get(UNIT_URL).text
    assert _writes(page) == {
        "unit_edit",
        "occupant_add",
        "ownership_transfer",
        "occupant_edit",
        "occupancy_end",
        "payment_add",
    }
    assert 'id="write-modal"' in page
    assert page.count('data-write="occupancy_end"') == 1  # the past tenant cannot be ended
    assert page.count('data-write="occupant_edit"') == 2
    assert f'href="/units/DEMO-3-1502/occupants/{owner.occupancies.get().pk}/end/"' in page


def test_customer_service_may_manage_people_but_not_the_unit(
    signed_in, customer_service, unit, owner
):
    page = signed_in(customer_service).get(UNIT_URL).text
    assert _writes(page) == {
        "occupant_add",
        "ownership_transfer",
        "occupant_edit",
        "occupancy_end",
        "payment_add",
    }


def test_collector_sees_no_write_buttons(signed_in, make_user, estate, unit, owner):
    page = signed_in(make_user(Role.COLLECTOR, estates=[estate])).get(UNIT_URL).text
    assert _writes(page) == set()
    assert 'id="write-modal"' not in page
    assert "产权变更" not in page


def test_finance_may_only_record_payments(signed_in, finance, unit, owner):
    page = signed_in(finance).get(UNIT_URL).text
    assert _writes(page) == {"payment_add"}
    assert 'id="write-modal"' in page
    assert "产权变更" not in page


# --- refused and not found ---------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.FINANCE])
def test_every_write_is_refused_to_collector_and_finance(
    signed_in, make_user, estate, unit, owner, role
):
    client = signed_in(make_user(role, estates=[estate]))
    occupancy = owner.occupancies.get()
    posts = {
        f"{UNIT_URL}edit/": {"area_m2": "1", "unit_type": "shop", "status": "vacant"},
        f"{UNIT_URL}occupants/{occupancy.pk}/edit/": {"name": "改名", "phones": "13800138000"},
        f"{UNIT_URL}occupants/add/": {"new-name": "李娜", "role": "tenant", "since": "2026-03-01"},
        f"{UNIT_URL}occupants/{occupancy.pk}/end/": {"until": "2026-02-28", "confirm": "1"},
        f"{UNIT_URL}transfer/": _transfer_data(**{"new0-name": "李娜", "confirm": "1"}),
    }
    for url, data in posts.items():
        assert client.get(url).status_code == 403, url
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "没有权限" in response.text
    assert not AuditEntry.objects.exclude(action=AuditAction.REVEAL).exists()
    occupancy.refresh_from_db()
    assert occupancy.until is None
    assert Party.objects.filter(name__in=["李娜", "改名"]).count() == 0


def test_customer_service_may_not_edit_the_unit(signed_in, customer_service, unit):
    response = signed_in(customer_service).post(
        f"{UNIT_URL}edit/", {"area_m2": "100", "unit_type": "shop", "status": "vacant"}
    )
    assert response.status_code == 403
    unit.refresh_from_db()
    assert unit.area_m2 == Decimal("89.50")


def test_units_outside_the_scope_are_not_found(signed_in, manager, other_unit):
    occupancy = OccupancyFactory(unit=other_unit, party__name="孙西")
    client = signed_in(manager)
    base = "/units/WEST-1-101/"
    for url in (
        f"{base}edit/",
        f"{base}occupants/add/",
        f"{base}occupants/{occupancy.pk}/edit/",
        f"{base}occupants/{occupancy.pk}/end/",
        f"{base}transfer/",
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"confirm": "1", "until": "2026-01-01"}).status_code == 404, url
    occupancy.refresh_from_db()
    assert occupancy.until is None


def test_an_occupancy_of_another_unit_is_not_found(signed_in, manager, unit, owner, more_units):
    other = more_units[0].occupancies.get()
    client = signed_in(manager)
    assert client.get(f"{UNIT_URL}occupants/{other.pk}/edit/").status_code == 404
    response = client.post(
        f"{UNIT_URL}occupants/{other.pk}/end/", {"until": "2026-02-28", "confirm": "1"}
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.until is None


# --- 编辑房屋信息 ------------------------------------------------------------------------


def test_manager_edits_the_unit(signed_in, manager, unit):
    client = signed_in(manager)
    form = client.get(f"{UNIT_URL}edit/").text
    assert "编辑房屋信息" in form and 'value="89.50"' in form and 'value="2020-06-01"' in form
    response = client.post(
        f"{UNIT_URL}edit/",
        {
            "area_m2": "92.30",
            "unit_type": "office",
            "handover_date": "2021-01-15",
            "status": "vacant",
        },
        follow=True,
    )
    assert response.redirect_chain == [(UNIT_URL, 302)]
    assert _messages(response) == ["已保存房屋信息。"]
    unit.refresh_from_db()
    assert (unit.area_m2, unit.unit_type, unit.handover_date, unit.status) == (
        Decimal("92.30"),
        "office",
        dt.date(2021, 1, 15),
        "vacant",
    )
    (entry,) = _audit(AuditAction.UPDATE, "estates.unit")
    assert entry.actor == manager
    assert entry.before == {
        "area_m2": "89.50",
        "unit_type": "residential",
        "handover_date": "2020-06-01",
        "status": "occupied",
    }
    assert entry.after["area_m2"] == "92.30"
    # The history names the choices, not their codes.
    assert "状态：已入住 → 空置" in response.text
    assert "房屋类型：住宅 → 办公" in response.text


def test_unit_edit_shows_the_services_refusal(signed_in, manager, unit):
    response = signed_in(manager).post(
        f"{UNIT_URL}edit/",
        {
            "area_m2": "0",
            "unit_type": "residential",
            "handover_date": "2020-06-01",
            "status": "occupied",
        },
    )
    assert response.status_code == 200
    assert "建筑面积必须大于0：0" in response.text
    assert Unit.objects.get(pk=unit.pk).area_m2 == Decimal("89.50")
    assert not AuditEntry.objects.exists()


def test_unit_edit_as_an_htmx_dialog(signed_in, manager, unit):
    client = signed_in(manager)
    dialog = client.get(f"{UNIT_URL}edit/", **DIALOG)
    assert "<html" not in dialog.text
    assert 'data-bs-dismiss="modal"' in dialog.text
    assert "HX-Target" in dialog["Vary"]
    response = client.post(
        f"{UNIT_URL}edit/",
        {
            "area_m2": "90",
            "unit_type": "residential",
            "handover_date": "2020-06-01",
            "status": "occupied",
        },
        **DIALOG,
    )
    assert response["HX-Redirect"] == UNIT_URL
    assert Unit.objects.get(pk=unit.pk).area_m2 == Decimal("90.00")


# --- 编辑资料 ------------------------------------------------------------------------------


def test_editing_an_occupant_prefills_full_numbers_and_logs_the_view(
    signed_in, manager, unit, owner
):
    occupancy = owner.occupancies.get()
    response = signed_in(manager).get(f"{UNIT_URL}occupants/{occupancy.pk}/edit/")
    assert response.status_code == 200
    assert "10012345678" in response.text
    assert "本次查看已记入操作日志" in response.text
    (entry,) = _audit(AuditAction.REVEAL, "estates.party")
    assert (entry.actor, entry.object_id, entry.estate_id) == (
        manager,
        str(owner.pk),
        unit.estate_id,
    )
    assert entry.note == "查看：手机"


def test_customer_service_edits_an_occupant(signed_in, customer_service, unit, owner):
    occupancy = owner.occupancies.get()
    response = signed_in(customer_service).post(
        f"{UNIT_URL}occupants/{occupancy.pk}/edit/",
        {
            "name": "王建国",
            "phones": "138 0013 8000\n10012345678",
            "email": "wjg@example.com",
            "id_number": "11010519491231002x",
        },
        follow=True,
    )
    assert response.redirect_chain == [(UNIT_URL, 302)]
    assert _messages(response) == ["已保存 王建国 的资料。"]
    owner.refresh_from_db()
    assert list(owner.phones.values_list("number", flat=True)) == ["13800138000", "10012345678"]
    assert (owner.email, owner.id_number) == ("wjg@example.com", "11010519491231002X")
    (entry,) = _audit(AuditAction.UPDATE, "estates.party")
    assert entry.actor == customer_service
    assert entry.estate_id == unit.estate_id
    assert entry.before["phones"] == ["10012345678"]
    assert entry.after["phones"] == ["13800138000", "10012345678"]


def test_occupant_edit_shows_a_bad_phone_in_chinese(signed_in, manager, unit, owner):
    occupancy = owner.occupancies.get()
    response = signed_in(manager).post(
        f"{UNIT_URL}occupants/{occupancy.pk}/edit/",
        {"name": "王建国二", "phones": "1380013800", "email": "", "id_number": ""},
    )
    assert response.status_code == 200
    assert "手机号格式不正确：1380013800" in response.text
    owner.refresh_from_db()
    assert owner.name == "王建国"
    assert list(owner.phones.values_list("number", flat=True)) == ["10012345678"]
    assert not _audit(AuditAction.UPDATE, "estates.party")


def test_a_role_without_reveal_never_gets_full_numbers_in_the_form(
    signed_in, make_user, estate, unit, owner, monkeypatch
):
    """No such role exists today: give finance 管理业主 without 查看完整信息 to prove it."""
    monkeypatch.setitem(
        ROLE_CAPABILITIES,
        Role.FINANCE,
        ROLE_CAPABILITIES[Role.FINANCE] | {Capability.MANAGE_PARTIES},
    )
    owner.id_number = "110101199003071234"
    owner.save()
    occupancy = owner.occupancies.get()
    client = signed_in(make_user(Role.FINANCE, estates=[estate]))
    form = client.get(f"{UNIT_URL}occupants/{occupancy.pk}/edit/").text
    assert "10012345678" not in form and "110101199003071234" not in form
    assert "当前：100****5678；留空则不修改。" in form
    assert "当前：110***********1234；留空则不修改。" in form
    assert not _audit(AuditAction.REVEAL, "estates.party")
    # Empty boxes keep what is on file; a typed number replaces it.
    response = client.post(
        f"{UNIT_URL}occupants/{occupancy.pk}/edit/",
        {"name": "王建国", "phones": "", "email": "new@example.com", "id_number": ""},
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert list(owner.phones.values_list("number", flat=True)) == ["10012345678"]
    assert (owner.email, owner.id_number) == ("new@example.com", "110101199003071234")


def test_party_edit_form_without_reveal_changes_only_what_was_typed(owner):
    form = PartyEditForm(
        {"name": "王建国", "phones": "", "email": "", "id_number": ""}, party=owner, revealed=False
    )
    assert form.is_valid()
    assert form.changes() == {"name": "王建国"}
    assert form.prefilled == []
    assert form.initial == {"name": "王建国"}


# --- 添加住户 ------------------------------------------------------------------------------


def test_adding_a_new_tenant_who_pays(signed_in, customer_service, unit, owner):
    response = signed_in(customer_service).post(
        f"{UNIT_URL}occupants/add/",
        {
            "party": "",
            "new-name": "李娜",
            "new-phones": "138 0013 8000",
            "role": "tenant",
            "since": "2026-03-01",
            "is_payer": "on",
        },
        follow=True,
    )
    assert response.redirect_chain == [(UNIT_URL, 302)]
    assert _messages(response) == ["已添加 李娜（租户）。"]
    party = Party.objects.get(name="李娜")
    assert party.company_id == unit.estate.company_id
    assert list(party.phones.values_list("number", flat=True)) == ["13800138000"]
    occupancy = Occupancy.objects.get(party=party)
    assert (occupancy.unit, occupancy.role, occupancy.since, occupancy.is_payer) == (
        unit,
        "tenant",
        dt.date(2026, 3, 1),
        True,
    )
    assert Occupancy.objects.get(party=owner).is_payer is False
    (created,) = _audit(AuditAction.CREATE, "estates.party")
    assert (created.actor, created.estate_id) == (customer_service, unit.estate_id)
    assert created.after["phones"] == ["13800138000"]
    assert _audit(AuditAction.CREATE, "estates.occupancy")[0].object_id == str(occupancy.pk)


def test_adding_an_existing_party_as_co_owner(signed_in, manager, unit, owner, company):
    spouse = PartyFactory(company=company, name="刘芳")
    response = signed_in(manager).post(
        f"{UNIT_URL}occupants/add/",
        {"party": str(spouse.pk), "role": "co_owner", "since": "2020-06-01"},
    )
    assert response.status_code == 302
    occupancy = Occupancy.objects.get(party=spouse)
    assert (occupancy.role, occupancy.is_payer) == ("co_owner", False)
    assert Party.objects.count() == 2  # nobody new


def test_adding_an_occupant_shows_refusals_and_writes_nothing(signed_in, manager, unit, owner):
    client = signed_in(manager)
    url = f"{UNIT_URL}occupants/add/"
    bad_phone = client.post(
        url,
        {"new-name": "李娜", "new-phones": "1380013800", "role": "tenant", "since": "2026-03-01"},
    )
    assert "手机号格式不正确：1380013800" in bad_phone.text
    nobody = client.post(url, {"role": "tenant", "since": "2026-03-01"})
    assert "请选择已有业主住户，或填写新建人员的姓名。" in nobody.text
    both = client.post(
        url,
        {"party": str(owner.pk), "new-name": "李娜", "role": "tenant", "since": "2026-03-01"},
    )
    assert "二者只选其一" in both.text
    again = client.post(url, {"party": str(owner.pk), "role": "owner", "since": "2026-03-01"})
    assert "王建国 已是 DEMO-3-1502 的业主" in again.text
    assert Party.objects.count() == 1
    assert Occupancy.objects.count() == 1
    assert not AuditEntry.objects.exists()


def test_a_party_of_another_estate_cannot_be_picked(signed_in, manager, unit, other_unit):
    stranger = OccupancyFactory(unit=other_unit, party__name="孙西").party
    client = signed_in(manager)
    options = client.post(
        f"{UNIT_URL}occupants/add/", {"q": "孙西", "action": "search"}, **OPTIONS
    ).text
    assert f'value="{stranger.pk}"' not in options
    assert "没有找到“孙西”" in options
    response = client.post(
        f"{UNIT_URL}occupants/add/",
        {"party": str(stranger.pk), "role": "tenant", "since": "2026-03-01"},
    )
    assert response.status_code == 200
    assert not Occupancy.objects.filter(unit=unit).exists()


def test_party_search_offers_linkable_parties_with_masked_phones(
    signed_in, manager, unit, owner, company
):
    newcomer = PartyFactory(company=company, name="王小明")  # not linked to any unit yet
    PartyPhoneFactory(party=newcomer, number="10099990000")
    response = signed_in(manager).post(
        f"{UNIT_URL}occupants/add/", {"q": "王", "action": "search"}, **OPTIONS
    )
    assert "<html" not in response.text
    assert "王建国" in response.text and "王小明" in response.text
    assert "100****5678" in response.text and "10012345678" not in response.text
    assert "DEMO-3-1502 业主" in response.text
    assert 'type="radio"' in response.text
    assert not AuditEntry.objects.exists()


def test_search_without_javascript_refreshes_the_form_without_errors(
    signed_in, manager, unit, owner
):
    response = signed_in(manager).post(
        f"{UNIT_URL}occupants/add/", {"q": "王建国", "action": "search", "role": "tenant"}
    )
    assert response.status_code == 200
    assert "<html" in response.text
    assert f'value="{owner.pk}"' in response.text
    assert "invalid-feedback" not in response.text and "alert-danger" not in response.text
    assert Occupancy.objects.count() == 1


# --- 退租/迁出 ------------------------------------------------------------------------------


def test_ending_an_occupancy_asks_first_and_writes_on_confirm(signed_in, manager, unit, owner):
    occupancy = owner.occupancies.get()
    url = f"{UNIT_URL}occupants/{occupancy.pk}/end/"
    client = signed_in(manager)
    assert 'name="until"' in client.get(url).text
    confirm = client.post(url, {"until": "2026-02-28"})
    assert confirm.status_code == 200
    assert (
        "王建国（业主）与 DEMO-3-1502 的关系将于 2026-02-28 结束；"
        "此后该房屋没有缴费人，请另行设置缴费人。"
    ) in confirm.text
    assert 'name="confirm" value="1"' in confirm.text
    assert '<input type="hidden" name="until" value="2026-02-28">' in confirm.text
    occupancy.refresh_from_db()
    assert occupancy.until is None
    assert not AuditEntry.objects.exists()

    back = client.post(url, {"until": "2026-02-28", "action": "edit"})
    assert 'value="2026-02-28"' in back.text and "确认结束" not in back.text
    assert Occupancy.objects.get(pk=occupancy.pk).until is None

    done = client.post(url, {"until": "2026-02-28", "confirm": "1"}, follow=True)
    assert done.redirect_chain == [(UNIT_URL, 302)]
    assert _messages(done) == ["王建国（业主）的住户关系已结束，结束日期 2026-02-28。"]
    occupancy.refresh_from_db()
    assert occupancy.until == dt.date(2026, 2, 28)
    (entry,) = _audit(AuditAction.UPDATE, "estates.occupancy")
    assert (entry.actor, entry.after) == (manager, {"until": "2026-02-28"})
    assert "暂无当前业主或住户" in done.text


def test_ending_before_the_start_is_refused_before_the_confirmation(
    signed_in, manager, unit, owner
):
    occupancy = owner.occupancies.get()
    url = f"{UNIT_URL}occupants/{occupancy.pk}/end/"
    client = signed_in(manager)
    response = client.post(url, {"until": "2020-05-31"})
    assert "结束日期不能早于起始日期" in response.text
    assert "确认结束" not in response.text
    # A tampered confirmation is checked again and refused the same way.
    response = client.post(url, {"until": "2020-05-31", "confirm": "1"})
    assert "结束日期不能早于起始日期" in response.text
    assert Occupancy.objects.get(pk=occupancy.pk).until is None
    assert not AuditEntry.objects.exists()


def test_a_past_occupancy_cannot_be_ended_again(signed_in, manager, unit, tenant):
    occupancy = tenant.occupancies.get()
    response = signed_in(manager).post(
        f"{UNIT_URL}occupants/{occupancy.pk}/end/", {"until": "2026-02-28", "confirm": "1"}
    )
    assert response.status_code == 404


def test_ending_as_an_htmx_dialog(signed_in, manager, unit, owner):
    occupancy = owner.occupancies.get()
    url = f"{UNIT_URL}occupants/{occupancy.pk}/end/"
    client = signed_in(manager)
    confirm = client.post(url, {"until": "2026-02-28"}, **DIALOG)
    assert "<html" not in confirm.text and "确认结束" in confirm.text
    done = client.post(url, {"until": "2026-02-28", "confirm": "1"}, **DIALOG)
    assert done["HX-Redirect"] == UNIT_URL


# --- 产权变更 ------------------------------------------------------------------------------


def test_transfer_confirmation_states_what_will_happen_and_writes_nothing(
    signed_in, customer_service, unit, owner
):
    data = _transfer_data(**{"new0-name": "李娜", "new0-phones": "13800138000"})
    response = signed_in(customer_service).post(f"{UNIT_URL}transfer/", data)
    assert response.status_code == 200
    assert "确认产权变更" in response.text
    assert TRANSFER_STATEMENT + "。" in response.text
    assert "李娜 · 13800138000" in response.text  # the record to be created, as typed
    assert '<input type="hidden" name="new0-name" value="李娜">' in response.text
    assert not Party.objects.filter(name="李娜").exists()
    assert Occupancy.objects.get(party=owner).until is None
    assert not AuditEntry.objects.exists()


def test_transfer_on_confirm_changes_owner_and_keeps_history(
    signed_in, customer_service, unit, owner
):
    client = signed_in(customer_service)
    data = _transfer_data(
        **{"new0-name": "李娜", "new0-phones": "13800138000", "note": "买卖过户", "confirm": "1"}
    )
    response = client.post(f"{UNIT_URL}transfer/", data, follow=True)
    assert response.redirect_chain == [(UNIT_URL, 302)]
    assert _messages(response) == ["产权变更已完成：新业主 李娜 自 2026-03-01 起为业主。"]
    old = Occupancy.objects.get(party=owner)
    assert (old.until, old.is_payer) == (dt.date(2026, 2, 28), True)
    buyer = Party.objects.get(name="李娜")
    assert list(buyer.phones.values_list("number", flat=True)) == ["13800138000"]
    new = Occupancy.objects.get(party=buyer)
    assert (new.role, new.since, new.until, new.is_payer) == (
        "owner",
        dt.date(2026, 3, 1),
        None,
        True,
    )
    (entry,) = _audit(AuditAction.TRANSFER, "estates.unit")
    assert (entry.actor, entry.note, entry.estate_id) == (
        customer_service,
        "买卖过户",
        unit.estate_id,
    )
    assert entry.before["owners"] == [
        {"party": owner.pk, "name": "王建国", "role": "owner", "is_payer": True}
    ]
    assert entry.after["owners"] == [
        {"party": buyer.pk, "name": "李娜", "role": "owner", "is_payer": True}
    ]
    # The unit page: the new owner is current and pays, the old one is history.
    page = response.text
    current, past = page.split("过往业主住户", 1)
    assert "李娜" in current and "王建国" not in current.split('id="occupants"', 1)[1]
    assert "王建国" in past and "2020-06-01 — 2026-02-28" in past
    assert "产权人：王建国（业主，缴费人） → 李娜（业主，缴费人）" in page
    assert "变更日期：2026-03-01" in page


def test_transfer_to_a_picked_party_and_a_new_one_with_a_chosen_payer(
    signed_in, manager, unit, owner, company
):
    spouse = PartyFactory(company=company, name="刘芳")
    data = _transfer_data(
        owners=[str(spouse.pk)], payer="new0", **{"new0-name": "李娜", "new0-phones": ""}
    )
    client = signed_in(manager)
    confirm = client.post(f"{UNIT_URL}transfer/", data)
    assert (
        "原业主 王建国 的产权关系将于 2026-02-28 结束；新业主 刘芳 自 2026-03-01 起为业主；"
        "新业主 李娜 自 2026-03-01 起为业主并为缴费人。"
    ) in confirm.text
    assert client.post(f"{UNIT_URL}transfer/", {**data, "confirm": "1"}).status_code == 302
    current = Occupancy.objects.filter(unit=unit, until__isnull=True).order_by("pk")
    assert [(o.party.name, o.role, o.is_payer) for o in current] == [
        ("刘芳", "owner", False),
        ("李娜", "owner", True),
    ]


def test_transfer_keeps_a_paying_tenant_and_says_so(signed_in, manager, unit, owner, paying_tenant):
    data = _transfer_data(**{"new0-name": "李娜"})
    client = signed_in(manager)
    confirm = client.post(f"{UNIT_URL}transfer/", data).text
    assert (
        "原业主 王建国 的产权关系将于 2026-02-28 结束；新业主 李娜 自 2026-03-01 起为业主；"
        "租户 赵六 仍为缴费人。"
    ) in confirm
    client.post(f"{UNIT_URL}transfer/", {**data, "confirm": "1"})
    payer = Occupancy.objects.get(unit=unit, is_payer=True, until__isnull=True)
    assert payer.party == paying_tenant


def test_transfer_date_before_the_current_owner_is_refused(signed_in, manager, unit, owner):
    client = signed_in(manager)
    data = _transfer_data(on="2020-05-01", **{"new0-name": "李娜"})
    for extra in ({}, {"confirm": "1"}):
        response = client.post(f"{UNIT_URL}transfer/", {**data, **extra})
        assert response.status_code == 200
        assert "变更日期 2020-05-01 不能早于或等于现有产权的起始日期 2020-06-01" in response.text
        assert "确认变更" not in response.text
    assert not Party.objects.filter(name="李娜").exists()
    assert Occupancy.objects.get(party=owner).until is None
    assert not AuditEntry.objects.exists()


def test_transfer_refusals_in_chinese(signed_in, manager, unit, owner):
    client = signed_in(manager)
    nobody = client.post(f"{UNIT_URL}transfer/", _transfer_data())
    assert "请至少指定一位新业主" in nobody.text
    bad_phone = client.post(
        f"{UNIT_URL}transfer/", _transfer_data(**{"new0-name": "李娜", "new0-phones": "1380013800"})
    )
    assert "手机号格式不正确：1380013800" in bad_phone.text
    stray_payer = client.post(
        f"{UNIT_URL}transfer/", _transfer_data(payer="new1", **{"new0-name": "李娜"})
    )
    assert "缴费人必须是新业主之一。" in stray_payer.text
    no_name = client.post(f"{UNIT_URL}transfer/", _transfer_data(**{"new0-phones": "13800138000"}))
    assert "请填写姓名。" in no_name.text
    assert Occupancy.objects.count() == 1
    assert not AuditEntry.objects.exists()


def test_transfer_as_an_htmx_dialog(signed_in, manager, unit, owner):
    client = signed_in(manager)
    dialog = client.get(f"{UNIT_URL}transfer/", **DIALOG).text
    assert "<html" not in dialog
    assert "当前产权人" in dialog and "王建国（业主，自 2020-06-01）" in dialog
    data = _transfer_data(**{"new0-name": "李娜"})
    confirm = client.post(f"{UNIT_URL}transfer/", data, **DIALOG).text
    assert "<html" not in confirm and TRANSFER_STATEMENT in confirm
    done = client.post(f"{UNIT_URL}transfer/", {**data, "confirm": "1"}, **DIALOG)
    assert done["HX-Redirect"] == UNIT_URL
    assert Occupancy.objects.get(party__name="李娜").since == dt.date(2026, 3, 1)


def test_transfer_page_in_english(signed_in, manager, unit, owner):
    client = signed_in(manager)
    client.cookies["django_language"] = "en"
    data = _transfer_data(**{"new0-name": "李娜"})
    page = client.post(f"{UNIT_URL}transfer/", data).text
    assert "Confirm ownership transfer" in page
    assert (
        "The title of 王建国 (former Owner) ends on 2026-02-28; "
        "new owner 李娜 is the owner and the payer from 2026-03-01."
    ) in page
