"""Demo data for training: the city's plan for this year, three instructors (one certificate
expiring soon), sessions in several districts in every status (one held, not yet closed), and an
outdoor awareness event. All people are invented. Idempotent: skipped once the plan exists."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from redcross.models import Branch, Person, User
from training.demo_last_year import seed_last_year
from training.models import Audience, CourseKind, FundingLine, SessionStatus, TrainingPlan
from training.services.certificates import instructor_certificate_record
from training.services.plans import plan_funding_set, plan_target_set, training_plan_create
from training.services.sessions import attendance_record, session_create, session_set_status

TARGETS = (
    (CourseKind.FIRST_AIDER, Audience.COMMUNITY, 415, 20750),
    (CourseKind.AWARENESS, Audience.SCHOOL, 120, 12000),
    (CourseKind.INSTRUCTOR, Audience.OFFICE, 3, 141),
    (CourseKind.FIRST_AIDER, Audience.CIVIL_SERVANTS, 2, 460),
)
FUNDING = (
    (FundingLine.PEOPLE_PROJECT, "应急救护培训为民办实事项目", "2328000.00"),
    (FundingLine.LOTTERY, "福彩公益金应急救护设备项目", "1830000.00"),
)
INSTRUCTORS = (("沈若兰", "13900001001", 900), ("顾明哲", "13900001002", 700), ("韩晓峰", "13900001003", 30))
# (branch code, title, kind, audience, days from today, status, trainees)
SESSIONS = (
    ("LZ", "市级机关救护员培训班（第一期）", CourseKind.FIRST_AIDER, Audience.OFFICE, -40, SessionStatus.CLOSED, 6),
    ("LZDH", "春晖社区救护员培训班", CourseKind.FIRST_AIDER, Audience.COMMUNITY, -5, SessionStatus.HELD, 5),
    ("LZXJ", "电力公司救护员培训班", CourseKind.FIRST_AIDER, Audience.ENTERPRISE, 10, SessionStatus.OPEN, 0),
    ("LZNS", "南山区新录用公务员救护培训", CourseKind.FIRST_AIDER, Audience.CIVIL_SERVANTS, 14, SessionStatus.OPEN, 0),
    ("LZLX", "青石镇农村救护员培训班", CourseKind.FIRST_AIDER, Audience.VILLAGE, 30, SessionStatus.PLANNED, 0),
)


def _at(days: int, hour: int) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def seed(stdout) -> None:
    branches = {
        branch.code: branch for branch in Branch.objects.filter(code__in={"LZ", "LZDH", "LZXJ", "LZNS", "LZLX"})
    }
    officer = User.objects.filter(username="officer").first()
    if len(branches) < 5 or officer is None:
        stdout.write("training: skipped (needs the demo branches and the officer account)")
        return
    city = branches["LZ"]
    year = timezone.localdate().year
    if TrainingPlan.objects.filter(branch=city, year=year).exists():
        stdout.write("training: demo data already present")
        return
    plan = training_plan_create(branch=city, year=year, title=f"澜州市{year}年应急救护培训计划", by=officer)
    for kind, audience, sessions, people in TARGETS:
        plan_target_set(plan=plan, kind=kind, audience=audience, sessions=sessions, people=people, by=officer)
    for line, name, budget in FUNDING:
        plan_funding_set(plan=plan, line=line, budget=Decimal(budget), project_name=name, by=officer)

    instructors = []
    for n, (name, phone, valid_days) in enumerate(INSTRUCTORS, start=1):
        person = Person.objects.create(name=name, phone=phone, branch=city)
        today = timezone.localdate()
        instructor_certificate_record(
            branch=city, person=person, number=f"ZJHSZ{year - 2}{n:04d}", by=officer,
            issued_on=today - datetime.timedelta(days=3 * 365 - valid_days),
            expires_on=today + datetime.timedelta(days=valid_days),
        )  # fmt: skip
        instructors.append(person)

    for code, title, kind, audience, days, status, trainees in SESSIONS:
        session = session_create(
            branch=branches[code], title=title, kind=kind, audience=audience,
            venue=f"{branches[code].short_name or branches[code].name}培训教室",
            starts_at=_at(days, 9), ends_at=_at(days + 1, 17), capacity=30, instructors=instructors[:2],
            funding_line=FundingLine.PEOPLE_PROJECT, by=officer,
        )  # fmt: skip
        path = {
            SessionStatus.PLANNED: [],
            SessionStatus.OPEN: [SessionStatus.OPEN],
            SessionStatus.HELD: [SessionStatus.OPEN, SessionStatus.HELD],
            SessionStatus.CLOSED: [SessionStatus.OPEN, SessionStatus.HELD],
        }[status]
        for step in path:
            session_set_status(session=session, status=step, by=officer)
        for t in range(trainees):
            trainee = Person.objects.create(
                name=f"演示学员{code}{t + 1:02d}", phone=f"1370000{len(code)}{t:03d}", branch=branches[code]
            )
            attendance_record(session=session, person=trainee, hours_attended=session.hours, by=officer)
        if status == SessionStatus.CLOSED:
            session_set_status(session=session, status=SessionStatus.CLOSED, by=officer)

    outdoor = session_create(
        branch=branches["LZDH"], title="“世界急救日”湖滨广场普及宣传", kind=CourseKind.AWARENESS,
        audience=Audience.COMMUNITY,
        venue="东湖区湖滨广场", latitude=Decimal("30.259000"), longitude=Decimal("120.160000"), is_outdoor=True,
        starts_at=_at(-20, 9), ends_at=_at(-20, 16), by=officer,
    )  # fmt: skip
    session_set_status(session=outdoor, status=SessionStatus.HELD, people_reached=860, by=officer)
    stdout.write(f"training: plan {plan}, {len(SESSIONS) + 1} sessions, {len(INSTRUCTORS)} instructors")
    seed_last_year(stdout, branches=list(branches.values()), officer=officer, instructors=instructors)
