"""Messaging constants: channels, statuses, audiences, the ladder's stage keys and the variables
a template may use (the whitelist)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SMS = "sms", _("短信")
    EMAIL = "email", _("邮件")
    WECHAT = "wechat", _("微信")


class TemplateStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    APPROVED = "approved", _("已审批")


class Audience(models.TextChoices):
    """Who a template is written for. Only payer templates are sent to a person about a debt;
    occupant templates are general notices and may not carry anything about a debt."""

    PAYER = "payer", _("缴费人")
    OCCUPANTS = "occupants", _("全体住户（非缴费人）")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    HELD = "held", _("暂缓发送")
    SENT = "sent", _("已发送")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("发送失败")
    CANCELLED = "cancelled", _("已取消")


# Statuses the sender still works on; the others are final (delivered/failed may still change
# once by a delivery report).
PENDING_STATUSES = (MessageStatus.QUEUED, MessageStatus.HELD)
# A message that reached the provider and was not reported undeliverable counts towards caps.
CONTACTED_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED)

# The collection ladder's stage keys (design: Collection process). Stage is free text in the
# database so a policy may add its own; these are the ones the UI offers.
STAGE_LABELS: dict[str, str] = {
    "pre_due": _("缴费提醒"),
    "reminder": _("温馨提醒"),
    "phone": _("电话沟通"),
    "notice": _("书面催缴通知书"),
    "visit": _("上门催收"),
    "final_demand": _("最后催告"),
    "lawyer_letter": _("律师函"),
    "legal": _("法律程序"),
}
# Stages whose message must state a deadline to pay (民法典 art. 944: a reasonable period).
STAGES_NEEDING_DEADLINE = frozenset({"final_demand", "lawyer_letter"})
# The reminder before a bill falls due (缴费提醒): it goes out only while the unit has anything
# outstanding, and it is not a demand.
PRE_DUE_STAGES = frozenset({"pre_due"})
# Stages whose messages demand an overdue debt (催告), the ladder from 温馨提醒 on: such a
# message goes out only while the unit still owes something overdue, and once it reached the
# payer it restarts the limitation clock (诉讼时效规定 art. 8; 民法典 arts. 137, 195). A stage a
# company names itself is neither: nothing is known about what it says.
DEMAND_STAGES = frozenset(STAGE_LABELS) - PRE_DUE_STAGES

DEFAULT_LANGUAGE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]


@dataclass(frozen=True)
class Variable:
    """A variable a template may use: its label, whether it tells something about the
    recipient's debt (never allowed in a template for non-payers), and a sample value."""

    label: str
    about_debt: bool
    sample: str


VARIABLES: dict[str, Variable] = {
    "name": Variable(_("缴费人姓名"), False, "王建国"),
    "unit": Variable(_("房屋（项目楼栋房号）"), False, "阳光花园3栋1502"),
    "unit_code": Variable(_("房屋编码"), False, "DEMO-3-1502"),
    "estate": Variable(_("项目名称"), False, "阳光花园"),
    "company": Variable(_("物业公司名称"), False, "安家物业"),
    "date": Variable(_("统计日期"), False, "2026年11月27日"),
    "periods": Variable(_("欠费所属期间"), True, "2026年1月至2026年3月"),
    "months": Variable(_("欠费月数"), True, "3"),
    "amount": Variable(_("应缴合计（元）"), True, "630.99"),
    "principal": Variable(_("物业费本金（元）"), True, "600.00"),
    "penalty": Variable(_("违约金（滞纳金，元）"), True, "30.99"),
    "due_date": Variable(_("最早应缴日期"), True, "2026年1月31日"),
    "deadline": Variable(_("缴费期限"), True, "2026年12月12日"),
    "payment_link": Variable(_("在线缴费链接"), False, "https://pay.example.cn/p/DEMO-3-1502"),
}
