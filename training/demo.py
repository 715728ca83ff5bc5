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
        seed_registrations(stdout, branches=branches, officer=officer)
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
    seed_registrations(stdout, branches=branches, officer=officer)


# --- registration: open sessions across the districts, some full with a waitlist ----------------

REGISTRATION_CONSENT = (
    "培训报名个人信息处理同意书",
    "澜州市红十字会及其区县红十字会为组织应急救护培训、通知培训安排、登记培训证书，处理您在报名时填写的"
    "姓名、手机号码、身份证号码和出生日期。\n"
    "这些信息不会公开，不会用于培训以外的目的，也不会提供给其他单位（法律法规另有规定的除外）。\n"
    "您可以凭报名后获得的专属链接查看、修改手机号码或取消报名；取消报名即撤回本同意。",
)
# (branch code, title, kind, audience, days from today, capacity, registrations, venue, coordinates)
OPEN_SESSIONS = (
    ("LZDH", "东湖区春晖社区救护员培训班（第二期）", CourseKind.FIRST_AIDER, Audience.COMMUNITY, 6, 4, 7,
     "东湖区春晖社区党群服务中心三楼", ("30.262100", "120.171300")),
    ("LZXJ", "西江区家庭急救普及课（周末班）", CourseKind.AWARENESS, Audience.COMMUNITY, 9, 40, 12,
     "西江区图书馆报告厅", ("30.248500", "120.132900")),
    ("LZ", "市红十字会救护员复训班", CourseKind.REFRESHER, Audience.OFFICE, 12, 20, 23,
     "澜州市红十字会培训中心 201 教室", None),
    ("LZNS", "南山区中小学教师救护员培训班", CourseKind.FIRST_AIDER, Audience.SCHOOL, 16, 30, 5,
     "南山区实验小学多功能厅", ("30.221800", "120.148700")),
    ("LZLX", "临溪县青石镇村医救护员培训班", CourseKind.FIRST_AIDER, Audience.VILLAGE, 20, 25, 3,
     "青石镇卫生院会议室", None),
)  # fmt: skip
SURNAMES = "林陈黄吴周徐孙马朱胡郭何高罗郑梁谢宋唐许"
GIVEN = ("晓雯", "建国", "雨桐", "志强", "丽华", "子涵", "海燕", "伟", "静怡", "浩然", "秀英", "文博")


def _invented_name(n: int) -> str:
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)]


def seed_registrations(stdout, *, branches: dict, officer) -> None:
    """Open sessions in five branches with invented registrants: one full with a waitlist, one
    full with exactly three waiting, the others with seats left; the registration consent text."""
    from redcross.consent import consent_give, consent_text_current, consent_text_draft, consent_text_publish
    from redcross.models import ConsentMethod
    from redcross.people import person_find_or_register
    from training.models import Session
    from training.selectors.sessions import qualified_instructors
    from training.services.registration import registration_cancel, registration_consent_link, registration_create
    from training.views.courses import CONSENT_PURPOSE

    if Session.objects.filter(title=OPEN_SESSIONS[0][1]).exists():
        return
    text = consent_text_current(CONSENT_PURPOSE)
    if text is None:
        title, body = REGISTRATION_CONSENT
        draft = consent_text_draft(purpose=CONSENT_PURPOSE, title=title, text=body, by=officer)
        text = consent_text_publish(text=draft, by=officer)
    instructors = list(qualified_instructors().order_by("pk")[:2])
    if not instructors:
        stdout.write("training: registrations skipped (no qualified instructor)")
        return
    n = 0
    for code, title, kind, audience, days, capacity, count, venue, place in OPEN_SESSIONS:
        branch = branches[code]
        latitude, longitude = place or (None, None)
        session = session_create(
            branch=branch, title=title, kind=kind, audience=audience, venue=venue, latitude=latitude,
            longitude=longitude, starts_at=_at(days, 9), ends_at=_at(days, 17) if kind == CourseKind.AWARENESS
            else _at(days + 1, 17), capacity=capacity, instructors=instructors,
            funding_line=FundingLine.PEOPLE_PROJECT, by=officer,
        )  # fmt: skip
        session_set_status(session=session, status=SessionStatus.OPEN, by=officer)
        registrations = []
        for _ in range(count):
            person = person_find_or_register(
                name=_invented_name(n), phone=f"1360571{n:04d}", branch=branch, by=officer
            ).person
            n += 1
            registration = registration_create(session=session, person=person)
            consent = consent_give(subject=person, text=text, method=ConsentMethod.ONLINE, branch=branch)
            registration_consent_link(registration=registration, consent=consent)
            registrations.append(registration)
        if code == "LZDH":
            # one registrant cancelled through the private link: the first waiting took the seat
            registration_cancel(registration=registrations[1], by=None)
    stdout.write(f"training: {len(OPEN_SESSIONS)} open sessions with {n} invented registrants")
