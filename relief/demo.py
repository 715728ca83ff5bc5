"""Demo data for relief, in the seeds' style at small scale: a 博爱送温暖 winter-warmth project for
a few hundred households (paid in one bank batch; a few still waiting for review, one duplicate
caught, one application rejected), a 天使计划 medical project for children with a referral to the
小天使基金, a 阳光助学 student-aid project, and a 博爱家园 livelihood village with its shares and
dividends. Every yuan comes from directed gifts to the project in the demo campaign, paid out by
confirmed allocations (拨付) to the project's own recipient unit; the campaign's usage announcement
(使用公告) of today publishes those allocations and each project's disbursements (counts and totals),
and the project pages link to it. The consent text of the online
application form is published. All people, numbers and places are invented. Idempotent: skipped
once the projects exist. Every write goes through the services.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from stdnum.cn import ric

from redcross.models import Branch, User

WINTER = "博爱送温暖·暖冬行动（演示）"
MEDICAL = "天使计划·白血病和先心病患儿医疗救助（演示）"
REFERRAL = "小天使基金申请协助（演示）"
STUDENT = "阳光助学（演示）"
LIVELIHOOD = "博爱家园·青石村生计项目（演示）"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = (
    "秀英",
    "桂兰",
    "建国",
    "玉梅",
    "德明",
    "淑珍",
    "志强",
    "春花",
    "国庆",
    "金凤",
    "永福",
    "海燕",
    "丽华",
    "文斌",
    "红梅",
    "长生",
    "素芬",
    "明亮",
    "凤英",
    "学军",
    "雪梅",
    "宝山",
    "翠兰",
    "振华",
    "月娥",
    "保国",
    "美玲",
    "福生",
    "桂芝",
    "树林",
)
STREETS = ("澜州市青石路 ", "澜州市柳荫巷 ", "澜州市望江新村 ", "临溪县青石村三组 ")
DISTRICTS = ("LZDH", "LZXJ", "LZNS", "LZBT", "LZLX")
LOGINS = {"LZDH": "donghu", "LZXJ": "xijiang", "LZNS": "nanshan", "LZBT": "beitang", "LZLX": "linxi"}
AREA = {"LZDH": "110101", "LZXJ": "110102", "LZNS": "110105", "LZBT": "110106", "LZLX": "110108"}


class _People:
    """Invented names, valid-looking ID numbers (GB 11643 check digit) and phones, never repeated."""

    def __init__(self) -> None:
        self.rng = random.Random(15)  # noqa: S311 (invented demo data)
        self.serial = 0

    def person(self, district: str, *, born_from: int = 1950, born_to: int = 1985) -> dict:
        self.serial += 1
        year = self.rng.randint(born_from, born_to)
        month, day = self.rng.randint(1, 12), self.rng.randint(1, 28)
        body = f"{AREA[district]}{year:04d}{month:02d}{day:02d}{self.serial % 1000:03d}"
        name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
        return {
            "name": name,
            "id_number": body + ric.calc_check_digit(body + "0"),
            "phone": f"1390{self.serial:07d}",
            "birth_date": timezone.datetime(year, month, day).date(),
            "address": f"{self.rng.choice(STREETS)}{self.serial} 号{self.rng.randint(1, 6)}单元",
        }


def seed(stdout) -> None:
    from donations.demo import DEMO_CAMPAIGN_SLUG
    from donations.models import Campaign
    from relief.models import Project
    from relief.views.apply import CONSENT_PURPOSE

    city = Branch.objects.filter(code="LZ").first()
    users = {u.username: u for u in User.objects.filter(username__in=["officer", "clerk", "reviewer", "keeper1"])}
    campaign = Campaign.objects.filter(slug=DEMO_CAMPAIGN_SLUG).first()
    districts = {b.code: b for b in Branch.objects.filter(code__in=DISTRICTS)}
    staff = {
        code: (User.objects.filter(username=login).first(), User.objects.filter(username=f"{login}-fh").first())
        for code, login in LOGINS.items()
    }
    if city is None or campaign is None or len(users) < 3 or not all(a and b for a, b in staff.values()):
        stdout.write("relief: skipped (needs the demo branches, staff accounts and campaign)")
        return
    _consent_text(users["officer"], CONSENT_PURPOSE)
    context = _Context(stdout, city, campaign, users, districts, staff)
    if Project.objects.filter(name=WINTER).exists():
        stdout.write("relief: demo data already present")
        context.announce()  # a database seeded before announcements listed relief gets one too
        return
    context.winter()
    context.medical()
    context.student()
    context.livelihood()
    context.announce()
    from relief.services.books import relief_books_check_all

    checks = relief_books_check_all()
    stdout.write(f"relief: {Project.objects.count()} projects; books balanced for "
                 f"{sum(c.is_balanced for c in checks)} of {len(checks)}")  # fmt: skip


def _consent_text(officer: User, purpose: str) -> None:
    from redcross.consent import consent_text_current, consent_text_draft, consent_text_publish

    if consent_text_current(purpose) is not None:
        return
    draft = consent_text_draft(
        purpose=purpose,
        title="救助申请个人信息使用同意书",
        text=(
            "本人同意澜州市红十字会及所在区县红十字会为办理本次人道救助申请，收集和使用本人（及家庭成员）的"
            "姓名、身份证号码、联系电话、住址、收入、疾病和就学等情况，用于核实身份、入户走访、审核、发放和回访，"
            "并在必要时转报实施救助的全国性基金。上述信息只由负责救助的工作人员查看，不会公开；"
            "公开的只有各项目的受助人数。本人可随时撤回本同意，撤回前已进行的处理不受影响。"
        ),
        by=officer,
    )
    consent_text_publish(text=draft, by=officer)


class _Context:
    def __init__(self, stdout, city, campaign, users, districts, staff) -> None:
        self.stdout, self.city, self.campaign, self.districts, self.staff = stdout, city, campaign, districts, staff
        self.officer, self.clerk, self.reviewer = users["officer"], users["clerk"], users["reviewer"]
        self.people = _People()
        self.today = timezone.localdate()
        self.donors: dict[str, object] = {}

    # --- projects and money ---
    def project(self, **fields):
        from relief.services.projects import project_create, project_open

        fields.setdefault("starts_on", self.today - timedelta(days=40))
        fields.setdefault("ends_on", self.today + timedelta(days=120))
        project = project_create(by=self.officer, branch=self.city, **fields)
        return project_open(by=self.officer, project=project)

    def fund(self, project, amount: str, donor_name: str, credit_base: str) -> None:
        """A directed gift to the project, paid to it by a confirmed allocation, counted."""
        from donations.demo import _donor, _uscc
        from donations.services.allocations import allocation_confirm, allocation_register_cash
        from donations.services.intake import donation_confirm, donation_register
        from relief.services.projects import project_funding_add

        donor = _donor(self.clerk, self.city, "organisation", donor_name, credit_code=_uscc(credit_base))
        donation = donation_register(
            by=self.clerk, branch=self.city, donor=donor, campaign=self.campaign, kind="cash", channel="bank",
            received_at=timezone.now() - timedelta(days=10), amount=Decimal(amount),
            designated_recipient=project.recipient,
        )  # fmt: skip
        donation = donation_confirm(donation=donation, by=self.reviewer)
        allocation = allocation_register_cash(
            by=self.clerk, campaign=self.campaign, recipient=project.recipient, amount=Decimal(amount),
            allocated_on=self.today - timedelta(days=9), directed_donation=donation,
        )  # fmt: skip
        allocation = allocation_confirm(allocation=allocation, by=self.reviewer)
        project_funding_add(by=self.officer, project=project, allocation=allocation)

    # --- people and applications ---
    def apply(self, project, district: str, *, kind="household", situation: str, members=(), **person):
        from relief.services.applications import application_register
        from relief.services.beneficiaries import beneficiary_find_or_register

        registrar, _reviewer = self.staff[district]
        facts = person or self.people.person(district)
        registration = beneficiary_find_or_register(
            by=registrar, branch=self.districts[district], kind=kind, members=members, **facts
        )
        return application_register(
            by=registrar, project=project, beneficiary=registration.beneficiary, situation=situation
        )

    def review(self, application, *, visit: bool = False, passed: bool = True, reason: str = "情况属实，同意上报"):
        from relief.services.applications import application_review, visit_record

        _registrar, reviewer = self.staff[next(c for c, b in self.districts.items() if b.pk == application.branch_id)]
        if visit:
            visit_record(
                by=reviewer, application=application, kind="assessment",
                visited_on=self.today - timedelta(days=20), findings="入户核实，家庭情况与申请一致",
            )  # fmt: skip
        return application_review(by=reviewer, application=application, passed=passed, reason=reason)

    def decide(self, application, *, approve: bool = True, reason: str = "符合救助条件", amount=None):
        from relief.services.applications import application_decide

        return application_decide(
            by=self.officer, application=application, approve=approve, reason=reason, approved_amount=amount
        )

    def district(self, index: int) -> str:
        return DISTRICTS[index % len(DISTRICTS)]

    # --- the seeds' projects ---
    def winter(self) -> None:
        from relief.models import Application
        from relief.services.aid import aid_disburse, aid_disburse_batch

        project = self.project(
            name=WINTER, kind="winter", unit="household", budget="80000.00", cap_per_project="300.00",
            cap_per_year="3000.00",
            purpose="为城乡低保、特困和因病致贫家庭送去过冬慰问金，每户 300 元，春节前发放到户。",
            eligibility="本市户籍的低保户、特困供养户、因病因灾致贫家庭，每户限一次。",
        )  # fmt: skip
        self.fund(project, "50000.00", "澜州市恒通建设集团有限公司（演示）", "91330100MA2R0101")
        self.fund(project, "25000.00", "澜州市明远电器有限公司（演示）", "91330100MA2R0102")
        approved = []
        for index in range(210):
            application = self.apply(project, self.district(index), situation="家庭收入低于低保标准，冬季取暖困难")
            if index < 200:
                approved.append(self.decide(self.review(application), amount=Decimal("300.00")))
        # a duplicate caught: the same phone under another name, waiting for the reviewer
        first = approved[0].beneficiary
        self.apply(
            project, "LZDH", situation="独居老人，冬季取暖困难",
            **{**self.people.person("LZDH"), "phone": first.phone},
        )  # fmt: skip
        # one application rejected at the city, with the reason
        rejected = self.apply(project, "LZXJ", situation="家中有营业中的店铺")
        self.decide(self.review(rejected), approve=False, reason="家庭有稳定经营收入，不符合本项目救助条件")
        result = aid_disburse_batch(
            by=self.officer, project=project, applications=approved[:195], voucher_number="ZZ2026-WINTER-001"
        )
        # cash handed over at the district, waiting for the second signature; one application
        # reviewed by the district, waiting for the city's decision
        aid_disburse(by=self.officer, application=approved[195], method="cash")
        waiting = Application.objects.filter(project=project, status="submitted").order_by("pk").first()
        self.review(waiting)
        self.stdout.write(f"relief: winter warmth, {result.done} households paid in one batch")

    def medical(self) -> None:
        from relief.services.aid import aid_disburse
        from relief.services.applications import application_referral_outcome

        project = self.project(
            name=MEDICAL, kind="medical", unit="person", budget="150000.00", cap_per_project="30000.00",
            purpose="资助患白血病或先天性心脏病的困难家庭儿童，减轻医疗费用负担。",
            eligibility="本市 0–14 岁患儿，经定点医院确诊，家庭经济困难；须入户走访。",
        )  # fmt: skip
        self.fund(project, "120000.00", "澜州市仁和医药连锁有限公司（演示）", "91330100MA2R0201")
        for index in range(5):
            child = self.people.person(self.district(index), born_from=2013, born_to=2022)
            child["illness"] = ("急性淋巴细胞白血病，化疗中", "先天性心脏病（室间隔缺损），待手术")[index % 2]
            situation = "患儿确诊重病住院，治疗费用高，家庭无力承担"
            application = self.apply(project, self.district(index), kind="person", situation=situation, **child)
            application = self.decide(self.review(application, visit=True), amount=Decimal("20000.00"))
            if index < 4:
                aid_disburse(
                    by=self.officer, application=application, method="bank", amount=Decimal("20000.00"),
                    voucher_number=f"ZZ2026-MED-{index + 1:03d}",
                )  # fmt: skip
        late = self.apply(project, "LZNS", kind="person", situation="患儿先天性心脏病待手术",
                          **self.people.person("LZNS", born_from=2016, born_to=2022))  # fmt: skip
        self.review(late, visit=True, passed=False, reason="家庭已获医保和大病保险足额报销，不符合条件")
        referral = self.project(
            name=REFERRAL, kind="medical", unit="person", is_referral=True,
            referral_body="中国红十字基金会小天使基金",
            purpose="协助本市白血病患儿家庭向中国红十字基金会小天使基金申请资助，材料由本会审核转报。",
        )  # fmt: skip
        for index, outcome in enumerate(("granted", "granted", "declined", None)):
            child = self.people.person(self.district(index + 1), born_from=2012, born_to=2021)
            application = self.apply(
                referral, self.district(index + 1), kind="person", situation="患儿白血病，申请小天使基金资助", **child
            )
            application = self.decide(self.review(application, visit=True), reason="材料齐全，同意转报")
            if outcome:
                application_referral_outcome(
                    by=self.officer, application=application, outcome=outcome,
                    amount=Decimal("30000.00") if outcome == "granted" else None,
                )  # fmt: skip
        self.stdout.write("relief: 天使计划 with 4 children paid, 小天使基金 referrals with outcomes")

    def student(self) -> None:
        from relief.services.aid import aid_disburse

        project = self.project(
            name=STUDENT, kind="student", unit="person", budget="40000.00", cap_per_project="5000.00",
            purpose="资助家庭经济困难的在读高中生和大学新生完成学业，每人 5000 元。",
            eligibility="本市户籍、家庭经济困难的高中在读学生和当年录取的大学新生；须入户走访。",
        )  # fmt: skip
        self.fund(project, "40000.00", "澜州市青禾教育基金会（演示）", "53330100MA2R0301")
        for index in range(7):
            student = self.people.person(self.district(index), born_from=2007, born_to=2009)
            application = self.apply(project, self.district(index), kind="person",
                                     situation="父母务农收入微薄，考入大学学费无着", **student)  # fmt: skip
            application = self.decide(self.review(application, visit=True), amount=Decimal("5000.00"))
            aid_disburse(by=self.officer, application=application, method="bank", amount=Decimal("5000.00"),
                         voucher_number=f"ZZ2026-EDU-{index + 1:03d}")  # fmt: skip
        self.stdout.write("relief: 阳光助学, 7 students paid")

    def livelihood(self) -> None:
        from relief.services.aid import livelihood_dividends_pay, livelihood_share_record

        project = self.project(
            name=LIVELIHOOD, kind="livelihood", unit="household", budget="60000.00",
            starts_on=self.today - timedelta(days=300), ends_on=self.today + timedelta(days=700),
            purpose="在临溪县青石村建设博爱家园，扶持茶叶合作社，困难户以救助金入股、按年分红。",
            eligibility="青石村建档立卡困难户；须入户走访。",
        )  # fmt: skip
        self.fund(project, "40000.00", "澜州市茶业协会（演示）", "51330100MA2R0401")
        registrar, _reviewer = self.staff["LZLX"]
        for index in range(12):
            head = self.people.person("LZLX")
            spouse = self.people.person("LZLX")
            members = [{"name": spouse["name"], "relation": "配偶", "id_number": spouse["id_number"],
                        "birth_date": spouse["birth_date"]}]  # fmt: skip
            application = self.apply(project, "LZLX", situation="建档立卡困难户，以救助金入股合作社",
                                     members=members, **head)  # fmt: skip
            application = self.decide(self.review(application, visit=True), amount=Decimal("3000.00"))
            livelihood_share_record(
                by=registrar, project=project, beneficiary=application.beneficiary, year=self.today.year,
                shares=Decimal(2 + index % 3),
            )  # fmt: skip
        livelihood_dividends_pay(
            by=self.officer, project=project, year=self.today.year, total=Decimal("5520.00"),
            voucher_number="ZZ2026-BAJY-001",
        )  # fmt: skip
        self.stdout.write("relief: 博爱家园, 12 households with shares and this year's dividends")

    # --- the usage announcement ---
    def announce(self) -> None:
        """The campaign's usage announcement of today: the projects' funding allocations (made
        after the campaign's last announcement, so published now as 补充公告) and each project's
        disbursements as counts and totals."""
        from django.core.exceptions import ValidationError

        from donations.services.bulletins.compose import bulletin_draft
        from donations.services.bulletins.publish import bulletin_publish
        from relief.models import BulletinAid

        if BulletinAid.objects.exists():
            return
        try:
            draft = bulletin_draft(
                branch=self.city, kind="usage", period_start=self.today, period_end=self.today,
                campaign=self.campaign, by=self.clerk,
            )  # fmt: skip
        except ValidationError:  # today's announcement of the campaign exists already
            self.stdout.write("relief: no usage announcement published (today's exists already)")
            return
        bulletin = bulletin_publish(bulletin=draft, by=self.reviewer)
        lines = next((t for t in bulletin.content.get("usage_lines", []) if t["key"] == "relief"), {"rows": []})
        count = len(lines["rows"])
        self.stdout.write(f"relief: {bulletin.number_label} published with {count} projects' disbursements")
