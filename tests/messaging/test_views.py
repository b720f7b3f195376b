"""The 消息 pages: outbox list (filters, search, pagination, export, scope), a message's exact
text and cancelling it, the template editor's live preview on a real unit with the
compliance result, approval, and who may open what."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from propfee.core.roles import Role, ScopeTooNarrow
from propfee.messaging.constants import Channel, MessageStatus, TemplateStatus
from propfee.messaging.models import Message, MessageTemplate
from propfee.messaging.services import (
    message_queue,
    messages_send_due,
    template_approve,
    template_update,
)
from tests.messaging.conftest import FRIDAY_10

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def outbox(unit, payer, owing, sms_template, backends):
    """Two messages of the unit: one sent, one held for tomorrow (after the daily cap)."""
    for key in ("a", "b", "c"):
        message_queue(
            unit=unit,
            channel=Channel.SMS,
            template=sms_template,
            key=key,
            actor=None,
            now=FRIDAY_10,
        )
    messages_send_due(now=FRIDAY_10)
    return list(Message.objects.order_by("pk"))


def test_the_outbox_lists_messages_with_masked_recipients(signed_in, manager, outbox):
    page = signed_in(manager).get("/messaging/").text
    assert 'data-total="3"' in page
    assert "100****5678" in page and "10012345678" not in page
    assert "DEMO-3-1502" in page and "王建国" in page
    assert 'data-nav="messages"' in page


def test_the_outbox_filters_by_status_channel_estate_date_and_unit(
    signed_in, manager, outbox, estate, other_estate
):
    client = signed_in(manager)
    assert 'data-total="1"' in client.get("/messaging/", {"status": "held"}).text
    assert 'data-total="2"' in client.get("/messaging/", {"status": "sent"}).text
    assert 'data-total="0"' in client.get("/messaging/", {"channel": "email"}).text
    assert 'data-total="3"' in client.get("/messaging/", {"estate": estate.pk}).text
    assert 'data-total="3"' in client.get("/messaging/", {"q": "demo-3"}).text
    assert 'data-total="0"' in client.get("/messaging/", {"q": "WEST"}).text
    dated = {"queued_from": "2026-03-20", "queued_to": "2026-03-20"}
    assert 'data-total="3"' in client.get("/messaging/", dated).text
    assert 'data-total="0"' in client.get("/messaging/", {"queued_from": "2026-03-21"}).text
    # htmx asks for the results only.
    fragment = client.get(
        "/messaging/",
        {"status": "held"},
        headers={"HX-Request": "true", "HX-Target": "list-results"},
    ).text
    assert "<html" not in fragment and 'data-total="1"' in fragment


def test_the_outbox_paginates(signed_in, manager, outbox, settings):
    settings.PROPFEE_PAGE_SIZE = 2
    page = signed_in(manager).get("/messaging/", {"page": 2}).text
    assert "第 2 / 2 页" in page


def test_the_outbox_exports_to_excel_with_masked_recipients(signed_in, manager, outbox):
    response = signed_in(manager).get("/messaging/", {"status": "sent", "export": "xlsx"})
    assert response["X-Export-Rows"] == "2"
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    first = dict(zip(header, rows[1], strict=False))
    assert first["房屋编码"] == "DEMO-3-1502"
    assert first["接收人"] == "100****5678"
    assert first["状态"] == "已发送"
    assert "203.40" in first["正文"]


def test_staff_see_only_their_estates_messages(signed_in, make_user, other_estate, outbox):
    outsider = make_user(Role.COLLECTOR, username="west1", estates=[other_estate])
    page = signed_in(outsider).get("/messaging/").text
    assert 'data-total="0"' in page
    assert signed_in(outsider).get(f"/messaging/{outbox[0].pk}/").status_code == 404


def test_the_committee_may_not_open_the_outbox(signed_in, make_user, outbox):
    committee = make_user(Role.COMMITTEE, username="committee1")
    assert signed_in(committee).get("/messaging/").status_code == 403


def test_a_message_shows_its_exact_text_and_a_held_one_can_be_cancelled(signed_in, manager, outbox):
    held = Message.objects.get(status=MessageStatus.HELD)
    client = signed_in(manager)
    page = client.get(f"/messaging/{held.pk}/").text
    assert held.body in page and "确认取消" in page
    # Without a reason nothing happens.
    client.post(f"/messaging/{held.pk}/cancel/", {"reason": ""})
    assert Message.objects.get(pk=held.pk).status == MessageStatus.HELD
    client.post(f"/messaging/{held.pk}/cancel/", {"reason": "业主已到前台缴费"})
    held.refresh_from_db()
    assert held.status == MessageStatus.CANCELLED and "业主已到前台缴费" in held.error


def test_the_editor_previews_on_a_real_unit_with_the_compliance_result(
    signed_in, manager, unit, payer, owing
):
    client = signed_in(manager)
    form = {
        "channel": "sms",
        "stage": "reminder",
        "audience": "payer",
        "subject": "",
        "body": "尊敬的{name}：您尚欠{amount}元，逾期将停 水。",
        "preview_unit": unit.code.lower(),
    }
    fragment = client.post(
        "/messaging/templates/preview/", form, headers={"HX-Request": "true"}
    ).text
    assert "尊敬的王建国：您尚欠" in fragment
    assert 'data-code="utility_threat"' in fragment and "第九百四十四条" in fragment
    form["body"] = "尊敬的{name}：您尚欠{amount}元，请及时缴纳。"
    fragment = client.post("/messaging/templates/preview/", form).text
    assert 'data-code="' not in fragment and "未发现问题" in fragment
    form["preview_unit"] = "NOPE-1"
    assert "找不到房屋 NOPE-1" in client.post("/messaging/templates/preview/", form).text


def test_a_manager_creates_edits_and_approves_a_template(signed_in, manager):
    client = signed_in(manager)
    response = client.post(
        "/messaging/templates/new/",
        {
            "name": "温馨提醒",
            "channel": "sms",
            "stage": "reminder",
            "language": "zh-hans",
            "audience": "payer",
            "subject": "",
            "body": "尊敬的{name}：您的房屋{unit}尚有{amount}元物业费未缴纳。促销优惠！",
        },
        follow=True,
    )
    template = MessageTemplate.objects.get()
    assert response.redirect_chain[-1][0] == f"/messaging/templates/{template.pk}/"
    assert template.status == TemplateStatus.DRAFT
    assert 'data-code="marketing"' in response.text
    # Approval is refused while the marketing words are there.
    response = client.post(f"/messaging/templates/{template.pk}/approve/", follow=True)
    assert "不能审批" in response.text
    assert MessageTemplate.objects.get().status == TemplateStatus.DRAFT
    client.post(
        f"/messaging/templates/{template.pk}/",
        {"name": "温馨提醒", "body": "尊敬的{name}：您的房屋{unit}尚有{amount}元物业费未缴纳。"},
    )
    client.post(f"/messaging/templates/{template.pk}/approve/")
    template.refresh_from_db()
    assert (template.status, template.approved_by) == (TemplateStatus.APPROVED, manager)
    assert "温馨提醒" in client.get("/messaging/templates/").text


def test_the_default_templates_can_be_added_from_the_list(signed_in, manager):
    response = signed_in(manager).post("/messaging/templates/defaults/", follow=True)
    assert MessageTemplate.objects.count() >= 16
    assert "请逐一检查后审批" in response.text


def test_collectors_see_the_outbox_but_not_the_templates(signed_in, collector, outbox):
    client = signed_in(collector)
    page = client.get("/messaging/").text
    assert 'data-total="3"' in page and "消息模板" not in page
    assert client.get("/messaging/templates/").status_code == 403
    assert client.post("/messaging/templates/preview/", {"body": "x"}).status_code == 403


def test_the_outbox_page_costs_the_same_queries_however_many_rows(
    signed_in, manager, unit, payer, owing, sms_template, backends, django_assert_max_num_queries
):
    for i in range(30):
        message_queue(
            unit=unit,
            channel=Channel.SMS,
            template=sms_template,
            key=f"many-{i}",
            actor=None,
            now=FRIDAY_10,
        )
    client = signed_in(manager)
    client.get("/messaging/")  # warm the session and the scope
    # The page's fixed reads and the known-cost aggregate (one query); none grows with rows.
    with django_assert_max_num_queries(7):
        page = client.get("/messaging/").text
    assert 'data-total="30"' in page


def test_the_outbox_shows_the_known_cost_of_the_filtered_messages(signed_in, manager, outbox):
    # The double reports 0.04 元 a message; a provider that reports nothing leaves it NULL.
    Message.objects.filter(pk=outbox[1].pk).update(cost_fen=None)
    client = signed_in(manager)
    page = client.get("/messaging/").text
    assert 'data-cost-total="4"' in page and "已知发送费用合计 ¥0.04" in page
    assert "另有 1 条已发送消息服务商未报费用，未计入" in page
    held = client.get("/messaging/", {"status": "held"}).text
    assert 'data-cost-total="0"' in held and "未计入" not in held


def test_the_outbox_export_carries_each_cost_and_the_known_total(signed_in, manager, outbox):
    Message.objects.filter(pk=outbox[1].pk).update(cost_fen=None)
    response = signed_in(manager).get("/messaging/", {"status": "sent", "export": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    costs = {row[0]: row[rows[0].index("费用(元)")] for row in rows[1:]}
    assert costs == {outbox[0].pk: 0.04, outbox[1].pk: None}
    about = dict(book["导出说明"].iter_rows(values_only=True))
    assert about["已知费用合计(元)"] == "0.04（另有 1 条已发送消息服务商未报费用，未计入）"


def test_templates_are_changed_only_by_someone_covering_every_estate(
    signed_in, manager, admin_user, other_estate, sms_template
):
    url = f"/messaging/templates/{sms_template.pk}/"
    data = {"name": "改写", "subject": "", "body": sms_template.body + "谢谢。"}
    refused = signed_in(manager).post(url, data)
    assert refused.status_code == 403 and "涉及您负责范围以外的项目" in refused.text
    sms_template.refresh_from_db()
    assert sms_template.name != "改写" and sms_template.is_approved
    with pytest.raises(ScopeTooNarrow):
        template_approve(template=sms_template, actor=manager)
    template_update(
        template=sms_template, actor=admin_user, name="改写", subject="", body=sms_template.body
    )
    assert MessageTemplate.objects.get(pk=sms_template.pk).name == "改写"
