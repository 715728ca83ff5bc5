"""Money parsing, formatting and 人民币大写 (redcross.money)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Engine
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from redcross.money import (
    MAX_CAPITAL_AMOUNT,
    YUAN,
    MoneyField,
    capital_yuan,
    format_wan,
    format_yuan,
    format_yuan_unit,
    to_wan,
    to_yuan,
)

# Every expected value below was written out by hand from the rules in
# redcross/money.py (支付结算办法), not copied from the function's output.
CAPITAL_CASES = [
    # below one yuan: no 元, no 整
    ("0", "零元整"),
    ("0.01", "壹分"),
    ("0.05", "伍分"),
    ("0.10", "壹角"),
    ("0.50", "伍角"),
    ("0.56", "伍角陆分"),
    # whole yuan
    ("1", "壹元整"),
    ("2", "贰元整"),
    ("10", "壹拾元整"),
    ("11", "壹拾壹元整"),
    ("15", "壹拾伍元整"),
    ("20", "贰拾元整"),
    ("100", "壹佰元整"),
    ("101", "壹佰零壹元整"),
    ("110", "壹佰壹拾元整"),
    ("210", "贰佰壹拾元整"),
    ("1001", "壹仟零壹元整"),
    ("1010", "壹仟零壹拾元整"),
    ("10000", "壹万元整"),
    ("10086", "壹万零捌拾陆元整"),
    ("100000", "壹拾万元整"),
    ("100500", "壹拾万零伍佰元整"),
    ("105110", "壹拾万伍仟壹佰壹拾元整"),
    ("1001000", "壹佰万壹仟元整"),
    ("1000000", "壹佰万元整"),
    ("10000000", "壹仟万元整"),
    ("100000000", "壹亿元整"),
    ("100000010", "壹亿零壹拾元整"),
    ("100000500", "壹亿零伍佰元整"),
    ("100001000", "壹亿零壹仟元整"),
    ("100010000", "壹亿零壹万元整"),
    ("1000000000", "壹拾亿元整"),
    ("1000000005", "壹拾亿零伍元整"),
    ("1000000000000", "壹万亿元整"),
    ("1000000000005", "壹万亿零伍元整"),
    ("1000100000000", "壹万零壹亿元整"),
    # yuan with 角/分
    ("1.01", "壹元零壹分"),
    ("1.10", "壹元壹角"),
    ("3.45", "叁元肆角伍分"),
    ("10.10", "壹拾元零壹角"),
    ("12.30", "壹拾贰元叁角"),
    ("325.04", "叁佰贰拾伍元零肆分"),
    ("1000.50", "壹仟元零伍角"),
    ("1004.05", "壹仟零肆元零伍分"),
    ("1409.50", "壹仟肆佰零玖元伍角"),
    ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("10010.50", "壹万零壹拾元零伍角"),
    ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("100000.01", "壹拾万元零壹分"),
    ("105110.11", "壹拾万伍仟壹佰壹拾元零壹角壹分"),
    ("107000.53", "壹拾万柒仟元零伍角叁分"),
    ("1234567890.12", "壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元零壹角贰分"),
    (
        "9999999999999999.99",
        "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
    ),
    # negative amounts (red reversals)
    ("-12.30", "负壹拾贰元叁角"),
    ("-0.05", "负伍分"),
    ("-100500", "负壹拾万零伍佰元整"),
]


@pytest.mark.parametrize(("amount", "expected"), CAPITAL_CASES)
def test_capital_yuan(amount, expected):
    assert capital_yuan(amount) == expected
    assert capital_yuan(Decimal(amount)) == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, "零元整"),
        (10, "壹拾元整"),
        (-7, "负柒元整"),
        (Decimal("-0.00"), "零元整"),
        (Decimal("1409.5"), "壹仟肆佰零玖元伍角"),
        (Decimal("10.000"), "壹拾元整"),
        ("1,409.50", "壹仟肆佰零玖元伍角"),
        (" 10,000.00 ", "壹万元整"),
    ],
)
def test_capital_yuan_accepts_what_to_yuan_accepts(amount, expected):
    assert capital_yuan(amount) == expected


@pytest.mark.parametrize(
    "amount",
    [MAX_CAPITAL_AMOUNT, 10**16, "10000000000000000", "10000000000000000.00", -(10**16), 10**20],
)
def test_capital_yuan_refuses_10_to_the_16(amount):
    with pytest.raises(ValueError):
        capital_yuan(amount)


def test_capital_yuan_refuses_float_and_rounding():
    with pytest.raises(TypeError):
        capital_yuan(1.5)
    with pytest.raises(ValueError):
        capital_yuan("1.005")


FORBIDDEN = ("两", "毛", "另")


def _parse_capital(text: str) -> Decimal:
    """Independent reader of 人民币大写, to check the writer round-trips."""
    digits = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
    small_units = {"拾": 10, "佰": 100, "仟": 1000}
    sign = -1 if text.startswith("负") else 1
    text = text.removeprefix("负")
    yuan_text, has_yuan, fraction = text.partition("元")
    if not has_yuan:
        yuan_text, fraction = "", yuan_text
    above_yi = below_yi_wan = section = number = 0
    for char in yuan_text:
        if char in digits:
            number = digits[char]
        elif char in small_units:
            section += number * small_units[char]
            number = 0
        elif char == "万":
            below_yi_wan += (section + number) * 10**4
            section = number = 0
        elif char == "亿":
            above_yi = (above_yi + below_yi_wan + section + number) * 10**8
            below_yi_wan = section = number = 0
        else:
            raise AssertionError(f"unexpected {char!r} in {text!r}")
    fen = (above_yi + below_yi_wan + section + number) * 100
    fraction = fraction.removeprefix("零").removesuffix("整")
    if "角" in fraction:
        jiao_text, _, fraction = fraction.partition("角")
        fen += digits[jiao_text] * 10
    fraction = fraction.removeprefix("零")
    if fraction:
        assert fraction.endswith("分"), text
        fen += digits[fraction.removesuffix("分")]
    return sign * Decimal(fen) / 100


@given(st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1))
def test_capital_yuan_round_trips_and_follows_the_zero_rules(fen):
    amount = Decimal(fen) / 100
    text = capital_yuan(amount)
    assert _parse_capital(text) == amount
    assert not any(char in text for char in FORBIDDEN)
    assert "零零" not in text
    body = text.removeprefix("负")
    if body != "零元整":
        assert not body.startswith("零")
        # 零 only ever stands directly before a digit.
        for index, char in enumerate(body):
            if char == "零":
                assert body[index + 1] in "壹贰叁肆伍陆柒捌玖", text
    # 整 exactly when there are no 角 and no 分, and then right after 元.
    assert text.endswith("整") == (fen % 100 == 0)
    if text.endswith("整"):
        assert text.endswith("元整")
    # a ten is always 壹拾, never a bare 拾
    assert not body.startswith("拾")


def test_capital_cases_never_use_forbidden_characters():
    for amount, expected in CAPITAL_CASES:
        assert not any(char in expected for char in FORBIDDEN)
        assert not any(char in capital_yuan(amount) for char in FORBIDDEN)


# --- to_yuan -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, Decimal("5.00")),
        (-5, Decimal("-5.00")),
        (Decimal("1.5"), Decimal("1.50")),
        (Decimal("10.000"), Decimal("10.00")),
        ("12.3", Decimal("12.30")),
        ("  1,234,567.5 ", Decimal("1234567.50")),
        ("-1,000", Decimal("-1000.00")),
        ("+0.01", Decimal("0.01")),
        ("0", Decimal("0.00")),
    ],
)
def test_to_yuan(value, expected):
    result = to_yuan(value)
    assert result == expected
    assert result.as_tuple().exponent == -2


def test_to_yuan_never_returns_negative_zero():
    for value in ("-0", Decimal("-0.00"), "-0.00"):
        assert str(to_yuan(value)) == "0.00"


def test_yuan_constant():
    assert Decimal("0.01") == YUAN


@pytest.mark.parametrize("value", [1.5, 0.1, 0.0, float("nan"), float("inf"), True, None, [1], object()])
def test_to_yuan_refuses_float_and_non_money_types(value):
    with pytest.raises(TypeError):
        to_yuan(value)


@pytest.mark.parametrize(
    "value",
    [
        "1.005",
        "0.001",
        Decimal("0.001"),
        Decimal("12.345"),
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        "",
        "   ",
        "abc",
        "12元",
        "¥12",
        "1,23",
        "1234,567",
        "1e3",
        "1_000",
        "１２",
        ".5",
        "5.",
        "<script>alert(1)</script>",
        "1" * 10_000,
    ],
)
def test_to_yuan_refuses_values_that_are_not_exact_money(value):
    with pytest.raises(ValueError):
        to_yuan(value)


# --- display formats ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12345.67", "12,345.67"),
        (0, "0.00"),
        (Decimal("0.5"), "0.50"),
        (999, "999.00"),
        (1000, "1,000.00"),
        (1000000, "1,000,000.00"),
        ("-1234.5", "-1,234.50"),
        ("9999999999999999.99", "9,999,999,999,999,999.99"),
    ],
)
def test_format_yuan(value, expected):
    assert format_yuan(value) == expected


def test_format_yuan_unit():
    with translation.override("zh-hans"):
        assert format_yuan_unit("12345.67") == "12,345.67 元"
        assert format_yuan_unit(0) == "0.00 元"


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (13400000, 2, "1,340.00 万元"),
        (92570000, 2, "9,257.00 万元"),
        ("12345", 2, "1.23 万元"),
        ("12350", 2, "1.24 万元"),  # ROUND_HALF_UP, not banker's rounding
        ("12250", 2, "1.23 万元"),
        (5000, 0, "1 万元"),
        (4999, 0, "0 万元"),
        (Decimal("123456.78"), 4, "12.3457 万元"),
        (0, 2, "0.00 万元"),
        (-40, 2, "0.00 万元"),
        ("-13,400,000", 2, "-1,340.00 万元"),
    ],
)
def test_format_wan(value, places, expected):
    with translation.override("zh-hans"):
        assert format_wan(value, places) == expected


def test_to_wan():
    assert to_wan(13400000) == Decimal("1340.00")
    assert to_wan("12350") == Decimal("1.24")
    assert to_wan(12345, places=0) == Decimal("1")
    assert str(to_wan(-40)) == "0.00"
    with pytest.raises(TypeError):
        to_wan(1.5)
    with pytest.raises(ValueError):
        to_wan(100, places=-1)


# --- template filters -----------------------------------------------------------

_ENGINE = Engine(libraries={"money": "redcross.templatetags.money"})


def _render(template: str, **context) -> str:
    with translation.override("zh-hans"):
        return _ENGINE.from_string("{% load money %}" + template).render(Context(context))


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ("{{ x|yuan }}", Decimal("12345.67"), "12,345.67 元"),
        ("{{ x|yuan:False }}", Decimal("12345.67"), "12,345.67"),
        ("{{ x|wanyuan }}", 13400000, "1,340.00 万元"),
        ("{{ x|wanyuan:0 }}", 13400000, "1,340 万元"),
        ("{{ x|capital_yuan }}", Decimal("1409.50"), "壹仟肆佰零玖元伍角"),
        ("{{ x|capital_yuan }}", "105110.11", "壹拾万伍仟壹佰壹拾元零壹角壹分"),
    ],
)
def test_template_filters(template, value, expected):
    assert _render(template, x=value) == expected


@pytest.mark.parametrize("template", ["{{ x|yuan }}", "{{ x|wanyuan }}", "{{ x|capital_yuan }}"])
@pytest.mark.parametrize(
    "value",
    [None, "", 1.5, "abc", Decimal("1.005"), Decimal("NaN"), "<script>alert(1)</script>", object()],
)
def test_template_filters_render_invalid_input_as_empty(template, value):
    assert _render(template, x=value) == ""


def test_template_filter_missing_variable_and_too_large_capital():
    assert _render("[{{ missing|yuan }}]") == "[]"
    assert _render("[{{ x|capital_yuan }}]", x=10**16) == "[]"
    assert _render("[{{ x|wanyuan:'abc' }}]", x=100) == "[]"


# --- MoneyField -----------------------------------------------------------------


def test_money_field_defaults_and_deconstruct():
    field = MoneyField()
    assert (field.max_digits, field.decimal_places) == (14, 2)
    _, path, args, kwargs = field.deconstruct()
    assert path == "redcross.money.MoneyField"
    assert args == []
    assert kwargs == {"max_digits": 14, "decimal_places": 2}
    rebuilt = MoneyField(*args, **kwargs)
    assert rebuilt.deconstruct()[3] == kwargs


def test_money_field_allow_negative_round_trips():
    field = MoneyField(allow_negative=True, max_digits=16, verbose_name="金额")
    _, _, args, kwargs = field.deconstruct()
    assert kwargs["allow_negative"] is True
    assert kwargs["max_digits"] == 16
    rebuilt = MoneyField(*args, **kwargs)
    assert rebuilt.allow_negative is True
    assert rebuilt.deconstruct()[3] == kwargs


def test_money_field_refuses_negative_by_default():
    field = MoneyField()
    field.run_validators(Decimal("0.00"))
    field.run_validators(Decimal("999999999999.99"))
    with pytest.raises(ValidationError) as excinfo:
        field.run_validators(Decimal("-0.01"))
    assert excinfo.value.error_list[0].code == "min_value"
    with pytest.raises(ValidationError) as excinfo:
        field.run_validators(Decimal("1000000000000.00"))
    assert excinfo.value.error_list[0].code in {"max_digits", "max_whole_digits"}


def test_money_field_allow_negative_accepts_reversals():
    field = MoneyField(allow_negative=True)
    field.run_validators(Decimal("-12.30"))


def test_money_field_validators_are_not_serialized_into_migrations():
    # The min-value check comes from the field class, not from validators=.
    assert "validators" not in MoneyField().deconstruct()[3]


def test_money_field_formfield_has_minimum():
    assert MoneyField().formfield().min_value == Decimal("0.00")
    assert MoneyField(allow_negative=True).formfield().min_value is None


def test_fen_rounds_database_aggregates():
    from decimal import Decimal

    from redcross.money import fen

    assert fen(None) == Decimal("0.00")
    assert str(fen(Decimal("12.339999999999"))) == "12.34"
    assert str(fen(Decimal("-0.001"))) == "0.00"
