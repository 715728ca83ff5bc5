"""The training staff API: every write goes through its service (qualified instructors, the status
life cycle, attendance), bad input is a 400 naming the field and writes nothing, district staff
see and write only their subtree, and the endpoints are in the OpenAPI schema."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import StaffFactory
from tests.training.conftest import at, make_certificate, make_person
from training.models import Attendance, Audience, CourseKind, Session, SessionStatus, TrainingPlan
from training.services.plans import plan_target_set, training_plan_create
from training.services.sessions import attendance_record, session_create, session_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(branch_tree):
    return StaffFactory(branch=branch_tree["city"], roles=["training_officer"])


@pytest.fixture
def east_officer(branch_tree):
    return StaffFactory(branch=branch_tree["east"], roles=["training_officer"])


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _session_payload(branch, instructor, **extra):
    return {
        "branch": branch.pk,
        "title": "社区救护员培训班",
        "kind": CourseKind.FIRST_AIDER,
        "audience": Audience.COMMUNITY,
        "venue": "东区社区服务中心",
        "starts_at": at(10).isoformat(),
        "ends_at": at(10, 17).isoformat(),
        "capacity": 40,
        "instructors": [instructor.pk],
        **extra,
    }


class TestPlans:
    def test_create_set_targets_and_funding_then_read_progress(self, branch_tree, officer):
        client = client_for(officer)
        city = branch_tree["city"]
        response = client.post(
            "/api/training/plans/", {"branch": city.pk, "year": 2026, "title": "2026 年度培训计划"}, format="json"
        )
        assert response.status_code == 201, response.content
        plan_id = response.json()["id"]
        target = {"kind": "first_aider", "audience": "community", "sessions": 415, "people": 20750}
        assert client.post(f"/api/training/plans/{plan_id}/targets/", target, format="json").status_code == 200
        funding = {"line": "people_project", "budget": "2328000.00", "project_name": "应急救护培训"}
        response = client.post(f"/api/training/plans/{plan_id}/funding/", funding, format="json")
        assert response.status_code == 200, response.content
        plan = response.json()
        assert plan["targets"] == [{**target, "id": plan["targets"][0]["id"]}]
        assert plan["funding"][0]["budget"] == "2328000.00"

        progress = client.get(f"/api/training/plans/{plan_id}/progress/?scope=system").json()
        assert (progress["planned_sessions"], progress["planned_people"]) == (415, 20750)
        assert progress["held_sessions"] == progress["people_trained"] == 0
        assert progress["budgets"] == {"people_project": "2328000.00"}

    def test_progress_counts_the_subtree_only_for_the_system_scope(self, branch_tree, officer, east_officer):
        plan = training_plan_create(branch=branch_tree["city"], year=at(-5).year, title="计划", by=officer)
        plan_target_set(plan=plan, kind="first_aider", audience="community", sessions=2, people=60, by=officer)
        instructor = make_person(branch_tree["east"], name="陈老师")
        make_certificate(instructor)
        session = session_create(
            branch=branch_tree["east"], title="东区班", kind="first_aider", audience="community", venue="东区",
            starts_at=at(-5), ends_at=at(-5, 17), capacity=30, instructors=[instructor], by=east_officer,
        )  # fmt: skip
        session_set_status(session=session, status=SessionStatus.OPEN, by=east_officer)
        session_set_status(session=session, status=SessionStatus.HELD, by=east_officer)
        attendance_record(
            session=session, person=make_person(branch_tree["east"]), hours_attended=session.hours, by=east_officer
        )
        client = client_for(officer)
        own = client.get(f"/api/training/plans/{plan.pk}/progress/").json()
        system = client.get(f"/api/training/plans/{plan.pk}/progress/?scope=system").json()
        assert (own["held_sessions"], own["people_trained"]) == (0, 0)
        assert (system["held_sessions"], system["people_trained"]) == (1, 1)
        assert client.get(f"/api/training/plans/{plan.pk}/progress/?scope=everything").status_code == 400

    @pytest.mark.parametrize(
        "payload, field",
        [
            ({"year": 2026, "title": "计划"}, "branch"),
            ({"year": "二〇二六", "title": "计划"}, "year"),
            ({"year": 1_000_000, "title": "计划"}, "year"),
            ({"year": 2026, "title": "计" * 10_000}, "title"),
            ({"year": 2026}, "title"),
        ],
    )
    def test_bad_plan_input_names_the_field_and_writes_nothing(self, branch_tree, officer, payload, field):
        if field != "branch":
            payload = {"branch": branch_tree["city"].pk, **payload}
        response = client_for(officer).post("/api/training/plans/", payload, format="json")
        assert response.status_code == 400
        assert field in response.json()
        assert not TrainingPlan.objects.exists()

    def test_a_second_plan_for_the_same_year_is_refused(self, branch_tree, officer):
        client = client_for(officer)
        payload = {"branch": branch_tree["city"].pk, "year": 2026, "title": "计划"}
        assert client.post("/api/training/plans/", payload, format="json").status_code == 201
        response = client.post("/api/training/plans/", payload, format="json")
        assert response.status_code == 400
        assert TrainingPlan.objects.count() == 1

    @pytest.mark.parametrize(
        "payload, field",
        [
            ({"line": "lottery", "budget": "-1"}, "budget"),
            ({"line": "lottery", "budget": "1e30"}, "budget"),
            ({"line": "lottery", "budget": "一百万"}, "budget"),
            ({"line": "<script>", "budget": "100"}, "line"),
        ],
    )
    def test_bad_funding_is_refused(self, branch_tree, officer, payload, field):
        plan = training_plan_create(branch=branch_tree["city"], year=2026, title="计划", by=officer)
        response = client_for(officer).post(f"/api/training/plans/{plan.pk}/funding/", payload, format="json")
        assert response.status_code == 400
        assert field in response.json()
        assert not plan.funding.exists()

    def test_district_staff_see_and_write_only_their_subtree(self, branch_tree, officer, east_officer):
        city_plan = training_plan_create(branch=branch_tree["city"], year=2026, title="市计划", by=officer)
        east_plan = training_plan_create(branch=branch_tree["east"], year=2026, title="东区计划", by=east_officer)
        client = client_for(east_officer)
        ids = [row["id"] for row in client.get("/api/training/plans/").json()["results"]]
        assert ids == [east_plan.pk]
        assert client.get(f"/api/training/plans/{city_plan.pk}/").status_code == 404
        payload = {"kind": "first_aider", "audience": "community", "sessions": 1, "people": 1}
        assert client.post(f"/api/training/plans/{city_plan.pk}/targets/", payload, format="json").status_code == 404
        response = client.post(
            "/api/training/plans/", {"branch": branch_tree["west"].pk, "year": 2027, "title": "西区"}, format="json"
        )
        assert response.status_code == 400 and "branch" in response.json()


class TestSessions:
    def test_create_open_hold_and_record_attendance(self, branch_tree, officer, instructor):
        client = client_for(officer)
        response = client.post(
            "/api/training/sessions/", _session_payload(branch_tree["city"], instructor), format="json"
        )
        assert response.status_code == 201, response.content
        session = response.json()
        assert session["instructor_names"] == [instructor.name]
        assert session["status"] == SessionStatus.PLANNED
        assert session["hours"] == "16.0"  # the course's hours from TRAINING_COURSE_HOURS
        url = f"/api/training/sessions/{session['id']}/"
        assert client.post(url + "status/", {"status": "open"}, format="json").json()["status"] == "open"
        assert client.post(url + "status/", {"status": "held"}, format="json").json()["status"] == "held"
        trainee = make_person(branch_tree["city"], name="刘学员")
        response = client.post(url + "attendance/", {"person": trainee.pk, "hours_attended": "16"}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["person_name"] == "刘学员"
        rows = client.get(f"/api/training/attendance/?session={session['id']}").json()["results"]
        assert [row["person"] for row in rows] == [trainee.pk]

    def test_the_service_refuses_an_unqualified_instructor(self, branch_tree, officer):
        client = client_for(officer)
        unqualified = make_person(branch_tree["city"], name="无证者")
        response = client.post(
            "/api/training/sessions/", _session_payload(branch_tree["city"], unqualified), format="json"
        )
        assert response.status_code == 400
        assert "instructors" in response.json() and "无证者" in response.json()["instructors"][0]
        assert not Session.objects.exists()

    def test_a_status_out_of_order_and_hours_over_the_session_are_refused(self, branch_tree, officer, instructor):
        session = session_create(by=officer, instructors=[instructor], **{
            key: value for key, value in _session_payload(branch_tree["city"], instructor).items()
            if key not in ("instructors", "branch", "starts_at", "ends_at")},
            branch=branch_tree["city"], starts_at=at(-2), ends_at=at(-2, 17))  # fmt: skip
        client = client_for(officer)
        url = f"/api/training/sessions/{session.pk}/"
        response = client.post(url + "status/", {"status": "closed"}, format="json")
        assert response.status_code == 400 and "status" in response.json()
        session_set_status(session=session, status=SessionStatus.OPEN, by=officer)
        session_set_status(session=session, status=SessionStatus.HELD, by=officer)
        trainee = make_person(branch_tree["city"])
        for hours in ("17", "-1", "abc", "1e9"):
            response = client.post(url + "attendance/", {"person": trainee.pk, "hours_attended": hours}, format="json")
            assert response.status_code == 400 and "hours_attended" in response.json(), hours
        assert not Attendance.objects.exists()

    @pytest.mark.parametrize(
        "change, field",
        [
            ({"kind": "karate"}, "kind"),
            ({"latitude": "91"}, "latitude"),
            ({"longitude": "east"}, "longitude"),
            ({"capacity": -5}, "capacity"),
            ({"title": "<b>" * 5_000}, "title"),
            ({"starts_at": "yesterday"}, "starts_at"),
            ({"ends_at": at(9).isoformat()}, "ends_at"),
            ({"latitude": "30.5"}, "longitude"),
        ],
    )
    def test_bad_session_input_names_the_field(self, branch_tree, officer, instructor, change, field):
        payload = _session_payload(branch_tree["city"], instructor, **change)
        response = client_for(officer).post("/api/training/sessions/", payload, format="json")
        assert response.status_code == 400
        assert field in response.json(), response.json()
        assert not Session.objects.exists()

    def test_district_staff_cannot_use_another_districts_people_or_sessions(
        self, branch_tree, officer, east_officer, instructor
    ):
        city_session = session_create(
            branch=branch_tree["city"], title="市班", kind="first_aider", audience="community", venue="市",
            starts_at=at(3), ends_at=at(3, 17), capacity=30, instructors=[instructor], by=officer,
        )  # fmt: skip
        client = client_for(east_officer)
        assert client.get("/api/training/sessions/").json()["results"] == []
        assert client.get(f"/api/training/sessions/{city_session.pk}/").status_code == 404
        # the city's instructor is not one of the east district's people
        response = client.post(
            "/api/training/sessions/", _session_payload(branch_tree["east"], instructor), format="json"
        )
        assert response.status_code == 400 and "instructors" in response.json()

    def test_the_list_reads_a_fixed_number_of_queries(
        self, branch_tree, officer, instructor, django_assert_max_num_queries
    ):
        for day in range(1, 13):
            session_create(
                branch=branch_tree["city"], title=f"第{day}期", kind="first_aider", audience="community", venue="市",
                starts_at=at(day), ends_at=at(day, 17), capacity=30, instructors=[instructor], by=officer,
            )  # fmt: skip
        client = client_for(officer)
        with django_assert_max_num_queries(8):
            response = client.get("/api/training/sessions/")
        assert len(response.json()["results"]) == 12


def test_the_training_endpoints_are_in_the_openapi_schema(officer):
    client = client_for(officer)
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    for path in (
        "/api/training/plans/",
        "/api/training/plans/{id}/progress/",
        "/api/training/sessions/",
        "/api/training/sessions/{id}/status/",
        "/api/training/sessions/{id}/attendance/",
        "/api/training/attendance/",
        "/api/training/registrations/{id}/cancel/",
        "/api/training/exam-results/",
        "/api/training/certificates/issue/",
        "/api/training/certificates/{id}/revoke/",
        "/api/training/equipment-batches/{id}/distribute/",
        "/api/training/aeds/{id}/check/",
    ):
        assert path in paths, path


class TestExamsCertificatesAndRegistrations:
    def test_results_then_issue_for_the_session_then_revoke(self, branch_tree, officer, instructor):
        from tests.training.test_exams_and_certificates import held_session, trainee

        session = held_session(branch_tree["city"], officer, instructor)
        passed = trainee(session, officer, name="合格者", theory=None, skills=True)
        failed = trainee(session, officer, name="未合格", theory=True, skills=False)
        client = client_for(officer)
        response = client.post(
            "/api/training/exam-results/",
            {"session": session.pk, "person": passed.pk, "part": "theory", "score": "92"},
            format="json",
        )
        assert response.status_code == 201, response.content
        assert response.json()["passed"] is True
        response = client.post("/api/training/certificates/issue/", {"session": session.pk}, format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        assert [row["person"] for row in body["issued"]] == [passed.pk]
        assert [row["person"] for row in body["refused"]] == [failed.pk] and body["refused"][0]["reason"]
        certificate = body["issued"][0]
        assert certificate["number"] and certificate["verification_code"]
        # one trainee at a time names the refusal on the field
        response = client.post(
            "/api/training/certificates/issue/", {"session": session.pk, "person": failed.pk}, format="json"
        )
        assert response.status_code == 400 and "skills" in response.json()
        response = client.post(f"/api/training/certificates/{certificate['id']}/revoke/", {"reason": "冒名顶替"})
        assert response.status_code == 200 and response.json()["revoked_reason"] == "冒名顶替"
        assert client.post(f"/api/training/certificates/{certificate['id']}/revoke/", {}).status_code == 400

    @pytest.mark.parametrize(
        "change, field",
        [
            ({"part": "karate"}, "part"),
            ({"score": "101"}, "score"),
            ({"score": "abc"}, "score"),
            ({"session": 0}, "session"),
        ],
    )
    def test_bad_exam_input_names_the_field(self, branch_tree, officer, instructor, change, field):
        from tests.training.test_exams_and_certificates import held_session, trainee
        from training.models import ExamResult

        session = held_session(branch_tree["city"], officer, instructor)
        person = trainee(session, officer, theory=None, skills=None)
        payload = {"session": session.pk, "person": person.pk, "part": "theory", "score": "90", **change}
        response = client_for(officer).post("/api/training/exam-results/", payload, format="json")
        assert response.status_code == 400 and field in response.json()
        assert not ExamResult.objects.exists()

    def test_staff_cancel_a_registration_and_the_first_waiting_takes_the_seat(self, branch_tree, officer, instructor):
        from training.models import Registration, RegistrationStatus
        from training.services.registration import registration_create

        session = session_create(
            branch=branch_tree["city"], title="班", kind="awareness", audience="community", venue="中心",
            starts_at=at(5), ends_at=at(5, 17), capacity=1, instructors=[instructor], by=officer,
        )  # fmt: skip
        session_set_status(session=session, status=SessionStatus.OPEN, by=officer)
        seated = registration_create(session=session, person=make_person(branch_tree["city"], name="甲"))
        waiting = registration_create(session=session, person=make_person(branch_tree["city"], name="乙"))
        client = client_for(officer)
        rows = client.get(f"/api/training/registrations/?session={session.pk}").json()["results"]
        assert {row["status"] for row in rows} == {"registered", "waitlisted"}
        response = client.post(f"/api/training/registrations/{seated.pk}/cancel/", {"reason": "本人电话取消"})
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        assert Registration.objects.get(pk=waiting.pk).status == RegistrationStatus.REGISTERED


class TestEquipmentAndAeds:
    def test_distribute_never_more_than_the_batch_has_and_record_an_aed_check(self, branch_tree, officer):
        import datetime

        from django.utils import timezone

        from training.models import Aed, EquipmentBatch
        from training.services.aeds import aed_register
        from training.services.equipment import equipment_batch_register, equipment_site_save

        city = branch_tree["city"]
        today = timezone.localdate()
        batch = equipment_batch_register(
            branch=city, kind="manikin", quantity=10, funding_line="lottery", purchased_on=today, by=officer
        )
        school = equipment_site_save(branch=city, name="实验小学", kind="school", by=officer)
        client = client_for(officer)
        payload = {"site": school.pk, "quantity": 11, "distributed_on": today.isoformat(), "received_by_name": "王校长"}
        response = client.post(f"/api/training/equipment-batches/{batch.pk}/distribute/", payload, format="json")
        assert response.status_code == 400 and "quantity" in response.json()
        response = client.post(
            f"/api/training/equipment-batches/{batch.pk}/distribute/", {**payload, "quantity": 10}, format="json"
        )
        assert response.status_code == 200, response.content
        assert EquipmentBatch.objects.get(pk=batch.pk).distributed == 10

        aed = aed_register(
            branch=city, place="市体育馆", address="体育场路 1 号", latitude="30.26", longitude="120.16", by=officer
        )
        assert [row["id"] for row in client.get("/api/training/aeds/?attention=due").json()["results"]] == [aed.pk]
        check = {
            "checked_on": today.isoformat(),
            "result": "ready",
            "pads_expires_on": (today + datetime.timedelta(days=700)).isoformat(),
        }
        response = client.post(f"/api/training/aeds/{aed.pk}/check/", check, format="json")
        assert response.status_code == 200, response.content
        assert Aed.objects.get(pk=aed.pk).last_checked_on == today
        assert client.get("/api/training/aeds/?attention=due").json()["results"] == []
        future = {**check, "checked_on": (today + datetime.timedelta(days=3)).isoformat()}
        assert client.post(f"/api/training/aeds/{aed.pk}/check/", future, format="json").status_code == 400
