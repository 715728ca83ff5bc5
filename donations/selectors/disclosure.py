"""Reads for the bulletins' public pages and the Charity Law's disclosure deadlines.

Deadlines (DESIGN.md section 4), per campaign, from its published bulletins: those of the
campaign itself, and those of its branch that cover the whole branch.

- emergency (``Campaign.is_emergency``), while it runs: received donations are published at least
  every 5 days (art. 72): due = the last receipt bulletin's period_end + 5 days, or the start +
  5 days if there is none;
- a campaign longer than 6 months (planned: start to end date; or running that long), while it
  runs: at least every 3 months (art. 79): due = the last bulletin's period_end (either kind) +
  3 months, or the start + 3 months;
- an ended campaign (closed, folded back into regular giving, or past its end date): the full
  account within 3 months of its end (art. 79): done once a receipt bulletin, and a usage
  announcement if anything was allocated, reach the end date.

Status: overdue after the due date, due within 2 days of it, ok otherwise.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Max, Q, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from donations.models import (
    Allocation,
    AllocationStatus,
    Bulletin,
    BulletinKind,
    BulletinStatus,
    Campaign,
    CampaignStatus,
)
from redcross.models import Branch
from redcross.pagination import decode_cursor, encode_cursor, keyset_before
from redcross.scoping import within_branch_ids

EMERGENCY_DAYS = 5
LONG_CAMPAIGN_MONTHS = 6
LONG_INTERVAL_MONTHS = 3
FINAL_ACCOUNT_MONTHS = 3
DUE_SOON_DAYS = 2

ARCHIVE_PAGE_SIZE = 20
_CURSOR_SALT = "donations.bulletins.cursor"


class DeadlineStatus:
    OK = "ok"
    DUE = "due"
    OVERDUE = "overdue"

    LABELS = {OK: gettext_lazy("按期"), DUE: gettext_lazy("即将到期"), OVERDUE: gettext_lazy("已逾期")}
    SEVERITY = {OVERDUE: 0, DUE: 1, OK: 2}


RULES = {
    "emergency": gettext_lazy("应急期间接收的捐赠每 5 日至少公开一次（慈善法第七十二条）"),
    "long": gettext_lazy("周期超过六个月的，至少每三个月公开一次（慈善法第七十九条）"),
    "final": gettext_lazy("结束后三个月内全面公开募得款物及使用情况（慈善法第七十九条）"),
}


@dataclass(frozen=True)
class Obligation:
    rule: str
    due: date
    done: bool = False

    @property
    def label(self) -> str:
        return str(RULES[self.rule])


@dataclass
class CampaignDeadline:
    campaign: Campaign
    status: str
    next_due: date | None
    last_published: date | None  # when its latest bulletin was published
    last_period_end: date | None  # how far its published bulletins reach
    ended_on: date | None
    obligations: list[Obligation] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return str(DeadlineStatus.LABELS[self.status])

    @property
    def open_obligations(self) -> list[Obligation]:
        return [o for o in self.obligations if not o.done]

    @property
    def days_left(self) -> int | None:
        return (self.next_due - timezone.localdate()).days if self.next_due else None


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clipped to the month's end (31 August + 3 months = 30 November)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _status(due: date, today: date) -> str:
    if today > due:
        return DeadlineStatus.OVERDUE
    if today >= due - timedelta(days=DUE_SOON_DAYS):
        return DeadlineStatus.DUE
    return DeadlineStatus.OK


def _ended_on(campaign: Campaign, today: date) -> date | None:
    if campaign.ends_on and campaign.ends_on < today:
        return campaign.ends_on
    if campaign.status in (CampaignStatus.CLOSED, CampaignStatus.FOLDED):
        closed = (
            campaign.history.filter(status=campaign.status)
            .order_by("history_date")
            .values_list("history_date", flat=True)
            .first()
        )
        closed_on = timezone.localtime(closed).date() if closed else today
        return min(closed_on, campaign.ends_on) if campaign.ends_on else closed_on
    return None


def campaign_deadlines(
    *, today: date | None = None, campaigns: QuerySet[Campaign] | None = None, branch_ids=None
) -> list[CampaignDeadline]:
    """Every campaign's disclosure deadlines, most urgent first (3 queries, plus one per campaign
    closed without an end date)."""
    today = today or timezone.localdate()
    campaigns = campaigns if campaigns is not None else Campaign.objects.all()
    campaigns = within_branch_ids(campaigns, branch_ids)
    campaigns = list(campaigns.select_related("branch").order_by("id"))
    # latest publication per (campaign or whole branch, kind): one grouped query
    latest: dict[tuple[int | None, int, str], tuple[date, datetime]] = {}
    campaign_ids = [c.pk for c in campaigns]
    branch_set = {c.branch_id for c in campaigns}
    grouped = (
        Bulletin.objects.filter(status=BulletinStatus.PUBLISHED)
        .filter(Q(campaign_id__in=campaign_ids) | Q(campaign__isnull=True, branch_id__in=branch_set))
        .values("campaign_id", "branch_id", "kind")
        .annotate(reach=Max("period_end"), last=Max("published_at"))
    )
    for row in grouped:
        latest[(row["campaign_id"], row["branch_id"], row["kind"])] = (row["reach"], row["last"])
    allocated = set(
        Allocation.objects.filter(campaign_id__in=campaign_ids, status=AllocationStatus.CONFIRMED)
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    results = []
    for campaign in campaigns:
        reach: dict[str, date | None] = {}
        published: list[datetime] = []
        for kind in BulletinKind.values:
            found = [
                value
                for key, value in latest.items()
                if key[2] == kind and (key[0] == campaign.pk or (key[0] is None and key[1] == campaign.branch_id))
            ]
            reach[kind] = max((r for r, _last in found), default=None)
            published += [last for _r, last in found if last]
        last_period_end = max((d for d in reach.values() if d), default=None)
        start = campaign.starts_on or timezone.localtime(campaign.created_at).date()
        ended_on = _ended_on(campaign, today)
        obligations: list[Obligation] = []
        if ended_on is None:
            if campaign.is_emergency:
                base = reach[BulletinKind.RECEIPT] or start
                obligations.append(Obligation("emergency", base + timedelta(days=EMERGENCY_DAYS)))
            planned_end = campaign.ends_on or today
            if add_months(start, LONG_CAMPAIGN_MONTHS) < planned_end:
                obligations.append(Obligation("long", add_months(last_period_end or start, LONG_INTERVAL_MONTHS)))
            if campaign.ends_on:  # shown ahead of time
                obligations.append(Obligation("final", add_months(campaign.ends_on, FINAL_ACCOUNT_MONTHS)))
        else:
            receipts_done = (reach[BulletinKind.RECEIPT] or date.min) >= ended_on
            usage_done = campaign.pk not in allocated or (reach[BulletinKind.USAGE] or date.min) >= ended_on
            obligations.append(
                Obligation("final", add_months(ended_on, FINAL_ACCOUNT_MONTHS), done=receipts_done and usage_done)
            )
        pending = [o for o in obligations if not o.done]
        statuses = [_status(o.due, today) for o in pending if not (o.rule == "final" and ended_on is None)]
        status = min(statuses, key=DeadlineStatus.SEVERITY.get, default=DeadlineStatus.OK)
        results.append(
            CampaignDeadline(
                campaign=campaign,
                status=status,
                next_due=min((o.due for o in pending), default=None),
                last_published=timezone.localtime(max(published)).date() if published else None,
                last_period_end=last_period_end,
                ended_on=ended_on,
                obligations=obligations,
            )
        )
    results.sort(key=lambda d: (DeadlineStatus.SEVERITY[d.status], d.next_due or date.max, d.campaign.pk))
    return results


# --- the public archive -----------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveFilters:
    kind: str = ""
    campaign: Campaign | None = None
    branch: Branch | None = None

    def as_query(self) -> dict[str, str]:
        params = {
            "kind": self.kind,
            "campaign": self.campaign.slug if self.campaign else "",
            "branch": self.branch.code if self.branch else "",
        }
        return {key: value for key, value in params.items() if value}


@dataclass
class ArchivePage:
    bulletins: list[Bulletin]
    next_cursor: str = ""


def _param(params, name: str, max_length: int) -> str:
    """A GET parameter as text the database accepts (PostgreSQL refuses NUL characters)."""
    value = (params.get(name) or "").strip()[:max_length]
    if "\x00" in value:
        raise ValidationError({name: [_("参数含有无效字符")]})
    return value


def archive_filters(params) -> ArchiveFilters:
    kind = _param(params, "kind", 20)
    if kind and kind not in BulletinKind.values:
        raise ValidationError({"kind": [_("类型只能是接收公示或使用公告")]})
    campaign = None
    slug = _param(params, "campaign", 80)
    if slug:
        campaign = Campaign.objects.filter(slug=slug).first()
        if campaign is None:
            raise ValidationError({"campaign": [_("没有这个募捐活动")]})
    branch = None
    code = _param(params, "branch", 20)
    if code:
        branch = Branch.objects.filter(code=code).first()
        if branch is None:
            raise ValidationError({"branch": [_("没有这个组织")]})
    return ArchiveFilters(kind=kind, campaign=campaign, branch=branch)


def published_bulletins() -> QuerySet[Bulletin]:
    """Published bulletins for lists: no content loaded, the totals read from it in the database."""
    return (
        Bulletin.objects.filter(status=BulletinStatus.PUBLISHED)
        .select_related("branch", "campaign")
        .defer("content")
        .annotate(row_count=KT("content__totals__count"), total=KT("content__totals__total"))
    )


def _encode_cursor(bulletin: Bulletin) -> str:
    return encode_cursor(bulletin.published_at, bulletin.pk, salt=_CURSOR_SALT)


def bulletin_archive_page(filters: ArchiveFilters, *, cursor: str = "", size: int = ARCHIVE_PAGE_SIZE) -> ArchivePage:
    """Newest first, keyset-paginated on (published_at, id); one query."""
    bulletins = published_bulletins()
    if filters.kind:
        bulletins = bulletins.filter(kind=filters.kind)
    if filters.campaign is not None:
        bulletins = bulletins.filter(campaign=filters.campaign)
    if filters.branch is not None:
        bulletins = bulletins.filter(branch=filters.branch)
    if cursor:
        when, pk = decode_cursor(cursor, salt=_CURSOR_SALT)
        bulletins = bulletins.filter(keyset_before(when, pk, field="published_at"))
    page = list(bulletins.order_by("-published_at", "-id")[: size + 1])
    more = len(page) > size
    page = page[:size]
    return ArchivePage(bulletins=page, next_cursor=_encode_cursor(page[-1]) if more else "")


def campaign_bulletins(campaign: Campaign, *, limit: int = 100) -> list[Bulletin]:
    """The campaign's published bulletins, newest first (for its page)."""
    return list(published_bulletins().filter(campaign=campaign).order_by("-published_at", "-id")[:limit])


