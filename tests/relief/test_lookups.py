"""The duplicate check of a registration is a fixed number of indexed lookups (issue 15: ≤ 5 ms
against 200,000 beneficiaries, bench/bench_relief.py): however many members a household has, and
still refusing a member registered elsewhere on the member's own field."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.relief.conftest import cn_id, register

pytestmark = pytest.mark.django_db


def _lookups(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith("SELECT")
        and ("relief_beneficiary" in q["sql"] or "relief_householdmember" in q["sql"])
        and "historical" not in q["sql"]
    ]


def _members(serials):
    return [
        {"name": "成员" + "甲乙丙丁戊"[i], "relation": "子女", "id_number": cn_id("20050505", s)}
        for i, s in enumerate(serials)
    ]


def test_the_check_does_not_grow_with_the_household(district_a, east):
    register(district_a, east, name="先登记户", id_number=cn_id("19600101", 1))
    with CaptureQueriesContext(connection) as small:
        register(district_a, east, name="一口之家", id_number=cn_id("19600101", 2), members=_members([11]))
    with CaptureQueriesContext(connection) as large:
        register(district_a, east, name="五口之家", id_number=cn_id("19600101", 3), members=_members([21, 22, 23, 24]))
    assert len(_lookups(small)) == len(_lookups(large)) == 4, _lookups(large)
    assert all("id_number" not in sql.split("WHERE")[-1] for sql in _lookups(large))  # keyed hashes only


def test_a_member_registered_elsewhere_is_refused_on_its_own_field(district_a, east):
    from relief.models import Beneficiary

    register(district_a, east, name="张家", id_number=cn_id("19600101", 4), members=_members([31]))
    register(district_a, east, name="李家", id_number=cn_id("19600101", 5), kind="household")
    before = Beneficiary.objects.count()
    with pytest.raises(ValidationError) as error:  # the second member is one of the 张家 household
        register(district_a, east, name="王家", id_number=cn_id("19600101", 6), members=_members([41, 31]))
    assert list(error.value.message_dict) == ["members[1].id_number"] and "成员" in str(error.value)
    head_as_member = [*_members([45]), {"name": "李家", "relation": "父亲", "id_number": cn_id("19600101", 5)}]
    with pytest.raises(ValidationError) as error:
        register(district_a, east, name="赵家", id_number=cn_id("19600101", 7), members=head_as_member)
    assert list(error.value.message_dict) == ["members[1].id_number"] and "户主" in str(error.value)
    with pytest.raises(ValidationError) as error:  # the head is a member of another household
        register(district_a, east, name="成员甲", id_number=cn_id("20050505", 31))
    assert list(error.value.message_dict) == ["id_number"]
    assert Beneficiary.objects.count() == before  # nothing written


def test_a_member_who_is_a_registered_person_is_a_suspect(district_a, east):
    person = register(district_a, east, name="成员甲", kind="person", id_number=cn_id("20050505", 51)).beneficiary
    household = register(district_a, east, name="孙家", id_number=cn_id("19600101", 8), members=_members([51]))
    assert [(d.candidate, d.reason) for d in household.suspected_duplicates] == [(person, "member")]
