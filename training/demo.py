"""Demo data for training: the city's plan for this year, three instructors (one certificate
expiring soon), sessions in several districts in every status (one held, not yet closed), an
outdoor awareness event; the lottery-fund equipment and its distribution to demonstration
schools, ~25 AEDs across the districts (one overdue for a check), a rescue case published with
consent. All people, places and coordinates are invented. Idempotent: each part is skipped once
it exists."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from redcross.consent import consent_give, consent_text_current, consent_text_draft, consent_text_publish
from redcross.models import Branch, ConsentMethod, Person, User
from training.demo_last_year import seed_last_year
from training.models import (
    RESCUE_CASE_PURPOSE,
    AedAccess,
    AedCheckResult,
    Audience,
    CourseKind,
    EquipmentBatch,
    EquipmentKind,
    FundingLine,
    PlanFunding,
    SessionStatus,
    SiteKind,
    TrainingPlan,
)
from training.services.aeds import aed_check_record, aed_register
from training.services.certificates import instructor_certificate_record
from training.services.equipment import equipment_batch_register, equipment_distribute, equipment_site_save
from training.services.plans import plan_funding_set, plan_target_set, training_plan_create
from training.services.rescue import rescue_case_create, rescue_case_publish
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
        seed_equipment(stdout, officer=officer)
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
    seed_equipment(stdout, officer=officer)


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


# --- equipment, AEDs and a rescue case (issue 14, item 6) -----------------------------------------

# the lottery-fund purchase of the seeds: 290 manikins, 25 AEDs, 25 kits, 20 AED trainers
LOTTERY_BATCHES = (
    (EquipmentKind.MANIKIN, "成人心肺复苏模拟人（半身）", 290, "3200.00"),
    (EquipmentKind.AED, "自动体外除颤器", 25, "18000.00"),
    (EquipmentKind.FIRST_AID_KIT, "家庭急救包", 25, "260.00"),
    (EquipmentKind.AED_TRAINER, "AED 训练机", 20, "1500.00"),
)
# (branch, name, kind, named a demonstration school in, {kind: quantity}, signed by)
SITES = (
    ("LZDH", "东湖区实验中学", SiteKind.SCHOOL, 2019, {"manikin": 12, "first_aid_kit": 2, "aed_trainer": 1}, "周老师"),
    ("LZXJ", "西江区文昌小学", SiteKind.SCHOOL, 2020, {"manikin": 10, "first_aid_kit": 2, "aed_trainer": 1}, "吴老师"),
    ("LZNS", "南山区望岳中学", SiteKind.SCHOOL, 2021, {"manikin": 10, "first_aid_kit": 2}, "郑老师"),
    ("LZLX", "临溪县第一中学", SiteKind.SCHOOL, 2020, {"manikin": 8, "first_aid_kit": 1, "aed_trainer": 1}, "王老师"),
    ("LZ", "澜州市应急救护培训基地", SiteKind.VENUE, None, {"manikin": 40, "aed_trainer": 10}, "刘主任"),
)
AED_CENTRE = (Decimal("30.260000"), Decimal("120.160000"))  # an invented city centre
# (branch, place, where in it, indoor, access, opening hours, offset north, offset east in 0.001°)
AEDS = (
    ("LZ", "澜州火车站", "候车大厅 3 号检票口旁", True, AedAccess.YES, "24/7", 4, -2),
    ("LZ", "澜州市民中心", "一楼服务大厅东侧", True, AedAccess.YES, "Mo-Fr 08:30-17:30", 1, 3),
    ("LZ", "澜州市体育馆", "北门安保室外墙", False, AedAccess.YES, "24/7", -6, 8),
    ("LZ", "地铁湖滨站", "B 出口客服中心旁", True, AedAccess.YES, "Mo-Su 06:00-23:00", 2, 12),
    ("LZDH", "东湖公园", "南门游客服务中心", False, AedAccess.YES, "Mo-Su 05:30-22:00", -3, 21),
    ("LZDH", "东湖区实验中学", "体育馆入口", True, AedAccess.CUSTOMERS, "Mo-Fr 07:00-18:00", 10, 25),
    ("LZDH", "春晖社区服务中心", "一楼大厅", True, AedAccess.YES, "Mo-Su 08:00-20:00", 14, 30),
    ("LZDH", "东湖万象商场", "二楼客服台", True, AedAccess.YES, "Mo-Su 10:00-22:00", -9, 35),
    ("LZXJ", "西江区人民医院", "门诊大厅导医台", True, AedAccess.YES, "24/7", 5, -25),
    ("LZXJ", "西江滨江绿道", "3 号驿站", False, AedAccess.YES, "24/7", -12, -30),
    ("LZXJ", "西江区政务服务中心", "一楼东侧走廊", True, AedAccess.YES, "Mo-Fr 09:00-17:00", 8, -35),
    ("LZXJ", "文昌街地铁站", "A 出口站厅", True, AedAccess.YES, "Mo-Su 06:00-23:00", 0, -20),
    ("LZNS", "南山区体育中心", "游泳馆入口", True, AedAccess.YES, "Mo-Su 06:00-22:00", -30, 2),
    ("LZNS", "望岳山登山口", "游客服务站外墙", False, AedAccess.YES, "24/7", -42, -6),
    ("LZNS", "南山汽车客运站", "售票大厅", True, AedAccess.YES, "Mo-Su 05:30-21:00", -25, 10),
    ("LZBT", "北塘古运河码头", "候船亭", False, AedAccess.YES, "24/7", 32, 4),
    ("LZBT", "北塘区图书馆", "一楼总服务台", True, AedAccess.YES, "Tu-Su 09:00-20:00", 28, -8),
    ("LZBT", "运河路地铁站", "C 出口客服中心旁", True, AedAccess.YES, "Mo-Su 06:00-23:00", 36, 12),
    ("LZBT", "北塘工业园区管委会", "门卫室", True, AedAccess.PERMISSIVE, "24/7", 45, 20),
    ("LZLX", "临溪县人民广场", "东侧警务亭外墙", False, AedAccess.YES, "24/7", -150, 200),
    ("LZLX", "青石镇卫生院", "急诊室门口", True, AedAccess.YES, "24/7", -170, 230),
    ("LZLX", "临溪县高铁站", "出站口服务台", True, AedAccess.YES, "Mo-Su 06:30-22:30", -140, 185),
    ("LZBS", "白石县体育公园", "北门管理处", False, AedAccess.YES, "Mo-Su 05:30-22:00", 180, -150),
    ("LZBS", "白石县中医院", "门诊一楼", True, AedAccess.YES, "24/7", 185, -160),
    ("LZBS", "白石山景区", "游客中心", True, AedAccess.YES, "Mo-Su 07:30-18:00", 200, -175),
)
STREETS = {
    "LZ": "澜州市中山路", "LZDH": "东湖区湖光路", "LZXJ": "西江区滨江路", "LZNS": "南山区青松路",
    "LZBT": "北塘区运河西路", "LZLX": "临溪县城关镇溪口路", "LZBS": "白石县石门路",
}  # fmt: skip
OVERDUE_AED = "白石山景区"  # its last check is past TRAINING_AED_CHECK_DAYS: the workbench shows it
RESCUE_TEXT = (
    "成功救人案例公开同意书",
    "本人同意澜州市红十字会在门户网站公开本人参与的成功救人案例，公开内容为：姓氏（名字以星号遮盖）、"
    "施救日期、所在区县、施救地点的概括描述和经过。不公开电话、身份证号和住址。本人可随时撤回同意，撤回后立即停止公开。",
)


def seed_equipment(stdout, *, officer: User) -> None:
    """The lottery-fund purchase and its distribution to demonstration schools, ~25 AEDs across the
    districts (one overdue for a check), and one rescue case published with consent. Skipped once
    the lottery batches exist."""
    if EquipmentBatch.objects.filter(funding_line=FundingLine.LOTTERY).exists():
        stdout.write("training: equipment demo data already present")
        return
    branches = {branch.code: branch for branch in Branch.objects.filter(code__in={row[0] for row in AEDS})}
    city = branches["LZ"]
    today = timezone.localdate()
    funding = PlanFunding.objects.filter(plan__branch=city, line=FundingLine.LOTTERY).order_by("-plan__year").first()
    batches = {}
    for kind, model_name, quantity, price in LOTTERY_BATCHES:
        batches[kind] = equipment_batch_register(
            branch=city, kind=kind, model_name=model_name, quantity=quantity, unit_price=price,
            funding=funding, funding_line=FundingLine.LOTTERY, purchased_on=today - datetime.timedelta(days=90),
            supplier="澜州医疗器械有限公司（演示）", by=officer,
        )  # fmt: skip
    for code, name, kind, since, holdings, signer in SITES:
        site = equipment_site_save(
            branch=branches[code], name=name, kind=kind, demonstration_since=since, by=officer,
            address=f"{STREETS[code]} 2 号",
        )  # fmt: skip
        for equipment, quantity in holdings.items():
            equipment_distribute(
                batch=batches[equipment], site=site, quantity=quantity, received_by_name=signer,
                distributed_on=today - datetime.timedelta(days=60), by=officer,
            )  # fmt: skip

    latitude, longitude = AED_CENTRE
    for n, (code, place, detail, indoor, access, hours, north, east) in enumerate(AEDS):
        aed = aed_register(
            branch=branches[code], place=place, address=f"{STREETS[code]} {101 + 2 * n} 号",
            location_detail=detail, indoor=indoor, access=access, opening_hours=hours,
            latitude=latitude + Decimal(north) / 1000, longitude=longitude + Decimal(east) / 1000,
            operator=place, model_name="自动体外除颤器", batch=batches[EquipmentKind.AED],
            installed_on=today - datetime.timedelta(days=80),
            battery_expires_on=today + datetime.timedelta(days=400 + n * 7),
            pads_expires_on=today + datetime.timedelta(days=200 + n * 5), by=officer,
        )  # fmt: skip
        days_ago = 75 if place == OVERDUE_AED else 3 + n % 20
        aed_check_record(
            aed=aed, checked_on=today - datetime.timedelta(days=days_ago), result=AedCheckResult.READY,
            note="外观完好，自检指示正常", by=officer,
        )  # fmt: skip

    text = consent_text_current(RESCUE_CASE_PURPOSE)
    if text is None:
        draft = consent_text_draft(purpose=RESCUE_CASE_PURPOSE, title=RESCUE_TEXT[0], text=RESCUE_TEXT[1], by=officer)
        text = consent_text_publish(text=draft, by=officer)
    rescuer = Person.objects.create(name="林晚秋", phone="13900002024", branch=branches["LZDH"])
    case = rescue_case_create(
        branch=branches["LZDH"], rescuer=rescuer, rescued_on=today - datetime.timedelta(days=45),
        place="东湖区某菜市场", title="菜市场里的四分钟",
        story=(
            "清晨，一位买菜的老人突然倒地，呼之不应、没有呼吸。去年参加过救护员培训的林女士立即请旁人拨打 120，"
            "跪地开始胸外按压；市场管理员从附近取来 AED，按语音提示完成一次除颤。约四分钟后老人恢复自主呼吸，"
            "随后被救护车送往医院，已康复出院。"
        ),
        by=officer,
    )  # fmt: skip
    consent_give(subject=rescuer, text=text, method=ConsentMethod.COUNTER, branch=branches["LZDH"], by=officer)
    rescue_case_publish(case=case, by=officer)
    stdout.write(
        f"training: {len(LOTTERY_BATCHES)} lottery-fund batches, {len(SITES)} schools and venues, "
        f"{len(AEDS)} AEDs (1 overdue for a check), 1 rescue case"
    )
