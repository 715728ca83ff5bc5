"""Certificate-expiry reminders: once per certificate and expiry date, however often the job runs;
a sender can be plugged in; the daily beat job."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from tests.factories import StaffFactory
from tests.training.test_exams_and_certificates import held_session, trainee
from training.models import CourseKind, ExamPart, Reminder, ReminderKind, ReminderStatus
from training.services.certificates import certificate_issue, certificate_revoke
from training.services.exams import exam_result_record
from training.services.reminders import (
    certificate_expiry_reminders_create,
    reminders_deliver,
    training_reminders_send,
)
from training.services.sessions import attendance_record

pytestmark = pytest.mark.django_db

SENT: list[int] = []


def record_sender(reminder) -> None:
    SENT.append(reminder.pk)


def failing_sender(reminder) -> None:
    raise ConnectionError("gateway down: 13900000000")


@pytest.fixture
def officer(branch_tree):
    return StaffFactory(branch=branch_tree["city"], roles=["training_officer"])


@pytest.fixture
def certificate(branch_tree, officer, instructor):
    session = held_session(branch_tree["city"], officer, instructor)
    return certificate_issue(session=session, person=trainee(session, officer, name="刘到期"), by=officer)


def _days_before(certificate, days: int) -> datetime.date:
    return certificate.expires_on - datetime.timedelta(days=days)


def test_a_reminder_once_per_certificate_and_expiry_date(certificate):
    assert certificate_expiry_reminders_create(today=_days_before(certificate, 61)) == 0  # not yet due
    assert certificate_expiry_reminders_create(today=_days_before(certificate, 60)) == 1
    assert certificate_expiry_reminders_create(today=_days_before(certificate, 59)) == 0
    assert certificate_expiry_reminders_create(today=_days_before(certificate, 1)) == 0
    reminder = Reminder.objects.get()
    assert reminder.kind == ReminderKind.CERTIFICATE_EXPIRY and reminder.due_on == certificate.expires_on
    assert reminder.status == ReminderStatus.PENDING and reminder.person == certificate.person
    assert certificate.number in reminder.message and "刘到期" in reminder.message
    # the database refuses a second one, should two jobs run side by side
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(
            kind=ReminderKind.CERTIFICATE_EXPIRY, branch=reminder.branch, person=reminder.person,
            certificate=certificate, due_on=certificate.expires_on, message="again",
        )  # fmt: skip


def test_the_warning_days_are_a_setting(certificate):
    with override_settings(TRAINING_EXPIRY_WARNING_DAYS=10):
        assert certificate_expiry_reminders_create(today=_days_before(certificate, 11)) == 0
        assert certificate_expiry_reminders_create(today=_days_before(certificate, 10)) == 1


def test_no_reminder_for_revoked_expired_or_renewed_certificates(branch_tree, officer, instructor, certificate):
    today = _days_before(certificate, 5)
    certificate_revoke(certificate=certificate, reason="测试", by=officer)
    assert certificate_expiry_reminders_create(today=today) == 0
    assert certificate_expiry_reminders_create(today=certificate.expires_on + datetime.timedelta(days=1)) == 0

    session = held_session(branch_tree["city"], officer, instructor)
    renewed = certificate_issue(session=session, person=trainee(session, officer), by=officer)
    refresher = held_session(branch_tree["city"], officer, instructor, kind=CourseKind.REFRESHER, days=0)
    attendance_record(session=refresher, person=renewed.person, hours_attended=refresher.hours, by=officer)
    for part in ExamPart:
        exam_result_record(session=refresher, person=renewed.person, part=part, passed=True, by=officer)
    new = certificate_issue(session=refresher, person=renewed.person, by=officer)
    # both are due (issued the same day here), but the old one was renewed: only the new one is reminded of
    assert certificate_expiry_reminders_create(today=_days_before(renewed, 5)) == 1
    assert Reminder.objects.get(certificate__person=renewed.person).certificate == new


def test_revoking_cancels_a_pending_reminder(officer, certificate):
    certificate_expiry_reminders_create(today=_days_before(certificate, 5))
    certificate_revoke(certificate=certificate, reason="冒名", by=officer)
    assert Reminder.objects.get().status == ReminderStatus.CANCELLED


def test_without_a_sender_reminders_wait_for_staff(certificate):
    certificate_expiry_reminders_create(today=_days_before(certificate, 5))
    assert reminders_deliver() == 0
    assert Reminder.objects.get().status == ReminderStatus.PENDING


@override_settings(TRAINING_REMINDER_SENDER="tests.training.test_reminders.record_sender")
def test_a_plugged_in_sender_sends_each_once(certificate):
    SENT.clear()
    certificate_expiry_reminders_create(today=_days_before(certificate, 5))
    assert reminders_deliver() == 1 and reminders_deliver() == 0
    reminder = Reminder.objects.get()
    assert [reminder.pk] == SENT and reminder.status == ReminderStatus.SENT and reminder.attempts == 1


@override_settings(TRAINING_REMINDER_SENDER="tests.training.test_reminders.failing_sender")
def test_a_failing_sender_keeps_the_reminder_for_the_next_run(certificate, caplog):
    certificate_expiry_reminders_create(today=_days_before(certificate, 5))
    assert reminders_deliver() == 0
    reminder = Reminder.objects.get()
    assert reminder.status == ReminderStatus.FAILED and reminder.last_error == "ConnectionError"
    assert "13900000000" not in caplog.text and certificate.person.phone not in caplog.text


def test_the_daily_job_is_idempotent(certificate):
    from training.tasks import training_reminders_task

    with override_settings(TRAINING_EXPIRY_WARNING_DAYS=5000):
        first = training_reminders_send()  # the trainee's and the instructor's certificates
        assert first == {"certificate_expiry": 2, "aed_check": 0, "sent": 0}
        assert training_reminders_task.delay().get() == {"certificate_expiry": 0, "aed_check": 0, "sent": 0}
    assert Reminder.objects.count() == 2


def test_the_job_is_on_the_beat_and_registered():
    from redcross.celery import app

    entry = [
        e
        for e in django_settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "training.tasks.training_reminders_task"
    ]
    assert len(entry) == 1
    assert "training.tasks.training_reminders_task" in app.tasks
    assert "training.tasks.certificate_render_pdf_task" in app.tasks
    assert timezone.localdate()  # the schedule runs in the portal's time zone
