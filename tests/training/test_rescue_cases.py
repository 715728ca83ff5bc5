"""Rescue cases (成功救人案例): public only while published AND the rescuer consents; withdrawing
the consent hides the case at once; public pages show no phone, ID number, address or full name."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from redcross.consent import consent_text_draft, consent_text_publish, consent_withdraw_all, has_consent
from redcross.models import ConsentMethod, ConsentRecord, Person
from tests.factories import StaffFactory
from tests.training.conftest import make_certificate
from training.models import RESCUE_CASE_PURPOSE, CertificateKind, RescueCase, RescueCaseStatus
from training.selectors.rescue import public_rescue_cases
from training.services.rescue import (
    rescue_case_create,
    rescue_case_publish,
    rescue_case_unpublish,
    rescue_case_update,
    rescue_consent_record,
)

pytestmark = pytest.mark.django_db

STORY = "晨练时一位老人倒地，施救人立即请旁人拨打 120 并开始胸外按压，AED 到场后完成除颤，老人恢复呼吸。"


@pytest.fixture
def officer(branch_tree):
    return StaffFactory(branch=branch_tree["city"], roles=["training_officer"])


@pytest.fixture
def consent_text(officer):
    text = consent_text_draft(purpose=RESCUE_CASE_PURPOSE, title="案例公开同意书", text="同意公开。", by=officer)
    return consent_text_publish(text=text, by=officer)


@pytest.fixture
def rescuer(branch_tree):
    return Person.objects.create(
        name="欧阳明月", phone="13912345678", id_number="11010519491231002X", branch=branch_tree["east"]
    )


def _case(branch, rescuer, by, **extra):
    values = {
        "rescued_on": timezone.localdate() - datetime.timedelta(days=3), "place": "东区某公园",
        "title": "公园里的四分钟", "story": STORY, **extra,
    }  # fmt: skip
    return rescue_case_create(branch=branch, rescuer=rescuer, by=by, **values)


def _published(branch_tree, rescuer, officer, consent_text):
    case = _case(branch_tree["east"], rescuer, officer)
    rescue_consent_record(case=case, method=ConsentMethod.COUNTER, by=officer)
    return rescue_case_publish(case=case, by=officer)


def test_a_case_is_published_only_with_the_rescuers_consent(branch_tree, rescuer, officer, consent_text):
    case = _case(branch_tree["east"], rescuer, officer)
    with pytest.raises(ValidationError) as excinfo:
        rescue_case_publish(case=case, by=officer)
    assert "rescuer" in excinfo.value.message_dict
    case.refresh_from_db()
    assert case.status == RescueCaseStatus.DRAFT
    record = rescue_consent_record(case=case, method=ConsentMethod.COUNTER, by=officer)
    assert record.person == rescuer and record.purpose == RESCUE_CASE_PURPOSE and record.recorded_by == officer
    rescue_case_publish(case=case, by=officer)
    case.refresh_from_db()
    assert case.status == RescueCaseStatus.PUBLISHED and case.published_by == officer
    assert list(public_rescue_cases()) == [case]
    assert case.history.first().history_user == officer


def test_withdrawing_consent_hides_the_case_at_once(client, branch_tree, rescuer, officer, consent_text):
    case = _published(branch_tree, rescuer, officer, consent_text)
    detail = reverse("training:rescue_case", args=[case.pk])
    assert client.get(detail).status_code == 200
    assert "公园里的四分钟" in client.get(reverse("training:rescue_cases")).content.decode()
    # the person withdraws (e.g. through their private consent link): nothing else is touched
    consent_withdraw_all(subject=rescuer, purpose=RESCUE_CASE_PURPOSE, method=ConsentMethod.ONLINE)
    case.refresh_from_db()
    assert case.status == RescueCaseStatus.PUBLISHED  # the case's own status is unchanged...
    assert client.get(detail).status_code == 404  # ...and it is no longer public
    assert "公园里的四分钟" not in client.get(reverse("training:rescue_cases")).content.decode()
    assert not public_rescue_cases().exists()
    with pytest.raises(ValidationError):
        rescue_case_publish(case=case, by=officer)
    # a new consent shows it again
    rescue_consent_record(case=case, method=ConsentMethod.COUNTER, by=officer)
    assert client.get(detail).status_code == 200


def test_staff_can_take_a_case_down(client, branch_tree, rescuer, officer, consent_text):
    case = _published(branch_tree, rescuer, officer, consent_text)
    rescue_case_unpublish(case=case, by=officer)
    assert client.get(reverse("training:rescue_case", args=[case.pk])).status_code == 404
    assert has_consent(rescuer, RESCUE_CASE_PURPOSE)  # the consent stands; the staff decided


def test_public_pages_show_no_personal_data(client, branch_tree, rescuer, officer, consent_text):
    case = _published(branch_tree, rescuer, officer, consent_text)
    for url in (reverse("training:rescue_cases"), reverse("training:rescue_case", args=[case.pk])):
        page = client.get(url).content.decode()
        assert "欧阳**" in page
        for secret in ("欧阳明月", "13912345678", "11010519491231002X", "1391234", officer.username):
            assert secret not in page, (url, secret)
    assert client.get(reverse("training:rescue_case", args=[999999])).status_code == 404
    draft = _case(branch_tree["east"], rescuer, officer, title="未发布的案例")
    assert client.get(reverse("training:rescue_case", args=[draft.pk])).status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("story", "被救者电话 13800001111，请联系"),
        ("story", "身份证 11010519491231002X"),
        ("place", "东区幸福路 8 号 2 单元"),
        ("place", ""),
        ("title", "x" * 10_000),
        ("title", "<script>alert(1)</script>"),
        ("story", "y" * 5001),
        ("rescued_on", timezone.localdate() + datetime.timedelta(days=1)),
        ("rescued_on", "yesterday"),
    ],
)
def test_bad_case_input_names_the_field_and_writes_nothing(branch_tree, rescuer, officer, field, value):
    with pytest.raises(ValidationError) as excinfo:
        _case(branch_tree["east"], rescuer, officer, **{field: value})
    assert field in excinfo.value.message_dict
    assert not RescueCase.objects.exists()


def test_links_to_training_must_be_the_rescuers(branch_tree, rescuer, officer):
    someone_else = Person.objects.create(name="张三", phone="13900000001", branch=branch_tree["east"])
    theirs = make_certificate(someone_else, kind=CertificateKind.FIRST_AIDER)
    with pytest.raises(ValidationError) as excinfo:
        _case(branch_tree["east"], rescuer, officer, certificate=theirs)
    assert "certificate" in excinfo.value.message_dict
    own = make_certificate(rescuer, kind=CertificateKind.FIRST_AIDER)
    case = _case(branch_tree["east"], rescuer, officer, certificate=own)
    with pytest.raises(ValidationError):
        rescue_case_update(case=case, certificate=theirs, by=officer)
    rescue_case_update(case=case, title="新标题", by=officer)
    case.refresh_from_db()
    assert (case.title, case.certificate) == ("新标题", own)


def test_district_staff_see_and_change_only_their_subtree(client, branch_tree, rescuer, officer, consent_text):
    west_case = _case(branch_tree["west"], rescuer, officer, title="西区案例")
    east_case = _case(branch_tree["east_school"], rescuer, officer, title="东区学校案例")
    east_staff = StaffFactory(branch=branch_tree["east"], roles=["district_staff"])
    with pytest.raises(PermissionDenied):
        rescue_case_publish(case=west_case, by=east_staff)
    with pytest.raises(PermissionDenied):
        _case(branch_tree["west"], rescuer, east_staff)
    client.force_login(east_staff)
    listing = client.get(reverse("admin:training_rescuecase_changelist"))
    assert list(listing.context["cl"].result_list) == [east_case]
    assert client.get(reverse("admin:training_rescuecase_change", args=[west_case.pk])).status_code == 302


def test_admin_records_written_consent_with_a_scan_and_publishes(
    client, branch_tree, rescuer, officer, consent_text, django_assert_max_num_queries
):
    client.force_login(officer)
    form = {
        "branch": branch_tree["east"].pk, "rescuer": rescuer.pk, "rescued_on": "2024-05-01", "place": "东区某商场",
        "title": "商场里的救援", "story": STORY, "certificate": "", "session": "",
    }  # fmt: skip
    bad = client.post(reverse("admin:training_rescuecase_add"), {**form, "story": "电话 13800001111"})
    assert bad.status_code == 200 and "story" in bad.context["adminform"].form.errors
    assert client.post(reverse("admin:training_rescuecase_add"), form).status_code == 302
    case = RescueCase.objects.get()
    changelist = reverse("admin:training_rescuecase_changelist")
    action = {"action": "publish", "_selected_action": [case.pk]}
    client.post(changelist, action)
    case.refresh_from_db()
    assert case.status == RescueCaseStatus.DRAFT  # refused: no consent yet
    consent_url = reverse("admin:training_rescuecase_consent", args=[case.pk])
    assert "同意公开" in client.get(consent_url).content.decode()
    missing = client.post(consent_url, {"method": ConsentMethod.WRITTEN})
    assert missing.status_code == 200 and "evidence" in missing.context["form"].errors
    scan = SimpleUploadedFile("consent.pdf", b"%PDF-1.4\nsigned\n")
    assert client.post(consent_url, {"method": ConsentMethod.WRITTEN, "evidence": scan}).status_code == 302
    assert ConsentRecord.objects.get(person=rescuer).method == ConsentMethod.WRITTEN
    client.post(changelist, action)
    case.refresh_from_db()
    assert case.status == RescueCaseStatus.PUBLISHED
    for n in range(8):
        _case(branch_tree["east" if n % 2 else "west"], rescuer, officer, title=f"案例{n}")
    client.get(changelist)
    with django_assert_max_num_queries(14):
        assert client.get(changelist).status_code == 200
    assert client.get(reverse("admin:training_rescuecase_change", args=[case.pk])).status_code == 200
