"""ID numbers and unified social credit codes via python-stdnum; phone numbers."""

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import ric, uscc

from redcross.validators import (
    normalize_cn_id_number,
    normalize_cn_phone,
    normalize_uscc,
    validate_cn_id_number,
    validate_cn_phone,
    validate_uscc,
)


def _id(body17: str) -> str:
    # stdnum's ric.calc_check_digit takes the number with a check-digit placeholder
    return body17 + ric.calc_check_digit(body17 + "0")


def _uscc(body17: str) -> str:
    return body17 + uscc.calc_check_digit(body17)


VALID_ID = _id("11010519491231002")  # invented: Beijing Chaoyang, born 1949-12-31
VALID_USCC = _uscc("51330100MJ0000001")


def _code(validator, value) -> str:
    with pytest.raises(ValidationError) as excinfo:
        validator(value)
    return excinfo.value.code


def test_valid_id_numbers_pass_in_any_typed_form():
    validate_cn_id_number(VALID_ID)
    validate_cn_id_number(f" {VALID_ID[:6]} {VALID_ID[6:14]} {VALID_ID[14:]} ")
    candidates = (_id(f"330106199001011{n:02d}") for n in range(100))
    x_id = next(number for number in candidates if number.endswith("X"))
    validate_cn_id_number(x_id.lower())
    assert normalize_cn_id_number(x_id.lower()) == x_id


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "invalid_length"),
        ("1234", "invalid_length"),
        ("1" * 19, "invalid_length"),
        ("11010519491231002A", "invalid_format"),
        ("11010519491332002" + "0", "invalid_birth_date"),
        ("<script>alert(1)</script>", "invalid_length"),
    ],
)
def test_invalid_id_numbers_name_the_problem(value, code):
    assert _code(validate_cn_id_number, value) == code


def test_wrong_id_check_digit():
    wrong = VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1")
    assert _code(validate_cn_id_number, wrong) == "invalid_checksum"


def test_huge_id_input_is_refused_cleanly():
    assert _code(validate_cn_id_number, "1" * 10_000) == "invalid_length"


def test_valid_credit_code_passes_and_normalises():
    validate_uscc(VALID_USCC)
    validate_uscc(VALID_USCC.lower())
    assert normalize_uscc(f"{VALID_USCC[:9]}-{VALID_USCC[9:].lower()}") == VALID_USCC


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "invalid_length"),
        ("91330100", "invalid_length"),
        ("51330100MJ0000001I", "invalid_format"),
        ("X" * 10_000, "invalid_length"),
    ],
)
def test_invalid_credit_codes(value, code):
    assert _code(validate_uscc, value) == code


def test_wrong_credit_code_check_character():
    wrong = VALID_USCC[:-1] + ("0" if VALID_USCC[-1] != "0" else "1")
    assert _code(validate_uscc, wrong) == "invalid_checksum"


@pytest.mark.parametrize(
    ("value", "compact"),
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("010-62345678", "010-62345678"),
        ("(0571) 8600 1234", "0571-86001234"),
        ("0571-86001234 转 123", "0571-86001234-123"),
    ],
)
def test_valid_phones(value, compact):
    validate_cn_phone(value)
    assert normalize_cn_phone(value) == compact


@pytest.mark.parametrize(
    "value",
    ["", "12345678901", "1381234567", "138123456789", "62345678", "abc", "1" * 10_000, "<b>13812345678</b>"],
)
def test_invalid_phones(value):
    assert _code(validate_cn_phone, value) == "invalid_phone"


def test_messages_are_chinese():
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc("123")
    assert "统一社会信用代码" in str(excinfo.value.messages[0])
