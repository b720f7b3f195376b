"""金额大写: worked examples from the banks' rules for writing amounts (正确填写票据和结算凭证
的基本规定) and the edge cases."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from propfee.documents.amounts import yuan_in_words


@pytest.mark.parametrize(
    ("fen", "words"),
    [
        (123450, "壹仟贰佰叁拾肆元伍角整"),
        (1640902, "壹万陆仟肆佰零玖元零贰分"),
        (32504, "叁佰贰拾伍元零肆分"),
        (168032, "壹仟陆佰捌拾元零叁角贰分"),
        (10700053, "壹拾万零柒仟元零伍角叁分"),
        (0, "零元整"),
        (50, "伍角整"),
        (5, "伍分"),
        (1000, "壹拾元整"),
        (100010, "壹仟元零壹角整"),
        (105, "壹元零伍分"),
        (2000000, "贰万元整"),
        (1001000000, "壹仟零壹万元整"),
        (10000000100, "壹亿零壹元整"),
        (30900, "叁佰零玖元整"),
        (-123450, "负壹仟贰佰叁拾肆元伍角整"),
    ],
)
def test_worked_examples(fen, words):
    assert yuan_in_words(fen) == words


def test_floats_are_refused():
    with pytest.raises(TypeError):
        yuan_in_words(12.5)  # type: ignore[arg-type]


@given(st.integers(min_value=1, max_value=10**13))
def test_shape(fen):
    words = yuan_in_words(fen)
    assert not words.startswith("零")
    assert "零零" not in words
    assert words.endswith(("整", "分"))
    assert not words.endswith("分整")
