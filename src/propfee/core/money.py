"""Money: integer fen (分) inside, Decimal yuan with two places at the edges. No floats."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models

FEN_PER_YUAN = 100
_CENT = Decimal("0.01")


class MoneyField(models.BigIntegerField):
    """An amount in integer fen. Field names end in `_fen`."""


def round_half_up(value: Decimal) -> int:
    """Round a Decimal number of fen to an integer fen, half up (the one rounding rule)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def floor_fen(value: Decimal) -> int:
    """The largest whole fen not above `value`: for a ceiling such as the penalty cap k × P,
    which a rounded figure must never exceed (1844.8 → 1844)."""
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def yuan_to_fen(value: Decimal | str | int) -> int:
    """'1234.50' → 123450. Raises ValueError for anything that is not a plain yuan amount or
    has more than two decimal places."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    fen = amount * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise ValueError(f"more than two decimal places: {value!r}")
    return int(fen)


def fen_to_yuan(fen: int) -> Decimal:
    """123450 → Decimal('1234.50')."""
    return (Decimal(fen) / FEN_PER_YUAN).quantize(_CENT)


def format_yuan(fen: int) -> str:
    """123450 → '1,234.50'."""
    return f"{fen_to_yuan(fen):,.2f}"
