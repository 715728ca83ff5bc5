"""Plans, sessions and attendance: qualified instructors, branch scoping, plan vs actual."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from redcross.selectors import BranchScope
from tests.training.conftest import at, make_certificate, make_person
from training.models import Attendance, Audience, CourseKind, FundingLine, Session, SessionStatus
from training.selectors.plans import plan_vs_actual
from training.selectors.sessions import qualified_instructors
from training.services.plans import plan_funding_set, plan_target_set, training_plan_create
from training.services.sessions import attendance_record, session_create, session_instructors_set, session_set_status

pytestmark = pytest.mark.django_db


def _session(branch, by, *, instructors=(), days=-3, kind=CourseKind.FIRST_AIDER, **extra):
    values = {
        "branch": branch,
        "title": "救护员培训班",
        "kind": kind,
        "audience": Audience.COMMUNITY,
        "venue": "社区服务中心",
        "starts_at": at(days),
        "ends_at": at(days, 17),
        "capacity": 30,
        "instructors": instructors,
        "by": by,
        **extra,
    }
    return session_create(**values)


def _held(branch, by, instructor, *, trainees=0, **extra):
    session = _session(branch, by, instructors=[instructor], **extra)
    session_set_status(session=session, status=SessionStatus.OPEN, by=by)
    session_set_status(session=session, status=SessionStatus.HELD, by=by)
    for n in range(trainees):
        attendance_record(
            session=session, person=make_person(branch, name=f"学员{n}"), hours_attended=session.hours, by=by
        )
    return session


class TestInstructors:
    def test_a_qualified_instructor_teaches(self, branch_tree, city_staff, instructor):
        session = _session(branch_tree["city"], city_staff, instructors=[instructor])
        assert list(session.instructors.all()) == [instructor]
        assert instructor in qualified_instructors()

    @pytest.mark.parametrize("certificate", ["none", "first_aider", "revoked", "expired"])
    def test_the_service_refuses_an_unqualified_instructor(self, branch_tree, city_staff, certificate):
        person = make_person(branch_tree["city"], name="王五")
        if certificate == "first_aider":
            make_certificate(person, kind="first_aider")
        elif certificate == "revoked":
            make_certificate(person, revoked=True)
        elif certificate == "expired":
            make_certificate(person, expires_on=timezone.localdate() - datetime.timedelta(days=10))
        with pytest.raises(ValidationError) as refused:
            _session(branch_tree["city"], city_staff, instructors=[person])
        assert "王五" in refused.value.message_dict["instructors"][0]
        assert not Session.objects.exists()
        assert person not in qualified_instructors()

    def test_a_certificate_expiring_before_the_session_ends_does_not_qualify(self, branch_tree, city_staff):
        person = make_person(branch_tree["city"], name="赵六")
        make_certificate(person, expires_on=timezone.localdate() + datetime.timedelta(days=5))
        with pytest.raises(ValidationError):
            _session(branch_tree["city"], city_staff, instructors=[person], days=10)

    def test_changing_instructors_checks_again(self, branch_tree, city_staff, instructor):
        session = _session(branch_tree["city"], city_staff, instructors=[instructor])
        with pytest.raises(ValidationError):
            session_instructors_set(session=session, instructors=[make_person(branch_tree["city"])], by=city_staff)
        assert list(session.instructors.all()) == [instructor]

    def test_a_session_opens_only_with_an_instructor(self, branch_tree, city_staff):
        session = _session(branch_tree["city"], city_staff)
        with pytest.raises(ValidationError) as refused:
            session_set_status(session=session, status=SessionStatus.OPEN, by=city_staff)
        assert "instructors" in refused.value.message_dict


class TestSessions:
    @override_settings(TRAINING_COURSE_HOURS={"first_aider": 24})
    def test_hours_default_to_the_setting(self, branch_tree, city_staff):
        assert _session(branch_tree["city"], city_staff).hours == Decimal(24)

    def test_status_moves_forward_only(self, branch_tree, city_staff, instructor):
        session = _held(branch_tree["city"], city_staff, instructor)
        session_set_status(session=session, status=SessionStatus.CLOSED, by=city_staff)
        with pytest.raises(ValidationError):
            session_set_status(session=session, status=SessionStatus.OPEN, by=city_staff)
        assert session.history.count() >= 3  # every change audited

    def test_an_outdoor_event_counts_people_reached(self, branch_tree, city_staff):
        session = _session(branch_tree["city"], city_staff, is_outdoor=True, kind=CourseKind.AWARENESS)
        with pytest.raises(ValidationError):
            session_set_status(session=session, status=SessionStatus.OPEN, by=city_staff)
        with pytest.raises(ValidationError):
            session_set_status(session=session, status=SessionStatus.HELD, by=city_staff)
        session_set_status(session=session, status=SessionStatus.HELD, people_reached=350, by=city_staff)
        session.refresh_from_db()
        assert session.people_reached == 350

    def test_attendance_within_the_course_hours(self, branch_tree, city_staff, instructor):
        session = _held(branch_tree["city"], city_staff, instructor)
        with pytest.raises(ValidationError) as refused:
            attendance_record(
                session=session, person=make_person(branch_tree["city"]), hours_attended=99, by=city_staff
            )
        assert "hours_attended" in refused.value.message_dict
        assert not Attendance.objects.exists()


class TestDistrictScoping:
    def test_district_staff_cannot_plan_or_run_another_branchs_sessions(
        self, branch_tree, east_staff, city_staff, instructor
    ):
        with pytest.raises(PermissionDenied):
            training_plan_create(branch=branch_tree["west"], year=2024, title="西区计划", by=east_staff)
        with pytest.raises(PermissionDenied):
            _session(branch_tree["west"], east_staff, instructors=[instructor])
        west = _session(branch_tree["west"], city_staff, instructors=[instructor])
        with pytest.raises(PermissionDenied):
            session_set_status(session=west, status=SessionStatus.OPEN, by=east_staff)
        assert Session.objects.get(pk=west.pk).status == SessionStatus.PLANNED

    def test_district_staff_work_in_their_subtree(self, branch_tree, east_staff, instructor):
        session = _session(branch_tree["east_school"], east_staff, instructors=[instructor])
        assert session.branch == branch_tree["east_school"]


class TestPlanVsActual:
    def test_figures_for_own_and_whole_system(self, branch_tree, city_staff, instructor):
        year = at(-3).year  # the sessions below start 3 days ago
        city = branch_tree["city"]
        plan = training_plan_create(branch=city, year=year, title="2024年应急救护培训计划", by=city_staff)
        plan_target_set(
            plan=plan,
            kind=CourseKind.FIRST_AIDER,
            audience=Audience.COMMUNITY,
            sessions=415,
            people=20750,
            by=city_staff,
        )
        plan_funding_set(
            plan=plan, line=FundingLine.PEOPLE_PROJECT, budget="2328000", project_name="为民办实事", by=city_staff
        )
        east_plan = training_plan_create(branch=branch_tree["east"], year=year, title="东区计划", by=city_staff)
        plan_target_set(
            plan=east_plan,
            kind=CourseKind.FIRST_AIDER,
            audience=Audience.COMMUNITY,
            sessions=10,
            people=300,
            by=city_staff,
        )
        plan_funding_set(plan=east_plan, line=FundingLine.PEOPLE_PROJECT, budget="100000.50", by=city_staff)

        _held(city, city_staff, instructor, trainees=3)
        _held(city, city_staff, instructor, trainees=2)
        _held(branch_tree["east_school"], city_staff, instructor, trainees=4)
        outdoor = _session(branch_tree["east"], city_staff, is_outdoor=True, kind=CourseKind.AWARENESS)
        session_set_status(session=outdoor, status=SessionStatus.HELD, people_reached=500, by=city_staff)
        _session(city, city_staff, instructors=[instructor])  # planned, not held: not counted
        # a session in another year is not counted
        _held(city, city_staff, instructor, trainees=1, days=-400)

        own = plan_vs_actual(city, year, BranchScope.OWN)
        assert (own.planned_sessions, own.planned_people, own.held_sessions, own.people_trained) == (415, 20750, 2, 5)
        assert own.budgets == {FundingLine.PEOPLE_PROJECT: Decimal("2328000.00")}

        system = plan_vs_actual(city, year, BranchScope.SYSTEM)
        assert (system.planned_sessions, system.planned_people, system.held_sessions, system.people_trained) == (
            425,
            21050,
            4,
            509,
        )
        assert system.budgets == {FundingLine.PEOPLE_PROJECT: Decimal("2428000.50")}
        awareness = [line for line in system.lines if line.kind == CourseKind.AWARENESS]
        assert [(line.held_sessions, line.people_trained) for line in awareness] == [(1, 500)]

        east = plan_vs_actual(branch_tree["east"], year, BranchScope.SYSTEM)
        assert (east.planned_sessions, east.held_sessions, east.people_trained) == (10, 2, 504)

    def test_setting_a_target_twice_changes_it(self, branch_tree, city_staff):
        plan = training_plan_create(branch=branch_tree["city"], year=2024, title="计划", by=city_staff)
        plan_target_set(
            plan=plan, kind=CourseKind.INSTRUCTOR, audience=Audience.OFFICE, sessions=3, people=141, by=city_staff
        )
        plan_target_set(
            plan=plan, kind=CourseKind.INSTRUCTOR, audience=Audience.OFFICE, sessions=4, people=150, by=city_staff
        )
        result = plan_vs_actual(branch_tree["city"], 2024)
        assert (result.planned_sessions, result.planned_people) == (4, 150)


class TestRecordedInstructorCertificates:
    def test_a_recorded_certificate_qualifies_and_numbers_are_unique(self, branch_tree, city_staff, east_staff):
        from training.services.certificates import instructor_certificate_record

        person = make_person(branch_tree["city"], name="周老师")
        today = timezone.localdate()
        values = {
            "person": person,
            "number": "ZJ-0001",
            "issued_on": today,
            "expires_on": today.replace(year=today.year + 3),
        }
        with pytest.raises(PermissionDenied):
            instructor_certificate_record(branch=branch_tree["west"], by=east_staff, **values)
        instructor_certificate_record(branch=branch_tree["city"], by=city_staff, **values)
        assert person in qualified_instructors()
        with pytest.raises(ValidationError) as refused:
            instructor_certificate_record(branch=branch_tree["city"], by=city_staff, **values)
        assert "number" in refused.value.message_dict


def test_the_demo_is_idempotent(db):
    import io

    from django.core.management import call_command

    from training.models import Certificate

    call_command("seed_demo", "--with-users", stdout=io.StringIO())
    counts = (Session.objects.count(), Certificate.objects.count(), Attendance.objects.count())
    call_command("seed_demo", "--with-users", stdout=io.StringIO())
    assert (Session.objects.count(), Certificate.objects.count(), Attendance.objects.count()) == counts
    # this year: 6 sessions + 5 open for registration, 3 instructor certificates, 11 trainees;
    # last year (demo_last_year): 446 sessions and 2,000 trainees
    assert counts == (6 + 5 + 446, 3, 11 + 2000)
