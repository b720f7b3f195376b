"""The wording of each kind of document (文书措辞): pure functions from the facts (a statement,
a payment, the arrears list) to `Content`, no database access, so one notice and ten thousand
in a batch are written by the same code. Amounts are yuan with two decimals and, where money is
demanded or received, in capital numerals too (大写)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from propfee.core.money import format_yuan
from propfee.documents.amounts import yuan_in_words
from propfee.documents.claims import PENALTY_CAPPED, Demand
from propfee.documents.constants import (
    CIVIL_CODE_944,
    NOTICE_MAX_ROWS,
    PROPERTY_REGULATION_64,
)
from propfee.documents.content import Block, Content, para, seal, sign, small, table
from propfee.ledger.selectors import Statement, StatementLine


def chinese_date(day: dt.date) -> str:
    """2026-11-27 → 2026年11月27日."""
    return f"{day.year}年{day.month}月{day.day}日"


def _money(fen: int) -> str:
    return format_yuan(fen)


@dataclass(frozen=True)
class Addressee:
    """Who writes and to whom: the company and estate, the unit, its payer (may be blank)."""

    company_name: str
    estate_name: str
    unit_code: str
    unit_label: str
    payer_name: str = ""

    @property
    def greeting(self) -> str:
        place = f"{self.estate_name}{self.unit_label}"
        if self.payer_name:
            return f"尊敬的{self.payer_name}（{place}）业主："
        return f"尊敬的{place}业主："

    @property
    def to_line(self) -> str:
        place = f"{self.estate_name}{self.unit_label}业主"
        return f"致：{self.payer_name}（{place}）" if self.payer_name else f"致：{place}"


@dataclass(frozen=True)
class LawFirm:
    """The law firm that signs a lawyer letter (律师事务所, from settings.PROPFEE_LAW_FIRM)."""

    name: str
    address: str
    phone: str
    lawyer: str


def _period(line: StatementLine) -> str:
    return f"{line.period_start:%Y-%m-%d}至{line.period_end:%Y-%m-%d}"


def owed_lines(statement: Statement) -> list[StatementLine]:
    """The statement's lines with anything outstanding, oldest first."""
    return [
        line
        for line in statement.lines
        if line.position.principal_outstanding or line.position.penalty_outstanding
    ]


def _owed_table(demand: Demand, *, max_rows: int | None = None) -> Block:
    """The charges claimed: 收费项目, 计费期间, 应缴日期, 未缴本金, 滞纳金, 小计 and a 合计 row
    (with the penalty reduction to the reasonableness bound, when there is one). With
    `max_rows`, the oldest lines beyond it are summed into one row so the table keeps its
    size."""
    lines = list(demand.claimed)
    rows: list[tuple[str, ...]] = [
        ("收费项目", "计费期间", "应缴日期", "未缴本金(元)", "滞纳金(元)", "小计(元)")
    ]
    if max_rows is not None and len(lines) > max_rows:
        older, lines = lines[: len(lines) - max_rows + 1], lines[len(lines) - max_rows + 1 :]
        principal = sum(line.position.principal_outstanding for line in older)
        penalty = sum(line.position.penalty_outstanding for line in older)
        rows.append(
            (
                f"较早欠费（共{len(older)}期）",
                f"{older[0].period_start:%Y-%m-%d}至{older[-1].period_end:%Y-%m-%d}",
                "",
                _money(principal),
                _money(penalty),
                _money(principal + penalty),
            )
        )
    for line in lines:
        position = line.position
        rows.append(
            (
                line.fee_item,
                _period(line),
                f"{line.due_date:%Y-%m-%d}",
                _money(position.principal_outstanding),
                _money(position.penalty_outstanding),
                _money(position.principal_outstanding + position.penalty_outstanding),
            )
        )
    if demand.penalty_reduction_fen:
        rows.append(
            (
                "小计",
                "",
                "",
                _money(demand.principal_fen),
                _money(demand.penalty_contract_fen),
                _money(demand.principal_fen + demand.penalty_contract_fen),
            )
        )
        rows.append(
            (
                "滞纳金按合理上限调减",
                "",
                "",
                "",
                "-" + _money(demand.penalty_reduction_fen),
                "-" + _money(demand.penalty_reduction_fen),
            )
        )
    rows.append(
        (
            "合计",
            "",
            "",
            _money(demand.principal_fen),
            _money(demand.penalty_fen),
            _money(demand.total_fen),
        )
    )
    return table(rows, widths=(0.16, 0.27, 0.13, 0.15, 0.13, 0.16), align="LCCRRR", total_row=True)


