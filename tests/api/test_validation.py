"""Refused writes answer 400 with the rule's Chinese message and change nothing."""

from __future__ import annotations

import pytest

from propfee.core.models import AuditEntry
from propfee.estates.models import Estate, Occupancy, Party, Unit
from tests.factories import CompanyFactory, PartyFactory, UserFactory

UNIT = "/api/v1/units/DEMO-3-1502/"


@pytest.mark.parametrize(
    ("method", "url", "body", "detail"),
    [
        (
            "post",
            "/api/v1/estates/",
            {"code": "demo x", "name": "小写"},
            "项目编码只能包含大写字母、数字和下划线：DEMO X",
        ),
        ("post", "/api/v1/estates/", {"code": "DEMO", "name": "重复"}, "项目编码已存在：DEMO"),
        ("post", "/api/v1/buildings/", {"estate": "DEMO", "code": "3"}, "楼栋已存在：DEMO-3"),
        ("post", "/api/v1/buildings/", {"estate": "NOPE", "code": "1"}, "项目不存在：NOPE"),
        (
            "post",
            "/api/v1/units/",
            {"estate": "DEMO", "building": "3", "room": "1601", "area_m2": "0"},
            "建筑面积必须大于0：0.00",
        ),
        (
            "post",
            "/api/v1/units/",
            {"estate": "DEMO", "building": "99", "room": "1601", "area_m2": "50"},
            "楼栋不存在：DEMO-99",
        ),
        (
            "post",
            "/api/v1/units/",
            {"estate": "DEMO", "building": "3", "room": "1502", "area_m2": "50"},
            "房屋已存在：DEMO-3-1502",
        ),
        ("patch", UNIT, {"area_m2": "-1.00"}, "建筑面积必须大于0：-1.00"),
        (
            "post",
            "/api/v1/parties/",
            {"name": "赵六", "phones": ["12345"]},
            "手机号格式不正确：12345",
        ),
        (
            "post",
            "/api/v1/parties/",
            {"name": "赵六", "id_number": "110105194912310021"},
            "身份证号校验位不正确：110105194912310021",
        ),
        (
            "post",
            f"{UNIT}transfer/",
            {"new_owners": [], "on": "2026-03-01"},
            "请至少指定一位新业主",
        ),
        (
            "post",
            f"{UNIT}transfer/",
            {"new_owners": ["{buyer}"], "on": "2020-06-01"},
            "变更日期 2020-06-01 不能早于或等于现有产权的起始日期 2020-06-01",
        ),
        (
            "post",
            f"{UNIT}transfer/",
            {"new_owners": ["{buyer}"], "payer": "{owner}", "on": "2026-03-01"},
            "缴费人必须是新业主之一",
        ),
        (
            "post",
            f"{UNIT}transfer/",
            {"new_owners": [999999], "on": "2026-03-01"},
            "业主/住户不存在：999999",
        ),
        (
            "post",
            "/api/v1/occupancies/",
            {"unit": "DEMO-3-1502", "party": "{owner}", "role": "owner", "since": "2026-01-01"},
            "王建国 已是 DEMO-3-1502 的业主",
        ),
        (
            "post",
            "/api/v1/occupancies/",
            {"unit": "NOPE-1-1", "party": "{owner}", "role": "tenant", "since": "2026-01-01"},
            "房屋不存在：NOPE-1-1",
        ),
    ],
)
def test_domain_rule_refusal_is_400_with_message(
    world, admin_user, client_for, method, url, body, detail
):
    ids = {"{buyer}": world.buyer.pk, "{owner}": world.owner.pk}

    def fill(value):
        if isinstance(value, list):
            return [fill(v) for v in value]
        return ids.get(value, value) if isinstance(value, str) else value

    counts = (Estate.objects.count(), Unit.objects.count(), Party.objects.count())
    occupancies = Occupancy.objects.count()
    response = getattr(client_for(admin_user), method)(
        url, {k: fill(v) for k, v in body.items()}, format="json"
    )

    assert response.status_code == 400, response.content.decode()
    assert response.json() == {"detail": detail}
    assert (Estate.objects.count(), Unit.objects.count(), Party.objects.count()) == counts
    assert Occupancy.objects.count() == occupancies
    assert AuditEntry.objects.count() == 0


def test_field_errors_are_400_in_chinese(world, admin_user, client_for):
    client = client_for(admin_user)
    response = client.post("/api/v1/units/", {"estate": "DEMO", "building": "3"}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert errors["room"] == ["该字段是必填项。"]
    assert errors["area_m2"] == ["该字段是必填项。"]

    response = client.patch(UNIT, {"status": "sold", "area_m2": "abc"}, format="json")
    assert response.status_code == 400
    assert "sold" in response.json()["status"][0]
    assert "合法" in response.json()["status"][0]
    assert response.json()["area_m2"] == ["请填写合法的数字。"]

    response = client.post(
        "/api/v1/parties/", {"name": "赵六", "email": "not-an-email"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["email"]
    assert AuditEntry.objects.count() == 0


def test_bad_filter_value_is_400(world, admin_user, client_for):
    response = client_for(admin_user).get("/api/v1/units/", {"status": "sold"})
    assert response.status_code == 400
    assert "status" in response.json()


def test_parties_of_another_company_cannot_be_linked(world, client_for):
    """A superuser sees every company, but a party is only ever linked to its own company's
    units."""
    rival_party = PartyFactory(company=CompanyFactory(code="RIVAL"), name="外司业主")
    root = UserFactory(company=None, is_superuser=True, username="root")
    client = client_for(root)
    transfer = {"new_owners": [rival_party.pk], "on": "2026-03-01"}
    response = client.post(f"{UNIT}transfer/", transfer, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "外司业主 与房屋 DEMO-3-1502 不属于同一物业公司"}
    body = {"unit": "DEMO-3-1502", "party": rival_party.pk, "role": "tenant", "since": "2026-01-01"}
    response = client.post("/api/v1/occupancies/", body, format="json")
    assert response.status_code == 400
    assert not Occupancy.objects.filter(party=rival_party).exists()
    assert AuditEntry.objects.count() == 0
