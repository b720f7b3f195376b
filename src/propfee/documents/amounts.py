"""Amounts in words (金额大写): the Chinese capital numerals printed on receipts and demands,
written as the banks' rules for 票据 want them (壹仟贰佰叁拾肆元伍角整)."""

from __future__ import annotations

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")


def _integer_in_words(number: int) -> str:
    """12345 → 壹万贰仟叁佰肆拾伍: one 零 for any run of zeros between non-zero digits; a
    group of four zeros drops its 万/亿."""
    digits = str(number)
    length = len(digits)
    words: list[str] = []
    zero_pending = False
    for index, char in enumerate(digits):
        position = length - index - 1
        digit = int(char)
        if digit == 0:
            zero_pending = True
        else:
            if zero_pending and words:
                words.append("零")
            zero_pending = False
            words.append(_DIGITS[digit] + _PLACES[position % 4])
        if position % 4 == 0 and position > 0:
            group = digits[max(0, index - 3) : index + 1]
            if int(group):
                words.append(_GROUPS[position // 4])
    return "".join(words)


def yuan_in_words(fen: int) -> str:
    """An amount in fen in capital numerals: 123450 → 壹仟贰佰叁拾肆元伍角整,
    1640902 → 壹万陆仟肆佰零玖元零贰分, 0 → 零元整. 整 follows 元 or 角, never 分; 零 stands
    after 元 when the yuan end in zero and 角 or 分 follow."""
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise TypeError("fen must be an int")
    if fen < 0:
        return "负" + yuan_in_words(-fen)
    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)
    if fen == 0:
        return "零元整"
    words = _integer_in_words(yuan) + "元" if yuan else ""
    if jiao == 0 and cents == 0:
        return words + "整"
    if yuan and yuan % 10 == 0:
        words += "零"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif yuan and not words.endswith("零"):
        words += "零"
    if cents:
        words += _DIGITS[cents] + "分"
    else:
        words += "整"
    return words
