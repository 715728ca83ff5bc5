"""Volume seeding: a realistic surge of donations for benchmarks (``manage.py seed_donations``).

Real branches took tens of thousands of gifts within weeks in early 2020: a surge a few days
after the emergency began, then a long decay. ``seed_donations`` reproduces that shape in one
campaign so that later features (allocating against 100k donations, an honor roll of a million
on PostgreSQL, monthly reports) can be measured on believable data:

- daily volumes follow a gamma curve peaking ~6 days after ``start`` plus a small floor, hours
  weighted to daytime and evening, in Asia/Shanghai; nothing is received in the future;
- gifts come 70% from persons (masked; ~5% with recorded consent to their full name), 20% from
  organisations (valid 统一社会信用代码), 10% from anonymous donors (爱心人士); donors give
  repeatedly (a pool of about a third as many persons as gifts, a few regulars give often);
- 85% cash (WeChat Pay ~45%, Alipay ~20%, bank ~25%, on site ~10%, each electronic payment
  with a unique transaction id; persons mostly 10-2,000 yuan with round sums, organisations
  1,000-1,000,000), 15% goods with 1-3 item lines and a mix of value bases (~10% without
  evidence of value, so without unit value); ~3% directed to an invented recipient;
- ``confirmed_share`` confirmed by a second seed account (双人双签), the rest waiting.

Everything is invented. Names are random surname + given-name characters; organisations are
named after the branch's city with random trade names. Phone numbers are ``140`` + 8 digits: 140
is a segment of 13-digit IoT numbers, so no 11-digit 140 number reaches a person (the project's
validator accepts them: donors can be looked up by their last four digits). Credit codes use
the region ``990100``: province 99 does not exist, so no seeded code is a real organisation's;
their organisation-code and final check characters are computed (GB 11714, GB 32100), so they
validate like real ones.

Top-up semantics: the campaign is brought to at least ``count`` donations. A second run with the
same count adds nothing, a larger count adds the difference (with serials continuing gaplessly).
Runs are reproducible: a ``random.Random`` seeded from ``seed`` (and the campaign's current size,
so a top-up does not repeat the first run) draws every value.

What is deliberately left out:

- No history rows (django-simple-history) for donors, donations and item lines. This is a
  benchmark fixture, not staff work: there is no change by a person to audit, and writing a
  history row per row would double the volume and the time. The few rows created through
  ``save()`` (seed accounts, the campaign, recipients, a city branch if missing) keep theirs.
- No certificates (电子捐赠证书) and no receipts (捐赠票据): they are documents issued to donors
  with PDFs rendered by the worker; benchmarks of those features create their own. The public
  donation page works without them. Seeded donors do not ask for a receipt, so the nightly
  receipt task does not start issuing hundreds of thousands of them; a receipt benchmark can
  flip ``wants_receipt`` with one UPDATE.
- No stock movements for goods and no allocations: later features and their benchmarks own them
  (confirmed goods count as awaiting their check in the campaign's books). What the books do need
  is kept: the pool of allocatable cash (``OpenCash``, which ``donation_confirm`` maintains) is
  rebuilt for the campaign by ``cash_pool_rebuild`` in the last batch's transaction, and the kept
  public figures (``CampaignDayFigures``) are added to once per batch, as a batch import does.

Rows are written with ``bulk_create`` in batches (``BATCH_SIZE``), each batch in its own
transaction with its serial numbers taken as one block per year under the sequence's lock
(``sequence_next_block``), in ``received_at`` order. A gift's ``registered_at`` is the time it was
received and a donor's ``created_at`` the time of their first gift (inserted as given, see
``_AsGiven``), not the time of seeding.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from stdnum.cn import uscc

from donations.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Channel,
    Donation,
    DonationItem,
    DonationKind,
    DonationStatus,
    Donor,
    DonorKind,
    PublicDisplay,
    Recipient,
    ValueBasis,
)
from donations.services.allocations import cash_pool_rebuild
from donations.services.figures import keep_figures
from redcross.audit import audit_context
from redcross.models import Branch, BranchLevel, User
from redcross.numbering import format_serial, sequence_next_block
from redcross.roles import role_group_name
from redcross.selectors import city_branch

__all__ = ["BATCH_SIZE", "MAX_SEED_COUNT", "SeedReport", "seed_campaign_slug", "seed_donations"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
BATCH_SIZE = 5000
MAX_SEED_COUNT = 5_000_000
CLERK_USERNAME = "seed-clerk"
REVIEWER_USERNAME = "seed-reviewer"
SEED_NOTE = "基准测试数据（seed_donations 生成，虚构）"
CAMPAIGN_NAME = "新冠肺炎疫情防控专项募捐"
MINIMAL_CITY = {"name": "澜州市红十字会", "code": "LZ"}

# shares of gifts
PERSON_SHARE, ORGANISATION_SHARE = 0.70, 0.20  # the rest (10%) anonymous
IN_KIND_SHARE = {"person": 0.10, "organisation": 0.35, "anonymous": 0.12}  # ~15% overall
DIRECTED_SHARE = 0.03
FULL_NAME_SHARE = 0.05
# cash channels: organisations pay by bank transfer; persons' weights are chosen so that the overall
# mix is WeChat Pay ~45%, Alipay ~20%, bank ~25%, on site ~10%
_CHANNELS = (Channel.WECHAT, Channel.ALIPAY, Channel.BANK, Channel.ON_SITE)
_PERSON_CHANNEL_WEIGHTS = (52.2, 22.7, 14.2, 10.9)
_ORGANISATION_CHANNEL_WEIGHTS = (5, 5, 85, 5)

# a day's volume: gamma(shape, scale) days after start, peak at (shape - 1) * scale, plus a floor
_SURGE_SHAPE, _SURGE_SCALE, _SURGE_FLOOR = 2.5, 4.0, 0.03
_SURGE_PEAK = ((_SURGE_SHAPE - 1) * _SURGE_SCALE) ** (_SURGE_SHAPE - 1) * math.exp(-(_SURGE_SHAPE - 1))
# hours of the day (Asia/Shanghai): quiet at night, busy mornings and afternoons, an evening peak
_HOUR_WEIGHTS = (
    0.5, 0.3, 0.2, 0.15, 0.15, 0.25, 0.6, 1.2, 2.4, 3.6, 4.2, 4.0,
    3.0, 3.0, 3.8, 4.0, 3.8, 3.4, 3.0, 3.6, 4.4, 4.2, 3.0, 1.5,
)  # fmt: skip

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫")
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力鹏宇浩然子涵梓萱一诺欣怡思远雨桐佳琪"
    "嘉怡晓梅俊杰志强海燕春雷秋菊冬梅国庆新民德胜家豪婉婷诗琪若曦天佑博文昊天睿泽瑾瑜晨阳梦瑶语嫣亦凡安琪"
)
_TRADE = "华信泰恒瑞德明远宏达嘉诚鑫源盛安康和丰君卓星辰润博益兴智汇通禾峰锦云启航正元中天宇联创新合永昌"
_INDUSTRIES = (
    "科技", "电子科技", "信息技术", "商贸", "食品", "医药", "医疗器械", "建设工程", "物流", "房地产开发",
    "餐饮管理", "纺织", "机械制造", "新材料", "文化传媒", "农业开发", "汽车销售", "环保科技", "电力设备", "网络科技",
)  # fmt: skip
_COMPANY_FORMS = (("有限公司", 70), ("股份有限公司", 15), ("集团有限公司", 10), ("有限责任公司", 5))
_ASSOCIATIONS = ("商会", "行业协会", "企业家联合会", "慈善义工协会", "校友会")
_CONSENT_TEXT = "捐赠人在捐赠留言中同意在捐赠公示和爱心榜单中公开全名，登记员电话核实后记录"

_PERSON_ROUND_SUMS = (
    (10, 6), (20, 8), (30, 3), (50, 16), (66, 2), (88, 2), (100, 22), (168, 1), (200, 12), (300, 4),
    (500, 10), (666, 1), (800, 1), (888, 1), (1000, 7), (2000, 3), (5000, 1), (10000, 0.5),
)  # fmt: skip

# name, specification, unit, unit value (yuan), person quantity range, organisation quantity range,
# shelf life in days (None: no expiry date), quantities with three decimals (weighed goods)
_GOODS = (
    ("医用外科口罩", "一次性使用 50只/盒", "只", 0.80, (50, 2000), (5000, 200000), 730, False),
    ("KN95口罩", "独立包装", "只", 3.50, (20, 1000), (2000, 100000), 730, False),
    ("N95医用防护口罩", "1860型", "只", 12.00, (10, 200), (500, 20000), 1095, False),
    ("医用防护服", "GB 19082-2009 L号", "套", 105.00, (2, 50), (100, 5000), 1095, False),
    ("一次性隔离衣", "均码", "件", 18.00, (10, 200), (200, 10000), 1095, False),
    ("医用护目镜", "防雾", "副", 25.00, (5, 100), (100, 5000), None, False),
    ("医用乳胶手套", "M号 100只/盒", "盒", 35.00, (2, 50), (50, 2000), 1095, False),
    ("84消毒液", "5L/桶", "桶", 38.00, (2, 50), (50, 2000), 365, False),
    ("75%医用酒精", "500ml/瓶", "瓶", 12.50, (10, 200), (200, 10000), 730, False),
    ("免洗手消毒凝胶", "500ml/瓶", "瓶", 22.00, (5, 100), (100, 5000), 730, False),
    ("红外额温枪", "非接触式", "把", 198.00, (1, 10), (10, 500), None, False),
    ("方便面", "24包/箱", "箱", 45.00, (2, 50), (50, 3000), 180, False),
    ("矿泉水", "550ml×24瓶/箱", "箱", 28.00, (5, 100), (100, 5000), 365, False),
    ("纯牛奶", "250ml×24盒/箱", "箱", 65.00, (2, 50), (50, 2000), 180, False),
    ("新鲜蔬菜", "混装", "千克", 4.50, (20, 500), (500, 20000), 7, True),
    ("大米", "25kg/袋", "袋", 95.00, (1, 20), (20, 1000), 365, False),
    ("食用油", "5L/桶", "桶", 68.00, (1, 20), (20, 1000), 540, False),
)  # fmt: skip
_ITEM_LINE_WEIGHTS = (60, 28, 12)  # 1, 2 or 3 lines
_VALUE_BASES = (ValueBasis.INVOICE, ValueBasis.DONOR_QUOTE, ValueBasis.MARKET_PRICE, ValueBasis.NONE)
_VALUE_BASIS_WEIGHTS = (35, 30, 25, 10)

# (name pattern, kind); {place} is the branch's city
_RECIPIENTS = (
    ("{place}第一人民医院", Recipient.Kind.HOSPITAL),
    ("{place}中心医院", Recipient.Kind.HOSPITAL),
    ("{place}传染病医院", Recipient.Kind.HOSPITAL),
    ("{place}疾病预防控制中心", Recipient.Kind.CDC),
    ("{place}公安局", Recipient.Kind.POLICE),
    ("{place}交通警察支队", Recipient.Kind.TRAFFIC_POLICE),
    ("{place}春晖社区居委会", Recipient.Kind.COMMUNITY),
    ("{place}儿童福利院", Recipient.Kind.WELFARE_HOME),
)
_WISHES = {
    Recipient.Kind.HOSPITAL: "定向捐赠{name}，用于一线医护人员防护",
    Recipient.Kind.CDC: "定向捐赠{name}，用于疫情监测和流调人员防护",
    Recipient.Kind.POLICE: "定向捐赠{name}，慰问防疫一线民警",
    Recipient.Kind.TRAFFIC_POLICE: "定向捐赠{name}，用于卡口执勤人员防护",
    Recipient.Kind.COMMUNITY: "定向捐赠{name}，用于社区防控和困难居民生活保障",
    Recipient.Kind.WELFARE_HOME: "定向捐赠{name}，用于院内儿童防护和生活物资",
}

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z
_USCC_REGION = "990100"  # province 99 does not exist: never a real organisation's code
_CODE_SPACE = 31**6
_PHONE_PREFIX = "140"  # 13-digit IoT segment: no 11-digit 140 number reaches a person

_CASH, _IN_KIND = DonationKind.CASH, DonationKind.IN_KIND
_PERSON, _ORGANISATION, _ANONYMOUS = "person", "organisation", "anonymous"


class _Out(Protocol):
    def write(self, text: str, /) -> Any: ...


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What a run added; ``elapsed`` in seconds. ``total`` is the campaign's size afterwards."""

    donations: int
    donors: int
    items: int
    elapsed: float
    campaign: str = ""
    total: int = 0

    @property
    def rate(self) -> float:
        """Donations written per second."""
        return self.donations / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self) -> str:
        return (
            f"seeded: {self.donations} donations, {self.donors} donors, {self.items} items in {self.elapsed:.1f} s "
            f"({self.rate:.0f} donations/s); campaign {self.campaign} now has {self.total} donations"
        )


