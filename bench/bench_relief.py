"""Relief at surge volumes (issue 15): a beneficiary register of 200,000 households and persons
(``BENCH_RELIEF_BENEFICIARIES``) in eight districts, a winter-warmth project that paid 50,000 of
them (``BENCH_RELIEF_PAGE_AIDS``), and a surge project with 2,000 applications the districts have
reviewed (``BENCH_RELIEF_BATCH``), every project funded by directed gifts paid to it by confirmed
allocations (拨付) through the donations services.

Figures:
- ``relief_seed_<N>_beneficiaries_s``: bulk seeding (skipped when already there, BENCH_KEEPDB=1).
- ``relief_duplicate_check_<N>_db_ms``: a new household with two members registered at the
  counter (``beneficiary_find_or_register``), its phone shared with a registered beneficiary so a
  suspected duplicate is found: the database time of the duplicate check, that is the service's
  lookups by keyed hash (ID number as beneficiary and as member, each member's ID number, phone or
  name + birth date); median of 20, each a new person, rolled back. Target ≤ 5 ms.
  ``relief_duplicate_check_<N>_server_ms``: the same lookups' planning and execution time in
  PostgreSQL (EXPLAIN ANALYZE), without the round trips that a loaded machine stretches.
  ``relief_find_or_register_<N>_db_ms`` is the whole registration (with its inserts and history).
- ``relief_approve_<M>_s``: the city's approval of the M reviewed applications in one admin action
  (批准, with its reason) through the test client; ``relief_disburse_batch_<M>_s``: then one bank
  transfer batch (``aid_disburse_batch``); ``relief_approve_and_disburse_<M>_s`` both. Target ≤ 10 s.
- ``relief_project_page_<P>_{cold,warm}_db_ms``: the public project page of the project with P
  households helped, through the test client (median of 20): cold counts the households helped by
  district again (as every 30 seconds), warm finds them in the cache. Target ≤ 20 ms.
  ``..._cold_server_ms``: the cold page's queries as PostgreSQL timed them (EXPLAIN ANALYZE).
- ``relief_select_1_db_ms``: one ``SELECT 1`` (median of 200), to read the others against the
  machine's load (helpers sharing two CPUs inflate every figure).

Seeding writes beneficiaries, members, applications and disbursements with ``bulk_create`` (5,000
a transaction) and no history rows, as ``donations.seeding`` does (a fixture, not staff work);
the project's running totals are set to what the seeded disbursements paid, so its books balance.
Everything is invented: names, ID numbers (valid check digits, real region codes), phones (140...,
see ``donations.seeding``), addresses.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from bench.timing import db_ms

BENEFICIARIES = int(os.environ.get("BENCH_RELIEF_BENEFICIARIES", "200000"))
PAGE_AIDS = int(os.environ.get("BENCH_RELIEF_PAGE_AIDS", "50000"))
BATCH = int(os.environ.get("BENCH_RELIEF_BATCH", "2000"))
REPEAT = int(os.environ.get("BENCH_RELIEF_REPEAT", "20"))
CHUNK = 5000
AMOUNT = Decimal("300.00")
PAGE_PROJECT = "基准·博爱送温暖（五万户）"

# real region codes, valid in every birth year used (the ID validator checks them)
AREAS = ("110101", "110102", "110103", "110104", "110105", "110106", "110107", "110108")
DISTRICTS = ("东湖区", "西江区", "南山区", "北塘区", "石岭区", "江北区", "青川县", "临溪县")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "秀英桂兰建国玉梅德明淑珍志强春花金凤永福海燕丽华文斌红长生素芬亮学军雪宝山翠振月娥保美玲树林子涵浩然静怡"
STREETS = ("青石路", "柳荫巷", "望江新村", "人民路", "解放街", "和平里", "新华村", "东风路")
RELATIONS = ("配偶", "子女", "子女", "父亲", "母亲", "孙子女")
FIRST_DAY = date(1940, 1, 1)
MEASURED_BASE = 600_000  # the measured new applicants: above the seeded ones, identities below 4,000,000


def _identity(k: int) -> tuple[str, date]:
    """The k-th invented ID number, distinct for every k < 4,000,000, and its birth date."""
    from stdnum.cn import ric

    area, j = AREAS[k % len(AREAS)], k // len(AREAS)
    serial, slot = j % 20, j // 20  # 20 a day and region: birth dates spread over ~68 years
    born = FIRST_DAY + timedelta(days=(slot * 7919) % 25000)  # 7919 is prime to 25000: one day per slot
    body = f"{area}{born:%Y%m%d}{serial * 37 % 1000:03d}"
    return body + ric.calc_check_digit(body + "0"), born


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.8 else "")


def _person(n: int) -> dict:
    """The n-th applicant (head of household or person): facts as the counter would type them."""
    rng = random.Random(n)
    id_number, born = _identity(n * 5)
    return {
        "name": _name(rng),
        "id_number": id_number,
        "birth_date": born,
        "phone": f"140{n:08d}",
        "address": f"{DISTRICTS[n % 8]}{rng.choice(STREETS)}{rng.randint(1, 300)}号{rng.randint(1, 6)}单元",
    }


def _members(n: int, rng: random.Random, count: int | None = None) -> list[dict]:
    count = rng.choice((0, 1, 1, 2, 2, 2, 3, 4)) if count is None else count
    members = []
    for m in range(1, count + 1):
        id_number, born = _identity(n * 5 + m)
        members.append({"name": _name(rng), "relation": RELATIONS[(m + n) % 6], "id_number": id_number,
                        "birth_date": born})  # fmt: skip
    return members


# --- set-up: branches, staff, projects funded through the donations services --------------------


class _Place:
    def __init__(self) -> None:
        from django.contrib.auth.models import Group

        from donations.seeding import _city_branch, _default_campaign, _seed_accounts
        from redcross.models import Branch, BranchLevel, User
        from redcross.roles import role_group_name

        self.city = _city_branch()
        self.districts = [
            Branch.objects.get_or_create(
                code=f"{self.city.code}R{d}",
                defaults={"name": f"{name}红十字会", "level": BranchLevel.COUNTY, "parent": self.city},
            )[0]
            for d, name in enumerate(DISTRICTS)
        ]

        def staff(username: str, branch, role: str) -> User:
            user, created = User.objects.get_or_create(
                username=username, defaults={"is_staff": True, "branch": branch, "last_name": "基准"}
            )
            if created:
                user.groups.set([Group.objects.get(name=role_group_name(role))])
            return user

        self.registrars = [staff(f"bench-relief-reg{d}", b, "district_staff") for d, b in enumerate(self.districts)]
        self.reviewers = [staff(f"bench-relief-rev{d}", b, "district_staff") for d, b in enumerate(self.districts)]
        self.officer = staff("bench-relief-officer", self.city, "relief_officer")
        self.officer2 = staff("bench-relief-officer2", self.city, "relief_officer")
        self.clerk, self.finance = _seed_accounts(self.city)
        self.campaign = _default_campaign(self.city, timezone.localdate() - timedelta(days=60), self.clerk)

    def project(self, name: str, funds: Decimal, gifts: int):
        """An open winter-warmth project (300 yuan a household) funded by ``gifts`` directed gifts."""
        from donations.models import Donor, DonorKind
        from donations.seeding import invented_credit_code
        from donations.services.allocations import allocation_confirm, allocation_register_cash
        from donations.services.intake import donation_confirm, donation_register
        from relief.services.projects import project_create, project_funding_add, project_open

        today = timezone.localdate()
        project = project_create(
            by=self.officer, branch=self.city, name=name, kind="winter", unit="household",
            purpose="为低保、特困和因病致贫家庭送去过冬慰问金，每户 300 元（基准测试数据，虚构）",
            eligibility="本市户籍的低保户、特困供养户，每户限一次", starts_on=today - timedelta(days=40),
            ends_on=today + timedelta(days=80), budget=funds, cap_per_project=AMOUNT, cap_per_year="3000.00",
        )  # fmt: skip
        for g in range(gifts):
            donor = Donor.objects.create(
                branch=self.city, kind=DonorKind.ORGANISATION, name=f"基准爱心企业{project.pk}-{g}有限公司",
                credit_code=invented_credit_code("91", f"B{project.pk:05d}{g:02d}"), created_by=self.clerk,
            )  # fmt: skip
            amount = (funds / gifts).quantize(Decimal("0.01"))
            donation = donation_register(
                by=self.clerk, branch=self.city, donor=donor, campaign=self.campaign, kind="cash", channel="bank",
                received_at=timezone.now() - timedelta(days=20), amount=amount,
                designated_recipient=project.recipient,
            )  # fmt: skip
            donation = donation_confirm(donation=donation, by=self.finance)
            allocation = allocation_register_cash(
                by=self.clerk, campaign=self.campaign, recipient=project.recipient, amount=amount,
                allocated_on=today - timedelta(days=19), directed_donation=donation,
            )  # fmt: skip
            allocation = allocation_confirm(allocation=allocation, by=self.finance)
            project_funding_add(by=self.officer, project=project, allocation=allocation)
        return project_open(by=self.officer, project=project)


# --- seeding ----------------------------------------------------------------------------------


def _seed_beneficiaries(place: _Place, count: int) -> int:
    """Top the register up to ``count`` (households with members, persons), in bulk."""
    from relief.models import Beneficiary, BeneficiaryKind, HouseholdMember
    from relief.services.beneficiaries import id_key, name_birth_key, phone_key

    existing = Beneficiary.objects.filter(registered_by__in=place.registrars).count()
    for start in range(existing, count, CHUNK):
        heads, members = [], []
        for n in range(start, min(start + CHUNK, count)):
            facts = _person(n)
            rng = random.Random(-n)
            household = rng.random() < 0.75
            d = n % 8
            heads.append(
                Beneficiary(
                    kind=BeneficiaryKind.HOUSEHOLD if household else BeneficiaryKind.PERSON,
                    branch=place.districts[d], name=facts["name"], id_number=facts["id_number"],
                    phone=facts["phone"], birth_date=facts["birth_date"],
                    sex="male" if int(facts["id_number"][16]) % 2 else "female", address=facts["address"],
                    income="家庭月收入低于低保标准" if rng.random() < 0.5 else "",
                    disability="肢体残疾二级" if rng.random() < 0.05 else "",
                    id_key=id_key(facts["id_number"]), phone_key=phone_key(facts["phone"]),
                    name_birth_key=name_birth_key(facts["name"], facts["birth_date"]),
                    registered_by=place.registrars[d],
                )
            )  # fmt: skip
            members.append(_members(n, rng) if household else [])
        with transaction.atomic():
            Beneficiary.objects.bulk_create(heads)
            HouseholdMember.objects.bulk_create(
                HouseholdMember(household=head, name=m["name"], relation=m["relation"], id_number=m["id_number"],
                                id_key=id_key(m["id_number"]), birth_date=m["birth_date"])
                for head, rows in zip(heads, members, strict=True)
                for m in rows
            )  # fmt: skip
    return max(count - existing, 0)


def _seed_applications(place: _Place, project, beneficiaries: list, *, status: str):
    """One application per beneficiary, registered and reviewed by two district staff (and for
    ``approved`` decided by the city), numbered as ``application_register`` numbers them."""
    from redcross.numbering import sequence_next_block
    from relief.models import Application, ApplicationStatus

    today, now = timezone.localdate(), timezone.now()
    prefix = f"{project.branch.code}SQ"
    first = sequence_next_block(scope=f"relief-application:{prefix}:{today.year}", count=len(beneficiaries))
    district = {branch.pk: d for d, branch in enumerate(place.districts)}
    rows = []
    for offset, beneficiary in enumerate(beneficiaries):
        d = district[beneficiary.branch_id]
        approved = status == ApplicationStatus.APPROVED
        rows.append(
            Application(
                number=f"{prefix}{today.year}-{first + offset:06d}", project=project, beneficiary=beneficiary,
                branch_id=beneficiary.branch_id, channel="staff", situation="家庭收入低于低保标准，冬季取暖困难",
                requested_amount=AMOUNT, status=status, registered_by=place.registrars[d],
                reviewed_by=place.reviewers[d], reviewed_at=now - timedelta(days=3), review_reason="入户核实，情况属实",
                decided_by=place.officer2 if approved else None,
                decided_at=now - timedelta(days=2) if approved else None,
                decision_reason="符合救助条件" if approved else "", approved_amount=AMOUNT if approved else None,
            )
        )  # fmt: skip
    Application.objects.bulk_create(rows, batch_size=CHUNK)
    return rows


def _seed_page_project(place: _Place, helped: int):
    """The project whose page is measured: ``helped`` households paid by bank batches of 500."""
    from django.db.models import F

    from relief.models import Aid, AidMethod, AidStatus, ApplicationStatus, Beneficiary, Project
    from relief.services.aid import _number

    project = Project.objects.filter(name=PAGE_PROJECT).first()
    if project is not None:
        return project
    project = place.project(PAGE_PROJECT, AMOUNT * helped + Decimal("12345.67"), gifts=5)
    paid_on = timezone.localdate() - timedelta(days=1)
    beneficiaries = Beneficiary.objects.filter(registered_by__in=place.registrars).order_by("pk").only("branch")
    for start in range(0, helped, CHUNK):
        chunk = list(beneficiaries[start : min(start + CHUNK, helped)])
        with transaction.atomic():
            applications = _seed_applications(place, project, chunk, status=ApplicationStatus.APPROVED)
            numbers = _number(project, paid_on, len(applications))
            Aid.objects.bulk_create(
                Aid(
                    number=number, project=project, application=application, beneficiary_id=application.beneficiary_id,
                    branch_id=application.branch_id, method=AidMethod.BANK, amount=AMOUNT, disbursed_on=paid_on,
                    year=paid_on.year, voucher_number=f"BENCH-WINTER-{(start + i) // 500 + 1:04d}",
                    status=AidStatus.PAID, registered_by=place.officer,
                )
                for i, (application, number) in enumerate(zip(applications, numbers, strict=True))
            )  # fmt: skip
            Project.objects.filter(pk=project.pk).update(paid_out=F("paid_out") + AMOUNT * len(applications))
    project.refresh_from_db()
    project.save(update_fields=["paid_out"])  # one history row with the seeded total
    return project


# --- the figures ------------------------------------------------------------------------------


def _analyze() -> None:
    """Planner statistics and the visibility map after the bulk load, as autovacuum keeps them on a
    register that grew over months (without them PostgreSQL guesses row counts from nothing and
    cannot answer from an index alone)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in ("relief_beneficiary", "relief_householdmember", "relief_application", "relief_aid"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def _server_ms(function, only) -> float:
    """What PostgreSQL itself spent planning and executing the queries ``only`` keeps of one call
    of ``function`` (EXPLAIN ANALYZE of each, after the call): the figure without the round trips,
    which two CPUs shared by several busy processes stretch from 0.05 ms to several."""
    import json

    captured: list[tuple[str, object]] = []

    def capture(execute, sql, params, many, context):
        if only(sql):
            captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        function()
    total = 0.0
    with connection.cursor() as cursor:
        for sql, params in captured:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            total += plan[0]["Planning Time"] + plan[0]["Execution Time"]
    return total


def _count_queries(function) -> int:
    count = [0]

    def counter(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        function()
    return count[0]


def _is_duplicate_check(sql: str) -> bool:
    """The registration's lookups by keyed hash (not its inserts, history or sequence rows)."""
    head = sql.lstrip().upper()
    return head.startswith("SELECT") and (
        "relief_beneficiary" in sql or "relief_householdmember" in sql
    ) and "historical" not in sql  # fmt: skip


def _registration(place: _Place, measured: list[int]):
    """A new household with two members whose phone a registered beneficiary shares; rolled back."""
    from relief.services.beneficiaries import beneficiary_find_or_register

    def register() -> None:
        n = measured.pop()
        facts = _person(n)
        facts["phone"] = _person(n % BENEFICIARIES)["phone"]  # the same phone: a suspected duplicate
        d = (n % BENEFICIARIES) % 8
        members = _members(n, random.Random(n), count=2)
        with transaction.atomic():
            result = beneficiary_find_or_register(
                by=place.registrars[d], branch=place.districts[d], kind="household", members=members, **facts
            )
            assert result.created and len(result.suspected_duplicates) == 1, result
            transaction.set_rollback(True)

    return register


def _approve_and_disburse(place: _Place, run_number: int) -> Iterator[tuple[str, str, str]]:
    from django.test import Client
    from django.urls import reverse

    from relief.models import Aid, AidStatus, Application, ApplicationStatus, Beneficiary
    from relief.services.aid import aid_disburse_batch

    # households not helped by the page project, another slice each run (BENCH_KEEPDB=1)
    start = PAGE_AIDS + (run_number - 1) * BATCH
    if start + BATCH > BENEFICIARIES:
        yield f"relief_approve_{BATCH}_skipped_register_too_small", str(BENEFICIARIES), "beneficiaries"
        return
    project = place.project(f"基准·暖冬行动第{run_number}批", AMOUNT * BATCH, gifts=2)
    households = list(
        Beneficiary.objects.filter(registered_by__in=place.registrars)
        .order_by("pk")
        .only("branch")[start : start + BATCH]
    )
    with transaction.atomic():
        _seed_applications(place, project, households, status=ApplicationStatus.REVIEWED)
    # the officer filters the queue (待市级审批, this project), selects all, approves with a reason
    url = reverse("admin:relief_application_changelist") + f"?queue=decide&project__id__exact={project.pk}"
    shown = list(Application.objects.filter(project=project).order_by("-pk").values_list("pk", flat=True)[:100])
    client, responses = Client(), []
    client.force_login(place.officer)

    def approve() -> None:
        chosen = {"action": "decide_approve", "select_across": "1", "_selected_action": shown}
        responses.append(client.post(url, {**chosen, "index": "0"}))
        reason = "经市级审核，符合暖冬救助条件"
        responses.append(client.post(url, {**chosen, "_selected_action": shown[:1], "apply": "1", "reason": reason}))

    began = time.perf_counter()
    approve_queries = _count_queries(approve)
    approved_in = time.perf_counter() - began
    assert responses[0].status_code == 200 and f"以下 {BATCH} 份" in responses[0].text, responses[0].status_code
    assert responses[1].status_code == 302, responses[1].status_code
    approved = Application.objects.filter(project=project, status=ApplicationStatus.APPROVED)
    assert approved.count() == BATCH, approved.count()
    began, results = time.perf_counter(), []
    disburse_queries = _count_queries(
        lambda: results.append(
            aid_disburse_batch(
                by=place.officer, project=project, applications=list(approved),
                voucher_number=f"BENCH-SURGE-{run_number:03d}",
            )
        )
    )  # fmt: skip
    disbursed_in, result = time.perf_counter() - began, results[0]
    assert result.done == BATCH and not result.refused, result
    project.refresh_from_db()
    assert project.paid_out == AMOUNT * BATCH and project.cash_balance == 0
    paid = Aid.objects.filter(project=project, status=AidStatus.PAID)
    assert paid.count() == BATCH and Aid.history.filter(project=project).count() == BATCH
    assert Application.history.filter(project=project, status=ApplicationStatus.APPROVED).count() == BATCH
    yield f"relief_approve_{BATCH}_s", f"{approved_in:.2f}", f"s ({approve_queries} queries)"
    yield f"relief_disburse_batch_{BATCH}_s", f"{disbursed_in:.2f}", f"s ({disburse_queries} queries)"
    yield f"relief_approve_and_disburse_{BATCH}_s", f"{approved_in + disbursed_in:.2f}", f"s ({connection.vendor})"


def _roster_import(place: _Place, project) -> Iterator[tuple[str, str, str]]:
    """A district's roster of new households at the upload's limit (花名册导入, ``MAX_ROSTER_ROWS``),
    checked and rolled back (只检查): every row through the register services, as the admin page
    runs it inside one request (which must end inside the web server's 30-second timeout)."""
    import io

    from openpyxl import Workbook

    from relief.imports import MAX_ROSTER_ROWS, ROSTER_SHEET, ROSTER_SPEC, roster_import

    headers = [header for _key, header, _note, _example in ROSTER_SPEC]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = ROSTER_SHEET
    sheet.append(headers)
    for i in range(MAX_ROSTER_ROWS):
        n = MEASURED_BASE + 10_000 + i
        facts = _person(n)
        members = _members(n, random.Random(n))
        row = {
            "所在区县": place.districts[0].name, "申请类型": "家庭", "姓名": facts["name"],
            "身份证号码": facts["id_number"], "联系电话": facts["phone"], "住址": facts["address"],
            "家庭成员": "；".join(f"{m['name']},{m['relation']},{m['id_number']}" for m in members),
            "困难情况": "低保户，冬季缺少取暖物资（基准测试数据，虚构）", "申请金额（元）": str(AMOUNT),
        }  # fmt: skip
        sheet.append([row.get(header) for header in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    began = time.perf_counter()
    report = roster_import(buffer.getvalue(), by=place.registrars[0], project=project, dry_run=True)
    took = time.perf_counter() - began
    assert report.registered == MAX_ROSTER_ROWS and not report.rejected, report.lines()[:5]
    name = f"relief_roster_import_{MAX_ROSTER_ROWS}_rows_s"
    yield name, f"{took:.1f}", f"s ({connection.vendor}, checked and rolled back)"


def run() -> Iterator[tuple[str, str, str]]:
    from django.core.cache import cache
    from django.test import Client

    from relief.models import Project

    place = _Place()
    began = time.perf_counter()
    added = _seed_beneficiaries(place, BENEFICIARIES)
    page_project = _seed_page_project(place, PAGE_AIDS)
    if added:
        yield f"relief_seed_{BENEFICIARIES}_beneficiaries_s", f"{time.perf_counter() - began:.0f}", "s"
    _analyze()
    label = f"{BENEFICIARIES // 1000}k"

    def select_one() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    # the machine's load: one round trip of the simplest query (well under 0.1 ms when idle)
    yield "relief_select_1_db_ms", f"{db_ms(select_one, 200):.3f}", "ms"
    measured = list(range(MEASURED_BASE + 2 * REPEAT + 2, MEASURED_BASE, -1))
    register = _registration(place, measured)
    register()  # warm-up
    check = db_ms(register, REPEAT, only=_is_duplicate_check)
    whole = db_ms(_registration(place, measured), REPEAT)
    yield f"relief_duplicate_check_{label}_db_ms", f"{check:.2f}", "ms"
    if connection.vendor == "postgresql":
        yield f"relief_duplicate_check_{label}_server_ms", f"{_server_ms(register, _is_duplicate_check):.2f}", "ms"
    yield f"relief_find_or_register_{label}_db_ms", f"{whole:.2f}", "ms"

    run_number = Project.objects.filter(name__startswith="基准·暖冬行动第").count() + 1
    yield from _approve_and_disburse(place, run_number)
    yield from _roster_import(place, page_project)

    client = Client()
    path = f"/relief/projects/{page_project.pk}/"
    response = client.get(path)
    assert response.status_code == 200 and f'data-helped="{PAGE_AIDS}"' in response.text, response.status_code
    helped_key = f"relief:project:{page_project.pk}:helped"

    def cold() -> None:
        cache.delete(helped_key)  # the households helped counted again, as every 30 seconds
        client.get(path)

    cold_queries, warm_queries = _count_queries(cold), _count_queries(lambda: client.get(path))
    figures = {
        "cold": (db_ms(cold, REPEAT), cold_queries),
        "warm": (db_ms(lambda: client.get(path), REPEAT), warm_queries),
    }
    for name, (value, queries) in figures.items():
        yield f"relief_project_page_{PAGE_AIDS // 1000}k_{name}_db_ms", f"{value:.2f}", f"ms ({queries} queries)"
    if connection.vendor == "postgresql":
        selects = _server_ms(cold, lambda sql: sql.lstrip().upper().startswith("SELECT"))
        yield f"relief_project_page_{PAGE_AIDS // 1000}k_cold_server_ms", f"{selects:.2f}", "ms"