def _total_sentence(demand: Demand) -> str:
    total = demand.total_fen
    text = (
        f"以上到期欠费合计人民币{_money(total)}元（大写：{yuan_in_words(total)}），"
        f"其中物业服务费等本金{_money(demand.principal_fen)}元，"
        f"滞纳金（违约金）{_money(demand.penalty_fen)}元。"
    )
    if demand.penalty_reduction_fen and demand.penalty_mode == PENALTY_CAPPED:
        text += (
            f"按合同约定计算的滞纳金为{_money(demand.penalty_contract_fen)}元，"
            "本次按资金占用损失的合理范围计收。"
        )
    return text


def _not_due_blocks(demand: Demand) -> list[Block]:
    """本期应缴（未到期）: bills not yet due on the demand's date, listed apart and never in the
    amount demanded."""
    if not demand.not_due:
        return []
    rows: list[tuple[str, ...]] = [("收费项目", "计费期间", "应缴日期", "应缴金额(元)")]
    shown, later = demand.not_due[:NOT_DUE_MAX_ROWS], demand.not_due[NOT_DUE_MAX_ROWS:]
    for line in shown:
        rows.append(
            (
                line.fee_item,
                _period(line),
                f"{line.due_date:%Y-%m-%d}",
                _money(line.position.principal_outstanding),
            )
        )
    if later:
        rows.append(
            (
                f"以后各期（共{len(later)}期）",
                f"{later[0].period_start:%Y-%m-%d}至{later[-1].period_end:%Y-%m-%d}",
                "",
                _money(sum(line.position.principal_outstanding for line in later)),
            )
        )
    rows.append(("合计", "", "", _money(demand.not_due_fen)))
    return [
        para(
            "另：以下为本期应缴（未到期）费用，尚未到缴费期限，不属于本次催缴金额，"
            "请在应缴日期前缴纳：",
            indent=False,
        ),
        table(rows, widths=(0.2, 0.4, 0.18, 0.22), align="LCCR", total_row=True),
    ]


#: Bills not yet due listed one by one (the rest summed in one row), so a notice stays one page.
NOT_DUE_MAX_ROWS = 3


def _not_due_height(demand: Demand) -> int:
    """About how many table rows the not-yet-due list takes (its rows, header, total and the
    sentence before it), so the notice's overdue table gives up that room and fits one page."""
    if not demand.not_due:
        return 0
    listed = min(len(demand.not_due), NOT_DUE_MAX_ROWS + 1)
    return listed + 4


def _hotline(hotline: str) -> list[Block]:
    return [para(f"服务热线：{hotline}")] if hotline else []


def _seal(seal_image: str) -> list[Block]:
    return [seal(seal_image)] if seal_image else []


def _footer(who: Addressee, kind: str, number: str) -> str:
    return f"{who.company_name} · {kind} {number} · {who.unit_code}"


def notice_content(
    *,
    demand: Demand,
    who: Addressee,
    issued_on: dt.date,
    deadline: dt.date,
    number: str,
    how_to_pay: str,
    hotline: str = "",
    seal_image: str = "",
) -> Content:
    """催缴通知书: the overdue charges by period, the total with its penalty, 15 days to pay,
    the bills not yet due apart, how to pay, the service hotline, and a tear-off
    acknowledgment (签收栏) for delivery in person. Fits one page."""
    days = (deadline - issued_on).days
    blocks = [
        para(who.greeting, indent=False),
        para(
            f"截至{chinese_date(demand.statement.as_of)}，您的房屋（房屋编码 {who.unit_code}）"
            "尚有以下已到期的物业服务费用未缴纳："
        ),
        _owed_table(demand, max_rows=NOTICE_MAX_ROWS - _not_due_height(demand)),
        para(_total_sentence(demand)),
        para(
            f"请您于{chinese_date(deadline)}前（本通知书发出之日起{days}日内）缴清上述费用。"
            "滞纳金按物业服务合同约定计算至实际缴款之日。"
        ),
        *_not_due_blocks(demand),
        para(f"缴费方式：{how_to_pay}"),
        para(
            "如您对上述费用有异议，或对物业服务有意见和建议，请在上述期限内与物业服务中心联系核对；"
            "如您已缴纳，请忽略本通知并谅解。"
        ),
        *_hotline(hotline),
        small(f"法律依据：{CIVIL_CODE_944}"),
        *_seal(seal_image),
        sign(who.company_name),
        sign(f"{who.estate_name}物业服务中心"),
        sign(chinese_date(issued_on)),
        small("---------------------------------- 签收回执 ----------------------------------"),
        small(
            f"本人已收到{who.estate_name}物业服务中心发出的编号为 {number} 的《催缴通知书》。"
            "签收人：____________  与业主关系：________  签收日期：______年____月____日"
        ),
    ]
    return Content(
        title="催缴通知书",
        letterhead=(who.company_name,),
        number=number,
        blocks=tuple(blocks),
        footer=_footer(who, "催缴通知书", number),
    )


