"""Load invented demo data: a fictional city's Red Cross tree and its staff.

Idempotent: rows are matched by their natural keys (branch code, username) and
updated in place, so running it again changes nothing. Every name here is
invented; none is a real person or a real branch. Later features add their
own demo data in ``<app>/demo.py`` (see ``feature_seeders``).
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from redcross.audit import audit_context
from redcross.models import Branch, BranchLevel, GrassrootsKind, User
from redcross.roles import DOMAIN_APPS, role_group_name

DEMO_PASSWORD = "redcross-demo-2026"  # noqa: S105  (demo accounts only; refused when DEBUG is off)


@dataclass(frozen=True)
class DemoBranch:
    code: str
    name: str
    level: str
    parent: str | None = None
    kind: str = ""
    address: str = ""
    phone: str = ""


CITY_CODE = "LZ"

BRANCHES: tuple[DemoBranch, ...] = (
    DemoBranch(CITY_CODE, "澜州市红十字会", BranchLevel.CITY, address="澜州市明德路 88 号", phone="0571-86001234"),
    DemoBranch(
        "LZDH",
        "澜州市东湖区红十字会",
        BranchLevel.COUNTY,
        CITY_CODE,
        address="东湖区湖滨路 12 号",
        phone="0571-86002001",
    ),
    DemoBranch(
        "LZXJ",
        "澜州市西江区红十字会",
        BranchLevel.COUNTY,
        CITY_CODE,
        address="西江区文昌街 5 号",
        phone="0571-86002002",
    ),
    DemoBranch(
        "LZNS",
        "澜州市南山区红十字会",
        BranchLevel.COUNTY,
        CITY_CODE,
        address="南山区望岳路 30 号",
        phone="0571-86002003",
    ),
    DemoBranch(
        "LZBT",
        "澜州市北塘区红十字会",
        BranchLevel.COUNTY,
        CITY_CODE,
        address="北塘区运河路 7 号",
        phone="0571-86002004",
    ),
    DemoBranch(
        "LZLX",
        "临溪县红十字会",
        BranchLevel.COUNTY,
        CITY_CODE,
        address="临溪县城关镇人民路 16 号",
        phone="0571-86002005",
    ),
    DemoBranch(
        "LZBS", "白石县红十字会", BranchLevel.COUNTY, CITY_CODE, address="白石县新华路 2 号", phone="0571-86002006"
    ),
    DemoBranch("DHSY", "东湖区实验中学红十字会", BranchLevel.GRASSROOTS, "LZDH", GrassrootsKind.SCHOOL),
    DemoBranch("DHCH", "东湖区春晖社区红十字会", BranchLevel.GRASSROOTS, "LZDH", GrassrootsKind.COMMUNITY),
    DemoBranch("XJDL", "澜州电力有限公司红十字会", BranchLevel.GRASSROOTS, "LZXJ", GrassrootsKind.ENTERPRISE),
    DemoBranch("LXQS", "临溪县青石镇红十字会", BranchLevel.GRASSROOTS, "LZLX", GrassrootsKind.TOWNSHIP),
    DemoBranch("LZYY", "澜州市第一人民医院红十字会", BranchLevel.GRASSROOTS, CITY_CODE, GrassrootsKind.HOSPITAL),
)

CITY_FACTS = {
    "short_name": "澜州红会",
    "email": "info@lanzhou-redcross.example.org",
    "unified_social_credit_code": "51330100MJ00000014",
    "public_fundraising_certificate": "澜民公募〔2020〕001 号",
    "bank_account_name": "澜州市红十字会",
    "bank_name": "澜州银行明德路支行",
    "bank_account_number": "6230 0100 0000 8888 001",
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    last_name: str
    first_name: str
    branch: str
    title: str
    roles: tuple[str, ...] = ()
    superuser: bool = False


CITY_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "管", "理员", CITY_CODE, "系统管理员", superuser=True),
    DemoUser("clerk", "林", "晓雨", CITY_CODE, "捐赠登记", ("donation_clerk",)),
    DemoUser("reviewer", "周", "明远", CITY_CODE, "财务复核", ("finance_reviewer",)),
    DemoUser("keeper1", "陈", "立新", CITY_CODE, "仓库管理员", ("warehouse_keeper",)),
    DemoUser("keeper2", "吴", "海波", CITY_CODE, "仓库管理员", ("warehouse_keeper",)),
    DemoUser("officer", "郑", "佳怡", CITY_CODE, "项目专员", ("relief_officer", "training_officer")),
    DemoUser("leader", "高", "振华", CITY_CODE, "常务副会长", ("leadership",)),
    DemoUser("supervisor", "何", "静", CITY_CODE, "监事长", ("supervisors",)),
)


@dataclass(frozen=True)
class DemoDistrict:
    """A county branch's three demo accounts: its full-time officer (专职, the login README names)
    registers; ``-fh`` (财务复核, also the second keeper) and ``-bg`` (保管员) give the second
    signatures, so a district works under 双人双签 without the city's staff."""

    branch: str
    login: str
    staff: tuple[tuple[str, str], tuple[str, str], tuple[str, str]]  # (surname, given name) of 专职, -fh, -bg


