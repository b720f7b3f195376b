"""`propfee statement UNIT [--as-of D] [--format table|json]`: a unit's statement (对账单).

The JSON is the API's (`GET /api/v1/units/{code}/statement/`), byte for byte the same dict."""

from __future__ import annotations

import datetime as dt
import json
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from propfee.core.money import format_yuan
from propfee.estates.models import Unit
from propfee.ledger.selectors import (
    penalty_bound,
    penalty_bound_warning,
    statement_for_unit,
    statement_json,
)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{value}") from exc


class Command(BaseCommand):
    help = "房屋对账单：每笔应收的本金、滞纳金、已缴、减免、欠费与逾期天数"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("unit", help="房屋编码，如 DEMO-3-1502")
        parser.add_argument("--as-of", dest="as_of", help="对账日期 YYYY-MM-DD（默认今天）")
        parser.add_argument(
            "--format", dest="fmt", choices=["table", "json"], default="table", help="输出格式"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["unit"].strip().upper()
        as_of = _date(options["as_of"]) if options["as_of"] else timezone.localdate()
        units = list(Unit.objects.filter(code=code).order_by("pk")[:2])
        if not units:
            raise CommandError(f"房屋不存在：{code}")
        if len(units) > 1:
            raise CommandError(f"房屋编码不唯一：{code}")
        statement = statement_for_unit(unit=units[0], as_of=as_of)
        if options["fmt"] == "json":
            self.stdout.write(json.dumps(statement_json(statement), ensure_ascii=False, indent=2))
            return
        out = Console(file=cast(IO[str], self.stdout), width=160, highlight=False, soft_wrap=True)
        table = Table(title=f"对账单 {statement.unit_code}（截至 {as_of:%Y-%m-%d}）")
        for header in ("收费项目", "计费期间", "应缴日期"):
            table.add_column(header)
        for header in ("应收本金", "已缴本金", "减免本金", "未缴本金"):
            table.add_column(header, justify="right")
        for header in ("滞纳金", "已缴滞纳金", "减免滞纳金", "未缴滞纳金", "逾期天数"):
            table.add_column(header, justify="right")
        table.add_column("诉讼时效届满")
        for line in statement.lines:
            p = line.position
            table.add_row(
                line.fee_item,
                f"{line.period_start:%Y-%m-%d}~{line.period_end:%Y-%m-%d}",
                f"{line.due_date:%Y-%m-%d}",
                format_yuan(p.principal),
                format_yuan(p.principal_paid),
                format_yuan(p.principal_waived),
                format_yuan(p.principal_outstanding),
                format_yuan(p.penalty_accrued),
                format_yuan(p.penalty_paid),
                format_yuan(p.penalty_waived),
                format_yuan(p.penalty_outstanding),
                str(p.days_overdue),
                f"{line.limitation_expires_on:%Y-%m-%d}",
            )
        out.print(table)
        out.print(
            f"未缴本金合计 ¥{format_yuan(statement.principal_outstanding_fen)}　"
            f"未缴滞纳金合计 ¥{format_yuan(statement.penalty_outstanding_fen)}　"
            f"欠费合计 ¥{format_yuan(statement.total_outstanding_fen)}　"
            f"预存余额 ¥{format_yuan(statement.unapplied_credit_fen)}"
        )
        warning = penalty_bound_warning(penalty_bound(statement))
        if warning:
            out.print(warning)
