"""The single masking pattern (redcross.masking)."""

import pytest
from django.utils import translation

from redcross.masking import (
    ANONYMOUS_DISPLAY_NAME,
    COMPOUND_SURNAMES,
    mask_id_number,
    mask_person_name,
    mask_phone,
)

LONG = 10_000

# --- names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("王小明明", "王***"),
        ("张", "张*"),
        (" 张三 ", "张*"),
        ("张 三", "张*"),  # padded for alignment: same person as 张三
        ("\t李四\n", "李*"),
        ("欧阳娜娜", "欧阳**"),
        ("诸葛亮", "诸葛*"),
        ("司马懿", "司马*"),
        ("上官婉儿", "上官**"),
        ("万俟卨", "万俟*"),
        ("独孤求败", "独孤**"),
        ("歐陽修", "歐陽*"),  # traditional characters
        ("欧阳", "欧*"),  # two characters only: cannot tell, reveal less
        ("买买提·艾力", "买**·**"),
        ("John Smith", "J*** S****"),
        ("  John   Smith  ", "J*** S****"),
        ("Madonna", "M******"),
        ("Jean-Luc Picard", "J******* P*****"),
        ("John F Kennedy", "J*** F K******"),
        ("Алексей Иванов", "А****** И*****"),
        ("", ""),
        ("   ", ""),
        (None, ""),
    ],
)
def test_mask_person_name(name, expected):
    assert mask_person_name(name) == expected


REQUIRED_COMPOUND_SURNAMES = [
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "轩辕",
    "令狐",
    "钟离",
    "澹台",
    "端木",
    "百里",
    "呼延",
    "南宫",
    "西门",
    "独孤",
    "万俟",
    "闻人",
    "申屠",
    "东郭",
    "赫连",
    "拓跋",
]


@pytest.mark.parametrize("surname", REQUIRED_COMPOUND_SURNAMES)
def test_compound_surnames_are_kept_whole(surname):
    assert surname in COMPOUND_SURNAMES
    assert mask_person_name(surname + "明") == surname + "*"
    assert mask_person_name(surname + "小明") == surname + "**"


def test_compound_surname_list_is_well_formed():
    assert all(len(surname) == 2 for surname in COMPOUND_SURNAMES)
    # 张/王/李 are single surnames: a name starting 张三 must not keep two.
    assert mask_person_name("张三丰") == "张**"


def test_masked_name_never_equals_a_longer_name():
    for name in ["张三", "欧阳娜娜", "John Smith", "Al", "买买提·艾力"]:
        assert mask_person_name(name) != name


def test_mask_person_name_with_markup_and_long_input():
    masked = mask_person_name("<script>alert(1)</script>")
    assert masked == "<" + "*" * 24
    assert "script" not in masked
    masked = mask_person_name("张<b>三</b>")
    assert masked == "张" + "*" * 8
    assert mask_person_name("张" + "三" * (LONG - 1)) == "张" + "*" * (LONG - 1)
    assert mask_person_name("a" * LONG) == "a" + "*" * (LONG - 1)
    words = " ".join(["Ab"] * (LONG // 3))
    assert mask_person_name(words) == " ".join(["A*"] * (LONG // 3))


def test_anonymous_display_name():
    with translation.override("zh-hans"):
        assert str(ANONYMOUS_DISPLAY_NAME) == "爱心人士"


# --- phones ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("13812345678", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        (" 13812345678 ", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+8613812345678", "+86 138****5678"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("86-138-1234-5678", "+86 138****5678"),
        ("0086 13812345678", "+86 138****5678"),
        ("010-62345678", "010-****5678"),
        ("01062345678", "010-****5678"),
        ("(010) 6234 5678", "010-****5678"),
        ("010-62345678-123", "010-****5678"),  # extension dropped
        ("010-62345678 转 123", "010-****5678"),
        ("0571-8888888", "0571-***8888"),
        ("0755 2345 6789", "0755-****6789"),
        ("62345678", "****5678"),  # no area code: last 4 only
        ("+1 415 555 0100", "*******0100"),  # foreign: last 4 only
        ("12345", "***45"),
        ("123456", "****56"),
        ("123", "*23"),
        ("12", "**"),
        ("7", "*"),
        ("", ""),
        ("   ", ""),
        (None, ""),
        ("abc", ""),
    ],
)
def test_mask_phone(phone, expected):
    assert mask_phone(phone) == expected


def test_mask_phone_with_markup_and_long_input():
    masked = mask_phone("<script>13812345678</script>")
    assert masked == "*******5678"
    assert "<" not in masked
    assert mask_phone("<script>alert(1)</script>") == "*"
    assert mask_phone("1" * LONG) == "*" * (LONG - 4) + "1111"
    assert mask_phone("x" * LONG) == ""


@pytest.mark.parametrize(
    ("phone", "hidden"),
    [("13812345678", "1234"), ("+86 13812345678", "1234"), ("010-62345678", "6234"), ("0571-2345678", "234")],
)
def test_masked_phone_never_shows_the_middle_digits(phone, hidden):
    assert hidden not in mask_phone(phone)


# --- ID numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("11010119900307123X", "110***********123X"),
        ("11010119900307123x", "110***********123X"),
        ("110101199003071233", "110***********1233"),
        ("110101 19900307 1233", "110***********1233"),
        ("110101900307123", "110********7123"),  # old 15-digit ID, length kept
        ("E12345678", "E******78"),  # passport
        ("g1234567", "G*****67"),
        ("H01234567", "H******67"),  # 港澳居民来往内地通行证
        ("ABCD", "A*CD"),
        ("AB1", "***"),
        ("A", "*"),
        ("", ""),
        ("   ", ""),
        (None, ""),
    ],
)
def test_mask_id_number(number, expected):
    assert mask_id_number(number) == expected


def test_mask_id_number_keeps_length_of_chinese_ids():
    assert len(mask_id_number("11010119900307123X")) == 18
    assert mask_id_number("11010119900307123X").count("*") == 11
    assert len(mask_id_number("110101900307123")) == 15


def test_mask_id_number_with_markup_and_long_input():
    masked = mask_id_number("<script>alert(1)</script>")
    assert masked == "<" + "*" * 22 + "T>"
    assert "SCRIPT" not in masked
    masked = mask_id_number("A" * LONG)
    assert len(masked) == LONG
    assert masked == "A" + "*" * (LONG - 3) + "AA"


# --- MaskedIdentity: what every register of humans shows of one -------------------------------


def test_registers_of_humans_show_them_masked_through_one_base():
    from redcross.models import MaskedIdentity, Person
    from relief.models import Beneficiary

    for model in (Person, Beneficiary):
        assert issubclass(model, MaskedIdentity), model
        record = model(name="欧阳娜娜", phone="13912345678", id_number="11010519491231002X")
        assert record.masked_name == "欧阳**"
        assert record.masked_phone == "139****5678"
        assert record.masked_id_number == mask_id_number("11010519491231002X")
        assert "11010519491231002X" not in record.masked_id_number
        assert str(record) == "欧阳**"  # unsaved: no number yet
        record.pk = 7
        assert str(record) == "欧阳**（#7）"
    # the base adds no column: each register keeps its own (and its own keyed hash)
    assert [field.name for field in MaskedIdentity._meta.fields] == []
