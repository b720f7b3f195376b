"""The Excel columns (导出Excel) of the plan, hold, service-issue, legal-matter and
时效即将届满 lists, written by `propfee.core.exporting`."""

from __future__ import annotations

from propfee.core.exporting import Column, ColumnKind, ExportList


def _user(attr: str):  # type: ignore[no-untyped-def]
    return lambda row: str(getattr(row, attr)) if getattr(row, f"{attr}_id") else ""


PLAN_EXPORT = ExportList(
    name="分期计划",
    object_type="collection.installmentplan",
    columns=[
        Column("项目", "unit.estate.name", width=20),
        Column("房屋编码", "unit.code", width=18),
        Column("分期总额", "total_fen", ColumnKind.MONEY_FEN),
        Column("期数", lambda p: len(p.installments.all()), ColumnKind.NUMBER),
        Column("宽限天数", "grace_days", ColumnKind.NUMBER),
        Column("申请理由", "reason", width=30),
        Column("申请人", _user("requested_by")),
        Column("申请时间", "requested_at", ColumnKind.DATETIME),
        Column("状态", "get_status_display"),
        Column("审批人", _user("decided_by")),
        Column("审批时间", "decided_at", ColumnKind.DATETIME),
        Column("审批意见", "decision_note", width=30),
        Column("结束日期", "ended_on", ColumnKind.DATE),
    ],
)

HOLD_EXPORT = ExportList(
    name="暂停催收",
    object_type="collection.hold",
    columns=[
        Column("项目", "unit.estate.name", width=20),
        Column("房屋编码", "unit.code", width=18),
        Column("暂停类型", "get_kind_display"),
        Column("开始日期", "starts_on", ColumnKind.DATE),
        Column("结束日期", "ends_on", ColumnKind.DATE),
        Column("解除日期", "released_on", ColumnKind.DATE),
        Column("原因", "reason", width=30),
        Column("登记人", _user("created_by")),
    ],
)

ISSUE_EXPORT = ExportList(
    name="物业服务问题跟进表",
    object_type="collection.serviceissue",
    columns=[
        Column("登记时间", "created_at", ColumnKind.DATETIME),
        Column("项目", "unit.estate.name", width=20),
        Column("房屋编码", "unit.code", width=18),
        Column("问题类别", "get_category_display"),
        Column("问题描述", "description", width=40),
        Column("责任部门", "department"),
        Column("承诺解决日期", "promised_on", ColumnKind.DATE),
        Column("因此拒缴", lambda i: "是" if i.is_dispute else "否"),
        Column("状态", "get_status_display"),
        Column("处理结果", "resolution", width=40),
        Column("解决日期", "resolved_on", ColumnKind.DATE),
        Column("登记人", _user("raised_by")),
    ],
)

LEGAL_EXPORT = ExportList(
    name="法律事务",
    object_type="collection.legalmatter",
    columns=[
        Column("项目", "unit.estate.name", width=20),
        Column("房屋编码", "unit.code", width=18),
        Column("类型", "get_kind_display"),
        Column("状态", "get_status_display"),
        Column("主张金额", "claim_fen", ColumnKind.MONEY_FEN),
        Column("诉讼费", "court_fee_fen", ColumnKind.MONEY_FEN),
        Column("律师费", "lawyer_fee_fen", ColumnKind.MONEY_FEN),
        Column("已回收金额", "recovered_fen", ColumnKind.MONEY_FEN),
        Column("受理法院/仲裁机构", "court", width=24),
        Column("案号", "docket_no", width=24),
        Column("律师事务所", "law_firm", width=20),
        Column("准备日期", "prepared_on", ColumnKind.DATE),
        Column("审批日期", "approved_on", ColumnKind.DATE),
        Column("立案日期", "filed_on", ColumnKind.DATE),
        Column("开庭日期", "hearing_on", ColumnKind.DATE),
        Column("判决日期", "judgment_on", ColumnKind.DATE),
        Column("申请执行日期", "enforcement_on", ColumnKind.DATE),
        Column("结案日期", "closed_on", ColumnKind.DATE),
        Column("可报送征信", lambda m: "是" if m.credit_referral_eligible else "否"),
    ],
)

LIMITATION_EXPORT = ExportList(
    name="时效即将届满",
    object_type="billing.charge",
    columns=[
        Column("项目", "estate_name", width=20),
        Column("房屋编码", "unit_code", width=18),
        Column("收费项目", "fee_item"),
        Column("计费开始", "period_start", ColumnKind.DATE),
        Column("计费结束", "period_end", ColumnKind.DATE),
        Column("应缴日期", "due_date", ColumnKind.DATE),
        Column("欠费本金", "principal_outstanding_fen", ColumnKind.MONEY_FEN),
        Column("时效起算日", "clock_from", ColumnKind.DATE),
        Column("时效届满日", "expires_on", ColumnKind.DATE),
        Column("剩余天数", "days_left", ColumnKind.NUMBER),
        Column("最近中断事由", "restart_label"),
        Column("中断说明", "restart_description", width=30),
    ],
)
