"""Registrations in the admin: read-only rows, the cancel action through the service (promotion
included), district scoping, the registration list per session, and the session list's seat and
waitlist columns counted without a query per row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import StaffFactory
from tests.training.registration_helpers import open_session, person
from training.models import Registration, RegistrationStatus
from training.services.registration import registration_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(branch_tree):
    return StaffFactory(branch=branch_tree["city"], roles=["training_officer"])


@pytest.fixture
def west_officer(branch_tree):
    return StaffFactory(branch=branch_tree["west"], roles=["training_officer"])


@pytest.fixture
def session(branch_tree, officer, instructor):
    session = open_session(branch_tree["east"], officer, instructor, capacity=2, title="东区救护员班")
    for name in ("周一鸣", "吴二娘", "郑三丰"):
        registration_create(session=session, person=person(branch_tree["east"], name))
    return session


def test_the_session_list_shows_seats_and_waitlist_in_one_query_whatever_the_rows(
    client, officer, session, branch_tree, instructor
):
    client.force_login(officer)
    url = reverse("admin:training_session_changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        page = client.get(url).content.decode()
    assert "2 / 2" in page  # seats taken / capacity; one person waiting
    for n in range(10):
        extra = open_session(branch_tree["west"], officer, instructor, title=f"西区班{'甲乙丙丁戊己庚辛壬癸'[n]}")
        registration_create(session=extra, person=person(branch_tree["west"]))
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_a_sessions_page_lists_its_registrations_masked_and_read_only(client, officer, session):
    client.force_login(officer)
    page = client.get(reverse("admin:training_session_change", args=[session.pk])).content.decode()
    assert "报名名单" in page and "周*" in page and "候补" in page
    phone = Registration.objects.first().person.phone
    assert phone not in page and phone[:3] + "****" + phone[-4:] in page
    assert 'name="registrations-0-status"' not in page  # read-only rows


def test_the_registration_list_and_page_open_with_bounded_queries(client, officer, session):
    client.force_login(officer)
    url = reverse("admin:training_registration_changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    assert "东区救护员班" in page and "周*" in page
    assert len(queries) <= 10
    registration = Registration.objects.first()
    page = client.get(reverse("admin:training_registration_change", args=[registration.pk])).content.decode()
    assert registration.management_token not in page  # the private link's secret never shows
    assert 'name="_save"' not in page
    assert client.get(reverse("admin:training_registration_add")).status_code == 403


def test_the_cancel_action_goes_through_the_service_and_promotes(client, officer, session):
    client.force_login(officer)
    first = Registration.objects.get(queue_number=1)
    response = client.post(
        reverse("admin:training_registration_changelist"),
        {"action": "cancel_registrations", "_selected_action": [first.pk]},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == RegistrationStatus.CANCELLED and first.cancelled_by == officer
    assert first.history.first().history_user == officer
    assert Registration.objects.get(queue_number=3).status == RegistrationStatus.REGISTERED


def test_district_staff_see_and_cancel_only_their_subtree(client, west_officer, session):
    client.force_login(west_officer)
    page = client.get(reverse("admin:training_registration_changelist")).content.decode()
    assert "东区救护员班" not in page
    registration = Registration.objects.first()
    assert client.get(reverse("admin:training_registration_change", args=[registration.pk])).status_code in (302, 403)
    client.post(
        reverse("admin:training_registration_changelist"),
        {"action": "cancel_registrations", "_selected_action": [registration.pk]},
    )
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.REGISTERED