def seed_campaign_slug(branch: Branch) -> str:
    """The default campaign's short name for ``branch``: ``seed-covid-2020-lz``."""
    return f"seed-covid-2020-{branch.code.lower()}"


def seed_donations(
    *,
    count: int,
    branch: Branch | None = None,
    campaign: Campaign | None = None,
    start: date = date(2020, 1, 24),
    days: int = 60,
    seed: int = 2020,
    confirmed_share: float = 0.97,
    stdout: _Out | None = None,
) -> SeedReport:
    """Bring ``campaign`` to at least ``count`` donations received from ``start`` over ``days`` days.

    Defaults: the city branch (a minimal invented one is created when the portal has none) and
    its special emergency campaign 新冠肺炎疫情防控专项募捐, created when missing. When only a
    campaign is given, its branch receives the gifts. Raises ``ValidationError`` naming the
    argument for a bad count, window, share or branch/campaign pair. With ``stdout`` a progress
    line is written after every batch.
    """
    began = time.perf_counter()
    if not isinstance(count, int) or count < 1 or count > MAX_SEED_COUNT:
        raise ValidationError({"count": [f"count must be between 1 and {MAX_SEED_COUNT}"]})
    if days < 1:
        raise ValidationError({"days": ["days must be at least 1"]})
    if not 0 <= confirmed_share <= 1:
        raise ValidationError({"confirmed_share": ["confirmed_share must be between 0 and 1"]})
    now = timezone.now()
    window_start = datetime(start.year, start.month, start.day, tzinfo=SHANGHAI)
    if window_start >= now:
        raise ValidationError({"start": ["start must be in the past"]})

    if campaign is not None:  # checked before anything is written
        campaign = Campaign.objects.select_related("branch").get(pk=campaign.pk)
        branch = branch or campaign.branch
        if not branch.is_within(campaign.branch):
            raise ValidationError(
                {"campaign": [f"campaign {campaign.slug} belongs to neither {branch.code} nor a branch above it"]}
            )
    branch = branch or _city_branch()
    clerk, reviewer = _seed_accounts(branch)
    if campaign is None:
        campaign = _default_campaign(branch, start, clerk)
    if campaign.status != CampaignStatus.OPEN:  # paused, closed or folded: takes no new gifts
        raise ValidationError({"campaign": [f"campaign {campaign.slug} is {campaign.status}, not open"]})

    existing = Donation.objects.filter(campaign=campaign).count()
    missing = count - existing
    if missing <= 0:
        report = SeedReport(0, 0, 0, time.perf_counter() - began, campaign.slug, existing)
        _write(stdout, f"seed_donations: campaign {campaign.slug} already has {existing} donations")
        return report

    rng = random.Random(seed if existing == 0 else seed * 1_000_003 + existing)  # noqa: S311  (not security)
    plan = _Plan(
        rng=rng,
        branch=branch,
        campaign=campaign,
        clerk=clerk,
        reviewer=reviewer,
        recipients=_recipients(branch, clerk),
        confirmed_share=confirmed_share,
        now=now,
        missing=missing,
    )
    _write(stdout, f"seed_donations: adding {missing} donations to campaign {campaign.slug} ({existing} before)")
    times = _received_times(rng, missing, window_start, days, now)
    donations = donors = items = 0
    for first in range(0, missing, BATCH_SIZE):
        batch = [plan.gift(ts) for ts in times[first : first + BATCH_SIZE]]
        added_donors, added_items = _write_batch(plan, batch, last=first + BATCH_SIZE >= missing)
        donations += len(batch)
        donors += added_donors
        items += added_items
        _write(
            stdout,
            f"seed_donations: {donations}/{missing} donations, {donors} donors, {items} items, "
            f"{time.perf_counter() - began:.1f} s",
        )
    elapsed = time.perf_counter() - began
    return SeedReport(donations, donors, items, elapsed, campaign.slug, existing + donations)


