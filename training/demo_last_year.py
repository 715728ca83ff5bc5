"""Last year's training in the seeds' style (Nanning: 415 sessions planned for 20,750 people, 446
held for 47,496): the plan, 40 first-aider classes with 2,000 invented trainees' attendance and
406 awareness events counting the people they reached, all closed. Written in bulk (thousands of
rows in seconds); called by ``training.demo``, idempotent through the plan of last year."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from redcross.models import Branch, Person, User
from training.models import (
    Attendance,
    Audience,
    CourseKind,
    FundingLine,
    PlanFunding,
    PlanTarget,
    Session,
    SessionInstructor,
    SessionStatus,
    TrainingPlan,
)

CLASSES, TRAINEES_PER_CLASS = 40, 50
EVENTS, PEOPLE_REACHED = 406, 45_496  # 40 × 50 + 45,496 = 47,496 people in 446 sessions
AUDIENCES = (Audience.COMMUNITY, Audience.SCHOOL, Audience.VILLAGE, Audience.ENTERPRISE, Audience.OFFICE)


def seed_last_year(stdout, *, branches: list[Branch], officer: User, instructors: list[Person]) -> None:
    city = branches[0]
    year = timezone.localdate().year - 1
    if TrainingPlan.objects.filter(branch=city, year=year).exists():
        return
    plan = TrainingPlan.objects.create(
        branch=city, year=year, title=f"澜州市{year}年应急救护培训计划（为民办实事）", created_by=officer
    )
    PlanTarget.objects.bulk_create(
        [
            PlanTarget(plan=plan, kind=CourseKind.AWARENESS, audience=Audience.COMMUNITY, sessions=375, people=18_750),
            PlanTarget(plan=plan, kind=CourseKind.FIRST_AIDER, audience=Audience.COMMUNITY, sessions=40, people=2_000),
        ]
    )
    PlanFunding.objects.create(
        plan=plan,
        line=FundingLine.PEOPLE_PROJECT,
        project_name="应急救护培训为民办实事项目",
        budget=Decimal("2328000.00"),
    )
    zone = timezone.get_current_timezone()

    def day(n: int, hour: int) -> datetime.datetime:
        # spread over March to November, skipping nothing: demo, not a timetable
        return datetime.datetime(year, 3, 1, hour, tzinfo=zone) + datetime.timedelta(days=n * 270 // (CLASSES + EVENTS))

    sessions = []
    for n in range(CLASSES + EVENTS):
        branch = branches[n % len(branches)]
        is_class = n < CLASSES
        reached = 0 if is_class else PEOPLE_REACHED // EVENTS + (1 if n - CLASSES < PEOPLE_REACHED % EVENTS else 0)
        what = "救护员培训班" if is_class else "应急救护普及活动"
        sessions.append(
            Session(
                branch=branch,
                title=f"{branch.short_name or branch.name}{what}（{n + 1:03d}）",
                kind=CourseKind.FIRST_AIDER if is_class else CourseKind.AWARENESS,
                audience=Audience.COMMUNITY if is_class else AUDIENCES[n % len(AUDIENCES)],
                is_outdoor=not is_class,
                venue=f"{branch.short_name or branch.name}培训教室" if is_class else "社区广场",
                starts_at=day(n, 9),
                ends_at=day(n, 17) + (datetime.timedelta(days=1) if is_class else datetime.timedelta()),
                hours=Decimal(16) if is_class else Decimal(2),
                capacity=TRAINEES_PER_CLASS if is_class else 0,
                funding_line=FundingLine.PEOPLE_PROJECT,
                status=SessionStatus.CLOSED,
                people_reached=reached,
                created_by=officer,
            )
        )
    sessions = Session.objects.bulk_create(sessions)
    SessionInstructor.objects.bulk_create(
        SessionInstructor(session=session, person=person) for session in sessions for person in instructors[:2]
    )
    classes = sessions[:CLASSES]
    trainees = Person.objects.bulk_create(
        (
            Person(name=f"往年学员{n + 1:04d}", phone=f"1360{n:07d}", branch=classes[n // TRAINEES_PER_CLASS].branch)
            for n in range(CLASSES * TRAINEES_PER_CLASS)
        ),
        batch_size=1000,
    )
    Attendance.objects.bulk_create(
        (
            Attendance(
                session=classes[n // TRAINEES_PER_CLASS], person=person, hours_attended=Decimal(16), recorded_by=officer
            )
            for n, person in enumerate(trainees)
        ),
        batch_size=1000,
    )
    stdout.write(
        f"training: {year} plan 415 sessions / 20,750 people; held {len(sessions)} sessions, "
        f"{CLASSES * TRAINEES_PER_CLASS + PEOPLE_REACHED:,} people"
    )
