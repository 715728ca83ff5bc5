"""ID numbers and unified social credit codes via python-stdnum; phone numbers."""

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import ric, uscc

from redcross.validators import (
    ID_MESSAGES,
    CnPhone,
    normalize_cn_id_number,
    normalize_cn_phone,
    normalize_uscc,
    parse_cn_phone,
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


# --- more ID numbers (all invented; region codes from stdnum's table) ---------


@pytest.mark.parametrize(
    "body17",
    [
        "11010119900307123",  # 东城区, 1990-03-07
        "44030420000229456",  # 福田区, leap day 2000
        "11010320050101123",  # 崇文区 existed until 2010
        "65010219850615001",
    ],
)
def test_more_valid_id_numbers(body17):
    number = _id(body17)
    assert ric.is_valid(number)
    validate_cn_id_number(number)
    validate_cn_id_number(f"{number[:6]}-{number[6:14]}-{number[14:]}")


@pytest.mark.parametrize(
    ("body17", "code"),
    [
        ("99999919900307123", "invalid_region"),
        ("11010320150101123", "invalid_region"),  # 崇文区 merged away in 2010, born 2015
        ("11010119990229123", "invalid_birth_date"),  # 1999 is not a leap year
        ("11010119900230123", "invalid_birth_date"),
        ("11010119900007123", "invalid_birth_date"),
        ("11010129990101123", "invalid_birth_date"),  # in the future
    ],
)
def test_id_numbers_with_impossible_parts(body17, code):
    # a correct check digit, so only the named part is wrong
    assert _code(validate_cn_id_number, _id(body17)) == code


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110101900307123", "invalid_length"),  # old 15-digit numbers are refused
        ("1101011990X3071233", "invalid_format"),
        ("11010119900307123Y", "invalid_format"),
        ("１１０１０１１９９００３０７１２３３" + "0", "invalid_length"),
        ("张三" * 9, "invalid_format"),
        ("<b>110101199003071233</b>", "invalid_length"),
        ("110101199003071233\x00", "invalid_length"),
    ],
)
def test_more_invalid_id_numbers(value, code):
    assert _code(validate_cn_id_number, value) == code


def test_id_normalisation():
    number = _id("11010119900307123")
    assert normalize_cn_id_number(f" {number[:6]} {number[6:14]}-{number[14:]} ") == number
    # full-width digits (IME input) are folded to ASCII
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)
    assert normalize_cn_id_number(full_width) == number
    validate_cn_id_number(full_width)
    assert normalize_cn_id_number(int(number[:-1] + "0")) == number[:-1] + "0"


def test_every_id_error_has_a_chinese_message():
    for code, message in ID_MESSAGES.items():
        assert "居民身份证号码" in str(message), code
        error = ValidationError(message, code=code)
        assert error.code == code


# --- more credit codes ------------------------------------------------------


@pytest.mark.parametrize("body17", ["91320106123456789", "91440300MA5FUTR2X", "12100000400000001"])
def test_more_valid_credit_codes(body17):
    code = _uscc(body17)
    assert uscc.is_valid(code)
    validate_uscc(code)
    validate_uscc(f"{code[:2]} {code[2:8]} {code[8:].lower()}")
    assert normalize_uscc(f" {code.lower()} ") == code


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("9A320106123456789X", "invalid_format"),  # letters in the first 8 characters
        ("91320106O23456789X", "invalid_format"),  # O is not used
        ("913201061234567890S", "invalid_length"),
        ("<script>alert(1)</script>", "invalid_length"),
        ("<script>alert(1)</scr>", "invalid_length"),
        ("统一社会信用代码统一社会信用代码统一", "invalid_format"),
    ],
)
def test_more_invalid_credit_codes(value, code):
    assert _code(validate_uscc, value) == code


# --- more phones -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "compact"),
    [
        ("+8613812345678", "13812345678"),
        ("0086 138 1234 5678", "13812345678"),
        (" 199-1234-5678 ", "19912345678"),
        ("15012345678", "15012345678"),
        ("01062345678", "010-62345678"),
        ("(010)62345678", "010-62345678"),
        ("010 6234 5678", "010-62345678"),
        ("021-6234567", "021-6234567"),
        ("0755-2345-6789", "0755-23456789"),
        ("010-62345678-8001", "010-62345678-8001"),
        ("010-62345678 ext. 12", "010-62345678-12"),
        ("010-62345678分机8", "010-62345678-8"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits from a Chinese IME
        ("＋８６　１３８－１２３４－５６７８", "13812345678"),
        ("（０１０）６２３４５６７８", "010-62345678"),
    ],
)
def test_more_valid_phones(value, compact):
    validate_cn_phone(value)
    assert normalize_cn_phone(value) == compact


@pytest.mark.parametrize(
    "value",
    [
        "12812345678",  # no 12x mobile numbers
        "10012345678",
        "+1 415 555 0100",
        "+86 010 62345678",  # international landline format is not supported
        "010-12345678",  # local numbers never start with 1
        "010-02345678",
        "010-623456789",
        "011-62345678",  # 011 is not an area code
        "0-62345678",
        "13812345678abc",
        "13812345678 转 12",  # mobiles have no extension
        "138*1234*5678",
        "   ",
        "<script>alert(1)</script>",
        "0" * 10_000,
    ],
)
def test_more_invalid_phones(value):
    assert _code(validate_cn_phone, value) == "invalid_phone"


