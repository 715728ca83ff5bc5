"""Validators for Chinese identifiers (居民身份证号码, 统一社会信用代码, phone numbers), persons'
names and birth dates, and the one check of a line of free text (``clean_text``).

Each ``validate_*`` accepts the value as the user typed it (spaces, dashes,
lower-case x) and raises ``ValidationError`` with a Chinese message and a
specific ``code``.  Each ``normalize_*`` returns the canonical compact form to
store; normalizers never raise, so call them first and validate the result.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import ric, uscc
from stdnum.util import clean

__all__ = [
    "CnPhone",
    "clean_text",
    "cn_id_birth_date",
    "cn_id_sex",
    "fold_full_width",
    "normalize_cn_id_number",
    "normalize_cn_phone",
    "normalize_person_name",
    "normalize_uscc",
    "parse_cn_phone",
    "validate_birth_date",
    "validate_cn_id_number",
    "validate_cn_phone",
    "validate_person_name",
    "validate_uscc",
]

# Phone numbers are short; anything much longer is refused before parsing.
_MAX_INPUT_LENGTH = 64


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


# --- 居民身份证号码 ------------------------------------------------------------

ID_MESSAGES = {
    "invalid_length": gettext_lazy("居民身份证号码应为18位"),
    "invalid_format": gettext_lazy("居民身份证号码格式不正确：前17位应为数字，最后一位为数字或X"),
    "invalid_birth_date": gettext_lazy("居民身份证号码中的出生日期无效"),
    "invalid_region": gettext_lazy("居民身份证号码中的地区代码无效"),
    "invalid_checksum": gettext_lazy("居民身份证号码校验位不正确，请核对后重新输入"),
}
_ID_FORMAT_RE = re.compile(r"[0-9]{17}[0-9X]", flags=re.ASCII)


def normalize_cn_id_number(value: Any) -> str:
    """Compact form: no spaces or dashes, full-width digits and letters folded, upper-case X."""
    # NFKC folds what Chinese IMEs type: full-width digits, Ｘ and ｘ, the ideographic space
    return clean(unicodedata.normalize("NFKC", _text(value)), " -").strip().upper()


def _id_error(code: str) -> ValidationError:
    return ValidationError(ID_MESSAGES[code], code=code)


def validate_cn_id_number(value: Any) -> None:
    """Validate an 18-digit mainland resident ID number.

    Checks length, format, birth date (a real date, not in the future), the
    region code (valid in the birth year, per stdnum's table) and the check
    digit.  The old 15-digit numbers are no longer valid documents and are
    refused.
    """
    number = normalize_cn_id_number(value)
    if len(number) != 18:
        raise _id_error("invalid_length")
    if not _ID_FORMAT_RE.fullmatch(number):
        raise _id_error("invalid_format")
    try:
        birth_date = ric.get_birth_date(number)
    except stdnum_exceptions.ValidationError:
        raise _id_error("invalid_birth_date") from None
    if birth_date > datetime.date.today():
        raise _id_error("invalid_birth_date")
    try:
        ric.validate(number)
    except stdnum_exceptions.InvalidChecksum:
        raise _id_error("invalid_checksum") from None
    except (stdnum_exceptions.ValidationError, KeyError, ValueError):
        # Birth date is already known to be fine, so this is the region code
        # (unknown, or not assigned in the birth year).
        raise _id_error("invalid_region") from None


# --- 统一社会信用代码 ----------------------------------------------------------

USCC_MESSAGES = {
    "invalid_length": gettext_lazy("统一社会信用代码应为18位"),
    "invalid_format": gettext_lazy("请输入有效的统一社会信用代码"),
    "invalid_checksum": gettext_lazy("统一社会信用代码校验位不正确，请核对后重新输入"),
}


def normalize_uscc(value: Any) -> str:
    """Compact form: no spaces or dashes, upper-case."""
    return uscc.compact(_text(value))


def validate_uscc(value: Any) -> None:
    """Validate a 统一社会信用代码 (length, character set, check character)."""
    code = normalize_uscc(value)
    if len(code) != 18:
        raise ValidationError(USCC_MESSAGES["invalid_length"], code="invalid_length")
    try:
        uscc.validate(code)
    except stdnum_exceptions.InvalidChecksum:
        raise ValidationError(USCC_MESSAGES["invalid_checksum"], code="invalid_checksum") from None
    except (stdnum_exceptions.ValidationError, ValueError):
        raise ValidationError(USCC_MESSAGES["invalid_format"], code="invalid_format") from None


# --- Phone numbers -----------------------------------------------------------

PHONE_MESSAGE = gettext_lazy("请输入有效的手机号码或带区号的固定电话号码")

_SEP = r"[ \t\u3000-]"
_MOBILE_RE = re.compile(
    rf"(?P<prefix>\+86|0086|86)?{_SEP}*(?P<number>1[3-9](?:{_SEP}?[0-9]){{9}})",
    flags=re.ASCII,
)
# 3-digit area codes are 010 and 02x; every other area code is 0 + 3 digits.
# Local numbers have 7 or 8 digits and never start with 0 or 1.
_LANDLINE_RE = re.compile(
    rf"[(（]?(?P<area>010|02[0-9]|0[3-9][0-9]{{2}})[)）]?{_SEP}*"
    rf"(?P<local>[2-9][0-9]{{2,3}}{_SEP}?[0-9]{{4}})"
    rf"(?:(?:{_SEP}*(?:转|分机|ext\.?|x|#){_SEP}*|{_SEP}+)(?P<ext>[0-9]{{1,6}}))?",
    flags=re.ASCII | re.IGNORECASE,
)


@dataclass(frozen=True)
class CnPhone:
    """A parsed mainland phone number (see ``parse_cn_phone``)."""

    kind: Literal["mobile", "landline"]
    number: str  # mobile: the 11 digits; landline: the local 7-8 digits
    area_code: str = ""
    extension: str = ""
    has_country_prefix: bool = False

    @property
    def compact(self) -> str:
        """13812345678, 010-62345678 or 010-62345678-123."""
        if self.kind == "mobile":
            return self.number
        text = f"{self.area_code}-{self.number}"
        return f"{text}-{self.extension}" if self.extension else text


# Chinese IMEs often type full-width digits and punctuation (１３８，＋８６，（０１０）).
_FULL_WIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)}, "＋": "+", "－": "-", "\u3000": " "})


def fold_full_width(text: str) -> str:
    """Full-width digits, plus, hyphen and ideographic space -> ASCII."""
    return text.translate(_FULL_WIDTH)


def parse_cn_phone(value: Any) -> CnPhone | None:
    """Parse a mainland mobile or landline number; None if it is neither."""
    if value is None:
        return None
    text = fold_full_width(_text(value)).strip()
    if not text or len(text) > _MAX_INPUT_LENGTH:
        return None
    match = _MOBILE_RE.fullmatch(text)
    if match:
        return CnPhone(
            kind="mobile",
            number=re.sub(r"[^0-9]", "", match.group("number")),
            has_country_prefix=bool(match.group("prefix")),
        )
    match = _LANDLINE_RE.fullmatch(text)
    if match:
        return CnPhone(
            kind="landline",
            number=re.sub(r"[^0-9]", "", match.group("local")),
            area_code=match.group("area"),
            extension=match.group("ext") or "",
        )
    return None


def normalize_cn_phone(value: Any) -> str:
    """Canonical form (see ``CnPhone.compact``), or the input without
    whitespace when it is not a valid number (validation reports that)."""
    parsed = parse_cn_phone(value)
    if parsed:
        return parsed.compact
    return "".join(fold_full_width(_text(value)).split())


def validate_cn_phone(value: Any) -> None:
    """Mobile 1[3-9]xxxxxxxxx (optional +86/86/0086, spaces, dashes) or a
    landline with area code, e.g. 010-62345678, 0571-8888888 转 123."""
    if parse_cn_phone(value) is None:
        raise ValidationError(PHONE_MESSAGE, code="invalid_phone")


# --- Persons' names and birth dates ---------------------------------------------------------

PERSON_NAME_MAX_LENGTH = 50
PERSON_NAME_MESSAGES = {
    "required": gettext_lazy("请输入姓名"),
    "too_long": gettext_lazy("姓名不能超过 %(max)d 个字符"),
    "invalid_characters": gettext_lazy("姓名只能包含文字、空格和 · - ' 等字符，不能包含数字、< > 等符号"),
}
# digits, markup and the punctuation no name carries; control characters are refused apart
_NAME_REFUSED_RE = re.compile(r"[0-9<>&\"\\/{}\[\]=;@#$%^*+|~`!?()（）]")


def normalize_person_name(value: Any) -> str:
    """Runs of whitespace (full-width included) become one space; the ends are trimmed."""
    return " ".join(fold_full_width(_text(value)).split())


def validate_person_name(value: Any) -> None:
    """A person's name as typed: not empty, at most 50 characters, no digits or markup."""
    name = normalize_person_name(value)
    if not name:
        raise ValidationError(PERSON_NAME_MESSAGES["required"], code="required")
    if len(name) > PERSON_NAME_MAX_LENGTH:
        raise ValidationError(PERSON_NAME_MESSAGES["too_long"], code="too_long", params={"max": PERSON_NAME_MAX_LENGTH})
    if _NAME_REFUSED_RE.search(name) or any(not ch.isprintable() for ch in name):
        raise ValidationError(PERSON_NAME_MESSAGES["invalid_characters"], code="invalid_characters")


BIRTH_DATE_MESSAGES = {
    "future": gettext_lazy("出生日期不能晚于今天"),
    "too_early": gettext_lazy("出生日期不能早于 1900 年"),
}


def validate_birth_date(value: datetime.date) -> None:
    """A real person's birth date: not in the future, not before 1900."""
    if value > datetime.date.today():
        raise ValidationError(BIRTH_DATE_MESSAGES["future"], code="future")
    if value < datetime.date(1900, 1, 1):
        raise ValidationError(BIRTH_DATE_MESSAGES["too_early"], code="too_early")


def cn_id_birth_date(number: str) -> datetime.date | None:
    """The birth date an 18-digit ID number encodes (None if it encodes none)."""
    try:
        return ric.get_birth_date(normalize_cn_id_number(number))
    except (stdnum_exceptions.ValidationError, ValueError):
        return None


def cn_id_sex(number: str) -> Literal["male", "female"] | None:
    """The sex an 18-digit ID number encodes: its 17th digit, odd for men."""
    number = normalize_cn_id_number(number)
    if len(number) != 18 or not number[16].isdigit():
        return None
    return "male" if int(number[16]) % 2 else "female"


# --- free text ------------------------------------------------------------------------------

TEXT_DEFAULT_LABEL = gettext_lazy("此项")
TEXT_MESSAGES = {
    "required": gettext_lazy("请填写%(label)s"),
    "control_characters": gettext_lazy("%(label)s含有控制字符"),
    "too_long": gettext_lazy("%(label)s过长（最多 %(n)d 个字符）"),
    "markup": gettext_lazy("%(label)s不能包含 < 或 > 符号"),
}
# control characters (C0, DEL, C1; PostgreSQL cannot even store NUL) and the bidirectional
# overrides that make a text read otherwise than it is stored; multi-line text keeps \t \n \r
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(
    value: Any,
    field: str,
    max_length: int,
    *,
    label: str | None = None,
    required: bool = False,
    multiline: bool = True,
    allow_markup: bool = True,
) -> str:
    """A line (or, ``multiline``, a block) of free text as a service stores it: stripped; refused
    when missing (``required``), with control characters, longer than ``max_length``, or, with
    ``allow_markup=False`` (text that public pages show), containing ``<`` or ``>``.

    Refusals are a ``ValidationError`` keyed by ``field`` whose message names ``label`` ("此项"
    when none is given). ``None`` is no text; a whole float (a spreadsheet's number cell) reads
    as the integer it is. Markup is allowed by default: templates escape it, and imported
    statements keep what the bank wrote (a formula such as ``=cmd|...`` stays plain text).
    """
    if value is None:
        text = ""
    else:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = _text(value).strip()
    code = None
    if not text:
        code = "required" if required else None
    elif (_CONTROL_MULTI_LINE if multiline else _CONTROL_SINGLE_LINE).search(text):
        code = "control_characters"
    elif len(text) > max_length:
        code = "too_long"
    elif not allow_markup and ("<" in text or ">" in text):
        code = "markup"
    if code is not None:
        message = str(TEXT_MESSAGES[code]) % {"label": TEXT_DEFAULT_LABEL if label is None else label, "n": max_length}
        raise ValidationError({field: [ValidationError(message, code=code)]})
    return text