DISTRICTS: tuple[DemoDistrict, ...] = (
    DemoDistrict("LZDH", "donghu", (("孙", "雅琴"), ("钱", "书航"), ("蒋", "立群"))),
    DemoDistrict("LZXJ", "xijiang", (("冯", "子轩"), ("韩", "沐阳"), ("杨", "晓岚"))),
    DemoDistrict("LZNS", "nanshan", (("朱", "予安"), ("秦", "若溪"), ("尤", "建业"))),
    DemoDistrict("LZBT", "beitang", (("许", "清禾"), ("何", "亦舟"), ("吕", "春燕"))),
    DemoDistrict("LZLX", "linxi", (("施", "明朗"), ("张", "沁怡"), ("孔", "德胜"))),
    DemoDistrict("LZBS", "baishi", (("曹", "以宁"), ("严", "知远"), ("华", "秀兰"))),
)


def district_users(district: DemoDistrict) -> tuple[DemoUser, DemoUser, DemoUser]:
    """The district's 专职, 复核 and 保管 accounts (usernames ``<login>``, ``<login>-fh``, ``<login>-bg``)."""
    short = next(b.name for b in BRANCHES if b.code == district.branch).removeprefix("澜州市").removesuffix("红十字会")
    officer, reviewer, keeper = district.staff
    return (
        DemoUser(district.login, *officer, district.branch, f"{short}红十字会专职", ("district_staff",)),
        DemoUser(
            f"{district.login}-fh",
            *reviewer,
            district.branch,
            f"{short}红十字会财务复核",
            ("district_staff", "finance_reviewer", "warehouse_keeper"),
        ),
        DemoUser(
            f"{district.login}-bg",
            *keeper,
            district.branch,
            f"{short}红十字会仓库管理员",
            ("district_staff", "warehouse_keeper"),
        ),
    )


DISTRICT_USERS: tuple[DemoUser, ...] = tuple(user for district in DISTRICTS for user in district_users(district))
USERS = CITY_USERS + DISTRICT_USERS


def feature_seeders():
    """Each domain app may ship ``<app>/demo.py`` with ``seed(stdout)``; run them in app order."""
    for app in DOMAIN_APPS[1:]:
        if importlib.util.find_spec(f"{app}.demo") is not None:
            yield importlib.import_module(f"{app}.demo").seed


class Command(BaseCommand):
    help = "Load invented demo data (idempotent). Demo staff accounts only when DEBUG is on, or with --with-users."

    def add_arguments(self, parser):
        parser.add_argument("--with-users", action="store_true", help="create demo staff accounts even with DEBUG off")
        parser.add_argument("--no-users", action="store_true", help="do not create demo staff accounts")

    def handle(self, *args, **options):
        create_users = (settings.DEBUG or options["with_users"]) and not options["no_users"]
        with transaction.atomic(), audit_context(reason="seed_demo"):
            branches = self._seed_branches()
            users = self._seed_users(branches) if create_users else []
            for seed in feature_seeders():
                seed(self.stdout)
        self.stdout.write(f"branches: {len(branches)}; staff accounts: {len(users)}")
        if users:
            self.stdout.write(self.style.SUCCESS(f"demo logins (password for all: {DEMO_PASSWORD}):"))
            for demo in CITY_USERS:
                self.stdout.write(f"  {demo.username:<11} {demo.title}")
            for district in DISTRICTS:
                officer, reviewer, keeper = district_users(district)
                seconds = f"{reviewer.username} 财务复核, {keeper.username} 仓库管理员"
                self.stdout.write(f"  {officer.username:<11} {officer.title}; {seconds}")

    def _seed_branches(self) -> dict[str, Branch]:
        branches: dict[str, Branch] = {}
        for demo in BRANCHES:
            defaults = {
                "name": demo.name,
                "level": demo.level,
                "grassroots_kind": demo.kind,
                "parent": branches[demo.parent] if demo.parent else None,
                "address": demo.address,
                "phone": demo.phone,
                **(CITY_FACTS if demo.code == CITY_CODE else {}),
            }
            branch = Branch.objects.filter(code=demo.code).first()
            if branch is None:
                branch = Branch(code=demo.code, **defaults)
            else:
                changed = {k: v for k, v in defaults.items() if getattr(branch, k) != v}
                if not changed:
                    branches[demo.code] = branch
                    continue
                for key, value in changed.items():
                    setattr(branch, key, value)
            branch.full_clean()
            branch.save()
            branches[demo.code] = branch
        return branches

    def _seed_users(self, branches: dict[str, Branch]) -> list[User]:
        users = []
        # hashed once: 20-odd accounts each hashing the same password would add seconds to `make run`
        password = None
        for demo in USERS:
            user = User.objects.filter(username=demo.username).first()
            if user is None:
                user = User(username=demo.username)
                password = password or make_password(DEMO_PASSWORD)
                user.password = password
            fields = {
                "last_name": demo.last_name,
                "first_name": demo.first_name,
                "branch": branches[demo.branch],
                "title": demo.title,
                "is_staff": True,
                "is_superuser": demo.superuser,
            }
            if user.pk is None or any(getattr(user, k) != v for k, v in fields.items()):
                for key, value in fields.items():
                    setattr(user, key, value)
                user.save()
            groups = [Group.objects.get(name=role_group_name(role)) for role in demo.roles]
            if set(user.groups.all()) != set(groups):
                user.groups.set(groups)
            users.append(user)
        return users
