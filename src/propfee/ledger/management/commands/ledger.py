"""`propfee ledger verify`: replay every account with the engine and compare with the stored
current allocations (核销); print each mismatch and exit with status 1 if there is any.

Django commands do not nest, so the action (`verify`) is a positional argument."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from propfee.billing.models import Charge
from propfee.core.money import format_yuan
from propfee.estates.models import Unit
from propfee.ledger.constants import Component
from propfee.ledger.selectors import (
    AllocationKey,
    account_facts,
    allocations_current,
    allocations_expected,
)
from propfee.payments.models import Payment

CHUNK = 500


def _lines(keys: Counter[AllocationKey]) -> str:
    if not keys:
        return "（无）"
    return "；".join(
        f"收款#{payment_id} {Component(component).label} ¥{format_yuan(fen)}"
        + (f" ×{n}" if n > 1 else "")
        for (payment_id, _charge_id, component, fen), n in sorted(keys.items())
    )


class Command(BaseCommand):
    help = "核销账目检查：用核销引擎重算每户账目，并与已保存的核销记录比较（verify）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"], help="verify：重算并比较核销")
        parser.add_argument("--chunk", type=int, default=CHUNK, help="每批处理的房屋数")

    def handle(self, *args: Any, **options: Any) -> None:
        chunk = max(1, options["chunk"])
        out = Console(file=self.stdout, width=120, highlight=False, soft_wrap=True)
        unit_ids = sorted(
            set(Charge.objects.order_by().values_list("unit_id", flat=True).distinct())
            | set(Payment.objects.order_by().values_list("unit_id", flat=True).distinct())
        )
        mismatched_units = 0
        progress = Progress(
            TextColumn("核对中"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        with progress:
            task = progress.add_task("verify", total=len(unit_ids))
            for start in range(0, len(unit_ids), chunk):
                ids = unit_ids[start : start + chunk]
                facts = account_facts(unit_ids=ids)
                stored = allocations_current(unit_ids=ids)
                codes: dict[int, str] | None = None
                for unit_id in ids:
                    expected = allocations_expected(facts[unit_id].replay())
                    if expected == stored[unit_id]:
                        continue
                    if codes is None:
                        codes = dict(Unit.objects.filter(pk__in=ids).values_list("pk", "code"))
                    mismatched_units += 1
                    self._report(out, codes[unit_id], expected, stored[unit_id])
                progress.advance(task, len(ids))

        if mismatched_units:
            out.print(f"核对 {len(unit_ids)} 户：{mismatched_units} 户的核销记录与重算结果不一致")
            raise CommandError("核销记录不一致", returncode=1)
        out.print(f"核对 {len(unit_ids)} 户：核销记录与重算结果一致")

    def _report(
        self,
        out: Console,
        unit_code: str,
        expected: Counter[AllocationKey],
        stored: Counter[AllocationKey],
    ) -> None:
        by_charge_expected: dict[int, Counter[AllocationKey]] = defaultdict(Counter)
        by_charge_stored: dict[int, Counter[AllocationKey]] = defaultdict(Counter)
        for key, n in expected.items():
            by_charge_expected[key[1]][key] = n
        for key, n in stored.items():
            by_charge_stored[key[1]][key] = n
        for charge_id in sorted(by_charge_expected.keys() | by_charge_stored.keys()):
            want, have = by_charge_expected[charge_id], by_charge_stored[charge_id]
            if want != have:
                out.print(
                    f"不一致 房屋 {unit_code} 应收#{charge_id}："
                    f"应为 {_lines(want)}；已存 {_lines(have)}"
                )