def public_bulletin(*, code: str, kind: str, number: int, with_content: bool = True) -> Bulletin | None:
    """A published bulletin by its public address; ``with_content=False`` leaves out its rows
    (a surge day's receipt bulletin holds tens of thousands), for pages served from the cache."""
    if kind not in BulletinKind.values or len(code) > 20 or "\x00" in code:
        return None
    found = Bulletin.objects.filter(
        status=BulletinStatus.PUBLISHED, branch__code=code, kind=kind, number=number
    ).select_related("branch", "campaign")
    if not with_content:
        found = found.defer("content")
    return found.first()


def neighbour_bulletins(bulletin: Bulletin) -> tuple[Bulletin | None, Bulletin | None]:
    """The bulletins before and after this one in its branch's chain (one query)."""
    around = (
        Bulletin.objects.filter(
            branch_id=bulletin.branch_id,
            status=BulletinStatus.PUBLISHED,
            chain_position__in=[bulletin.chain_position - 1, bulletin.chain_position + 1],
        )
        .select_related("branch")
        .defer("content")
    )
    found = {b.chain_position: b for b in around}
    return found.get(bulletin.chain_position - 1), found.get(bulletin.chain_position + 1)


__all__ = [
    "RULES",
    "ArchiveFilters",
    "ArchivePage",
    "CampaignDeadline",
    "DeadlineStatus",
    "Obligation",
    "add_months",
    "archive_filters",
    "bulletin_archive_page",
    "campaign_bulletins",
    "campaign_deadlines",
    "neighbour_bulletins",
    "public_bulletin",
    "published_bulletins",
    "usage_tables",
]


