"""Consent: versioned texts immutable once used, records given and withdrawn, ``has_consent``."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from redcross.consent import (
    consent_by_token,
    consent_give,
    consent_text_change,
    consent_text_current,
    consent_text_draft,
    consent_text_publish,
    consent_withdraw,
    consent_withdraw_all,
    has_consent,
)
from redcross.models import ConsentMethod, ConsentRecord, ConsentText
from redcross.people import person_find_or_register

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 32


@pytest.fixture
def person(branch_tree):
    return person_find_or_register(name="张三", phone="13912345678", branch=branch_tree["city"]).person


@pytest.fixture
def text():
    return consent_text_publish(
        text=consent_text_draft(purpose="rescue-story", title="救人案例公开同意书", text="同意公开我的救人经历。")
    )


def test_versions_count_up_and_the_newest_published_is_current(text):
    draft = consent_text_draft(purpose="rescue-story", title="救人案例公开同意书", text="第二版")
    assert (text.version, draft.version) == (1, 2)
    assert consent_text_current("rescue-story") == text  # the draft is not asked for yet
    consent_text_publish(text=draft)
    assert consent_text_current("rescue-story") == draft
    assert consent_text_current("unknown") is None


def test_a_text_is_immutable_once_a_record_uses_it(text, person, branch_tree):
    consent_text_change(text=text, title="救人案例公开同意书", body="更正后的正文")  # nobody agreed yet
    consent_give(subject=person, text=text, method=ConsentMethod.ONLINE, branch=branch_tree["city"])
    with pytest.raises(ValidationError) as caught:
        consent_text_change(text=text, title="改过的标题", body="改过的正文")
    assert caught.value.code == "consent_text_used"
    text.refresh_from_db()
    assert (text.title, text.text) == ("救人案例公开同意书", "更正后的正文")


def test_withdrawal_takes_effect_at_once(text, person, branch_tree):
    assert not has_consent(person, "rescue-story")
    record = consent_give(subject=person, text=text, method=ConsentMethod.ONLINE, branch=branch_tree["city"])
    assert has_consent(person, "rescue-story") and not has_consent(person, "training")
    assert consent_by_token(record.management_token) == record
    assert consent_by_token("x" * 65) is None and consent_by_token("") is None
    consent_withdraw(record=record, method=ConsentMethod.ONLINE)
    assert not has_consent(person, "rescue-story")
    first_withdrawal = ConsentRecord.objects.get().withdrawn_at
    consent_withdraw(record=record, method=ConsentMethod.COUNTER)  # twice keeps the first
    assert ConsentRecord.objects.get().withdrawn_at == first_withdrawal


def test_consent_of_any_record_through_the_generic_subject(text, branch_tree, city_staff):
    branch = branch_tree["east"]  # any saved record: here a branch stands in for an app's row
    consent_give(subject=branch, text=text, method=ConsentMethod.COUNTER, branch=branch, by=city_staff)
    assert has_consent(branch, "rescue-story")
    assert not has_consent(branch_tree["west"], "rescue-story")
    assert consent_withdraw_all(subject=branch, purpose="rescue-story", method=ConsentMethod.COUNTER) == 1
    assert not has_consent(branch, "rescue-story")


def test_written_consent_needs_a_scan_and_counter_consent_a_staff_member(text, person, branch_tree, city_staff):
    city = branch_tree["city"]
    with pytest.raises(ValidationError) as caught:
        consent_give(subject=person, text=text, method=ConsentMethod.WRITTEN, branch=city, by=city_staff)
    assert "evidence" in caught.value.message_dict
    with pytest.raises(ValidationError):
        bad = SimpleUploadedFile("form.html", b"<html>", content_type="text/html")
        consent_give(subject=person, text=text, method=ConsentMethod.WRITTEN, branch=city, by=city_staff, evidence=bad)
    with pytest.raises(ValidationError):
        consent_give(subject=person, text=text, method=ConsentMethod.COUNTER, branch=city)
    scan = SimpleUploadedFile("form.png", PNG, content_type="image/png")
    record = consent_give(
        subject=person, text=text, method=ConsentMethod.WRITTEN, branch=city, by=city_staff, evidence=scan
    )
    assert record.evidence.name.startswith("consent/")
    assert record.history.first().history_user == city_staff
    assert ConsentRecord.objects.count() == 1


def test_an_unpublished_text_cannot_be_consented_to(person, branch_tree):
    draft = consent_text_draft(purpose="training", title="报名同意书", text="……")
    with pytest.raises(ValidationError):
        consent_give(subject=person, text=draft, method=ConsentMethod.ONLINE, branch=branch_tree["city"])
    assert ConsentText.objects.get().published_at is None
