"""The default templates of the collection ladder (默认消息模板): Chinese, polite and lawful.
They state facts, a deadline and the lawful next step (民法典 art. 944), never a threat to cut
water, power, heat or gas, and carry no marketing. `messaging_defaults_load` adds them."""

from __future__ import annotations

from dataclasses import dataclass

from propfee.messaging.constants import Channel


@dataclass(frozen=True)
class DefaultTemplate:
    name: str
    channel: str
    stage: str
    subject: str
    body: str


_EMAIL_FOOTER = "\n\n此邮件由系统发送，请勿直接回复。如有疑问，请与物业服务中心联系。"

# stage → (name, SMS/WeChat text, e-mail subject)
_TEXTS: dict[str, tuple[str, str, str]] = {
    "pre_due": (
        "缴费提醒",
        "尊敬的{name}：您的房屋{unit}{periods}物业服务费共{amount}元，应缴日期为{due_date}。"
        "您可通过{payment_link}在线缴纳，或到物业服务中心办理。如已缴纳，请忽略本消息。"
        "感谢您的支持！{company}",
        "物业服务费缴费提醒（{unit}）",
    ),
    "reminder": (
        "温馨提醒",
        "尊敬的{name}：截至{date}，您的房屋{unit}{periods}物业服务费尚有{amount}元未缴纳。"
        "请于{deadline}前缴纳，可通过{payment_link}在线缴费或到物业服务中心办理。"
        "如已缴纳，请忽略本消息；如有疑问，欢迎与物业服务中心联系。{company}",
        "物业服务费温馨提醒（{unit}）",
    ),
    "phone": (
        "电话未接通提醒",
        "尊敬的{name}：我们今日致电您未能接通，想与您沟通房屋{unit}的物业服务费事宜"
        "（截至{date}尚有{amount}元未缴纳）。方便时请回电物业服务中心，谢谢！{company}",
        "关于房屋{unit}物业服务费的沟通",
    ),
    "notice": (
        "催缴通知书送达提醒",
        "尊敬的{name}：物业服务中心已向您送达《物业服务费催缴通知书》。截至{date}，"
        "您的房屋{unit}{periods}物业服务费共{amount}元尚未缴纳，请于{deadline}前缴纳，"
        "或与物业服务中心联系协商缴费安排。{company}",
        "物业服务费催缴通知（{unit}）",
    ),
    "visit": (
        "上门沟通预约",
        "尊敬的{name}：为沟通房屋{unit}的物业服务费缴纳事宜，物业服务中心希望近日与您当面"
        "沟通，并听取您对物业服务的意见。请回电物业服务中心预约您方便的时间，谢谢！{company}",
        "预约沟通：房屋{unit}物业服务费事宜",
    ),
    "final_demand": (
        "最后催告",
        "尊敬的{name}：根据《中华人民共和国民法典》第九百四十四条，业主应当按照约定支付"
        "物业费；逾期不支付的，物业服务人可以催告其在合理期限内支付。截至{date}，您的房屋"
        "{unit}{periods}物业服务费共{amount}元（其中违约金{penalty}元）尚未缴纳，"
        "请于{deadline}前缴纳。逾期仍未缴纳的，我司将依法提起诉讼或者申请仲裁。"
        "如有异议或缴费困难，请及时与物业服务中心联系。{company}",
        "物业服务费最后催告函（{unit}）",
    ),
    "lawyer_letter": (
        "律师函送达提醒",
        "尊敬的{name}：受{company}委托，律师已就房屋{unit}物业服务费{amount}元未缴纳一事"
        "向您发出律师函，请注意查收，并于{deadline}前缴纳或与物业服务中心联系。",
        "关于房屋{unit}物业服务费的律师函",
    ),
    "legal": (
        "依法主张权利告知",
        "尊敬的{name}：房屋{unit}物业服务费共{amount}元经多次催告仍未缴纳，{company}将依法"
        "通过法律途径主张权利。如您希望协商解决，请于{deadline}前与物业服务中心联系。",
        "关于房屋{unit}物业服务费依法主张权利的告知",
    ),
}

_WECHAT_STAGES = ("pre_due", "reminder", "notice", "final_demand")


def _defaults() -> list[DefaultTemplate]:
    templates: list[DefaultTemplate] = []
    for stage, (name, text, subject) in _TEXTS.items():
        templates.append(DefaultTemplate(f"{name}（短信）", Channel.SMS, stage, "", text))
        templates.append(
            DefaultTemplate(f"{name}（邮件）", Channel.EMAIL, stage, subject, text + _EMAIL_FOOTER)
        )
        if stage in _WECHAT_STAGES:
            templates.append(DefaultTemplate(f"{name}（微信）", Channel.WECHAT, stage, "", text))
    return templates


DEFAULT_TEMPLATES: tuple[DefaultTemplate, ...] = tuple(_defaults())
