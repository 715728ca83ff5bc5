"""The admin for exam results, certificates and the reminder outbox: writes go through the
services, branch-scoped, list pages' query counts do not grow with their rows."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import StaffFactory
from tests.training.conftest import PROCESS_CACHES
from tests.training.test_exams_and_certificates import PNG, held_session, trainee
from training.models import Certificate, ExamResult, Reminder, ReminderStatus
from training.services.certificates import certificate_issue
from training.services.reminders import certificate_expiry_reminders_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(branch_tree):
    return StaffFactory(branch=branch_tree["city"], roles=["training_officer"])


@pytest.fixture
def session(branch_tree, officer, instructor):
    return held_session(branch_tree["city"], officer, instructor)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@override_settings(CACHES=PROCESS_CACHES)
def test_list_pages_cost_the_same_for_more_rows(client, officer, session):
    client.force_login(officer)
    for n in range(2):
        certificate_issue(session=session, person=trainee(session, officer, name=f"甲{n}"), by=officer)
    certificate_expiry_reminders_create(today=timezone.localdate() + datetime.timedelta(days=3 * 365))
    urls = [reverse(f"admin:training_{model}_changelist") for model in ("certificate", "examresult", "reminder")]
    for url in urls:
        client.get(url)  # warm: the portal's facts cached, as on a running site
    few = [_queries(client, url) for url in urls]
    for n in range(6):
        certificate_issue(session=session, person=trainee(session, officer, name=f"乙{n}"), by=officer)
    certificate_expiry_reminders_create(today=timezone.localdate() + datetime.timedelta(days=3 * 365))
    assert Reminder.objects.count() == 8
    assert [_queries(client, url) for url in urls] == few


def test_recording_an_exam_result_goes_through_the_service(client, officer, session, instructor):
    person = trainee(session, officer, theory=None, skills=None)
    client.force_login(officer)
    url = reverse("admin:training_examresult_add")
    data = {"session": session.pk, "person": person.pk, "part": "theory", "score": "120", "verdict": ""}
    response = client.post(url, data)
    assert response.status_code == 200 and "score" in response.context["adminform"].form.errors
    assert not ExamResult.objects.exists()
    response = client.post(url, {**data, "score": "88", "examiner": instructor.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    result = ExamResult.objects.get()
    assert result.passed and result.examiner == instructor and result.history.first().history_user == officer
    change = reverse("admin:training_examresult_change", args=[result.pk])
    response = client.post(change, {"score": "", "verdict": "0", "examiner": ""})
    assert response.status_code == 302
    result.refresh_from_db()
    assert not result.passed and result.score is None


def test_bulk_issue_from_the_session_list(client, officer, session):
    trainee(session, officer, name="通过者")
    trainee(session, officer, name="技能不合格", skills=False)
    client.force_login(officer)
    response = client.post(
        reverse("admin:training_session_changelist"),
        {"action": "issue_certificates", "_selected_action": [session.pk]},
        follow=True,
    )
    text = response.content.decode()
    assert "颁发证书 1 本" in text and "技能不合格：技能考核不合格" in text
    assert Certificate.objects.issued_here().get().person.name == "通过者"


def test_revoke_asks_for_a_reason(client, officer, session):
    certificate = certificate_issue(session=session, person=trainee(session, officer), by=officer)
    client.force_login(officer)
    url = reverse("admin:training_certificate_changelist")
    asked = client.post(url, {"action": "revoke_certificates", "_selected_action": [certificate.pk]})
    assert asked.status_code == 200 and "撤销原因" in asked.content.decode()
    client.post(
        url, {"action": "revoke_certificates", "_selected_action": [certificate.pk], "apply": "1", "reason": ""}
    )
    certificate.refresh_from_db()
    assert certificate.revoked_at is None
    client.post(
        url, {"action": "revoke_certificates", "_selected_action": [certificate.pk], "apply": "1", "reason": "冒考"}
    )
    certificate.refresh_from_db()
    assert certificate.revoked_reason == "冒考" and certificate.history.first().history_user == officer


def test_detail_page_download_and_photo(client, officer, session, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        certificate = certificate_issue(session=session, person=trainee(session, officer, name="周照片"), by=officer)
    certificate.refresh_from_db()
    assert certificate.pdf_ready
    client.force_login(officer)
    change = reverse("admin:training_certificate_change", args=[certificate.pk])
    page = client.get(change).content.decode()
    assert certificate.number in page and "下载 PDF" in page and certificate.pdf.name not in page
    download = client.get(reverse("admin:training_certificate_pdf", args=[certificate.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    bad = client.post(change, {"photo": SimpleUploadedFile("x.png", b"<svg onload=alert(1)>")})
    assert bad.status_code == 200 and "photo" in bad.context["adminform"].form.errors
    with django_capture_on_commit_callbacks(execute=True):
        good = client.post(change, {"photo": SimpleUploadedFile("me.png", PNG)})
    assert good.status_code == 302
    certificate.refresh_from_db()
    assert certificate.photo and certificate.pdf_ready
    assert client.get(reverse("admin:training_certificate_photo", args=[certificate.pk])).status_code == 200


def test_other_districts_see_nothing(client, branch_tree, officer, session):
    certificate = certificate_issue(session=session, person=trainee(session, officer), by=officer)
    west = StaffFactory(branch=branch_tree["west"], roles=["training_officer"])
    client.force_login(west)
    assert certificate.number not in client.get(reverse("admin:training_certificate_changelist")).content.decode()
    assert client.get(reverse("admin:training_certificate_pdf", args=[certificate.pk])).status_code in (403, 404)
    assert client.get(reverse("admin:training_certificate_change", args=[certificate.pk])).status_code in (302, 403)


def test_the_outbox_exports_and_marks_sent(client, officer, session):
    certificate = certificate_issue(session=session, person=trainee(session, officer, name="=HYPERLINK(1)"), by=officer)
    certificate_expiry_reminders_create(today=certificate.expires_on - datetime.timedelta(days=10))
    reminder = Reminder.objects.get()
    client.force_login(officer)
    url = reverse("admin:training_reminder_changelist")
    export = client.post(url, {"action": "export_csv", "_selected_action": [reminder.pk]})
    text = export.content.decode("utf-8-sig")
    assert export["Content-Type"].startswith("text/csv") and certificate.number in text
    assert reminder.person.phone in text and "'=HYPERLINK(1)" in text
    client.post(url, {"action": "mark_sent", "_selected_action": [reminder.pk]})
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT and reminder.handled_by == officer
