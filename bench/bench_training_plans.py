"""Training plan vs actual at the seeds' scale: a city and six districts, a year's plan, 1,000
held sessions and 50,000 trainees (BENCH_TRAINING_TRAINEES).

- training_plan_vs_actual_db_ms_{own,system}: database time of ``plan_vs_actual`` for the city,
  本级 and 全市系统 (sum of its queries, median of 20); target ≤ 50 ms with 50,000 trainees.
- training_report_sections_db_ms: the two training sections of the annual report.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Iterator
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from bench.timing import db_ms

SESSIONS = 1000


def _seed(trainees: int):
    from redcross.models import Branch, BranchLevel, Person
    from training.models import (
        Attendance,
        Audience,
        CourseKind,
        PlanTarget,
        Session,
        SessionStatus,
        TrainingPlan,
    )

    city = Branch.objects.filter(code="TBM").first()
    year = timezone.localdate().year
    if city is not None:
        return city, year
    city = Branch.objects.create(name="基准培训市红十字会", code="TBM", level=BranchLevel.CITY)
    districts = [
        Branch.objects.create(name=f"基准培训第{d}区", code=f"TBD{d}", level=BranchLevel.COUNTY, parent=city)
        for d in range(6)
    ]
    branches = [city, *districts]
    kinds, audiences = list(CourseKind), list(Audience)
    for branch in branches:
        plan = TrainingPlan.objects.create(branch=branch, year=year, title="年度培训计划")
        PlanTarget.objects.bulk_create(
            PlanTarget(plan=plan, kind=kind, audience=audience, sessions=10, people=500)
            for kind in kinds
            for audience in audiences
        )
    start = timezone.make_aware(datetime.datetime(year, 1, 5, 9))
    sessions = Session.objects.bulk_create(
        Session(
            branch=branches[n % len(branches)],
            title=f"第{n}期",
            kind=kinds[n % len(kinds)],
            audience=audiences[n % len(audiences)],
            venue="培训中心",
            starts_at=start + datetime.timedelta(hours=7 * n),
            ends_at=start + datetime.timedelta(hours=7 * n + 8),
            hours=Decimal(16),
            capacity=60,
            status=SessionStatus.CLOSED if n % 10 else SessionStatus.PLANNED,
        )
        for n in range(SESSIONS)
    )
    held = [session for session in sessions if session.status == SessionStatus.CLOSED]
    people = Person.objects.bulk_create(
        (Person(name=f"学员{n}", phone=f"137{n:08d}", branch=branches[n % len(branches)]) for n in range(trainees)),
        batch_size=5000,
    )
    Attendance.objects.bulk_create(
        (
            Attendance(session=held[n % len(held)], person=person, hours_attended=Decimal(16))
            for n, person in enumerate(people)
        ),
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    return city, year


def run() -> Iterator[tuple[str, str, str]]:
    from redcross.selectors import BranchScope
    from reports.periods import PeriodKind, ReportPeriod
    from reports.registry import registry
    from training.selectors.plans import plan_vs_actual

    trainees = int(os.environ.get("BENCH_TRAINING_TRAINEES", "50000"))
    vendor = connection.vendor
    began = time.perf_counter()
    city, year = _seed(trainees)
    yield f"training_seed_{trainees}_trainees_{vendor}", f"{time.perf_counter() - began:.1f}", "s"

    figures = plan_vs_actual(city, year, BranchScope.SYSTEM)
    assert figures.people_trained == trainees, figures.people_trained
    for scope in (BranchScope.OWN, BranchScope.SYSTEM):
        ms = db_ms(lambda scope=scope: plan_vs_actual(city, year, scope))
        yield f"training_plan_vs_actual_db_ms_{scope}_{vendor}", f"{ms:.2f}", "ms"

    period = ReportPeriod(kind=PeriodKind.YEAR, year=year)
    sections = [registry.get("training_by_kind"), registry.get("training_plan_progress")]
    ms = db_ms(lambda: [list(section.rows(period, city, BranchScope.SYSTEM)) for section in sections], repeat=5)
    yield f"training_report_sections_db_ms_{vendor}", f"{ms:.2f}", "ms"
