"""`propfee demo [--seed N] [--as-of D] [--history-months N] [--force]`: load the demo company
安家物业 (see estates/demo/) with its account history (payments/demo.py) and print what was
created and the demo logins."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone, translation
from rich.console import Console
from rich.table import Table

from propfee.collection.demo import DemoCollection, demo_collection_load
from propfee.estates.constants import UnitStatus, UnitType
from propfee.estates.demo import (
    DEMO_COMPANY_CODE,
    DEMO_PASSWORD,
    DEMO_SEED,
    DemoCompany,
    DemoError,
    DemoLogin,
    demo_company_delete,
    demo_company_exists,
    demo_company_load,
)
from propfee.payments.demo import (
    DEMO_HISTORY_MONTHS,
    DemoHistory,
    demo_history_delete,
    demo_history_load,
)

# Without a terminal (pipes, tests), rich would wrap Chinese tables at 80 columns.
_PLAIN_WIDTH = 110


def console_for(stream: Any) -> Console:
    """A rich console writing to a command's stdout (a terminal, a pipe or a test's buffer)."""
    console = Console(file=stream, highlight=False)
    if not console.is_terminal:
        console.width = _PLAIN_WIDTH
    return console


def summary_table(demo: DemoCompany) -> Table:
    """Units by estate, type and status, and the people and relations behind them."""
    with translation.override("zh-hans"):
        types = [(t, str(t.label)) for t in UnitType if t != UnitType.OFFICE]
        statuses = [(s, str(s.label)) for s in UnitStatus]
    table = Table(title=f"演示数据 Demo data · {demo.company.name}（种子 seed {demo.seed}）")
    table.add_column("项目 Estate")
    table.add_column("楼栋 Buildings", justify="right")
    for _value, label in types + statuses:
        table.add_column(label, justify="right")
    table.add_column("合计 Units", justify="right")
    by_type: Counter[tuple[str, str]] = Counter()
    by_status: Counter[tuple[str, str]] = Counter()
    for (estate_code, unit_type, status), n in demo.unit_counts().items():
        by_type[estate_code, unit_type] += n
        by_status[estate_code, status] += n
    for estate in demo.estates:
        buildings = sum(b.estate is estate for b in demo.buildings)
        row = [f"{estate.code} {estate.name}", str(buildings)]
        row += [str(by_type[estate.code, value]) for value, _label in types]
        row += [str(by_status[estate.code, value]) for value, _label in statuses]
        row.append(str(sum(by_type[estate.code, value] for value, _label in types)))
        table.add_row(*row)
    c = demo.counts
    table.caption = (
        f"业主/住户 parties {c['parties']} · 电话 phones {c['phones']} · "
        f"住户关系 occupancies {c['occupancies']}（历史 closed {c['closed_occupancies']}）· "
        f"租户缴费 tenant payers {c['tenant_payers']} · 共有人 co-owners {c['co_owners']} · "
        f"开发商持有 developer-held {c['developer_units']}"
    )
    return table


def history_line(history: DemoHistory) -> str:
    """One line on the demo's account history, for the demo and quickstart commands."""
    if not history.months:
        return "未生成演示账务（账单与收款） / No billing or payment history"
    return (
        f"演示账务：{history.periods[0]} 至 {history.periods[-1]} 共 {history.months} 个月的"
        f"账单与收款（应收 {history.charges} 笔，实收 {history.payments} 笔，"
        f"减免 {history.waivers} 笔），截至 {history.as_of:%Y-%m-%d} / "
        f"{history.months} months of bills and payments up to {history.as_of:%Y-%m-%d}"
    )


def history_arguments_add(parser: CommandParser) -> None:
    """--as-of and --history-months, shared by the demo and quickstart commands."""
    parser.add_argument(
        "--as-of",
        dest="as_of",
        type=_date,
        help="演示账务的截止日期 YYYY-MM-DD（默认今天） / last day of the demo history",
    )
    parser.add_argument(
        "--history-months",
        type=int,
        default=DEMO_HISTORY_MONTHS,
        help=(
            f"演示账务的月数（默认 {DEMO_HISTORY_MONTHS}，0 = 不生成账单与收款） / "
            "months of bills and payments"
        ),
    )


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{value}") from exc


def collection_line(collection: DemoCollection) -> str:
    """One line on the demo's collection history, for the demo and quickstart commands."""
    if not collection.runs:
        return "未生成演示催收记录 / No collection history"
    return (
        f"演示催收：{collection.runs} 次每周催收批次，在催案件 {collection.cases} 件，"
        f"分布于 {len(collection.stages)} 个催收阶段 / {collection.runs} weekly collection runs, "
        f"{collection.cases} open cases at {len(collection.stages)} stages"
    )


def demo_load_with_history(
    *, seed: int, options: dict[str, Any]
) -> tuple[DemoCompany, DemoHistory, DemoCollection]:
    """The demo company, its account history, then its collection history (weekly runs over
    the last weeks, see collection/demo.py), in the caller's transaction."""
    demo = demo_company_load(seed=seed)
    history = demo_history_load(
        company=demo.company,
        as_of=options.get("as_of") or timezone.localdate(),
        seed=seed,
        months=max(0, options.get("history_months", DEMO_HISTORY_MONTHS)),
    )
    collection = (
        demo_collection_load(company=demo.company, as_of=history.as_of)
        if history.months
        else DemoCollection()
    )
    return demo, history, collection


def logins_table(logins: list[DemoLogin]) -> Table:
    table = Table(title=f"演示账号 Demo logins（密码 password: {DEMO_PASSWORD}）")
    table.add_column("用户名 Username", style="bold")
    table.add_column("姓名 Name")
    table.add_column("角色")
    table.add_column("Role")
    table.add_column("负责范围 Scope")
    for login in logins:
        table.add_row(login.username, login.display_name, login.role_zh, login.role_en, login.scope)
    return table


class Command(BaseCommand):
    help = "加载演示公司“安家物业”（约 3000 户、各角色演示账号） / Load the demo company"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=DEMO_SEED, help=f"随机种子（默认 {DEMO_SEED}）"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="演示公司已存在时先删除再重新生成 / delete and reload an existing demo company",
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="--force 时不再确认 / do not ask for confirmation",
        )
        history_arguments_add(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        console = console_for(self.stdout)
        exists = demo_company_exists()
        if exists and not options["force"]:
            raise CommandError(
                f"演示公司 {DEMO_COMPANY_CODE} 已存在，未做任何修改；如需重新生成请加 --force"
                f"（将删除现有演示数据）。\n"
                f"The demo company {DEMO_COMPANY_CODE} already exists; nothing was changed. "
                f"Use --force to delete it and load it again."
            )
        if exists and options["interactive"]:
            answer = input(
                f"将删除演示公司 {DEMO_COMPANY_CODE} 的全部数据（房屋、业主、账单、收款、演示账号）"
                f"并重新生成。"
                f"输入 yes 继续 / This deletes all demo company data. Type 'yes' to continue: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("已取消 / Cancelled")
        started = time.perf_counter()
        try:
            # One transaction: a failed reload leaves the previous demo company in place.
            with transaction.atomic():
                if exists:
                    demo_history_delete()
                    demo_company_delete()
                demo, history, collection = demo_load_with_history(
                    seed=options["seed"], options=options
                )
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        console.print(summary_table(demo))
        console.print(history_line(history))
        console.print(collection_line(collection))
        console.print(logins_table(demo.logins))
        console.print(f"用时 {elapsed:.1f} 秒 / loaded in {elapsed:.1f} s")