def final_demand_content(
    *,
    demand: Demand,
    who: Addressee,
    issued_on: dt.date,
    deadline: dt.date,
    number: str,
    how_to_pay: str,
    hotline: str = "",
    seal_image: str = "",
) -> Content:
    """催告函 (民法典 art. 944): a reasonable deadline, after which the company may sue or
    apply for arbitration."""
    days = (deadline - issued_on).days
    blocks = [
        para(who.greeting, indent=False),
        para(
            f"{who.company_name}（以下简称“本公司”）依据物业服务合同为{who.estate_name}"
            "提供物业服务。经核对，截至"
            f"{chinese_date(demand.statement.as_of)}，您的房屋（房屋编码 {who.unit_code}）"
            "欠缴已到期的物业服务费用明细如下："
        ),
        _owed_table(demand),
        para(_total_sentence(demand)),
        para(CIVIL_CODE_944),
        para(
            f"现本公司特此函告：请您在本函发出之日起{days}日内，即{chinese_date(deadline)}前，"
            "缴清上述全部欠费。合理期限届满仍未缴纳的，本公司将依法提起诉讼或者申请仲裁。"
        ),
        *_not_due_blocks(demand),
        para(f"缴费方式：{how_to_pay}"),
        para("如您对欠费有异议，请在上述期限内携相关材料到物业服务中心核对。"),
        *_hotline(hotline),
        *_seal(seal_image),
        sign(f"{who.company_name}（盖章）"),
        sign(chinese_date(issued_on)),
    ]
    return Content(
        title="催告函",
        letterhead=(who.company_name,),
        number=number,
        blocks=tuple(blocks),
        footer=_footer(who, "催告函", number),
    )


def lawyer_letter_content(
    *,
    demand: Demand,
    who: Addressee,
    firm: LawFirm,
    issued_on: dt.date,
    deadline: dt.date,
    number: str,
) -> Content:
    """律师函 on the law firm's letterhead, signed by its lawyer, for the company."""
    days = (deadline - issued_on).days
    blocks = [
        para(who.to_line, indent=False),
        para(
            f"{firm.name}（以下简称“本所”）接受{who.company_name}（以下简称“委托人”）的委托，"
            f"指派{firm.lawyer}律师，就您欠缴{who.estate_name}物业服务费用一事，郑重致函如下："
        ),
        para(
            f"一、委托人依据物业服务合同为{who.estate_name}提供物业服务。经委托人核对，截至"
            f"{chinese_date(demand.statement.as_of)}，您名下房屋（房屋编码 {who.unit_code}）"
            "欠缴已到期的物业服务费用明细如下："
        ),
        _owed_table(demand),
        para("二、" + _total_sentence(demand)),
        para("三、" + CIVIL_CODE_944),
        para(
            f"四、请您在本函发出之日起{days}日内，即{chinese_date(deadline)}前，"
            "向委托人缴清上述欠费。逾期仍未缴纳的，本所将建议委托人依法提起诉讼或者申请仲裁，"
            "届时您还可能承担相应的诉讼费用。"
        ),
        *_not_due_blocks(demand),
        para(f"如有疑问，请与本所联系：{firm.phone}（{firm.lawyer}律师）。"),
        sign(f"{firm.name}（盖章）"),
        sign(f"律师：{firm.lawyer}"),
        sign(chinese_date(issued_on)),
    ]
    return Content(
        title="律师函",
        letterhead=(firm.name, f"地址：{firm.address}　电话：{firm.phone}"),
        number=number,
        blocks=tuple(blocks),
        footer=f"{firm.name} · 律师函 {number} · {who.unit_code}",
    )


