"""On PostgreSQL with real threads: 50 registrations at once for a session's last seats never exceed
its capacity, the rest are waitlisted in the order they arrived; concurrent cancellations promote
exactly as many waiting people as seats came free, first come first served."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from tests.factories import StaffFactory
from tests.training.registration_helpers import open_session, person
from training.models import Registration, RegistrationStatus
from training.services.registration import registration_cancel, registration_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _skip_unless_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent registrations are checked on PostgreSQL (SQLite serialises whole transactions)")


def _run_at_once(work, items) -> list[BaseException]:
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(items))

    def run(item):
        try:
            barrier.wait(timeout=60)
            work(item)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return errors


def test_fifty_concurrent_registrations_for_the_last_seats_never_exceed_capacity(branch_tree, instructor):
    _skip_unless_postgres()
    officer = StaffFactory(branch=branch_tree["city"], roles=["training_officer"])
    session = open_session(branch_tree["east"], officer, instructor, capacity=30)
    for _ in range(25):
        registration_create(session=session, person=person(branch_tree["east"]))
    racers = [person(branch_tree["east"]) for _ in range(50)]

    errors = _run_at_once(lambda someone: registration_create(session=session, person=someone), racers)

    assert errors == []
    rows = list(Registration.objects.filter(session=session).order_by("queue_number"))
    assert [r.queue_number for r in rows] == list(range(1, 76))  # every arrival numbered once, no gap
    statuses = [r.status for r in rows]
    assert statuses.count(RegistrationStatus.REGISTERED) == 30  # never above capacity
    # the five who arrived first among the fifty took the last seats; the rest wait in arrival order
    assert statuses == [RegistrationStatus.REGISTERED] * 30 + [RegistrationStatus.WAITLISTED] * 45
    arrivals = [r.created_at for r in rows]
    assert arrivals == sorted(arrivals)
    assert {r.person_id for r in rows[25:]} == {p.pk for p in racers}


def test_concurrent_cancellations_promote_the_first_waiting_and_no_more(branch_tree, instructor):
    _skip_unless_postgres()
    officer = StaffFactory(branch=branch_tree["city"], roles=["training_officer"])
    session = open_session(branch_tree["east"], officer, instructor, capacity=10)
    rows = [registration_create(session=session, person=person(branch_tree["east"])) for _ in range(30)]
    leaving = rows[:10:2]  # five seat holders cancel at once, while five more waiting people register
    newcomers = [person(branch_tree["east"]) for _ in range(5)]
    work = [("cancel", r) for r in leaving] + [("register", p) for p in newcomers]

    def act(item):
        kind, target = item
        if kind == "cancel":
            registration_cancel(registration=target, by=None)
        else:
            registration_create(session=session, person=target)

    errors = _run_at_once(act, work)

    assert errors == []
    registered = Registration.objects.filter(session=session, status=RegistrationStatus.REGISTERED)
    assert registered.count() == 10
    # the seats went to the first five on the waitlist (arrivals 11-15), not to the newcomers
    promoted = sorted(registered.exclude(promoted_at=None).values_list("queue_number", flat=True))
    assert promoted == [11, 12, 13, 14, 15]
    newcomer_status = set(
        Registration.objects.filter(session=session, person__in=newcomers).values_list("status", flat=True)
    )
    assert newcomer_status == {RegistrationStatus.WAITLISTED}
