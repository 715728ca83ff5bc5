"""One masking pattern everywhere: names, phones, ID numbers."""

import pytest

from redcross.masking import ANONYMOUS_DISPLAY_NAME, mask_id_number, mask_person_name, mask_phone


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳娜", "欧阳*"),
        ("司马相如", "司马**"),
        ("诸葛亮", "诸葛*"),
        ("张", "张*"),
        ("王喆", "王*"),
        ("  李 堃  ", "李*"),
        ("John Smith", "J*** S****"),
        ("Anna", "A***"),
        ("", ""),
        (None, ""),
        ("   ", ""),
    ],
)
def test_person_names(name, masked):
    assert mask_person_name(name) == masked


def test_transliterated_name_keeps_the_dot_and_the_surname_only():
    masked = mask_person_name("买买提·艾力")
    assert masked.startswith("买") and "·" in masked
    assert "艾" not in masked and "力" not in masked


def test_a_name_never_survives_masking():
    for name in ["王小明", "欧阳修远", "Li Lei", "诸葛孔明"]:
        masked = mask_person_name(name)
        assert masked != name
        assert len(masked.replace(" ", "")) == len(name.replace(" ", ""))


def test_malicious_and_huge_input_is_masked_not_echoed():
    masked = mask_person_name("<script>alert(1)</script>")
    assert "script" not in masked[1:] and "alert" not in masked
    huge = "张" + "三" * 10_000
    assert mask_person_name(huge) == "张" + "*" * 10_000


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+86 13812345678", "+86 138****5678"),
        ("010-62345678", "010-****5678"),
        ("0571-8888888", "0571-***8888"),
        ("12345", "***45"),
        ("12", "**"),
        ("", ""),
        (None, ""),
    ],
)
def test_phones(phone, masked):
    assert mask_phone(phone) == masked


def test_phone_masking_never_shows_the_middle_digits():
    assert "1234" not in mask_phone("13812345678")
    assert mask_phone("x" * 10_000 + "13812345678").endswith("5678")


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("11010119900307447X", "110***********447X"),
        ("11010119900307447x", "110***********447X"),
        ("110101900307447", "110********7447"),
        ("E12345678", "E******78"),
        ("AB1", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_id_numbers(number, masked):
    assert mask_id_number(number) == masked


def test_id_masking_hides_the_birth_date():
    assert "19900307" not in mask_id_number("11010119900307447X")


def test_anonymous_display_name():
    assert str(ANONYMOUS_DISPLAY_NAME) == "爱心人士"
