"""The training admin (branch-scoped, writes through the services) and its workbench lines."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from redcross.workbench import todo_items
from tests.factories import StaffFactory
from tests.training.conftest import at, make_certificate, make_person
from training.models import Audience, CourseKind, Session, SessionStatus, TrainingPlan
from training.services.sessions import session_create, session_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(branch_tree):
    return StaffFactory(branch=branch_tree["city"], roles=["training_officer"])


@pytest.fixture
def east_officer(branch_tree):
    return StaffFactory(branch=branch_tree["east"], roles=["training_officer"])


def _session(branch, by, instructor, **extra):
    return session_create(
        branch=branch, title=extra.pop("title", "救护员培训班"), kind=CourseKind.FIRST_AIDER,
        audience=Audience.SCHOOL, venue="礼堂", starts_at=at(-2), ends_at=at(-2, 17), capacity=40,
        instructors=[instructor], by=by, **extra,
    )  # fmt: skip


def _add_form(branch, instructor, **extra):
    return {
        "branch": branch.pk, "title": "新救护员班", "kind": "first_aider", "audience": "community",
        "venue": "社区中心", "starts_at_0": at(5).strftime("%Y-%m-%d"), "starts_at_1": "09:00:00",
        "ends_at_0": at(5).strftime("%Y-%m-%d"), "ends_at_1": "17:00:00", "hours": "", "capacity": "30",
        "funding_line": "people_project", "instructors": [instructor.pk], **extra,
    }  # fmt: skip


def test_every_list_and_page_opens(client, officer, branch_tree, instructor):
    session = _session(branch_tree["city"], officer, instructor)
    client.force_login(officer)
    for model in ("trainingplan", "session", "attendance", "certificate"):
        assert client.get(reverse(f"admin:training_{model}_changelist")).status_code == 200
    page = client.get(reverse("admin:training_session_change", args=[session.pk]))
    assert page.status_code == 200
    assert "张老师" in page.content.decode()
    assert client.get(reverse("admin:training_session_add")).status_code == 200


def test_adding_a_session_goes_through_the_service(client, officer, branch_tree, instructor):
    client.force_login(officer)
    response = client.post(reverse("admin:training_session_add"), _add_form(branch_tree["city"], instructor))
    assert response.status_code == 302, response.content.decode()[:2000]
    session = Session.objects.get()
    assert session.hours == 16  # the course's hours from the setting
    assert list(session.instructors.all()) == [instructor]
    assert session.history.first().history_user == officer


def test_an_unqualified_instructor_is_refused_on_the_field(client, officer, branch_tree, instructor):
    # an instructor whose certificate lapses before the session: not offered, and refused if posted
    lapsing = make_person(branch_tree["city"], name="钱七")
    make_certificate(lapsing, expires_on=timezone.localdate() + datetime.timedelta(days=2))
    client.force_login(officer)
    response = client.post(reverse("admin:training_session_add"), _add_form(branch_tree["city"], lapsing))
    assert response.status_code == 200
    assert "钱七" in str(response.context["adminform"].form.errors["instructors"])
    assert not Session.objects.exists()


def test_district_staff_see_only_their_subtree(client, officer, east_officer, branch_tree, instructor):
    west = _session(branch_tree["west"], officer, instructor, title="西区班")
    east = _session(branch_tree["east_school"], officer, instructor, title="东区一中班")
    client.force_login(east_officer)
    listing = client.get(reverse("admin:training_session_changelist")).content.decode()
    assert "东区一中班" in listing and "西区班" not in listing
    assert client.get(reverse("admin:training_session_change", args=[west.pk])).status_code in (302, 403, 404)
    assert client.get(reverse("admin:training_session_change", args=[east.pk])).status_code == 200


def test_adding_a_plan_with_targets_goes_through_the_services(client, officer, branch_tree):
    client.force_login(officer)
    data = {
        "branch": branch_tree["city"].pk, "year": "2024", "title": "2024年计划", "note": "",
        "targets-TOTAL_FORMS": "1", "targets-INITIAL_FORMS": "0",
        "targets-0-kind": "first_aider", "targets-0-audience": "community",
        "targets-0-sessions": "415", "targets-0-people": "20750",
        "funding-TOTAL_FORMS": "1", "funding-INITIAL_FORMS": "0",
        "funding-0-line": "people_project", "funding-0-project_name": "为民办实事", "funding-0-budget": "2328000",
    }  # fmt: skip
    response = client.post(reverse("admin:training_trainingplan_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = TrainingPlan.objects.get()
    assert plan.targets.get().people == 20750
    listing = client.get(reverse("admin:training_trainingplan_changelist")).content.decode()
    assert "2,328,000.00" in listing and "20,750" in listing


def test_workbench_lines_count_what_their_links_show(client, officer, east_officer, branch_tree, instructor):
    held = _session(branch_tree["east"], officer, instructor)
    session_set_status(session=held, status=SessionStatus.OPEN, by=officer)
    session_set_status(session=held, status=SessionStatus.HELD, by=officer)
    expiring = make_person(branch_tree["west"], name="孙八")
    make_certificate(expiring, expires_on=timezone.localdate() + datetime.timedelta(days=20))

    city = {item.line.key: item for item in todo_items(officer)}
    assert city["training.sessions_held_not_closed"].count == 1
    assert city["training.instructor_certificates_expiring"].count == 1
    east = {item.line.key: item.count for item in todo_items(east_officer)}
    assert east["training.instructor_certificates_expiring"] == 0

    client.force_login(officer)
    listing = client.get(city["training.instructor_certificates_expiring"].url)
    assert list(listing.context["cl"].result_list) == [expiring.training_certificates.get()]
    listing = client.get(city["training.sessions_held_not_closed"].url)
    assert list(listing.context["cl"].result_list) == [held]
