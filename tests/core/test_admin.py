"""The Django admin never bypasses the services: personal data and money models are read-only
there and show phones, ID numbers and e-mail addresses masked; set-up models it may change
write propfee's own audit row for every change."""

from __future__ import annotations

import pytest

from propfee.core.models import AuditAction, AuditEntry
from propfee.estates.models import Party, Unit
from propfee.estates.services import party_create
from propfee.messaging.constants import Channel
from propfee.messaging.models import Message
from tests.factories import UserFactory

PHONE = "10012345678"
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def root(client, company):
    user = UserFactory(company=company, username="root", is_superuser=True, is_staff=True)
    client.force_login(user)
    return user


@pytest.fixture
def person(company, unit):
    return party_create(
        company=company,
        name="王建国",
        phones=[PHONE],
        email="wang.jianguo@example.cn",
        id_number=ID_NUMBER,
        actor=None,
    )


def test_party_changelist_and_change_page_show_masked_personal_data(client, root, person):
    listing = client.get("/admin/estates/party/").content.decode()
    assert "100****5678" in listing
    assert "110**************002X"[:3] in listing and "002X" in listing
    page = client.get(f"/admin/estates/party/{person.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "100****5678" in text
    assert "w***@example.cn" in text
    for raw in (PHONE, ID_NUMBER, "wang.jianguo@"):
        assert raw not in listing
        assert raw not in text


def test_party_admin_refuses_changes(client, root, person):
    response = client.post(
        f"/admin/estates/party/{person.pk}/change/",
        {"company": person.company_id, "name": "李四", "email": "", "id_number": ""},
    )
    assert response.status_code == 403
    assert client.post("/admin/estates/party/add/", {"name": "李四"}).status_code == 403
    response = client.post(f"/admin/estates/party/{person.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.name == "王建国"
    assert Party.objects.count() == 1


def test_outbox_and_audit_log_in_the_admin_are_masked(client, root, person, unit, company):
    message = Message.objects.create(
        company=company,
        unit=unit,
        party=person,
        recipient=PHONE,
        channel=Channel.SMS,
        body="您好",
        key="admin-test",
    )
    for url in (
        "/admin/messaging/message/",
        f"/admin/messaging/message/{message.pk}/change/",
    ):
        text = client.get(url).content.decode()
        assert "100****5678" in text
        assert PHONE not in text
    entry = AuditEntry.objects.get(object_type="estates.party", action=AuditAction.CREATE)
    text = client.get(f"/admin/core/auditentry/{entry.pk}/change/").content.decode()
    assert "100****5678" in text
    assert PHONE not in text and ID_NUMBER not in text


def test_an_admin_change_writes_an_audit_row(client, root, unit):
    response = client.post(
        f"/admin/estates/unit/{unit.pk}/change/",
        {
            "estate": unit.estate_id,
            "building": unit.building_id,
            "entrance": "",
            "room": unit.room,
            "code": unit.code,
            "floor": unit.floor,
            "area_m2": "120.00",
            "unit_type": unit.unit_type,
            "handover_date": unit.handover_date.isoformat(),
            "status": unit.status,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Unit.objects.get(pk=unit.pk).area_m2 == 120
    entry = AuditEntry.objects.get(object_type="estates.unit", object_id=str(unit.pk))
    assert entry.action == AuditAction.UPDATE
    assert entry.actor == root
    assert entry.estate_id == unit.estate_id
    assert entry.before == {"area_m2": "89.50"}
    assert entry.after == {"area_m2": "120.00"}
    assert entry.note == "系统管理后台"


def test_an_admin_delete_writes_an_audit_row(client, root, company):
    from propfee.billing.models import FeeItem

    item = FeeItem.objects.create(company=company, code="TCF", name="停车费")
    response = client.post(f"/admin/billing/feeitem/{item.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(object_type="billing.feeitem", object_id=str(item.pk))
    assert entry.action == AuditAction.DELETE
    assert entry.before["name"] == "停车费"
    assert entry.actor == root


def test_audit_rows_of_messages_show_the_recipient_masked(client, root):
    entry = AuditEntry.objects.create(
        action=AuditAction.CREATE,
        object_type="messaging.message",
        object_id="1",
        after={"channel": "sms", "recipient": PHONE, "status": "queued"},
    )
    text = client.get(f"/admin/core/auditentry/{entry.pk}/change/").content.decode()
    assert "100****5678" in text
    assert PHONE not in text
