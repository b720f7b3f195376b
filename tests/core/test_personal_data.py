"""Phones, ID numbers and their masks."""

import pytest

from propfee.core.personal_data import (
    PersonalDataError,
    email_mask,
    id_number_mask,
    id_number_normalize,
    phone_is_demo,
    phone_mask,
    phone_normalize,
)


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("010-62345678", "01062345678"),
        ("10012345678", "10012345678"),
    ],
)
def test_phone_normalize(raw, number):
    assert phone_normalize(raw) == number


@pytest.mark.parametrize("raw", ["1380013800", "138001380001", "12345678901", "abc", "138o0138000"])
def test_phone_normalize_rejects(raw):
    with pytest.raises(PersonalDataError, match=f"手机号格式不正确：{raw}"):
        phone_normalize(raw)


def test_demo_range_is_recognised():
    assert phone_is_demo("10012345678")
    assert not phone_is_demo("13800138000")


def test_masks():
    assert phone_mask("13800138000") == "138****8000"
    assert phone_mask("62345678") == "****5678"
    assert id_number_mask("11010519491231002X") == "110***********002X"
    assert email_mask("zhang.san@example.com") == "z***@example.com"
    assert phone_mask("") == ""


def test_id_number_check_digit():
    assert id_number_normalize("11010519491231002x") == "11010519491231002X"
    with pytest.raises(PersonalDataError, match="身份证号校验位不正确"):
        id_number_normalize("110105194912310021")
    with pytest.raises(PersonalDataError, match="身份证号格式不正确"):
        id_number_normalize("1101051949")