# --- set-up -----------------------------------------------------------------------------------


def _write(stdout: _Out | None, line: str) -> None:
    if stdout is not None:
        stdout.write(line + "\n")
        if hasattr(stdout, "flush"):
            stdout.flush()


def _city_branch() -> Branch:
    city = city_branch()
    if city is None:
        with audit_context(reason="seed_donations"):
            city = Branch.objects.create(level=BranchLevel.CITY, **MINIMAL_CITY)
    return city


def _seed_accounts(branch: Branch) -> tuple[User, User]:
    """seed-clerk registers, seed-reviewer confirms: two people, as 双人双签 wants. No password."""
    home = city_branch() or branch
    accounts = []
    for username, first_name, role in (
        (CLERK_USERNAME, "登记员", "donation_clerk"),
        (REVIEWER_USERNAME, "复核员", "finance_reviewer"),
    ):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, last_name="基准", first_name=first_name, is_staff=True, branch=home)
            user.set_unusable_password()
            with audit_context(reason="seed_donations"):
                user.save()
            group = Group.objects.filter(name=role_group_name(role)).first()
            if group is not None:
                user.groups.add(group)
        accounts.append(user)
    return accounts[0], accounts[1]


def _place(branch: Branch) -> str:
    """澜州市红十字会 -> 澜州市"""
    return branch.name.removesuffix("红十字会") or branch.name


