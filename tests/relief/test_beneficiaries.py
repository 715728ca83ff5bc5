"""The beneficiary register (issue 15, step 2): encrypted ID numbers, keyed hashes of the relief
register's own key, deduplication by ID then phone then name + birth date, the review queue that
only a reviewer settles, with a reason, audited; details only for relief roles."""

import datetime
import hashlib
import hmac

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from relief.models import Beneficiary, BeneficiaryDuplicate, DuplicateStatus, HouseholdMember
from relief.services.beneficiaries import (
    beneficiary_duplicate_clear,
    beneficiary_duplicate_merge,
    beneficiary_keys_recompute,
    id_key,
)
from tests.relief.conftest import cn_id, register

pytestmark = pytest.mark.django_db

ID_A = cn_id("19650312", 12)
ID_B = cn_id("19900101", 21)


def test_the_id_number_is_encrypted_and_matched_by_the_relief_key_only(district_a, east):
    registration = register(district_a, east, id_number=ID_A, phone="13912345678", illness="白血病")
    beneficiary = registration.beneficiary
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone, illness FROM relief_beneficiary WHERE id = %s", [beneficiary.pk])
        stored = cursor.fetchone()
    assert all(value.startswith("fernet:") for value in stored)
    assert ID_A not in str(stored) and "白血病" not in str(stored)
    expected = hmac.new(settings.RELIEF_MATCH_KEY.encode(), f"id:{ID_A}".encode(), hashlib.sha256).hexdigest()
    assert beneficiary.id_key == expected
    person_key = hmac.new(settings.PERSON_MATCH_KEY.encode(), ID_A.encode(), hashlib.sha256).hexdigest()
    assert beneficiary.id_key != person_key  # not joinable to redcross.Person
    assert beneficiary.masked_id_number == ID_A[:3] + "*" * 11 + ID_A[-4:]
    assert beneficiary.birth_date == datetime.date(1965, 3, 12)


def test_the_same_id_number_is_the_same_beneficiary(district_a, east):
    first = register(district_a, east, id_number=ID_A).beneficiary
    again = register(district_a, east, id_number=ID_A.lower().replace("x", "x"), name="王 秀英")
    assert again.created is False and again.beneficiary == first
    with pytest.raises(ValidationError) as error:
        register(district_a, east, id_number=ID_A, name="李四")
    assert "id_number" in error.value.message_dict
    assert Beneficiary.objects.count() == 1


