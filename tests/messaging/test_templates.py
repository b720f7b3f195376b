"""Templates: drafts, approval refused while the check finds problems, edits return to draft,
rendering with the unit's real figures, and the default ladder."""

from __future__ import annotations

import pytest

from propfee.core.models import AuditEntry
from propfee.core.roles import PermissionDenied
from propfee.messaging.constants import Channel, TemplateStatus
from propfee.messaging.models import MessageTemplate
from propfee.messaging.rendering import message_values, text_render
from propfee.messaging.services import (
    MessagingError,
    TemplateProblems,
    messaging_defaults_load,
    template_approve,
    template_create,
    template_update,
)
from tests.messaging.conftest import AS_OF

pytestmark = pytest.mark.django_db


def _draft(company, manager, body, **kwargs):
    kwargs.setdefault("channel", Channel.SMS)
    kwargs.setdefault("stage", "reminder")
    return template_create(company=company, name="提醒", body=body, actor=manager, **kwargs)


def test_a_new_template_is_a_draft_and_audited(company, manager):
    template = _draft(company, manager, "尊敬的{name}：请缴纳物业费{amount}元。")
    assert template.status == TemplateStatus.DRAFT
    entry = AuditEntry.objects.get(object_type="messaging.messagetemplate")
    assert entry.actor == manager and entry.after["body"] == template.body


def test_approval_is_refused_while_the_template_has_problems(company, manager):
    template = _draft(company, manager, "尊敬的{name}：逾期未缴将停 水停电。本月优惠。")
    with pytest.raises(TemplateProblems) as refused:
        template_approve(template=template, actor=manager)
    assert [p.code for p in refused.value.problems] == [
        "utility_threat",
        "utility_threat",
        "marketing",
    ]
    template.refresh_from_db()
    assert template.status == TemplateStatus.DRAFT and template.approved_at is None


def test_a_manager_approves_a_clean_template_and_an_edit_returns_it_to_draft(company, manager):
    template = _draft(company, manager, "尊敬的{name}：请缴纳物业费{amount}元。")
    template = template_approve(template=template, actor=manager)
    assert (template.status, template.approved_by) == (TemplateStatus.APPROVED, manager)
    # Renaming keeps the approval; changing the text does not.
    template = template_update(
        template=template, actor=manager, name="新名称", subject="", body=template.body
    )
    assert template.is_approved
    template = template_update(
        template=template, actor=manager, name="新名称", subject="", body="尊敬的{name}：您好。"
    )
    assert template.status == TemplateStatus.DRAFT and template.approved_by is None


def test_collectors_may_neither_write_nor_approve_templates(company, manager, collector):
    with pytest.raises(PermissionDenied):
        _draft(company, collector, "您好")
    template = _draft(company, manager, "您好")
    with pytest.raises(PermissionDenied):
        template_approve(template=template, actor=collector)


def test_one_template_per_channel_stage_language_and_audience(company, manager):
    _draft(company, manager, "您好")
    with pytest.raises(MessagingError, match="已有模板"):
        _draft(company, manager, "您好！")
    assert _draft(company, manager, "您好", channel=Channel.EMAIL, subject="提醒").pk


def test_rendering_uses_the_payer_and_the_ledger_statement(unit, payer, owing, sms_template):
    values = message_values(unit=unit, payer=payer, as_of=AS_OF)
    # 2 × 100.00 principal; 违约金 万分之五 a day: January 48 days × 0.05 + February 20 × 0.05.
    assert values["principal"] == "200.00"
    assert values["penalty"] == "3.40"
    assert values["amount"] == "203.40"
    assert values["periods"] == "2026年1月至2026年2月"
    assert values["months"] == "2"
    assert values["due_date"] == "2026年1月31日"
    assert values["deadline"] == "2026年4月4日"  # 15 days after the statement date
    assert text_render(sms_template.body, values) == (
        "尊敬的王建国：截至2026年3月20日，您的房屋阳光花园3栋1502"
        "2026年1月至2026年2月物业服务费尚有203.40元未缴纳，请于2026年4月4日前缴纳。安家物业"
    )


def test_rendering_never_reaches_into_objects():
    assert text_render("{name.__class__}{name}", {"name": "王"}) == "{name.__class__}王"


def test_the_default_ladder_loads_once_as_drafts(company, manager):
    added = messaging_defaults_load(company=company, actor=manager)
    templates = MessageTemplate.objects.filter(company=company)
    assert added == templates.count() >= 16
    assert set(templates.values_list("status", flat=True)) == {TemplateStatus.DRAFT}
    assert set(templates.values_list("stage", flat=True)) == {
        "pre_due",
        "reminder",
        "phone",
        "notice",
        "visit",
        "final_demand",
        "lawyer_letter",
        "legal",
    }
    assert messaging_defaults_load(company=company, actor=manager) == 0
    # Every default passes approval.
    for template in templates:
        assert template_approve(template=template, actor=manager).is_approved


def test_the_demo_may_load_the_defaults_approved(company):
    assert messaging_defaults_load(company=company, approve=True) > 0
    assert not MessageTemplate.objects.exclude(status=TemplateStatus.APPROVED).exists()
    assert not MessageTemplate.objects.filter(approved_at__isnull=True).exists()
