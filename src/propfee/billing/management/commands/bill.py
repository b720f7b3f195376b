"""`propfee bill --period YYYY-MM [--estate CODE] [--dry-run]`: bill one month for one estate
or every estate with a contract, printing a summary by building; exit status 1 on errors."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from propfee.billing.models import BillingRun, Contract
from propfee.billing.periods import PeriodError, period_parse
from propfee.billing.selectors import (
    BuildingBilling,
    billing_cycle_starts,
    billing_run_buildings,
    contract_terms_on,
)
from propfee.billing.services import BillingError, billing_run_post, billing_run_preview
from propfee.core.models import User
from propfee.core.money import format_yuan
from propfee.core.roles import PermissionDenied
from propfee.estates.commandline import command_actor, command_company
from propfee.estates.models import Company, Estate
from propfee.estates.selectors import estates_visible_to


class Command(BaseCommand):
    help = "按月计费：为项目生成应收（同一月份重复计费不会重复生成）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, metavar="YYYY-MM", help="计费月份")
        parser.add_argument(
            "--estate", metavar="CODE", help="只为该项目计费（默认：所有有合同的项目）"
        )
        parser.add_argument("--dry-run", action="store_true", help="只预览，不写入")
        parser.add_argument("--company", help="物业公司编码（只有一家公司时可省略）")
        parser.add_argument("--user", help="以该员工的身份计费（检查其权限与负责范围）")

    def handle(self, *args: Any, **options: Any) -> None:
        period = options["period"]
        try:
            period_parse(period)
        except PeriodError as exc:
            raise CommandError(str(exc)) from exc
        actor = command_actor(options.get("user"))
        company = command_company(options.get("company"), actor)
        estates = self._estates(options.get("estate"), company, actor)
        dry_run = options["dry_run"]
        out = Console(file=self.stdout, width=100, highlight=False, soft_wrap=True)

        results: list[tuple[Estate, int, int, int, list[BuildingBilling], bool]] = []
        progress = Progress(
            TextColumn("计费中"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
            disable=len(estates) < 2,
        )
        try:
            with progress:
                task = progress.add_task("bill", total=len(estates))
                for estate in estates:
                    results.append(self._bill(estate, period, actor, dry_run))
                    progress.advance(task)
        except PermissionDenied as exc:
            raise CommandError("没有计费的权限（需要：管理收费与计费）") from exc
        except BillingError as exc:
            raise CommandError(f"计费失败：{exc}") from exc

        mode = "（试运行，未写入）" if dry_run else ""
        for estate, units, count, already, buildings, cycle_start in results:
            total = sum(b.total_fen for b in buildings)
            out.print(
                f"{estate.code} {estate.name} {period}{mode}：计费房屋 {units}，"
                f"新增应收 {count} 笔，合计 ¥{format_yuan(total)}，已计费 {already} 笔"
            )
            if not cycle_start:
                out.print("本月不是缴费周期的起始月，不生成应收")
            if buildings:
                table = Table("楼栋", "笔数", "金额(元)", title=None, show_lines=False)
                for b in buildings:
                    table.add_row(b.building_name, str(b.charge_count), format_yuan(b.total_fen))
                table.add_row("合计", str(count), format_yuan(total))
                out.print(table)

    def _bill(
        self, estate: Estate, period: str, actor: User | None, dry_run: bool
    ) -> tuple[Estate, int, int, int, list[BuildingBilling], bool]:
        if dry_run:
            preview = billing_run_preview(estate=estate, period=period, actor=actor)
            return (
                estate,
                preview.unit_count,
                preview.charge_count,
                preview.already_billed,
                preview.by_building,
                preview.cycle_start,
            )
        run: BillingRun = billing_run_post(estate=estate, period=period, actor=actor)
        buildings = billing_run_buildings(run=run) if run.charge_count else []
        cycle_start = run.unit_count > 0 or run.already_billed_count > 0 or self._cycle_starts(run)
        return (
            estate,
            run.unit_count,
            run.charge_count,
            run.already_billed_count,
            buildings,
            cycle_start,
        )

    def _cycle_starts(self, run: BillingRun) -> bool:
        terms = contract_terms_on(estate=run.estate, day=run.period_start)
        return terms is None or billing_cycle_starts(terms=terms, period_start=run.period_start)

    def _estates(self, code: str | None, company: Company, actor: User | None) -> list[Estate]:
        estates = Estate.objects.filter(company=company)
        if actor is not None:
            estates = estates_visible_to(actor).filter(company=company)
        if code is not None:
            estate = estates.filter(code=code.strip().upper()).first()
            if estate is None:
                raise CommandError(f"项目不存在：{code}")
            return [estate]
        with_contract = Contract.objects.values("estate_id")
        found = list(estates.filter(pk__in=with_contract).order_by("code"))
        if not found:
            raise CommandError("没有签订物业服务合同的项目，无法计费")
        return found
