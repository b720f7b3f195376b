"""The kinds of document (文书), the ways one is delivered (送达方式) and the fixed wording the
documents quote (legal bases, deadlines)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    NOTICE = "notice", _("催缴通知书")
    FINAL_DEMAND = "final_demand", _("催告函")
    LAWYER_LETTER = "lawyer_letter", _("律师函")
    COMMITTEE_LETTER = "committee_letter", _("业委会督促函")
    STATEMENT = "statement", _("对账单")
    RECEIPT = "receipt", _("收据")
    PUBLIC_NOTICE = "public_notice", _("欠费公示")
    CONTRACT = "contract", _("物业服务合同")


class DeliveryMethod(models.TextChoices):
    IN_PERSON = "in_person", _("当面送达")
    EMS = "ems", _("EMS邮寄")
    ELECTRONIC = "electronic", _("电子送达")


#: Demands (催收文书): delivered with evidence they restart the limitation clock (民法典 art. 195).
DEMAND_KINDS = (
    DocumentKind.NOTICE,
    DocumentKind.FINAL_DEMAND,
    DocumentKind.LAWYER_LETTER,
    DocumentKind.COMMITTEE_LETTER,
)
#: The notices and letters staff may download as DOCX to edit before printing.
EDITABLE_KINDS = (
    DocumentKind.NOTICE,
    DocumentKind.FINAL_DEMAND,
    DocumentKind.LAWYER_LETTER,
    DocumentKind.COMMITTEE_LETTER,
)
#: Kinds rendered for one unit from its statement (the unit page's 生成文书 choices).
UNIT_RENDERED_KINDS = (*DEMAND_KINDS, DocumentKind.STATEMENT)

#: Days to pay given by each demand, counted from its date (催缴通知书: 15 days, design.md).
DEFAULT_DEADLINE_DAYS = {
    DocumentKind.NOTICE: 15,
    DocumentKind.FINAL_DEMAND: 15,
    DocumentKind.LAWYER_LETTER: 7,
    DocumentKind.COMMITTEE_LETTER: 15,
}
MIN_DEADLINE_DAYS = 3
MAX_DEADLINE_DAYS = 90

#: 文书编号 prefixes: e.g. CJ-DEMO-20261127-000123.
NUMBER_PREFIX = {
    DocumentKind.NOTICE: "CJ",
    DocumentKind.FINAL_DEMAND: "CG",
    DocumentKind.LAWYER_LETTER: "LS",
    DocumentKind.COMMITTEE_LETTER: "YW",
    DocumentKind.STATEMENT: "DZ",
    DocumentKind.RECEIPT: "SJ",
    DocumentKind.PUBLIC_NOTICE: "GS",
    DocumentKind.CONTRACT: "HT",
}

#: 民法典 第九百四十四条 (second and third paragraphs, as quoted in demands).
CIVIL_CODE_944 = (
    "《中华人民共和国民法典》第九百四十四条规定：业主违反约定逾期不支付物业费的，"
    "物业服务人可以催告其在合理期限内支付；合理期限届满仍不支付的，"
    "物业服务人可以提起诉讼或者申请仲裁。"
)
#: 物业管理条例 第六十四条.
PROPERTY_REGULATION_64 = (
    "《物业管理条例》第六十四条规定：违反物业服务合同约定，业主逾期不交纳物业服务费用的，"
    "业主委员会应当督促其限期交纳；逾期仍不交纳的，物业服务企业可以向人民法院起诉。"
)

#: Rows of charges a notice lists before the older ones are summed into one row, so that a
#: notice always fits one A4 page (batch printing: one notice per page).
NOTICE_MAX_ROWS = 18
#: Units a staff page may batch-print at once (synchronously); more go through the command.
BATCH_PAGE_MAX_UNITS = 2000