def _default_campaign(branch: Branch, start: date, clerk: User) -> Campaign:
    # no service creates special campaigns (staff use the admin); demo.py creates its own the same way
    slug = seed_campaign_slug(branch)
    campaign = Campaign.objects.filter(slug=slug).first()
    if campaign is None:
        with audit_context(user=clerk, reason="seed_donations"):
            campaign, _ = Campaign.objects.get_or_create(
                slug=slug,
                defaults={
                    "branch": branch,
                    "kind": CampaignKind.SPECIAL,
                    "name": CAMPAIGN_NAME,
                    "filing_number": f"{branch.name[0]}民募备〔{start.year}〕0124号",
                    "purpose": "用于新冠肺炎疫情防控：医用防护物资采购、一线医护人员和防控人员防护、困难群众生活救助"
                    "（基准测试数据，虚构）",
                    "starts_on": start,
                    "is_emergency": True,
                },
            )
    return campaign


def _recipients(branch: Branch, clerk: User) -> list[Recipient]:
    place = _place(branch)
    names = {pattern.format(place=place): kind for pattern, kind in _RECIPIENTS}
    found = {r.name: r for r in Recipient.objects.filter(branch=branch, name__in=names)}
    with audit_context(user=clerk, reason="seed_donations"):
        for name, kind in names.items():
            if name not in found:
                found[name] = Recipient.objects.create(branch=branch, name=name, kind=kind)
    return sorted((r for r in found.values() if r.is_active), key=lambda r: r.name)


