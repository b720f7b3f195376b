"""Money helpers: integer fen inside, two-place yuan outside, ROUND_HALF_UP once."""

from decimal import Decimal

import pytest

from propfee.core.money import fen_to_yuan, format_yuan, round_half_up, yuan_to_fen


@pytest.mark.parametrize(
    ("text", "fen"),
    [("1234.50", 123450), ("0.01", 1), ("1,089.5", 108950), ("-3.20", -320), (7, 700)],
)
def test_yuan_to_fen(text, fen):
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["12o", "1.005", "", "NaN", "Infinity"])
def test_yuan_to_fen_rejects(text):
    with pytest.raises(ValueError):
        yuan_to_fen(text)


def test_float_refused():
    with pytest.raises(TypeError):
        yuan_to_fen(1.5)  # type: ignore[arg-type]


def test_round_half_up_and_back():
    assert round_half_up(Decimal("2.5")) == 3
    assert round_half_up(Decimal("-2.5")) == -3
    assert round_half_up(Decimal("2.4999")) == 2
    assert fen_to_yuan(123450) == Decimal("1234.50")
    assert format_yuan(123456789) == "1,234,567.89"
