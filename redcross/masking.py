"""The one masking pattern for personal data shown in lists, receipts and
public donor walls.  Every page masks through these functions so that the
same person is never masked two different ways (which could be combined to
reveal more than either).

All functions are total: any string (empty, HTML, 10,000 characters) gives a
plain masked string and never raises.  The result is not HTML-safe; templates
escape it as usual.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy

from redcross.validators import fold_full_width, parse_cn_phone

__all__ = [
    "ANONYMOUS_DISPLAY_NAME",
    "COMPOUND_SURNAMES",
    "MASK_CHAR",
    "mask_id_number",
    "mask_person_name",
    "mask_phone",
]

MASK_CHAR = "*"

# Shown instead of a donor's name when they asked to stay anonymous.
ANONYMOUS_DISPLAY_NAME = gettext_lazy("爱心人士")

# 复姓 (two-character surnames), simplified and traditional forms.  Pairs
# whose first character is itself a common single surname and whose second
# character is a common given-name character (单于, 乐正) are left out: for an
# ambiguous name it is better to reveal one character too few than one too many.
COMPOUND_SURNAMES: frozenset[str] = frozenset(
    {
        # simplified
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容",
        "长孙", "宇文", "司徒", "夏侯", "轩辕", "令狐", "钟离", "澹台", "端木",
        "百里", "呼延", "南宫", "西门", "独孤", "万俟", "闻人", "申屠", "东郭",
        "赫连", "拓跋", "司空", "司寇", "公羊", "公冶", "宗政", "濮阳", "淳于",
        "太叔", "仲孙", "鲜于", "闾丘", "亓官", "子车", "颛孙", "巫马", "公西",
        "漆雕", "壤驷", "公良", "夹谷", "宰父", "谷梁", "段干", "南门", "归海",
        "羊舌", "微生", "梁丘", "左丘", "东门", "第五", "贺兰", "纳兰",
        "完颜", "叱干", "呼衍", "乞伏", "长鱼", "青阳", "公输",
        # traditional
        "歐陽", "司馬", "諸葛", "東方", "尉遲", "公孫", "長孫", "軒轅", "鍾離",
        "澹臺", "南宮", "獨孤", "萬俟", "聞人", "東郭", "赫連", "閭丘",
        "顓孫", "鮮于", "仲孫", "東門", "穀梁", "歸海", "壤駟",
        "西門", "南門", "夾谷", "巫馬", "濮陽", "賀蘭", "納蘭", "完顏",
        "公輸", "拓拔",
    }
)  # fmt: skip

# CJK Unified Ideographs incl. extension A, compatibility block and the
# supplementary planes (extensions B-H).
_CJK_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# Separator in transliterated names such as 买买提·艾力 (kept, it is not data).
_NAME_DOTS = frozenset("·•・‧.")
_DIGIT_RE = re.compile(r"[0-9]", flags=re.ASCII)


def mask_person_name(name: str | None) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧阳**, 张 -> 张*, "John Smith" -> "J*** S****"."""
    if not name:
        return ""
    name = name.strip()
    if not name:
        return ""
    if _CJK_RE.search(name):
        return _mask_cjk_name(name)
    # Latin and other space-separated scripts: initial of every word.
    return " ".join(_mask_middle(word, 1, 0) for word in name.split())


def _mask_cjk_name(name: str) -> str:
    # "张 三" (padded for alignment) is the same person as "张三".
    name = "".join(name.split())
    if len(name) == 1:
        return name + MASK_CHAR
    surname_length = 2 if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else 1
    given = "".join(c if c in _NAME_DOTS else MASK_CHAR for c in name[surname_length:])
    return name[:surname_length] + given


def mask_phone(phone: str | None) -> str:
    """13812345678 -> 138****5678, +86 13812345678 -> +86 138****5678,
    010-62345678 -> 010-****5678; fewer than 7 digits: all but the last 2."""
    if not phone:
        return ""
    parsed = parse_cn_phone(phone)
    if parsed and parsed.kind == "mobile":
        prefix = "+86 " if parsed.has_country_prefix else ""
        return prefix + _mask_middle(parsed.number, 3, 4)
    if parsed:
        # The extension is dropped: it is not needed to recognise the number.
        return f"{parsed.area_code}-{_mask_middle(parsed.number, 0, 4)}"

    digits = "".join(_DIGIT_RE.findall(fold_full_width(phone)))
    if len(digits) < 7:
        # Too short to be a full number: show at most the last 2 digits, and
        # none at all when that would be the whole thing.
        keep = 2 if len(digits) > 2 else 0
        return _mask_middle(digits, 0, keep)
    # Anything else (local or foreign numbers): the last 4 digits only.
    return _mask_middle(digits, 0, 4)


def _mask_middle(text: str, head: int, tail: int) -> str:
    return text[:head] + MASK_CHAR * (len(text) - head - tail) + text[len(text) - tail :]


def mask_id_number(number: str | None) -> str:
    """18-character ID -> 110***********123X; 15-character ID -> 110********1234;
    other documents (passports etc.) keep the first 1 and last 2 characters."""
    if not number:
        return ""
    number = "".join(number.split()).upper()
    length = len(number)
    if length in (15, 18):
        return _mask_middle(number, 3, 4)
    if length <= 3:
        # Keeping 1 + 2 characters would show the whole thing.
        return MASK_CHAR * length
    return _mask_middle(number, 1, 2)
