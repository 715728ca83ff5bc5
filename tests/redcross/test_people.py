"""Persons (自然人): the keyed-hash ID match, the phone + name suspicion, corrections and merges."""

import datetime
import hashlib
import hmac

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from redcross.consent import consent_give, consent_text_draft, consent_text_publish, has_consent
from redcross.models import ConsentMethod, DuplicateStatus, Person, PersonDuplicate
from redcross.people import (
    person_duplicate_dismiss,
    person_duplicate_merge,
    person_find_or_register,
    person_match_key,
    person_merge,
    person_update,
)

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"
OTHER_ID = "110105194912310011"  # a valid number, another person


def _register(branch, **overrides):
    facts = {"name": "张三", "phone": "13912345678", "id_number": ID_NUMBER, "branch": branch}
    return person_find_or_register(**{**facts, **overrides})


def test_the_match_key_is_an_hmac_of_the_normalised_number_with_its_own_key(settings):
    expected = hmac.new(settings.PERSON_MATCH_KEY.encode(), ID_NUMBER.encode(), hashlib.sha256).hexdigest()
    for typed in (ID_NUMBER, ID_NUMBER.lower(), " 110105 19491231 002x ", "１１０１０５１９４９１２３１００２Ｘ"):
        assert person_match_key(typed) == expected
    # not the encryption keys' blind index: rotating those must not break matching
    settings.PERSON_MATCH_KEY = "another-key-of-at-least-32-characters-long"
    assert person_match_key(ID_NUMBER) != expected


def test_the_id_number_is_encrypted_and_masked(branch_tree):
    person = _register(branch_tree["city"]).person
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id_match_key FROM redcross_person WHERE id = %s", [person.pk])
        stored, key = cursor.fetchone()
    assert ID_NUMBER not in stored and stored.startswith("fernet:")
    assert key == person_match_key(ID_NUMBER)
    assert person.masked_id_number == "110***********002X"
    assert person.masked_phone == "139****5678"
    assert str(person) == f"张*（#{person.pk}）"
    # the ID decides birth date and sex when the form did not ask
    assert person.birth_date == datetime.date(1949, 12, 31)
    assert person.sex == "female"


def test_an_id_match_returns_the_registered_person(branch_tree):
    first = _register(branch_tree["city"])
    again = _register(branch_tree["east"], name="张 三", phone="13800000000", id_number=ID_NUMBER.lower())
    assert first.created and not again.created
    assert again.person == first.person
    assert Person.objects.count() == 1
    assert PersonDuplicate.objects.count() == 0


def test_an_id_number_registered_under_another_name_is_refused(branch_tree):
    first = _register(branch_tree["city"]).person
    with pytest.raises(ValidationError) as caught:
        _register(branch_tree["city"], name="李四")
    assert "id_number" in caught.value.message_dict
    assert list(Person.objects.all()) == [first]


def test_same_phone_and_name_with_another_or_no_id_is_registered_and_flagged(branch_tree):
    first = _register(branch_tree["city"])
    no_id = _register(branch_tree["city"], id_number="")
    other_id = _register(branch_tree["city"], id_number=OTHER_ID)
    assert no_id.created and other_id.created
    assert [d.candidate for d in no_id.suspected_duplicates] == [first.person]
    assert {d.candidate for d in other_id.suspected_duplicates} == {first.person, no_id.person}
    assert PersonDuplicate.objects.filter(status=DuplicateStatus.OPEN).count() == 3
    # another name on the same phone (a family member) is no suspicion
    assert not _register(branch_tree["city"], name="张四", id_number="").suspected_duplicates


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id_number": "110105194912310022"}, "id_number"),  # wrong check digit
        ({"name": "张" * 10_000}, "name"),
        ({"name": "<script>alert(1)</script>"}, "name"),
        ({"phone": "12345"}, "phone"),
        ({"id_number": "", "birth_date": datetime.date.today() + datetime.timedelta(days=1)}, "birth_date"),
        ({"birth_date": datetime.date(1950, 1, 1)}, "birth_date"),  # not what the ID says
    ],
)
def test_bad_facts_name_the_field_and_write_nothing(branch_tree, overrides, field):
    with pytest.raises(ValidationError) as caught:
        _register(branch_tree["city"], **overrides)
    assert field in caught.value.message_dict
    assert Person.objects.count() == 0


def test_an_update_never_shows_or_needs_the_number_and_refuses_anothers(branch_tree, city_staff):
    person = _register(branch_tree["city"]).person
    other = _register(branch_tree["city"], name="李四", phone="13700000000", id_number=OTHER_ID).person
    updated = person_update(person=person, by=city_staff, name="张三", phone="13911112222", sex="female")
    assert updated.id_number == ID_NUMBER  # None: kept
    assert updated.history.first().history_user == city_staff
    with pytest.raises(ValidationError) as caught:
        person_update(person=other, by=city_staff, name="李四", id_number=ID_NUMBER)
    assert "id_number" in caught.value.message_dict


