"""A registration burst: 2,000 public sign-ups for 40 sessions in one run, each the whole path the
public form takes in its one transaction (find or register the person, take a seat or a waitlist
place under the session's lock, record the online consent and keep it with the registration).

On PostgreSQL the sign-ups come from ``BENCH_REGISTRATION_THREADS`` threads at once (8 by
default), shuffled over the sessions so that they queue on the same session locks; on SQLite,
which serialises whole transactions, one after another. Afterwards every session is checked: no
more registered people than seats, and the waitlist in order of arrival.

Figures: ``training_registration_burst`` (registrations/s), ``training_registration_capacity_breaches``
and ``training_registration_order_breaches`` (sessions; both must be 0).
"""

from __future__ import annotations

import datetime
import os
import queue
import random
import threading
import time
from collections.abc import Iterator
from decimal import Decimal


def _setup(sessions: int, capacity: int):
    from django.utils import timezone

    from redcross.consent import consent_text_draft, consent_text_publish
    from redcross.models import Branch, BranchLevel, Person, User
    from training.models import Audience, Certificate, CertificateKind, CourseKind, SessionStatus
    from training.services.sessions import session_create, session_set_status
    from training.views.courses import CONSENT_PURPOSE

    city = Branch.objects.filter(level=BranchLevel.CITY).first() or Branch.objects.create(
        name="基准培训市红十字会", code="BT", level=BranchLevel.CITY
    )
    districts = [
        Branch.objects.get_or_create(
            code=f"BT{d:02d}", defaults={"name": f"基准第{d}区红十字会", "level": BranchLevel.COUNTY, "parent": city}
        )[0]
        for d in range(8)
    ]
    officer = User.objects.create_user(
        username="bench-training-officer", password=None, is_staff=True, is_superuser=True, branch=city
    )
    teacher = Person.objects.create(name="基准师资", phone="13900009999", branch=city)
    certificate = Certificate(
        branch=city, person=teacher, kind=CertificateKind.INSTRUCTOR, number="BENCH-INSTRUCTOR-1",
        level="师资证", expires_on=timezone.localdate() + datetime.timedelta(days=900),
    )  # fmt: skip
    certificate.set_holder(teacher.name)
    certificate.save()
    text = consent_text_publish(
        text=consent_text_draft(purpose=CONSENT_PURPOSE, title="基准报名同意书", text="仅用于基准测试。")
    )
    start = timezone.now() + datetime.timedelta(days=10)
    created = []
    for n in range(sessions):
        session = session_create(
            branch=districts[n % len(districts)], title=f"基准救护员培训班{n + 1:02d}", kind=CourseKind.FIRST_AIDER,
            audience=Audience.COMMUNITY, venue="基准培训教室", starts_at=start + datetime.timedelta(hours=n),
            ends_at=start + datetime.timedelta(hours=n + 8), capacity=capacity, hours=Decimal(16),
            instructors=[teacher], by=officer,
        )  # fmt: skip
        created.append(session_set_status(session=session, status=SessionStatus.OPEN, by=officer))
    return created, text


def _sign_up(session, n: int, text) -> None:
    """What the public form does for one sign-up, in one transaction."""
    from django.db import transaction

    from redcross.consent import consent_give
    from redcross.models import ConsentMethod
    from redcross.people import person_find_or_register
    from training.services.registration import registration_consent_link, registration_create

    surnames, given = "林陈黄吴周徐孙马朱胡郭何高罗郑梁谢宋唐许", "晓雯建国雨桐志强丽华子涵海燕静怡浩然秀英文博"
    name = surnames[n % 20] + given[(n // 20) % 20] + given[(n // 400) % 20]
    with transaction.atomic():
        person = person_find_or_register(name=name, phone=f"135{n:08d}", branch=session.branch).person
        registration = registration_create(session=session, person=person)
        consent = consent_give(subject=person, text=text, method=ConsentMethod.ONLINE, branch=session.branch)
        registration_consent_link(registration=registration, consent=consent)


def _breaches(sessions) -> tuple[int, int]:
    """Sessions holding more registered people than seats; sessions whose seats did not go to the
    first arrivals (a waiting person who arrived before someone holding a seat)."""
    from training.models import Registration, RegistrationStatus

    capacity_breaches = order_breaches = 0
    for session in sessions:
        rows = list(
            Registration.objects.filter(session=session).order_by("queue_number").values_list("status", "queue_number")
        )
        statuses = [status for status, _number in rows]
        if statuses.count(RegistrationStatus.REGISTERED) > session.capacity:
            capacity_breaches += 1
        seated = statuses.count(RegistrationStatus.REGISTERED)
        numbers = [number for _status, number in rows]
        if statuses[:seated] != [RegistrationStatus.REGISTERED] * seated or numbers != list(range(1, len(rows) + 1)):
            order_breaches += 1
    return capacity_breaches, order_breaches


def run() -> Iterator[tuple[str, str, str]]:
    from django.db import connection, connections

    count = int(os.environ.get("BENCH_REGISTRATION_COUNT", "2000"))
    session_count = int(os.environ.get("BENCH_REGISTRATION_SESSIONS", "40"))
    capacity = int(os.environ.get("BENCH_REGISTRATION_CAPACITY", "30"))
    sessions, text = _setup(session_count, capacity)
    rng = random.Random(14)
    work = [(rng.choice(sessions), n) for n in range(count)]
    threaded = connection.vendor == "postgresql"
    threads = int(os.environ.get("BENCH_REGISTRATION_THREADS", "8")) if threaded else 1
    errors: list[BaseException] = []

    start = time.perf_counter()
    if threaded:
        todo: queue.Queue = queue.Queue()
        for item in work:
            todo.put(item)

        def worker() -> None:
            try:
                while True:
                    try:
                        session, n = todo.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        _sign_up(session, n, text)
                    except Exception as exc:  # reported below
                        errors.append(exc)
            finally:
                connections.close_all()

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
    else:
        for session, n in work:
            _sign_up(session, n, text)
    seconds = time.perf_counter() - start

    if errors:
        raise RuntimeError(f"{len(errors)} sign-ups failed, first: {errors[0]!r}")
    capacity_breaches, order_breaches = _breaches(sessions)
    where = f"({connection.vendor}, {threads} threads)"
    yield "training_registration_burst", f"{count / seconds:.0f}", f"registrations/s {where}"
    yield "training_registration_capacity_breaches", str(capacity_breaches), "sessions"
    yield "training_registration_order_breaches", str(order_breaches), "sessions"
