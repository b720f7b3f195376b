"""Personal data rules: phone numbers and resident ID numbers — validation, normalising, masking.

Demo and test data use the reserved range 100xxxxxxxx: eleven digits that look like a mobile
number but can never be dialled in mainland China (10 is Beijing's area code and no Beijing
number starts with 0). The messaging layer refuses to send to it.
"""

from __future__ import annotations

import re

import phonenumbers

DEMO_PHONE_PREFIX = "100"
_DEMO_PHONE_RE = re.compile(r"^100\d{8}$")
_SEPARATORS_RE = re.compile(r"[\s\-()（）]")
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


class PersonalDataError(ValueError):
    """A phone number or ID number that is not well formed; the message is for the user."""


def phone_normalize(raw: str) -> str:
    """A mainland mobile or fixed-line number as digits (fixed lines keep their 0 area code).

    Accepts spaces, dashes and a +86/0086 prefix. Raises PersonalDataError otherwise.
    """
    text = _SEPARATORS_RE.sub("", str(raw).strip())
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    if not text.isdigit():
        raise PersonalDataError(f"手机号格式不正确：{raw}")
    if _DEMO_PHONE_RE.match(text):
        return text
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise PersonalDataError(f"手机号格式不正确：{raw}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise PersonalDataError(f"手机号格式不正确：{raw}")
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    digits = re.sub(r"\D", "", national)
    return digits


def phone_is_demo(number: str) -> bool:
    """Whether `number` is in the reserved, never-dialable demo range."""
    return bool(_DEMO_PHONE_RE.match(number))


def phone_mask(number: str) -> str:
    """13812345678 → 138****5678; short numbers keep only their last 4 digits."""
    if not number:
        return ""
    if len(number) >= 11:
        return f"{number[:3]}****{number[-4:]}"
    return "*" * max(0, len(number) - 4) + number[-4:]


def id_number_normalize(raw: str) -> str:
    """An 18-character resident ID number with a valid check digit, upper-case X."""
    text = str(raw).strip().upper()
    if not _ID_RE.match(text):
        raise PersonalDataError(f"身份证号格式不正确：{raw}")
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != text[17]:
        raise PersonalDataError(f"身份证号校验位不正确：{raw}")
    return text


def id_number_mask(number: str) -> str:
    """110101199003071234 → 110***********1234."""
    if not number:
        return ""
    return f"{number[:3]}{'*' * (len(number) - 7)}{number[-4:]}"


def email_mask(email: str) -> str:
    """zhang.san@example.com → z***@example.com."""
    if not email or "@" not in email:
        return email
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"