def committee_letter_content(
    *,
    demand: Demand,
    who: Addressee,
    issued_on: dt.date,
    deadline: dt.date,
    number: str,
) -> Content:
    """业委会督促函 (物业管理条例 art. 64): the owners' committee presses the owner to pay."""
    committee = f"{who.estate_name}业主委员会"
    blocks = [
        para(who.greeting, indent=False),
        para(
            f"据{who.company_name}核对，截至{chinese_date(demand.statement.as_of)}，您的房屋"
            f"（房屋编码 {who.unit_code}）欠缴已到期的物业服务费用明细如下："
        ),
        _owed_table(demand),
        para(_total_sentence(demand)),
        para(PROPERTY_REGULATION_64),
        para(
            f"按时交纳物业服务费用是每位业主的义务，关系到全体业主的共同利益。本业主委员会督促您于"
            f"{chinese_date(deadline)}前向{who.company_name}交纳上述费用。"
            "如对物业服务有意见，欢迎向业主委员会反映，我们将协调解决。"
        ),
        *_not_due_blocks(demand),
        sign(f"{committee}（盖章）"),
        sign(chinese_date(issued_on)),
    ]
    return Content(
        title="督促交纳物业服务费函",
        letterhead=(committee,),
        number=number,
        blocks=tuple(blocks),
        footer=_footer(who, "业委会督促函", number),
    )


def statement_content(
    *, statement: Statement, who: Addressee, issued_on: dt.date, number: str
) -> Content:
    """对账单: every charge with what was billed, paid, waived and is outstanding, and totals."""
    rows: list[tuple[str, ...]] = [
        (
            "收费项目",
            "计费期间",
            "应缴日期",
            "应收本金",
            "已缴本金",
            "减免本金",
            "未缴本金",
            "未缴滞纳金",
            "逾期天数",
        )
    ]
    for line in statement.lines:
        p = line.position
        rows.append(
            (
                line.fee_item,
                f"{line.period_start:%Y-%m-%d}至{line.period_end:%Y-%m-%d}",
                f"{line.due_date:%Y-%m-%d}",
                _money(p.principal),
                _money(p.principal_paid),
                _money(p.principal_waived),
                _money(p.principal_outstanding),
                _money(p.penalty_outstanding),
                str(p.days_overdue or ""),
            )
        )
    rows.append(
        (
            "合计",
            "",
            "",
            _money(sum(line.position.principal for line in statement.lines)),
            _money(sum(line.position.principal_paid for line in statement.lines)),
            _money(sum(line.position.principal_waived for line in statement.lines)),
            _money(statement.principal_outstanding_fen),
            _money(statement.penalty_outstanding_fen),
            "",
        )
    )
    blocks = [
        para(
            f"房屋：{who.estate_name}{who.unit_label}（房屋编码 {who.unit_code}）"
            + (f"　缴费人：{who.payer_name}" if who.payer_name else ""),
            indent=False,
        ),
        para(f"对账日期：截至{chinese_date(statement.as_of)}（金额单位：元）", indent=False),
        table(
            rows,
            widths=(0.11, 0.2, 0.1, 0.1, 0.1, 0.09, 0.1, 0.1, 0.1),
            align="LCCRRRRRR",
            total_row=True,
        ),
        para(
            f"未缴本金{_money(statement.principal_outstanding_fen)}元，"
            f"未缴滞纳金{_money(statement.penalty_outstanding_fen)}元，"
            f"欠费合计{_money(statement.total_outstanding_fen)}元"
            f"（大写：{yuan_in_words(statement.total_outstanding_fen)}）；"
            f"预存余额{_money(statement.unapplied_credit_fen)}元。",
            indent=False,
        ),
        small(
            "滞纳金（违约金）按物业服务合同约定计算至对账日期。如对账目有疑问，请与物业服务中心联系。"
        ),
        sign(who.company_name),
        sign(chinese_date(issued_on)),
    ]
    return Content(
        title="物业费对账单",
        letterhead=(who.company_name,),
        number=number,
        blocks=tuple(blocks),
        footer=_footer(who, "对账单", number),
    )