# --- when gifts arrive ------------------------------------------------------------------------


def _received_times(rng: random.Random, n: int, window_start: datetime, days: int, now: datetime) -> list[int]:
    """``n`` sorted epoch seconds: a surge after ``window_start``, daytime and evening hours, none after ``now``."""
    base = int(window_start.timestamp())
    now_ts = int(now.timestamp()) - 1
    slots = min(days * 24, (now_ts - base) // 3600 + 1)
    cum_weights, total = [], 0.0
    for slot in range(slots):
        day = slot // 24 + 0.5
        density = day ** (_SURGE_SHAPE - 1) * math.exp(-day / _SURGE_SCALE)
        total += (density + _SURGE_FLOOR * _SURGE_PEAK) * _HOUR_WEIGHTS[slot % 24]
        cum_weights.append(total)
    chosen = rng.choices(range(slots), cum_weights=cum_weights, k=n)
    times = []
    for slot in chosen:
        ts = base + slot * 3600 + rng.randrange(3600)
        if ts > now_ts:  # the hour that is running now
            ts = base + slot * 3600 + rng.randrange(max(1, now_ts - base - slot * 3600 + 1))
        times.append(ts)
    times.sort()
    return times


# --- what each gift is ------------------------------------------------------------------------


@dataclass(slots=True)
class _Gift:
    received_at: datetime
    donor_key: tuple[str, int]
    kind: str
    channel: str
    amount: Decimal | None
    items: list[DonationItem]
    recipient: Recipient | None
    wish: str
    confirmed_at: datetime | None


@dataclass(slots=True)
class _NewDonor:
    donor: Donor
    first_gift: datetime


@dataclass
class _Plan:
    rng: random.Random
    branch: Branch
    campaign: Campaign
    clerk: User
    reviewer: User
    recipients: list[Recipient]
    confirmed_share: float
    now: datetime
    missing: int
    donor_pks: dict[tuple[str, int], int] = field(default_factory=dict)
    pending_donors: dict[tuple[str, int], _NewDonor] = field(default_factory=dict)
    taken_codes: set[str] = field(default_factory=set)
    phones: int = 0  # counters of phone numbers and credit codes handed out, earlier runs included
    codes: int = 0
    city: str = ""
    place: str = ""

    def __post_init__(self) -> None:
        n = self.missing
        self.persons = max(1, n // 3)
        self.regulars = max(1, self.persons // 10)
        self.organisations = max(1, n // 20)
        self.anonymous = max(1, n // 12)
        # phone numbers and credit codes go on from earlier runs, so they stay unique
        seeded = Donor.objects.filter(created_by=self.clerk)
        self.phones = seeded.filter(phone__startswith=_PHONE_PREFIX).count()
        self.taken_codes = set(
            Donor.objects.filter(
                Q(credit_code__startswith="91" + _USCC_REGION) | Q(credit_code__startswith="51" + _USCC_REGION)
            ).values_list("credit_code", flat=True)
        )
        self.codes = len(self.taken_codes)
        self.city = _place(self.branch)  # 澜州市
        self.place = self.city.removesuffix("市") if len(self.city) > 2 else self.city  # 澜州
        self.person_channels = _cum(_PERSON_CHANNEL_WEIGHTS)
        self.organisation_channels = _cum(_ORGANISATION_CHANNEL_WEIGHTS)
        self.round_sums = [value for value, _ in _PERSON_ROUND_SUMS]
        self.round_sum_weights = _cum([weight for _, weight in _PERSON_ROUND_SUMS])

    # the gift

    def gift(self, ts: int) -> _Gift:
        rng = self.rng
        received = datetime.fromtimestamp(ts, tz=UTC)
        category = self._category()
        key = (category, self._donor_index(category))
        if key not in self.donor_pks and key not in self.pending_donors:
            self.pending_donors[key] = _NewDonor(self._donor(category), received)
        kind = _IN_KIND if rng.random() < IN_KIND_SHARE[category] else _CASH
        items: list[DonationItem] = []
        if kind == _CASH:
            weights = self.organisation_channels if category == _ORGANISATION else self.person_channels
            channel = rng.choices(_CHANNELS, cum_weights=weights)[0]
            amount = self._organisation_amount() if category == _ORGANISATION else self._person_amount()
        else:
            channel = Channel.ON_SITE if rng.random() < 0.85 else Channel.OTHER
            amount = None
            lines = rng.choices((1, 2, 3), weights=_ITEM_LINE_WEIGHTS)[0]
            for goods in rng.sample(_GOODS, lines):
                items.append(self._item(goods, category == _ORGANISATION, received))
        recipient, wish = None, ""
        if self.recipients and rng.random() < DIRECTED_SHARE:
            recipient = rng.choice(self.recipients)
            wish = _WISHES.get(recipient.kind, "定向捐赠{name}").format(name=recipient.name)
        confirmed_at = None
        if rng.random() < self.confirmed_share:
            # the second signature comes minutes to days later (median ~3 hours), never in the future
            delay = min(max(rng.lognormvariate(math.log(3 * 3600), 1.0), 600), 3 * 86400)
            confirmed_at = min(received + timedelta(seconds=int(delay)), self.now)
            if confirmed_at <= received:
                confirmed_at = None
        return _Gift(received, key, kind, channel, amount, items, recipient, wish, confirmed_at)

    def _category(self) -> str:
        r = self.rng.random()
        if r < PERSON_SHARE:
            return _PERSON
        return _ORGANISATION if r < PERSON_SHARE + ORGANISATION_SHARE else _ANONYMOUS

    def _donor_index(self, category: str) -> int:
        rng = self.rng
        if category == _PERSON:
            # a quarter of the gifts come from a tenth of the persons: regular givers
            return rng.randrange(self.regulars) if rng.random() < 0.25 else rng.randrange(self.persons)
        return rng.randrange(self.organisations if category == _ORGANISATION else self.anonymous)

    # donors

    def _person_name(self) -> str:
        rng = self.rng
        surname = rng.choice(_COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(_SURNAMES)
        given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
        return surname + given

    def _phone(self) -> str:
        self.phones += 1  # a permutation of 0..10^8-1: unique, not sequential
        return f"{_PHONE_PREFIX}{(self.phones * 48271 + 9973) % 10**8:08d}"

    def _credit_code(self, prefix: str) -> str:
        while True:
            self.codes += 1
            n = (self.codes * 7_654_321 + 12_345) % _CODE_SPACE  # a permutation: 31 does not divide 7654321
            body = "MA"
            for _ in range(6):
                n, digit = divmod(n, 31)
                body += _USCC_ALPHABET[digit]
            code = invented_credit_code(prefix, body)
            if code not in self.taken_codes:
                self.taken_codes.add(code)
                return code

    def _donor(self, category: str) -> Donor:
        rng = self.rng
        fields: dict[str, Any] = {
            "branch_id": self.branch.pk,
            "created_by_id": self.clerk.pk,
            "note": SEED_NOTE,
            "wants_receipt": False,
        }
        if category == _ORGANISATION:
            if rng.random() < 0.9:
                form = rng.choices([f for f, _ in _COMPANY_FORMS], weights=[w for _, w in _COMPANY_FORMS])[0]
                name = self.place + rng.choice(_TRADE) + rng.choice(_TRADE) + rng.choice(_INDUSTRIES) + form
                prefix = "91"
            else:
                name = f"{self.city}{rng.choice(_INDUSTRIES)}{rng.choice(_ASSOCIATIONS)}"
                prefix = "51"
            return Donor(
                kind=DonorKind.ORGANISATION,
                name=name,
                credit_code=self._credit_code(prefix),
                contact_person=self._person_name(),
                phone=self._phone() if rng.random() < 0.7 else "",
                public_display=PublicDisplay.FULL,
                **fields,
            )
        name = self._person_name()
        phone = self._phone() if rng.random() < (0.65 if category == _PERSON else 0.3) else ""
        display = PublicDisplay.ANONYMOUS if category == _ANONYMOUS else PublicDisplay.MASKED
        consent = category == _PERSON and rng.random() < FULL_NAME_SHARE
        return Donor(
            kind=DonorKind.PERSON,
            name=name,
            phone=phone,
            public_display=PublicDisplay.FULL if consent else display,
            full_name_consent_text=_CONSENT_TEXT if consent else "",
            **fields,
        )

    # money and goods

    def _person_amount(self) -> Decimal:
        rng = self.rng
        r = rng.random()
        if r < 0.01:  # the heavy tail: a few persons give thousands
            cents = round(2000 * min(rng.paretovariate(1.5), 50)) * 10000
        elif r < 0.61:  # round sums are the commonest: 50, 100, 200, 500 ...
            cents = rng.choices(self.round_sums, cum_weights=self.round_sum_weights)[0] * 100
        else:
            yuan = min(max(rng.lognormvariate(math.log(80), 1.0), 1.0), 20000.0)
            cents = round(yuan) * 100 if rng.random() < 0.5 else round(yuan * 100)
        return Decimal(max(cents, 1)).scaleb(-2)

    def _organisation_amount(self) -> Decimal:
        yuan = min(max(self.rng.lognormvariate(math.log(20000), 1.3), 1000.0), 1_000_000.0)
        step = 100 if yuan < 10_000 else 1000 if yuan < 100_000 else 10_000
        return Decimal(max(round(yuan / step) * step, 1000) * 100).scaleb(-2)

    def _item(self, goods: tuple, organisation: bool, received: datetime) -> DonationItem:
        rng = self.rng
        name, spec, unit, price, person_range, org_range, shelf_life, weighed = goods
        low, high = org_range if organisation else person_range
        quantity = math.exp(rng.uniform(math.log(low), math.log(high)))
        if weighed:
            amount = Decimal(round(quantity * 1000)).scaleb(-3)
        else:
            digits = max(len(str(int(quantity))) - 2, 0)  # two significant digits: 1200, 35, 7
            amount = Decimal(max(round(quantity, -digits), 1))
        basis = rng.choices(_VALUE_BASES, weights=_VALUE_BASIS_WEIGHTS)[0]
        unit_value = None
        if basis != ValueBasis.NONE:
            unit_value = Decimal(max(round(price * rng.uniform(0.85, 1.25) * 100), 1)).scaleb(-2)
        expiry = None
        if shelf_life is not None:
            expiry = (received + timedelta(days=rng.randint(shelf_life // 2, shelf_life))).astimezone(SHANGHAI).date()
        return DonationItem(
            name=name,
            specification=spec,
            quantity=amount,
            unit=unit,
            unit_value=unit_value,
            value_basis=basis,
            expiry_date=expiry,
        )


def _cum(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def invented_credit_code(prefix: str, body: str) -> str:
    """A 统一社会信用代码 in the region no province has (``990100``) that validates like a real one:
    ``prefix`` (registering authority and kind, e.g. ``91`` for a company), the 8-character
    organisation code ``body`` with its check character, and the final check character."""
    code = prefix + _USCC_REGION + body + _org_code_check(body)
    return code + uscc.calc_check_digit(code)


def _org_code_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code."""
    value = sum(int(ch, 36) * w for ch, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - value % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


# --- writing ----------------------------------------------------------------------------------


_TRANSACTION_IDS: dict[str, Callable[[str, datetime, int], str]] = {
    # letters in the id keep it apart from real statement ids (all digits for WeChat Pay and Alipay)
    Channel.WECHAT: lambda code, local, number: f"4200{local:%Y%m%d}{code}{number:09d}",
    Channel.ALIPAY: lambda code, local, number: f"{local:%Y%m%d}2200{code}{number:09d}",
    Channel.BANK: lambda code, local, number: f"{code}{local:%Y%m%d}B{number:09d}",
}


class _AsGiven(QuerySet):
    """``bulk_create`` writing every value as given, as ``loaddata`` does (a raw insert).

    ``auto_now_add`` would stamp the seeding time as registration time on gifts received in
    2020; setting it afterwards by an UPDATE would write every row twice (on PostgreSQL a million
    dead row versions in the table later benchmarks read).
    """

    def _insert(self, *args, **kwargs):
        kwargs["raw"] = True  # skips Field.pre_save(), i.e. auto_now_add
        return super()._insert(*args, **kwargs)


@transaction.atomic
def _write_batch(plan: _Plan, batch: list[_Gift], *, last: bool) -> tuple[int, int]:
    """One batch in one transaction: its new donors, numbers, donations and item lines."""
    new = [(key, plan.pending_donors.pop(key)) for key in list(plan.pending_donors)]
    for _, pending in new:
        pending.donor.created_at = pending.first_gift  # registered with their first gift
        if pending.donor.public_display == PublicDisplay.FULL and pending.donor.kind == DonorKind.PERSON:
            pending.donor.full_name_consent_at = pending.first_gift  # and consented then
    if new:
        _AsGiven(Donor).bulk_create([pending.donor for _, pending in new], batch_size=1000)
        for key, pending in new:
            plan.donor_pks[key] = pending.donor.pk

    code = plan.branch.code
    by_year: dict[int, list[tuple[_Gift, datetime]]] = {}
    for gift in batch:
        local = timezone.localtime(gift.received_at)
        by_year.setdefault(local.year, []).append((gift, local))
    donations: list[Donation] = []
    items: list[tuple[DonationItem, Donation]] = []
    for year, gifts in sorted(by_year.items()):
        first = sequence_next_block(scope=f"donation:{code}:{year}", count=len(gifts))
        for offset, (gift, local) in enumerate(gifts):
            number = first + offset
            make_id = _TRANSACTION_IDS.get(gift.channel)
            donation = Donation(
                serial=format_serial(prefix=code, year=year, number=number),
                branch_id=plan.branch.pk,
                donor_id=plan.donor_pks[gift.donor_key],
                campaign_id=plan.campaign.pk,
                kind=gift.kind,
                channel=gift.channel,
                channel_transaction_id=make_id(code, local, number) if make_id and gift.kind == _CASH else "",
                received_at=gift.received_at,
                amount=gift.amount,
                designated_recipient_id=gift.recipient.pk if gift.recipient else None,
                wish=gift.wish,
                status=DonationStatus.CONFIRMED if gift.confirmed_at else DonationStatus.REGISTERED,
                registered_by_id=plan.clerk.pk,
                registered_at=gift.received_at,  # registered as it came in
                confirmed_by_id=plan.reviewer.pk if gift.confirmed_at else None,
                confirmed_at=gift.confirmed_at,
            )
            donations.append(donation)
            items.extend((item, donation) for item in gift.items)
    _AsGiven(Donation).bulk_create(donations, batch_size=1000)
    for item, donation in items:
        item.donation_id = donation.pk
    DonationItem.objects.bulk_create([item for item, _ in items], batch_size=1000)
    # the public figures follow, once for the batch (as any batch of confirmations)
    with keep_figures() as kept:
        kept.track_new(donations=[donation.pk for donation in donations])
    if last:
        # confirmed undirected cash joins the pool allocations draw from, as donation_confirm does; the
        # campaign's books (and its public page) check that pool. One INSERT ... SELECT for the campaign,
        # in the last batch's transaction: a run cut short leaves a top-up to do, which rebuilds it.
        cash_pool_rebuild(campaign=plan.campaign)
    return len(new), len(items)
