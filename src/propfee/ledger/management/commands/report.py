"""`propfee report aging|collection-rate`: the aging table (账龄分析) and the four collection
rates (收缴率) of the estates a staff user may see, as a table or JSON. A thin caller of
`propfee.ledger.rates`.

Without `--user` the report covers every estate (an operator at the console)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from propfee.billing.periods import PeriodError, period_label, period_parse
from propfee.core.models import User
from propfee.core.money import fen_to_yuan, format_yuan
from propfee.estates.models import Estate
from propfee.estates.selectors import estates_visible_to
from propfee.ledger.rates import (
    CollectionRate,
    aging_summary,
    arrears_clearance_rate,
    current_period_rate,
    household_rate,
    overall_rate,
)


def _date(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise CommandError(f"{name} 日期格式应为 YYYY-MM-DD：{value}") from exc


class Command(BaseCommand):
    help = "报表：账龄分析（aging）与收缴率（collection-rate）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "kind",
            choices=["aging", "collection-rate"],
            help="aging：账龄；collection-rate：收缴率",
        )
        parser.add_argument("--estate", help="项目编码（默认：全部可见项目）")
        parser.add_argument("--as-of", dest="as_of", help="统计日期 YYYY-MM-DD（默认今天）")
        parser.add_argument(
            "--period", help="当期/户数收缴率的计费月份 YYYY-MM（默认统计日所在月）"
        )
        parser.add_argument("--start", help="清欠率/综合收缴率的开始日期（默认统计日所在月1日）")
        parser.add_argument("--end", help="清欠率/综合收缴率的结束日期（默认统计日期）")
        parser.add_argument("--format", choices=["table", "json"], default="table")
        parser.add_argument("--user", help="以该员工的身份统计（只含其负责范围）")

    def handle(self, *args: Any, **options: Any) -> None:
        user = self._user(options.get("user"))
        estate = self._estate(options.get("estate"), user)
        as_of = _date(options.get("as_of"), "--as-of") or timezone.localdate()
        if options["kind"] == "aging":
            self._aging(user, estate, as_of, options["format"])
        else:
            self._rates(user, estate, as_of, options)

    # --- aging -------------------------------------------------------------------------------

    def _aging(self, user: User, estate: Estate | None, as_of: dt.date, fmt: str) -> None:
        buckets = aging_summary(user=user, as_of=as_of, estate=estate)
        if fmt == "json":
            data = {
                "as_of": as_of.isoformat(),
                "estate": estate.code if estate else None,
                "buckets": [
                    {
                        "label": b.label,
                        "min_days": b.min_days,
                        "max_days": b.max_days,
                        "charges": b.charges,
                        "units": b.units,
                        "principal": str(fen_to_yuan(b.principal_fen)),
                    }
                    for b in buckets
                ],
                "total": str(fen_to_yuan(sum(b.principal_fen for b in buckets))),
            }
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        title = f"账龄分析 {estate.name if estate else '全部项目'} · 截至 {as_of:%Y-%m-%d}"
        table = Table(title=title)
        table.add_column("账龄(天)")
        table.add_column("笔数", justify="right")
        table.add_column("户数", justify="right")
        table.add_column("欠费本金(元)", justify="right")
        for b in buckets:
            table.add_row(b.label, str(b.charges), str(b.units), format_yuan(b.principal_fen))
        table.add_row(
            "合计",
            str(sum(b.charges for b in buckets)),
            "",
            format_yuan(sum(b.principal_fen for b in buckets)),
        )
        self._print(table)

    # --- rates -------------------------------------------------------------------------------

    def _rates(
        self, user: User, estate: Estate | None, as_of: dt.date, options: dict[str, Any]
    ) -> None:
        try:
            period = period_label(period_parse(options.get("period") or f"{as_of:%Y-%m}"))
        except PeriodError as exc:
            raise CommandError(str(exc)) from exc
        start = _date(options.get("start"), "--start") or as_of.replace(day=1)
        end = _date(options.get("end"), "--end") or as_of
        if start > end:
            raise CommandError("开始日期不能晚于结束日期")
        rates = [
            current_period_rate(user=user, period=period, as_of=as_of, estate=estate),
            arrears_clearance_rate(user=user, start=start, end=end, estate=estate),
            overall_rate(user=user, start=start, end=end, estate=estate),
            household_rate(user=user, period=period, as_of=as_of, estate=estate),
        ]
        if options["format"] == "json":
            data = {
                "estate": estate.code if estate else None,
                "as_of": as_of.isoformat(),
                "period": period,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "rates": [self._json(rate) for rate in rates],
            }
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        title = (
            f"收缴率 {estate.name if estate else '全部项目'} · 计费月份 {period} · "
            f"区间 {start:%Y-%m-%d} 至 {end:%Y-%m-%d} · 截至 {as_of:%Y-%m-%d}"
        )
        table = Table(title=title)
        table.add_column("指标")
        table.add_column("分子", justify="right")
        table.add_column("分母", justify="right")
        table.add_column("收缴率", justify="right")
        for rate in rates:
            num, den = self._figures(rate)
            table.add_row(rate.label, num, den, rate.percent)
        self._print(table)

    @staticmethod
    def _figures(rate: CollectionRate) -> tuple[str, str]:
        if rate.kind == "household":
            return f"{rate.numerator} 户", f"{rate.denominator} 户"
        return f"¥{format_yuan(rate.numerator)}", f"¥{format_yuan(rate.denominator)}"

    @staticmethod
    def _json(rate: CollectionRate) -> dict[str, Any]:
        money = rate.kind != "household"
        return {
            "kind": rate.kind,
            "label": rate.label,
            "numerator": str(fen_to_yuan(rate.numerator)) if money else rate.numerator,
            "denominator": str(fen_to_yuan(rate.denominator)) if money else rate.denominator,
            "ratio": str(rate.ratio) if rate.ratio is not None else None,
        }

    # --- helpers -----------------------------------------------------------------------------

    def _print(self, table: Table) -> None:
        out = Console(file=self.stdout, width=140, highlight=False)  # type: ignore[arg-type]
        out.print(table)

    def _user(self, username: str | None) -> User:
        if not username:
            # The console operator: every estate (an unsaved superuser, never stored).
            return User(username="console", is_superuser=True, is_active=True)
        try:
            return User.objects.select_related("company").get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError(f"员工账号不存在：{username}") from exc

    def _estate(self, code: str | None, user: User) -> Estate | None:
        if code is None:
            return None
        found = list(estates_visible_to(user).filter(code=code.strip().upper())[:2])
        if not found:
            raise CommandError(f"项目不存在：{code}")
        if len(found) > 1:
            raise CommandError(f"多家公司有项目 {code}，请用 --user 指定员工")
        return found[0]