def test_merge_moves_every_relation_keeps_both_histories_and_is_audited(branch_tree, city_staff):
    city = branch_tree["city"]
    keep = _register(city, id_number="").person
    merge = _register(city).person  # flagged against keep
    earlier = _register(city, name="张三", phone="13600000000", id_number="").person
    person_merge(keep=merge, merge=earlier, by=city_staff, reason="同一人两次登记")  # a tombstone of `merge`
    text = consent_text_publish(text=consent_text_draft(purpose="training", title="培训报名", text="……"))
    consent = consent_give(subject=merge, text=text, method=ConsentMethod.ONLINE, branch=city)

    result = person_merge(keep=keep, merge=merge, by=city_staff, reason="核对身份证后确认为同一人")

    keep.refresh_from_db()
    merge.refresh_from_db()
    earlier.refresh_from_db()
    consent.refresh_from_db()
    assert result.person == keep
    assert consent.person == keep and has_consent(keep, "training")
    assert earlier.merged_into == keep  # a chain of merges ends at the kept person
    assert result.moved == {"redcross.ConsentRecord": 1, "redcross.Person": 1}
    # the kept person takes the ID number over; the tombstone keeps who, when and why
    assert keep.id_number == ID_NUMBER and keep.id_match_key == person_match_key(ID_NUMBER)
    assert merge.merged_into == keep and merge.merged_by == city_staff and merge.merged_at
    assert merge.merge_reason == "核对身份证后确认为同一人"
    assert merge.id_number == "" and merge.id_match_key == ""
    # both histories stay; every row of the merge names who did it and why
    assert merge.history.count() >= 3 and keep.history.count() >= 2
    for row in (keep.history.first(), merge.history.first(), consent.history.first()):
        assert row.history_user == city_staff
        assert "核对身份证后确认为同一人" in row.history_change_reason
    assert not PersonDuplicate.objects.filter(status=DuplicateStatus.OPEN).exists()
    # and the ID now finds the kept person
    assert _register(city).person == keep


def test_merge_discovers_relations_generically():
    """Every relation other apps add to Person is moved: none is listed by name in the service."""
    from pathlib import Path

    from redcross import people

    source = Path(people.__file__).read_text(encoding="utf-8")
    assert "_meta.related_objects" in source
    labels = {relation.related_model._meta.label for relation in Person._meta.related_objects}
    assert {"redcross.ConsentRecord", "redcross.Person", "redcross.PersonDuplicate"} <= labels


def test_merge_refuses_two_id_numbers_a_missing_reason_and_other_branches(branch_tree, city_staff, east_staff):
    city = branch_tree["city"]
    one = _register(city).person
    two = _register(city, id_number=OTHER_ID).person
    with pytest.raises(ValidationError, match="身份证号码不同"):
        person_merge(keep=one, merge=two, by=city_staff, reason="x")
    with pytest.raises(ValidationError):
        person_merge(keep=one, merge=two, by=city_staff, reason=" ")
    west_person = _register(branch_tree["west"], name="王五", phone="13500000000", id_number="").person
    east_person = _register(branch_tree["east"], name="王五", phone="13500000000", id_number="").person
    with pytest.raises(PermissionDenied):
        person_merge(keep=east_person, merge=west_person, by=east_staff, reason="同一人")
    assert Person.objects.active().count() == 4


def test_review_dismiss_and_merge_from_a_duplicate(branch_tree, city_staff):
    city = branch_tree["city"]
    first = _register(city, id_number="").person
    second = _register(city).person
    duplicate = PersonDuplicate.objects.get()
    stranger = _register(city, name="赵六", phone="13300000000", id_number="").person
    with pytest.raises(ValidationError):  # keep must be one of the two
        person_duplicate_merge(duplicate=duplicate, keep=stranger, by=city_staff, reason="x")
    person_duplicate_merge(duplicate=duplicate, keep=second, by=city_staff, reason="同一人")
    duplicate.refresh_from_db()
    assert duplicate.status == DuplicateStatus.MERGED and duplicate.resolved_by == city_staff
    first.refresh_from_db()
    assert first.merged_into == second

    third = _register(city, id_number="", phone="13912345678", name="张三").person
    flagged = PersonDuplicate.objects.get(person=third)
    person_duplicate_dismiss(duplicate=flagged, by=city_staff, note="母女同名同号")
    flagged.refresh_from_db()
    assert flagged.status == DuplicateStatus.DISMISSED
    with pytest.raises(ValidationError):
        person_duplicate_dismiss(duplicate=flagged, by=city_staff, note="again")


def test_a_new_match_key_is_applied_by_the_rehash_command(branch_tree, settings):
    from io import StringIO

    from django.core.management import call_command

    person = _register(branch_tree["city"]).person
    settings.PERSON_MATCH_KEY = "a-new-person-match-key-of-32-chars-or-more"
    from redcross.people import person_by_id_number

    assert person_by_id_number(ID_NUMBER) is None  # the stored key was taken with the old one
    out = StringIO()
    call_command("rehash_person_ids", stdout=out)
    assert "1 match keys recomputed" in out.getvalue()
    assert _register(branch_tree["city"]).person == person


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_id_number_make_one_person(branch_tree):
    """Ten sign-ups with the same ID number at once (typed ten ways): one person, ten finds of it."""
    import threading

    from django.db import connections

    if connection.vendor != "postgresql":
        pytest.skip("concurrent inserts are checked on PostgreSQL (SQLite serialises whole transactions)")
    city = branch_tree["city"]
    typed = [ID_NUMBER, ID_NUMBER.lower(), f" {ID_NUMBER} ", "１１０１０５１９４９１２３１００２Ｘ"] * 3
    found, errors = [], []
    barrier = threading.Barrier(10)

    def register(number):
        try:
            barrier.wait(timeout=30)
            found.append(_register(city, id_number=number).person.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(number,)) for number in typed[:10]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert Person.objects.count() == 1
    assert found == [Person.objects.get().pk] * 10
