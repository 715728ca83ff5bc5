"""The person register, the duplicate review and consent in the admin: masked, scoped, audited."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from redcross.consent import consent_give, consent_text_draft, consent_text_publish
from redcross.models import ConsentMethod, ConsentText, DuplicateStatus, Person, PersonDuplicate
from redcross.people import person_find_or_register
from redcross.roles import role_group_name
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"


@pytest.fixture
def officer(branch_tree):
    return StaffFactory(branch=branch_tree["city"], roles=["training_officer"])


def _register(branch, **overrides):
    facts = {"name": "张三", "phone": "13912345678", "id_number": ID_NUMBER, "branch": branch}
    return person_find_or_register(**{**facts, **overrides}).person


def test_the_list_masks_phone_and_id_and_finds_by_digits_and_full_id(client, officer, branch_tree):
    person = _register(branch_tree["city"])
    client.force_login(officer)
    url = reverse("admin:redcross_person_changelist")
    page = client.get(url).content.decode()
    assert "139****5678" in page and "110***********002X" in page
    assert "13912345678" not in page and ID_NUMBER not in page
    assert "张三" in client.get(url, {"q": "5678"}).content.decode()
    found = client.get(url, {"q": "110105 19491231 002x"}).context["cl"].result_list
    assert list(found) == [person]
    change = client.get(reverse("admin:redcross_person_change", args=[person.pk])).content.decode()
    assert ID_NUMBER not in change and "110***********002X" in change


def test_adding_and_correcting_go_through_the_services(client, officer, branch_tree):
    client.force_login(officer)
    add = reverse("admin:redcross_person_add")
    data = {"name": "李四", "phone": "137 0000 1111", "new_id_number": "", "branch": branch_tree["city"].pk}
    assert client.post(add, {**data, "new_id_number": "110105194912310022"}).status_code == 200  # checksum
    assert client.post(add, data).status_code == 302
    person = Person.objects.get()
    assert person.phone == "13700001111"
    assert person.history.first().history_user == officer
    change = reverse("admin:redcross_person_change", args=[person.pk])
    response = client.post(change, {**data, "new_id_number": "110105194912310011"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.id_number == "110105194912310011" and person.sex == "male"
    # a number another person holds is refused on the field
    _register(branch_tree["city"])
    page = client.post(change, {**data, "new_id_number": ID_NUMBER}).content.decode()
    assert "请合并两条记录" in page


def test_district_staff_see_only_their_subtree(client, east_staff, branch_tree):
    _register(branch_tree["west"])
    east = _register(branch_tree["east_school"], name="王五", phone="13500000000", id_number="")
    client.force_login(east_staff)
    result = client.get(reverse("admin:redcross_person_changelist")).context["cl"].result_list
    assert list(result) == [east]


def test_the_duplicate_review_merges_with_a_reason(client, officer, branch_tree):
    first = _register(branch_tree["city"], id_number="")
    second = _register(branch_tree["city"])
    duplicate = PersonDuplicate.objects.get()
    client.force_login(officer)
    page = client.get(reverse("admin:redcross_personduplicate_changelist")).content.decode()
    assert "139****5678" in page and "合并…" in page
    url = reverse("admin:redcross_personduplicate_merge", args=[duplicate.pk])
    assert client.post(url, {"keep": second.pk, "reason": ""}).status_code == 200
    response = client.post(url, {"keep": second.pk, "reason": "电话核实为同一人"})
    assert response.status_code == 302
    first.refresh_from_db()
    duplicate.refresh_from_db()
    assert first.merged_into == second and first.merged_by == officer
    assert duplicate.status == DuplicateStatus.MERGED
    assert client.get(url).status_code == 404  # settled


def test_merging_needs_the_merge_permission(client, branch_tree):
    _register(branch_tree["city"], id_number="")
    _register(branch_tree["city"])
    clerk = StaffFactory(branch=branch_tree["city"], roles=["donation_clerk"])
    clerk.groups.add(Group.objects.get(name=role_group_name("leadership")))  # may view, not merge
    client.force_login(clerk)
    url = reverse("admin:redcross_personduplicate_merge", args=[PersonDuplicate.objects.get().pk])
    assert client.get(url).status_code == 403


def test_relief_and_three_donations_officers_have_no_access_to_persons():
    relief = Group.objects.get(name=role_group_name("relief_officer"))
    registries = Group.objects.get(name=role_group_name("registries_officer"))
    for group in (relief, registries):
        assert not group.permissions.filter(content_type__model__in=["person", "consentrecord"]).exists()


def test_a_used_consent_text_is_read_only_in_the_admin(client, officer, branch_tree):
    text = consent_text_publish(text=consent_text_draft(purpose="training", title="报名同意书", text="第一版"))
    client.force_login(officer)
    change = reverse("admin:redcross_consenttext_change", args=[text.pk])
    assert client.post(change, {"title": "报名同意书", "text": "改过"}).status_code == 302  # nobody agreed yet
    person = _register(branch_tree["city"])
    consent_give(subject=person, text=text, method=ConsentMethod.ONLINE, branch=branch_tree["city"])
    client.post(change, {"title": "被改的标题", "text": "被改的正文"})
    text.refresh_from_db()
    assert (text.title, text.text) == ("报名同意书", "改过")
    assert ConsentText.objects.count() == 1