def test_phone_then_name_and_birth_date_raise_suspected_duplicates(district_a, east):
    first = register(district_a, east, id_number=ID_A, phone="13912345678").beneficiary
    by_phone = register(district_a, east, name="王秀英", phone="139 1234 5678")
    assert by_phone.created and [d.candidate for d in by_phone.suspected_duplicates] == [first]
    assert by_phone.suspected_duplicates[0].reason == "phone"
    by_birth = register(district_a, east, name="王秀英", birth_date=datetime.date(1965, 3, 12))
    assert {d.candidate for d in by_birth.suspected_duplicates} == {first}
    assert by_birth.suspected_duplicates[0].reason == "name_birth"
    unrelated = register(district_a, east, name="赵大海", phone="13800000000")
    assert unrelated.suspected_duplicates == ()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id_number": ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")}, "id_number"),  # wrong checksum
        ({"phone": "12345"}, "phone"),
        ({"name": ""}, "name"),
        ({"name": "<script>alert(1)</script>"}, "name"),
        ({"name": "张" * 10_000}, "name"),
        ({"kind": "village"}, "kind"),
        ({"illness": "x" * 5000}, "illness"),
        ({"birth_date": datetime.date(2999, 1, 1)}, "birth_date"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(district_a, east, overrides, field):
    with pytest.raises(ValidationError) as error:
        register(district_a, east, **overrides)
    assert field in error.value.message_dict
    assert Beneficiary.objects.count() == 0


def test_household_members_may_not_repeat_or_belong_to_two_households(district_a, east):
    member = {"name": "王小明", "relation": "子", "id_number": ID_B}
    with pytest.raises(ValidationError) as error:
        register(district_a, east, id_number=ID_A, members=[member, dict(member)])
    assert "members[1].id_number" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        register(district_a, east, id_number=ID_A, members=[{"name": "王秀英", "relation": "本人", "id_number": ID_A}])
    assert "members[0].id_number" in error.value.message_dict
    assert Beneficiary.objects.count() == 0 and HouseholdMember.objects.count() == 0
    register(district_a, east, id_number=ID_A, members=[member])
    with pytest.raises(ValidationError) as error:
        register(district_a, east, name="李桂兰", id_number=cn_id("19700505", 33), members=[member])
    assert "members[0].id_number" in error.value.message_dict
    with pytest.raises(ValidationError) as error:  # the member applying as a household of their own
        register(district_a, east, name="王小明", id_number=ID_B)
    assert "id_number" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        register(district_a, east, name="张三", kind="person", members=[{"name": "李四", "relation": "子"}])
    assert "members" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        register(district_a, east, name="张三", members=[{"name": "李四", "relation": "子", "id_number": "123"}])
    assert "members[0].id_number" in error.value.message_dict
    assert Beneficiary.objects.count() == 1


def test_only_a_reviewer_settles_a_duplicate_with_a_reason(district_a, officer, relief_reviewer, east):
    first = register(district_a, east, id_number=ID_A, phone="13912345678").beneficiary
    duplicate = register(district_a, east, name="王秀英", phone="13912345678").suspected_duplicates[0]
    for user in (district_a, officer):
        with pytest.raises(PermissionDenied):
            beneficiary_duplicate_clear(by=user, duplicate=duplicate, reason="不是同一人")
    with pytest.raises(ValidationError) as error:
        beneficiary_duplicate_clear(by=relief_reviewer, duplicate=duplicate, reason=" ")
    assert "reason" in error.value.message_dict
    cleared = beneficiary_duplicate_clear(by=relief_reviewer, duplicate=duplicate, reason="母女同用一部手机")
    assert cleared.status == DuplicateStatus.CLEARED and cleared.resolved_by == relief_reviewer
    history = cleared.history.first()
    assert history.history_user == relief_reviewer and "母女同用一部手机" in history.history_change_reason
    with pytest.raises(ValidationError):
        beneficiary_duplicate_clear(by=relief_reviewer, duplicate=duplicate, reason="again")
    assert first.pk


def test_merging_moves_the_registration_to_the_first_and_keeps_a_tombstone(district_a, relief_reviewer, east):
    first = register(district_a, east, phone="13912345678").beneficiary
    second = register(district_a, east, id_number=ID_A, phone="13912345678")
    kept = beneficiary_duplicate_merge(by=relief_reviewer, duplicate=second.suspected_duplicates[0], reason="同一户")
    assert kept == first and kept.id_key == id_key(ID_A)  # the ID number moved to the kept one
    tombstone = Beneficiary.objects.get(pk=second.beneficiary.pk)
    assert tombstone.merged_into == first and tombstone.id_key == ""
    assert register(district_a, east, id_number=ID_A).beneficiary == first


def test_district_staff_register_only_in_their_own_branch(west_staff, east, clerk):
    with pytest.raises(PermissionDenied):
        register(west_staff, east)
    with pytest.raises(PermissionDenied):
        register(clerk, east)  # a donation clerk has no relief permission


def test_keys_recompute_after_the_key_changed(district_a, east, settings):
    beneficiary = register(district_a, east, id_number=ID_A, phone="13912345678").beneficiary
    settings.RELIEF_MATCH_KEY = "another-relief-key-of-at-least-32-characters"
    assert beneficiary_keys_recompute() == 1
    beneficiary.refresh_from_db()
    assert beneficiary.id_key == id_key(ID_A)


def test_the_admin_shows_details_only_to_relief_roles(client, district_a, east, branch_tree):
    from tests.factories import StaffFactory

    beneficiary = register(district_a, east, id_number=ID_A, phone="13912345678", illness="先天性心脏病",
                           income="年收入 8000 元").beneficiary  # fmt: skip
    url = reverse("admin:relief_beneficiary_change", args=[beneficiary.pk])
    client.force_login(district_a)
    page = client.get(url).text
    assert ID_A in page and "先天性心脏病" in page
    leader = StaffFactory(branch=branch_tree["city"], roles=["leadership"])
    client.force_login(leader)
    page = client.get(url).text
    assert ID_A not in page and "先天性心脏病" not in page and "年收入" not in page and "13912345678" not in page
    assert beneficiary.masked_id_number in page and "139****5678" in page
    listing = client.get(reverse("admin:relief_beneficiary_changelist")).text
    assert ID_A not in listing and beneficiary.masked_id_number in listing
    found = client.get(reverse("admin:relief_beneficiary_changelist"), {"q": ID_A}).text
    assert beneficiary.masked_id_number in found


def test_the_duplicate_queue_lists_open_suspicions_and_its_actions_need_the_reviewer(
    client, district_a, relief_reviewer, east
):
    register(district_a, east, phone="13912345678")
    duplicate = register(district_a, east, name="王秀英", phone="13912345678").suspected_duplicates[0]
    url = reverse("admin:relief_beneficiaryduplicate_changelist")
    client.force_login(district_a)
    assert "clear_duplicates" not in client.get(url).text
    client.force_login(relief_reviewer)
    assert "clear_duplicates" in client.get(url).text
    client.post(url, {"action": "clear_duplicates", "_selected_action": [duplicate.pk], "apply": "1",
                      "reason": "两个人"})  # fmt: skip
    duplicate.refresh_from_db()
    assert duplicate.status == DuplicateStatus.CLEARED
    assert BeneficiaryDuplicate.objects.filter(status="open").count() == 0
