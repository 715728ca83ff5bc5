"""Money helpers: parsing, display formats and 人民币大写.

Money is always ``Decimal`` with two places (yuan and fen).  Floats are
refused outright and surplus decimal places are an error rather than being
rounded away: a donation receipt must show exactly what was recorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext

__all__ = [
    "MAX_CAPITAL_AMOUNT",
    "YUAN",
    "MoneyField",
    "capital_yuan",
    "format_wan",
    "format_yuan",
    "format_yuan_unit",
    "to_wan",
    "to_yuan",
]

YUAN = Decimal("0.01")
ZERO = Decimal("0.00")
# 人民币大写 has unit names only up to 万亿 (10^12 .. 10^15).
MAX_CAPITAL_AMOUNT = Decimal(10) ** 16

# Our own context, so a caller who changed the thread's decimal context (lower
# precision, other rounding) cannot change how money is parsed or rounded.
_CONTEXT = Context(prec=50, rounding=ROUND_HALF_UP, traps=[InvalidOperation])

# Amount strings longer than this are not money; refuse before parsing.
_MAX_INPUT_LENGTH = 64
# ASCII only: Decimal() would also accept "1_000", "1e3" and full-width digits.
_AMOUNT_RE = re.compile(
    r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?",
    flags=re.ASCII,
)

MoneyInput = Decimal | int | str


def fen(value: Any) -> Decimal:
    """A database aggregate (Sum, Coalesce) as yuan to the fen; None is 0.

    SQLite sums decimal columns in floating point (12.339999...), so every total read from the
    database is rounded here before it is compared or shown; ``+ 0`` turns -0.00 into 0.00.
    """
    return Decimal(value or 0).quantize(YUAN) + 0


def to_yuan(value: MoneyInput) -> Decimal:
    """Return *value* as a Decimal quantized to fen (two places).

    Accepts Decimal, int, or str ("1,234.50", surrounding whitespace allowed).
    Raises TypeError for float (and anything else that is not money), and
    ValueError for NaN/Infinity, unparsable strings, or values that would
    need rounding (more than two significant decimal places).
    """
    # bool is an int subclass, but True is never an amount of money.
    if isinstance(value, float | bool):
        raise TypeError(f"money must not be {type(value).__name__}; use Decimal or str")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        amount = _parse_amount(value)
    else:
        raise TypeError(f"cannot use {type(value).__name__} as money")

    if not amount.is_finite():
        raise ValueError(f"money must be finite, got {amount}")
    try:
        quantized = amount.quantize(YUAN, context=_CONTEXT)
    except InvalidOperation as exc:  # too many digits for the context
        raise ValueError("amount out of range") from exc
    # Trailing zeros (Decimal("10.000") from a multiplication) are exact and
    # accepted; anything that quantize() would actually change is refused.
    if quantized != amount:
        raise ValueError(f"amount {amount} has more than two decimal places")
    # Never return "-0.00": it would print as a negative amount.
    if not quantized:
        return ZERO
    return quantized


def _parse_amount(text: str) -> Decimal:
    text = text.strip()
    if len(text) > _MAX_INPUT_LENGTH or not _AMOUNT_RE.fullmatch(text):
        raise ValueError(f"not a money amount: {text[:_MAX_INPUT_LENGTH]!r}")
    return Decimal(text.replace(",", ""))


def format_yuan(amount: MoneyInput) -> str:
    """``12345.67`` -> ``"12,345.67"`` (no unit)."""
    return f"{to_yuan(amount):,.2f}"


def format_yuan_unit(amount: MoneyInput) -> str:
    """``12345.67`` -> ``"12,345.67 元"``."""
    # Translators: an amount of money in yuan, e.g. "12,345.67 元".
    return gettext("%(amount)s 元") % {"amount": format_yuan(amount)}


def to_wan(amount: MoneyInput, places: int = 2) -> Decimal:
    """Amount in units of 万元 (10,000 yuan), rounded ROUND_HALF_UP to *places*.

    This is a display conversion (reports, totals), so rounding is intended
    here, unlike in ``to_yuan``.
    """
    if isinstance(places, bool) or not isinstance(places, int) or places < 0:
        raise ValueError(f"places must be a non-negative int, got {places!r}")
    exponent = Decimal(1).scaleb(-places)
    wan = to_yuan(amount).scaleb(-4, context=_CONTEXT)  # exact: moves the point
    result = wan.quantize(exponent, context=_CONTEXT)
    # Never "-0.00" (to_wan(-40) rounds to zero).
    return result if result else ZERO.quantize(exponent)


def format_wan(amount: MoneyInput, places: int = 2) -> str:
    """``13400000`` -> ``"1,340.00 万元"``."""
    wan = to_wan(amount, places)
    # Translators: an amount of money in units of 10,000 yuan, e.g. "1,340.00 万元".
    return gettext("%(amount)s 万元") % {"amount": f"{wan:,.{places}f}"}


# --- 人民币大写 --------------------------------------------------------------
#
# Rules (支付结算办法 / 正确填写票据和结算凭证的基本规定), as applied here:
# * digits 零壹贰叁肆伍陆柒捌玖; units 拾佰仟万亿元角分整; never 两/毛/另;
# * a leading ten is written 壹拾 (10 -> 壹拾元整);
# * one 零 for each run of zeros between nonzero digits, including a run that
#   crosses a 万/亿 boundary, except that no 零 is written when the lower group
#   starts with a nonzero 仟 (105110 -> 壹拾万伍仟壹佰壹拾元);
# * 零 before 角 when the yuan units digit is 0, and before 分 when 角 is 0
#   (both only when there is a yuan part);
# * 整 only after 元 with neither 角 nor 分.

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_GROUP_UNITS = ("仟", "佰", "拾", "")


def _group_below_10k(number: int) -> str:
    """1..9999 without leading 零 (the caller decides about a leading 零)."""
    out: list[str] = []
    zero_pending = False
    for digit, unit in zip(f"{number:04d}", _GROUP_UNITS, strict=True):
        if digit == "0":
            # Only zeros *between* nonzero digits produce a 零; leading zeros
            # are the caller's business, trailing zeros are never written.
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(_DIGITS[int(digit)] + unit)
    return "".join(out)


def _split_join(number: int, base: int, unit: str, read: Callable[[int], str]) -> str:
    """Read ``high * base + low`` as ``read(high) + unit + [零] + read(low)``."""
    high, low = divmod(number, base)
    parts: list[str] = []
    if high:
        parts.append(read(high) + unit)
    if low:
        # The lower part does not fill its top position (e.g. 0500 under 万):
        # the gap of zeros is read as one 零.
        if high and low * 10 < base:
            parts.append("零")
        parts.append(read(low))
    return "".join(parts)


def _below_1e8(number: int) -> str:
    return _split_join(number, 10_000, "万", _group_below_10k)


def _integer_capital(number: int) -> str:
    """1 .. 10^16 - 1; 亿 groups above 10^8 are read with 万, so 10^12 is 壹万亿."""
    return _split_join(number, 10**8, "亿", _below_1e8)


def capital_yuan(amount: MoneyInput) -> str:
    """Write *amount* in 人民币大写, e.g. ``1409.50`` -> ``"壹仟肆佰零玖元伍角"``.

    Negative amounts (red reversals) get the prefix 负.  Raises ValueError
    for amounts of 10^16 yuan or more, and whatever ``to_yuan`` raises.
    """
    value = to_yuan(amount)
    if value < 0:
        return "负" + capital_yuan(-value)
    if value >= MAX_CAPITAL_AMOUNT:
        raise ValueError("amount too large for 人民币大写 (must be below 10^16 yuan)")

    fen_total = int(value.scaleb(2, context=_CONTEXT))
    yuan, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)

    if not yuan and not cents:
        return "零元整"

    parts: list[str] = []
    if yuan:
        parts.append(_integer_capital(yuan) + "元")
        if not cents:
            parts.append("整")
            return "".join(parts)
    if jiao:
        if yuan and yuan % 10 == 0:
            parts.append("零")
        parts.append(_DIGITS[jiao] + "角")
    if fen:
        if yuan and not jiao:
            parts.append("零")
        parts.append(_DIGITS[fen] + "分")
    return "".join(parts)


# --- Model field -------------------------------------------------------------


class MoneyField(models.DecimalField):
    """DecimalField for yuan: 14 digits, 2 places, non-negative by default.

    Pass ``allow_negative=True`` for ledgers that hold reversals.
    """

    description = "Amount of money in yuan"

    def __init__(self, *args: Any, allow_negative: bool = False, **kwargs: Any) -> None:
        self.allow_negative = allow_negative
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    @cached_property
    def validators(self) -> list[Any]:
        # Added here rather than via validators= so that it does not show up
        # in migrations as a serialized validator list.
        validators = list(super().validators)
        if not self.allow_negative:
            validators.append(MinValueValidator(ZERO))
        return validators

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        # max_digits/decimal_places stay explicit in migrations (DecimalField
        # already writes them): if the defaults above ever change, the
        # autodetector then sees a real schema change instead of silently
        # reinterpreting old migrations.
        if self.allow_negative:
            kwargs["allow_negative"] = True
        return name, path, args, kwargs

    def formfield(self, **kwargs: Any) -> Any:
        if not self.allow_negative:
            kwargs.setdefault("min_value", ZERO)
        return super().formfield(**kwargs)