def test_parse_cn_phone():
    assert parse_cn_phone("+86 13812345678") == CnPhone(kind="mobile", number="13812345678", has_country_prefix=True)
    assert parse_cn_phone("0571-8888888 转 12") == CnPhone(
        kind="landline", number="8888888", area_code="0571", extension="12"
    )
    assert parse_cn_phone("abc") is None
    assert parse_cn_phone(None) is None


def test_normalising_an_invalid_phone_only_removes_whitespace():
    assert normalize_cn_phone(" 123 45 ") == "12345"
    assert normalize_cn_phone("") == ""


def test_phone_message_is_chinese():
    with pytest.raises(ValidationError) as excinfo:
        validate_cn_phone("abc")
    assert "电话号码" in str(excinfo.value.messages[0])


def test_full_width_x_and_ideographic_spaces_in_an_id_number_are_folded():
    assert normalize_cn_id_number("１１０１０５\u3000１９４９１２３１００２ｘ") == "11010519491231002X"
    validate_cn_id_number("１１０１０５１９４９１２３１００２Ｘ")


def test_person_names_and_birth_dates():
    import datetime

    from redcross.validators import normalize_person_name, validate_birth_date, validate_person_name

    assert normalize_person_name("  买买提·艾力\u3000 ") == "买买提·艾力"
    for good in ("张三", "欧阳娜娜", "John O'Brien", "Anne-Marie Smith"):
        validate_person_name(good)
    for bad, code in (
        ("", "required"),
        ("   ", "required"),
        ("张" * 51, "too_long"),
        ("<b>张三</b>", "invalid_characters"),
        ("张三1", "invalid_characters"),
        ("张\x00三", "invalid_characters"),
    ):
        with pytest.raises(ValidationError) as caught:
            validate_person_name(bad)
        assert caught.value.code == code, bad
    validate_birth_date(datetime.date(1950, 1, 1))
    for bad in (datetime.date.today() + datetime.timedelta(days=1), datetime.date(1899, 12, 31)):
        with pytest.raises(ValidationError):
            validate_birth_date(bad)


# --- clean_text: the one check of free text ---------------------------------------------------


def _refusal(value, **options) -> tuple[str, str, str]:
    """(field, code, message) of the one error ``clean_text`` raises."""
    from redcross.validators import clean_text

    options = {"field": "note", "max_length": 10, **options}
    with pytest.raises(ValidationError) as caught:
        clean_text(value, **options)
    ((field, errors),) = caught.value.error_dict.items()
    (error,) = errors
    return field, error.code, error.messages[0]


def test_clean_text_strips_and_keeps_text_as_typed():
    from redcross.validators import clean_text

    assert clean_text("  第一行\n第二行\t ", "note", 20) == "第一行\n第二行"
    assert clean_text(None, "note", 20) == ""
    assert clean_text("", "note", 20) == ""
    assert clean_text(3.0, "note", 20) == "3"  # a spreadsheet's number cell
    assert clean_text(12, "note", 20) == "12"
    assert clean_text("收入<1000元", "note", 20) == "收入<1000元"  # templates escape markup
    assert clean_text("=cmd|' /C calc'!A0", "note", 20) == "=cmd|' /C calc'!A0"  # stays plain text
    assert clean_text("一" * 10, "note", 10) == "一" * 10


@pytest.mark.parametrize(
    ("value", "options", "code", "message"),
    [
        ("  ", {"required": True}, "required", "请填写此项"),
        (None, {"required": True, "label": "取消原因"}, "required", "请填写取消原因"),
        ("一" * 11, {}, "too_long", "此项过长（最多 10 个字符）"),
        ("一" * 11, {"label": "备注"}, "too_long", "备注过长（最多 10 个字符）"),
        ("a\x00b", {"label": "备注"}, "control_characters", "备注含有控制字符"),
        ("a\u202eb", {}, "control_characters", "此项含有控制字符"),  # a bidirectional override
        ("a\x85b", {}, "control_characters", "此项含有控制字符"),  # C1
        ("a\nb", {"multiline": False, "label": "流水号"}, "control_characters", "流水号含有控制字符"),
        ("<script>", {"allow_markup": False}, "markup", "此项不能包含 < 或 > 符号"),
        ("a > b", {"allow_markup": False, "label": "地点"}, "markup", "地点不能包含 < 或 > 符号"),
    ],
)
def test_clean_text_refuses_with_an_error_on_the_field_naming_its_label(value, options, code, message):
    assert _refusal(value, **options) == ("note", code, message)


def test_clean_text_reports_control_characters_before_length():
    # an import row names the worse fault: a control character, however long the cell
    assert _refusal("\x07" * 50)[1] == "control_characters"


def test_clean_text_errors_are_keyed_for_forms_and_the_api():
    from redcross.validators import clean_text

    with pytest.raises(ValidationError) as caught:
        clean_text("x" * 300, "lines[2].unit", 20, label="单位")
    assert caught.value.message_dict == {"lines[2].unit": ["单位过长（最多 20 个字符）"]}
