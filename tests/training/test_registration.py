"""Registration services: seats never above capacity, the waitlist served in order of arrival,
promotion on cancellation, the rules on which sessions take registrations, duplicates, audit."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from redcross.consent import consent_give, has_consent
from redcross.models import ConsentMethod
from tests.factories import StaffFactory
from tests.training.registration_helpers import consent_text, open_session, person
from training.models import Registration, RegistrationStatus, SessionStatus
from training.selectors.registration import waitlist_position
from training.services.registration import (
    registration_cancel,
    registration_closed_reason,
    registration_consent_link,
    registration_contact_change,
    registration_create,
)
from training.services.sessions import session_create, session_set_status

pytestmark = pytest.mark.django_db

NAMES = "甲乙丙丁戊己庚辛壬癸"
REGISTERED, WAITLISTED, CANCELLED = (
    RegistrationStatus.REGISTERED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.CANCELLED,
)


@pytest.fixture
def officer(branch_tree):
    return StaffFactory(branch=branch_tree["city"], roles=["training_officer"])


@pytest.fixture
def session(branch_tree, officer, instructor):
    return open_session(branch_tree["east"], officer, instructor, capacity=3)


def _register(session, n, branch):
    return [registration_create(session=session, person=person(branch, f"学员{NAMES[i % 10]}")) for i in range(n)]


def _statuses(session):
    return list(Registration.objects.filter(session=session).order_by("queue_number").values_list("status", flat=True))


def test_seats_up_to_capacity_then_the_waitlist_in_order_of_arrival(session, branch_tree):
    registrations = _register(session, 6, branch_tree["east"])
    assert [r.status for r in registrations] == [REGISTERED] * 3 + [WAITLISTED] * 3
    assert [r.queue_number for r in registrations] == [1, 2, 3, 4, 5, 6]
    assert [waitlist_position(r) for r in registrations] == [None, None, None, 1, 2, 3]
    assert all(len(r.management_token) >= 32 for r in registrations)
    assert len({r.management_token for r in registrations}) == 6


def test_a_cancelled_seat_goes_to_the_first_waiting_in_the_same_transaction(session, branch_tree):
    _first, second, _third, fourth, fifth = _register(session, 5, branch_tree["east"])
    registration_cancel(registration=second, by=None)
    fourth.refresh_from_db()
    fifth.refresh_from_db()
    assert fourth.status == REGISTERED and fourth.promoted_at is not None
    assert fifth.status == WAITLISTED and waitlist_position(fifth) == 1
    assert _statuses(session) == [REGISTERED, CANCELLED, REGISTERED, REGISTERED, WAITLISTED]
    # a waiting person who cancels frees no seat: nobody moves
    registration_cancel(registration=fifth, by=None)
    assert Registration.objects.filter(session=session, status=REGISTERED).count() == 3
    # cancelling twice changes nothing
    again = registration_cancel(registration=second, by=None)
    assert again.status == CANCELLED
    assert Registration.objects.filter(session=session, status=REGISTERED).count() == 3


def test_promotion_never_exceeds_capacity_and_skips_cancelled(session, branch_tree):
    regs = _register(session, 7, branch_tree["east"])
    registration_cancel(registration=regs[4], by=None)  # the second waiting person leaves first
    registration_cancel(registration=regs[0], by=None)
    registration_cancel(registration=regs[1], by=None)
    for r in regs:
        r.refresh_from_db()
    assert [r.status for r in regs] == [CANCELLED, CANCELLED, REGISTERED, REGISTERED, CANCELLED, REGISTERED, WAITLISTED]
    assert Registration.objects.filter(session=session, status=REGISTERED).count() == session.capacity


def test_no_promotion_once_the_session_has_started_or_is_not_open(session, branch_tree, officer):
    regs = _register(session, 4, branch_tree["east"])
    session_set_status(session=session, status=SessionStatus.PLANNED, by=officer)  # withdrawn from registration
    registration_cancel(registration=regs[0], by=officer, reason="本人来电取消")
    regs[3].refresh_from_db()
    assert regs[3].status == WAITLISTED


def test_staff_cancel_through_the_service_records_who_and_why(session, branch_tree, officer):
    (registration,) = _register(session, 1, branch_tree["east"])
    registration_cancel(registration=registration, by=officer, reason="本人来电取消")
    registration.refresh_from_db()
    assert (registration.cancelled_by, registration.cancel_reason) == (officer, "本人来电取消")
    assert registration.history.first().history_user == officer
    assert registration.history.first().status == CANCELLED


def test_district_staff_cannot_cancel_another_districts_registration(session, branch_tree):
    (registration,) = _register(session, 1, branch_tree["east"])
    west = StaffFactory(branch=branch_tree["west"], roles=["training_officer"])
    with pytest.raises(PermissionDenied):
        registration_cancel(registration=registration, by=west)
    with pytest.raises(PermissionDenied):
        registration_create(session=session, person=person(branch_tree["west"]), by=west)
    registration.refresh_from_db()
    assert registration.status == REGISTERED


def test_a_person_registers_once_per_session(session, branch_tree):
    someone = person(branch_tree["east"], "王五")
    first = registration_create(session=session, person=someone)
    with pytest.raises(ValidationError) as refused:
        registration_create(session=session, person=someone)
    assert "person" in refused.value.message_dict and "请勿重复报名" in str(refused.value)
    assert Registration.objects.filter(session=session).count() == 1
    # once cancelled, the same person may register again (at the end of the queue)
    registration_cancel(registration=first, by=None)
    again = registration_create(session=session, person=someone)
    assert again.queue_number == 2 and again.status == REGISTERED


def test_the_database_refuses_two_active_registrations_of_one_person(session, branch_tree):
    from django.db import IntegrityError, transaction

    someone = person(branch_tree["east"])
    registration_create(session=session, person=someone)
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(session=session, person=someone, status=WAITLISTED, queue_number=99)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("planned", "未开放报名"),
        ("held", "未开放报名"),
        ("started", "已开始"),
        ("outdoor", "户外普及活动"),
    ],
)
def test_only_open_not_started_sessions_take_registrations(branch_tree, officer, instructor, setup, message):
    from tests.training.conftest import at
    from training.models import Audience, CourseKind

    if setup == "outdoor":
        target = session_create(
            branch=branch_tree["east"], title="广场普及", kind=CourseKind.AWARENESS, audience=Audience.COMMUNITY,
            venue="广场", starts_at=at(3), ends_at=at(3, 12), is_outdoor=True, by=officer,
        )  # fmt: skip
    elif setup == "started":
        target = open_session(branch_tree["east"], officer, instructor, days=-1)
    else:
        target = session_create(
            branch=branch_tree["east"], title="计划中", kind=CourseKind.FIRST_AIDER, audience=Audience.COMMUNITY,
            venue="礼堂", starts_at=at(3), ends_at=at(3, 17), capacity=10, instructors=[instructor], by=officer,
        )  # fmt: skip
        if setup == "held":
            session_set_status(session=target, status=SessionStatus.HELD, by=officer)
    assert message in registration_closed_reason(target)
    with pytest.raises(ValidationError) as refused:
        registration_create(session=target, person=person(branch_tree["east"]))
    assert message in str(refused.value.message_dict["session"])
    assert not Registration.objects.exists()


def test_a_full_waitlist_refuses_with_a_clear_message(session, branch_tree, settings):
    settings.TRAINING_WAITLIST_LIMIT = 2
    _register(session, 5, branch_tree["east"])
    with pytest.raises(ValidationError) as refused:
        registration_create(session=session, person=person(branch_tree["east"]))
    assert "候补名额均已满" in str(refused.value.message_dict["session"])
    assert Registration.objects.filter(session=session).count() == 5


def test_the_registrant_cannot_cancel_online_once_started_but_staff_can(branch_tree, officer, instructor):
    session = open_session(branch_tree["east"], officer, instructor, days=1)
    (registration,) = _register(session, 1, branch_tree["east"])
    from django.utils import timezone

    from training.models import Session

    Session.objects.filter(pk=session.pk).update(starts_at=timezone.now())
    with pytest.raises(ValidationError) as refused:
        registration_cancel(registration=registration, by=None)
    assert "已开始" in str(refused.value)
    registration.refresh_from_db()
    assert registration.status == REGISTERED
    registration_cancel(registration=registration, by=officer, reason="未到场")
    registration.refresh_from_db()
    assert registration.status == CANCELLED


def test_the_registrants_cancellation_withdraws_the_consent_of_this_registration(session, branch_tree):
    text = consent_text()
    (registration,) = _register(session, 1, branch_tree["east"])
    record = consent_give(subject=registration.person, text=text, method=ConsentMethod.ONLINE, branch=session.branch)
    registration_consent_link(registration=registration, consent=record)
    assert has_consent(registration.person, text.purpose)
    registration_cancel(registration=registration, by=None)
    record.refresh_from_db()
    assert record.withdrawn_at is not None
    assert not has_consent(registration.person, text.purpose)


def test_the_registrant_changes_the_phone_through_the_service(session, branch_tree):
    (registration,) = _register(session, 1, branch_tree["east"])
    registration_contact_change(registration=registration, phone="139 0000 1111")
    registration.person.refresh_from_db()
    assert registration.person.phone == "13900001111"
    with pytest.raises(ValidationError) as refused:
        registration_contact_change(registration=registration, phone="12345")
    assert "phone" in refused.value.message_dict
    registration_cancel(registration=registration, by=None)
    with pytest.raises(ValidationError):
        registration_contact_change(registration=registration, phone="13900002222")
    registration.person.refresh_from_db()
    assert registration.person.phone == "13900001111"


def test_merging_two_persons_registered_for_one_session_is_refused(session, branch_tree, officer):
    from redcross.people import person_merge

    a, b = person(branch_tree["east"], "赵六"), person(branch_tree["east"], "赵六")
    registration_create(session=session, person=a)
    registration_create(session=session, person=b)
    with pytest.raises(ValidationError) as refused:
        person_merge(keep=a, merge=b, by=officer, reason="同一人")
    assert "培训报名" in str(refused.value)