def period_display(start: date, end: date) -> str:
    """The period in the reader's language (the hashed content keeps its Chinese ``period_label``)."""
    day = _("Y年n月j日")
    if start == end:
        return date_format(start, day)
    return _("%(start)s至%(end)s") % {"start": date_format(start, day), "end": date_format(end, day)}


# --- what registered apps added to a usage announcement ---------------------------------------------


@dataclass(frozen=True)
class UsageCell:
    value: object
    kind: str = "text"  # text, int or money (a string with two places, as published)
    url: str = ""
    header: str = ""  # the column's (for the phone layout's labels)


@dataclass(frozen=True)
class UsageTable:
    title: str
    note: str
    headers: list[str]
    rows: list[list[UsageCell]]
    totals: list[UsageCell]


def usage_tables(content: dict) -> list[UsageTable]:
    """The tables of ``content["usage_lines"]`` (e.g. relief disbursements per project) as cells
    for the page and the PDF; read from the published content only."""
    tables = []
    for table in content.get("usage_lines") or []:
        columns = [
            (column.get("key", ""), str(column.get("header", "")), column.get("type", "text"))
            for column in table.get("columns", [])
        ]
        rows = []
        for row in table.get("rows", []):
            cells = [UsageCell(row.get(key), kind, header=header) for key, header, kind in columns]
            if cells and row.get("url"):
                cells[0] = UsageCell(cells[0].value, cells[0].kind, str(row["url"]), cells[0].header)
            rows.append(cells)
        given = table.get("totals") or {}
        totals = [UsageCell(given.get(key), kind) for key, _header, kind in columns]
        if totals and totals[0].value is None:
            totals[0] = UsageCell(_("合计"))
        tables.append(
            UsageTable(
                title=str(table.get("title", "")),
                note=str(table.get("note", "")),
                headers=[header for _key, header, _kind in columns],
                rows=rows,
                totals=totals,
            )
        )
    return tables
