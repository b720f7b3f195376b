"""Choices and fixed values of the collection process (催收): stages, segments, case, task,
contact, promise, installment, hold, service-issue and legal-matter states, reason codes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StageKey(models.TextChoices):
    """The default ladder's stages, in order. A policy may leave stages out but never reorders
    them, and a case never skips one."""

    PRE_DUE = "pre_due", _("缴费提醒")
    REMINDER = "reminder", _("温馨提醒")
    PHONE = "phone", _("电话沟通")
    NOTICE = "notice", _("书面催缴通知书")
    VISIT = "visit", _("上门催收")
    FINAL_DEMAND = "final_demand", _("最后催告")
    LAWYER_LETTER = "lawyer_letter", _("律师函")
    LEGAL = "legal", _("法律程序")


STAGE_ORDER: tuple[str, ...] = tuple(StageKey.values)


class Segment(models.TextChoices):
    KEY = "key", _("重点")
    GENERAL = "general", _("一般")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("催收中")
    CLOSED = "closed", _("已结案")


class CaseCloseReason(models.TextChoices):
    CLEARED = "cleared", _("欠费已结清")
    BELOW_TOLERANCE = "below_tolerance", _("欠费低于起催金额")
    WRITTEN_OFF = "written_off", _("坏账核销")


class ReasonCode(models.TextChoices):
    """欠费原因, each with a recommended handling (REASON_HANDLING)."""

    SERVICE = "service", _("服务质量不满")
    HARDSHIP = "hardship", _("经济困难")
    AWARENESS = "awareness", _("缴费意识淡薄")
    LEGACY = "legacy", _("历史遗留/房屋质量")
    THEFT = "theft", _("被盗")
    RECTIFICATION = "rectification", _("整改纠纷")
    MALICIOUS = "malicious", _("恶意欠缴")
    VACANT = "vacant", _("空置未入住")
    FORGOT = "forgot", _("遗忘/繁忙")
    UNREACHABLE = "unreachable", _("联系不上")
    OWNERSHIP_CHANGE = "ownership_change", _("产权变更")
    OTHER = "other", _("其他")


REASON_HANDLING: dict[str, str] = {
    ReasonCode.SERVICE: _("登记服务问题并转责任部门，整改完成并回访后再催缴"),
    ReasonCode.HARDSHIP: _("核实情况，可协商分期或申请减免违约金"),
    ReasonCode.AWARENESS: _("上门宣讲服务内容与合同约定，发送书面催缴通知书"),
    ReasonCode.LEGACY: _("联系开发商或工程部核实房屋质量问题，出具处理意见"),
    ReasonCode.THEFT: _("配合报警与调查，说明安保责任边界，必要时协商处理"),
    ReasonCode.RECTIFICATION: _("明确整改范围与期限，整改完成后书面通知业主"),
    ReasonCode.MALICIOUS: _("固定证据，按程序发送催告函、律师函，进入法律程序"),
    ReasonCode.VACANT: _("核实空置情况，按合同执行空置优惠，邮寄催缴通知书"),
    ReasonCode.FORGOT: _("短信或微信提醒，提供线上缴费方式"),
    ReasonCode.UNREACHABLE: _("核实联系方式，邮寄催缴通知书至房屋地址并保留送达凭证"),
    ReasonCode.OWNERSHIP_CHANGE: _("核实产权变更时间，按时间段确认缴费责任人"),
    ReasonCode.OTHER: _("记录具体情况，由项目经理确定处理方式"),
}


class ActionKind(models.TextChoices):
    MESSAGE = "message", _("发送消息")
    TASK = "task", _("生成任务")
    DOCUMENT = "document", _("生成文书")


class ActionStatus(models.TextChoices):
    DONE = "done", _("已执行")
    SKIPPED = "skipped", _("已跳过")


class TaskKind(models.TextChoices):
    PHONE = "phone", _("电话催缴")
    VISIT = "visit", _("上门催收")
    DELIVER = "deliver", _("送达文书")
    APPROVAL = "approval", _("审批")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("待办")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    VISIT = "visit", _("上门")
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信")
    EMAIL = "email", _("邮件")
    LETTER = "letter", _("书面")
    OTHER = "other", _("其他")


class ContactOutcome(models.TextChoices):
    ANSWERED = "answered", _("接通")
    NO_ANSWER = "no_answer", _("未接")
    INVALID_NUMBER = "invalid_number", _("空号")
    REJECTED = "rejected", _("拒接")
    PROMISED = "promised", _("承诺缴费")
    PAID = "paid", _("已缴费")
    DISPUTED = "disputed", _("有异议")
    HARDSHIP = "hardship", _("经济困难")
    INSTALLMENT_REQUESTED = "installment_requested", _("要求分期")
    OTHER = "other", _("其他")


class Attitude(models.TextChoices):
    COOPERATIVE = "cooperative", _("配合")
    NEUTRAL = "neutral", _("一般")
    EVASIVE = "evasive", _("推诿")
    HOSTILE = "hostile", _("抵触")


class PromiseStatus(models.TextChoices):
    PENDING = "pending", _("待兑现")
    KEPT = "kept", _("已兑现")
    BROKEN = "broken", _("已违约")
    CANCELLED = "cancelled", _("已取消")


class PlanStatus(models.TextChoices):
    REQUESTED = "requested", _("待审批")
    ACTIVE = "active", _("履行中")
    REJECTED = "rejected", _("已驳回")
    COMPLETED = "completed", _("已履行完毕")
    DEFAULTED = "defaulted", _("已违约")
    CANCELLED = "cancelled", _("已取消")


class HoldKind(models.TextChoices):
    PROMISE = "promise", _("承诺缴费")
    INSTALLMENT = "installment", _("分期履行中")
    DISPUTE = "dispute", _("服务争议")
    HARDSHIP = "hardship", _("经济困难")
    LEGAL = "legal", _("法律程序中")
    MANUAL = "manual", _("人工暂停")


class IssueCategory(models.TextChoices):
    CLEANING = "cleaning", _("保洁")
    GREENING = "greening", _("绿化")
    SECURITY = "security", _("安保")
    REPAIR = "repair", _("维修")
    PARKING = "parking", _("停车")
    NOISE = "noise", _("噪音扰民")
    HOUSE_QUALITY = "house_quality", _("房屋质量")
    OTHER = "other", _("其他")


class IssueStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    IN_PROGRESS = "in_progress", _("处理中")
    RESOLVED = "resolved", _("已解决")
    CLOSED = "closed", _("已关闭")


class LegalKind(models.TextChoices):
    LAWYER_LETTER = "lawyer_letter", _("律师函")
    PAYMENT_ORDER = "payment_order", _("支付令")
    SMALL_CLAIM = "small_claim", _("小额诉讼")
    LAWSUIT = "lawsuit", _("诉讼")
    ARBITRATION = "arbitration", _("仲裁")


class LegalStatus(models.TextChoices):
    PREPARED = "prepared", _("准备中")
    APPROVED = "approved", _("已审批")
    FILED = "filed", _("已立案")
    HEARING = "hearing", _("已开庭")
    JUDGMENT = "judgment", _("已判决")
    ENFORCEMENT = "enforcement", _("执行中")
    CLOSED = "closed", _("已结案")


class RestartKind(models.TextChoices):
    """What restarts a charge's limitation clock (民法典 art. 195)."""

    DEMAND = "demand", _("催告送达")
    ACKNOWLEDGEMENT = "acknowledgement", _("债务承认")
    FILING = "filing", _("起诉或申请")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("运行中")
    FINISHED = "finished", _("已完成")
    FAILED = "failed", _("失败")
