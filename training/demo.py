"""Demo data for training: the city's plan for this year, three instructors (one certificate
expiring soon), sessions in several districts in every status (one held, not yet closed), and an
outdoor awareness event; exam results, certificates issued from them (one revoked, one issued three
years ago and expiring soon, with its reminder in the outbox). All people are invented.
Idempotent: each part is skipped once its data exists."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from redcross.models import Branch, Person, User
from training.models import (
    Audience,
    Certificate,
    CourseKind,
    ExamPart,
    FundingLine,
    Session,
    SessionStatus,
    TrainingPlan,
)
from training.services.certificates import (
    certificate_issue,
    certificate_revoke,
    certificates_issue_for_session,
    instructor_certificate_record,
)
from training.services.exams import exam_result_record
from training.services.plans import plan_funding_set, plan_target_set, training_plan_create
from training.services.reminders import training_reminders_send
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
        stdout.write("training: demo plan and sessions already present")
    else:
        _seed_plan_and_sessions(stdout, branches, officer)
    if Certificate.objects.issued_here().exists():
        stdout.write("training: demo certificates already present")
    else:
        _seed_exams_and_certificates(stdout, branches, officer)


def _seed_plan_and_sessions(stdout, branches, officer) -> None:
    city = branches["LZ"]
    year = timezone.localdate().year
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


def _results(session, people, officer, *, failed=()) -> None:
    """Theory by score, skills pass or fail; the people in ``failed`` fail the skills part."""
    for n, person in enumerate(people):
        exam_result_record(session=session, person=person, part=ExamPart.THEORY, score=85 + n % 10, by=officer)
        exam_result_record(
            session=session, person=person, part=ExamPart.SKILLS, passed=person not in failed, by=officer
        )


def _seed_exams_and_certificates(stdout, branches, officer) -> None:
    """The closed session's results and certificates (one trainee failed the skills part, one
    certificate revoked), the held session's results waiting for staff to issue, and a certificate
    issued three years ago that expires within the warning period, reminded of in the outbox."""
    closed = Session.objects.filter(branch=branches["LZ"], status=SessionStatus.CLOSED, kind=CourseKind.FIRST_AIDER)
    closed = closed.order_by("starts_at").first()
    held = Session.objects.filter(branch=branches["LZDH"], status=SessionStatus.HELD).order_by("starts_at").first()
    if closed is None or held is None:
        stdout.write("training: certificates skipped (needs the demo sessions)")
        return
    trainees = [a.person for a in closed.attendance.select_related("person").order_by("person__name")]
    _results(closed, trainees, officer, failed=trainees[-1:])
    report = certificates_issue_for_session(session=closed, by=officer)
    certificate_revoke(certificate=report.issued[-1], reason="冒名顶替参加考核（演示）", by=officer)
    _results(held, [a.person for a in held.attendance.select_related("person")], officer)

    # three years ago, before the portal's instructors were recorded: held without instructors
    old = session_create(
        branch=branches["LZ"], title="市民救护员培训班（三年前）", kind=CourseKind.FIRST_AIDER,
        audience=Audience.COMMUNITY, venue="澜州市红十字会培训中心", capacity=30,
        starts_at=_at(-3 * 365 + 19, 9), ends_at=_at(-3 * 365 + 20, 17), by=officer,
    )  # fmt: skip
    session_set_status(session=old, status=SessionStatus.HELD, by=officer)
    person = Person.objects.create(name="演示学员复训提醒", phone="13700009001", branch=branches["LZ"])
    attendance_record(session=old, person=person, hours_attended=old.hours, by=officer)
    _results(old, [person], officer)
    expiring = certificate_issue(session=old, person=person, by=officer, issued_on=old.ends_at.date())
    session_set_status(session=old, status=SessionStatus.CLOSED, by=officer)
    reminders = training_reminders_send()
    stdout.write(
        f"training: {len(report.issued) + 1} certificates ({len(report.refused)} trainee refused, one revoked, "
        f"{expiring.number} expiring {expiring.expires_on}), {reminders['certificate_expiry']} reminders"
    )