@dataclass(frozen=True)
class ReceiptFacts:
    """What a receipt (收据) shows of a payment and what it paid (核销明细)."""

    receipt_no: str
    amount_fen: int
    received_on: dt.date
    channel: str
    reference: str
    recorded_by: str
    paid: tuple[tuple[str, str, int], ...]  # (收费项目 + 期间, 本金/滞纳金, fen)


def receipt_content(*, receipt: ReceiptFacts, who: Addressee, issued_on: dt.date) -> Content:
    """收据: receipt number, amount in figures and in capital numerals, what it paid."""
    rows: list[tuple[str, ...]] = [("收费项目及期间", "类别", "金额(元)")]
    rows.extend((item, component, _money(fen)) for item, component, fen in receipt.paid)
    paid_total = sum(fen for _item, _component, fen in receipt.paid)
    if receipt.amount_fen > paid_total:
        rows.append(("预存（待抵扣）", "预存", _money(receipt.amount_fen - paid_total)))
    rows.append(("合计", "", _money(receipt.amount_fen)))
    blocks = [
        table(
            [
                ("收据号", receipt.receipt_no, "收款日期", f"{receipt.received_on:%Y-%m-%d}"),
                ("房屋", f"{who.estate_name}{who.unit_label}", "房屋编码", who.unit_code),
                ("缴费人", who.payer_name or "—", "收款方式", receipt.channel),
                ("金额（小写）", f"¥{_money(receipt.amount_fen)}", "流水号", receipt.reference),
                ("金额（大写）", yuan_in_words(receipt.amount_fen), "", ""),
            ],
            widths=(0.16, 0.39, 0.14, 0.31),
            align="LLLL",
            header_rows=0,
        ),
        table(rows, widths=(0.6, 0.15, 0.25), align="LCR", total_row=True),
        sign(f"收款单位：{who.company_name}（盖章）"),
        sign(f"收款人：{receipt.recorded_by or '—'}　开具日期：{chinese_date(issued_on)}"),
        small("本收据是物业公司收到款项的凭证，不作为发票。如需发票请向物业服务中心申请。"),
    ]
    return Content(
        title="收据",
        letterhead=(who.company_name,),
        number=receipt.receipt_no,
        blocks=tuple(blocks),
        footer=_footer(who, "收据", receipt.receipt_no),
    )


@dataclass(frozen=True)
class PublicNoticeRow:
    """One line of the public list: the unit number and what it owes, nothing about people."""

    unit_label: str
    months_owed: int
    amount_fen: int


def public_notice_content(
    *,
    company_name: str,
    estate_name: str,
    rows: Sequence[PublicNoticeRow],
    as_of: dt.date,
    legal_basis: str,
    display_from: dt.date,
    display_until: dt.date,
    issued_on: dt.date,
    number: str,
) -> Content:
    """欠费公示: unit numbers with months and amounts only (no names, no phones), the recorded
    legal basis, and the display period."""
    table_rows: list[tuple[str, ...]] = [("序号", "房号", "欠费月数", "欠费金额(元)")]
    for index, row in enumerate(rows, start=1):
        table_rows.append(
            (str(index), row.unit_label, str(row.months_owed), _money(row.amount_fen))
        )
    table_rows.append(("合计", f"{len(rows)}户", "", _money(sum(row.amount_fen for row in rows))))
    blocks = [
        para(f"{estate_name}全体业主："),
        para(
            f"依据{legal_basis}，现将截至{chinese_date(as_of)}本项目欠缴物业服务费的房屋公示如下"
            "（仅列房号、欠费月数和欠费本金）："
        ),
        table(table_rows, widths=(0.1, 0.4, 0.2, 0.3), align="CLCR", total_row=True),
        para(
            f"公示期：{chinese_date(display_from)}至{chinese_date(display_until)}。"
            "已缴清欠费的房屋将及时从公示中撤下。如有异议，请与物业服务中心联系核对。"
        ),
        sign(company_name),
        sign(f"{estate_name}物业服务中心"),
        sign(chinese_date(issued_on)),
    ]
    return Content(
        title="物业服务费欠费公示",
        letterhead=(company_name,),
        number=number,
        blocks=tuple(blocks),
        footer=f"{company_name} · 欠费公示 {number}",
    )
