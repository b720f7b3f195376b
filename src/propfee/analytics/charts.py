"""The data of the report charts (Apache ECharts), embedded in the page with `json_script` and
drawn by static/analytics/charts.js. Amounts are yuan strings and rates percent strings
(exact decimals, never floats); a rate without a denominator is null (no point)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from propfee.core.money import fen_to_yuan
from propfee.ledger.rates import CollectionRate


def percent_value(rate: CollectionRate) -> str | None:
    """0.3226 → "32.26"; no rate → None."""
    if rate.ratio is None:
        return None
    return str((rate.ratio * 100).quantize(Decimal("0.01")))


def chart_data(
    *,
    kind: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[str | None]]],
    value_format: str,
) -> dict[str, Any]:
    """`kind` "bar" or "line"; `value_format` "yuan" or "percent"."""
    return {
        "kind": kind,
        "format": value_format,
        "categories": list(categories),
        "series": [{"name": name, "data": list(values)} for name, values in series],
    }


def yuan_values(amounts_fen: Sequence[int]) -> list[str | None]:
    return [str(fen_to_yuan(fen)) for fen in amounts_fen]
