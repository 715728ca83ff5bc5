"""Public figures of campaigns: what came in, where it went, what is left, and whether the books
balance. Aggregates are computed in the database; nothing personal is read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db.models import DecimalField, OuterRef, Prefetch, Q, Subquery, Sum
from django.utils.translation import gettext as _

from donations.models import (
    FIGURE_COLUMNS,
    Allocation,
    AllocationSource,
    AllocationStatus,
    Campaign,
    CampaignDayFigures,
    CampaignRecipientFigures,
    Donation,
    DonationItem,
    DonationKind,
    Recipient,
    ReconciliationRun,
)
from donations.selectors.books import Figures, donation_figures, lot_figures
from donations.valuation import fen_to_yuan
from redcross.pagination import decode_cursor, encode_cursor, keyset_before

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=20, decimal_places=2)


class ReceivedTotals(NamedTuple):
    """What was received, in the words every public page uses for it: 已接收捐款 (``cash``),
    捐赠物资价值 (``goods``) and 合计 (``total``)."""

    donations: int = 0
    cash: Decimal = ZERO  # confirmed cash gifts, net of refunds
    goods: Decimal = ZERO  # confirmed goods lots with evidence of value (the one lot-value rule)

    @property
    def total(self) -> Decimal:
        return self.cash + self.goods


@dataclass
class CampaignSummary:
    campaign: Campaign
    totals: ReceivedTotals = field(default_factory=ReceivedTotals)  # counted as the home page and list count it
    allocated: Decimal = ZERO
    in_stock: Decimal = ZERO
    cash_balance: Decimal = ZERO
    written_off: Decimal = ZERO
    is_balanced: bool = True
    last_checked_at: object = None
    discrepancies: int = 0
    daily: list[tuple[date, Decimal, int]] = field(default_factory=list)  # (day, cash, donations)
    by_recipient_kind: list[tuple[str, Decimal]] = field(default_factory=list)

    @property
    def donations(self) -> int:
        return self.totals.donations

    @property
    def cash_received(self) -> Decimal:
        return self.totals.cash

    @property
    def goods_received(self) -> Decimal:
        return self.totals.goods

    @property
    def received(self) -> Decimal:
        return self.totals.total


def public_campaigns():
    """Campaigns shown to the public: special campaigns and regular giving, newest first."""
    return Campaign.objects.select_related("branch").order_by("-starts_on", "-id")


def received_totals(where: Q | None = None, *, by: str | None = None) -> dict[Any, ReceivedTotals]:
    """What was received, recomputed from the ledgers: the public (confirmed) donations matching
    ``where``, grouped by the donation field ``by`` (``"campaign"`` or ``"branch"``; without it one
    group under the key ``None``), counted with the books' own sums (``donation_figures`` and
    ``lot_figures``: cash net of refunds, goods lot by lot at their value, lots without evidence
    of value in quantities only).

    Reads every gift: for staff, tests and the nightly check. Public pages read the kept figures
    (``kept_received_totals``), which the nightly reconciliation compares with these sums.
    """
    donations = Donation.objects.filter(where or Q())
    buckets = donation_figures(donations)
    lot_figures(DonationItem.objects.filter(donation__in=donations.filter(kind=DonationKind.IN_KIND)), buckets)
    position = {None: None, "campaign": 0, "branch": 1}[by]
    grouped: dict[Any, Figures] = {}
    for key, figures in buckets.items():
        grouped.setdefault(None if position is None else key[position], Figures()).add(figures)
    if by is None and None not in grouped:
        grouped[None] = Figures()
    return {key: _received(figures) for key, figures in grouped.items() if by is None or figures.donations}


def _received(figures: Figures) -> ReceivedTotals:
    return ReceivedTotals(donations=figures.donations, cash=figures.cash_received, goods=figures.goods_received)


_SUMS = {name: Sum(name) for name in FIGURE_COLUMNS}
_SUMMED = {f"sum_{name}": Sum(name) for name in FIGURE_COLUMNS}  # as an annotation (names must differ)


def kept_figures(where: Q | None = None) -> Figures:
    """The kept figures (``CampaignDayFigures``) of the rows matching ``where``, summed: one query
    over one row per campaign, branch and day, however many gifts they count."""
    return Figures.from_fen(CampaignDayFigures.objects.filter(where or Q()).aggregate(**_SUMS))


def kept_received_totals(where: Q | None = None) -> ReceivedTotals:
    """``received_totals`` as the kept figures hold it (``where`` on ``CampaignDayFigures``: campaign, branch, day)."""
    return _received(kept_figures(where))


def campaign_totals(campaigns) -> dict[int, ReceivedTotals]:
    """campaign id -> what it received, from the kept figures (one grouped query)."""
    rows = (
        CampaignDayFigures.objects.filter(campaign__in=campaigns)
        .order_by()
        .values("campaign")
        .annotate(
            **{f"sum_{name}": Sum(name) for name in ("donations", "cash_gross", "cash_refunded", "goods_received")}
        )
    )
    totals = {}
    for row in rows:
        figures = Figures.from_fen({name: row.get(f"sum_{name}") for name in FIGURE_COLUMNS})
        if figures.donations:
            totals[row["campaign"]] = _received(figures)
    return totals


def campaign_summary(campaign: Campaign) -> CampaignSummary:
    """The campaign page's figures, summed over every branch that took gifts for it, from the kept
    figures (one query by day, one by kind of recipient), and the result of the last nightly check
    of its books at each branch (one query). No gift is read."""
    by_day = CampaignDayFigures.objects.filter(campaign=campaign).order_by("day").values("day").annotate(**_SUMMED)
    figures = Figures()
    daily = []
    for row in by_day:
        day = Figures.from_fen({name: row[f"sum_{name}"] for name in FIGURE_COLUMNS})
        figures.add(day)
        if day.donations:
            daily.append((row["day"], day.cash_gross, day.donations))
    summary = CampaignSummary(
        campaign=campaign,
        totals=_received(figures),
        allocated=figures.allocated,
        in_stock=figures.in_stock,
        cash_balance=figures.cash_balance,
        written_off=figures.goods_written_off,
        daily=daily,
        by_recipient_kind=campaign_allocations_by_recipient_kind(campaign),
    )
    latest = ReconciliationRun.objects.filter(
        campaign=campaign,
        pk=Subquery(
            ReconciliationRun.objects.filter(campaign=OuterRef("campaign"), branch=OuterRef("branch"))
            .order_by("-checked_at", "-id")
            .values("pk")[:1]
        ),
    ).values_list("checked_at", "discrepancies")
    for checked_at, discrepancies in latest:
        summary.discrepancies += len(discrepancies or [])
        if summary.last_checked_at is None or checked_at > summary.last_checked_at:
            summary.last_checked_at = checked_at
    summary.is_balanced = summary.discrepancies == 0
    return summary


def campaign_daily(campaign: Campaign) -> list[tuple[date, Decimal, int]]:
    """(day, cash received that day as given, donations that day), from the kept figures."""
    return campaign_summary(campaign).daily


def campaign_allocations_by_recipient_kind(campaign: Campaign) -> list[tuple[str, Decimal]]:
    """Yuan allocated (cash, and goods at their lots' values) per kind of recipient, largest first,
    from the kept figures (one row per branch and kind)."""
    rows = (
        CampaignRecipientFigures.objects.filter(campaign=campaign)
        .order_by("recipient_kind")
        .values("recipient_kind")
        .annotate(total=Sum("allocated"))
    )
    labels = dict(Recipient.Kind.choices)
    totals = [
        (str(labels.get(row["recipient_kind"], row["recipient_kind"])), fen_to_yuan(row["total"])) for row in rows
    ]
    return sorted((kv for kv in totals if kv[1] > 0), key=lambda kv: -kv[1])


def campaign_allocations(campaign: Campaign, *, limit: int = 200):
    """Confirmed allocations with recipient, plan document number and what was sent (2 queries).

    Only the goods lines are read with them: a cash payment from the pool may have drawn on
    thousands of gifts, and the page shows its amount, not its sources."""
    goods_lines = AllocationSource.objects.filter(item__isnull=False).select_related("item")
    return (
        Allocation.objects.filter(campaign=campaign, status=AllocationStatus.CONFIRMED)
        .select_related("recipient", "plan_line__plan", "recipient_confirmation")
        .prefetch_related(Prefetch("sources", queryset=goods_lines))
        .order_by("-allocated_on", "-id")[:limit]
    )


ALLOCATION_PAGE_SIZE = 50
_ALLOCATION_CURSOR_SALT = "donations.allocations.cursor"


@dataclass(frozen=True)
class AllocationPage:
    allocations: list[Allocation]
    next_cursor: str


def public_allocations_page(
    *, campaign_slug: str = "", cursor: str = "", size: int = ALLOCATION_PAGE_SIZE
) -> AllocationPage:
    """拨付 for the open data API: confirmed allocations, newest confirmed first, keyset-paginated
    on (confirmed_at, id), with what the list shows (2 queries). ValidationError names a refused
    parameter."""
    if "\x00" in campaign_slug:
        raise ValidationError({"campaign": [_("含有无效字符")]})  # PostgreSQL refuses NUL in text
    allocations = Allocation.objects.filter(status=AllocationStatus.CONFIRMED)
    if campaign_slug:
        allocations = allocations.filter(campaign__slug=campaign_slug[:80])
    if cursor:
        when, pk = decode_cursor(cursor, salt=_ALLOCATION_CURSOR_SALT)
        allocations = allocations.filter(keyset_before(when, pk, field="confirmed_at"))
    page = list(
        allocations.select_related("campaign", "recipient", "plan_line__plan", "recipient_confirmation")
        .prefetch_related("sources__item")
        .order_by("-confirmed_at", "-id")[: size + 1]
    )
    more = len(page) > size
    page = page[:size]
    last = page[-1] if more else None
    return AllocationPage(
        allocations=page,
        next_cursor=encode_cursor(last.confirmed_at, last.pk, salt=_ALLOCATION_CURSOR_SALT) if last else "",
    )


__all__ = [
    "AllocationPage",
    "CampaignSummary",
    "HomeFigures",
    "ReceivedTotals",
    "campaign_allocations",
    "campaign_allocations_by_recipient_kind",
    "campaign_daily",
    "campaign_summary",
    "campaign_totals",
    "kept_figures",
    "kept_received_totals",
    "public_allocations_page",
    "public_campaigns",
    "received_totals",
]


@dataclass(frozen=True)
class HomeFigures:
    today: ReceivedTotals
    year: ReceivedTotals
    campaign: Campaign | None
    campaign_totals: ReceivedTotals
    latest: list  # the newest honor roll rows
    bulletins: list  # the newest published bulletins

    @property
    def year_cash(self) -> Decimal:
        return self.year.cash

    @property
    def year_goods(self) -> Decimal:
        return self.year.goods


def home_figures() -> HomeFigures:
    """Live totals for the home page: today, this year, and the current emergency campaign, from
    the kept figures like the campaign pages (cached for 30 seconds, refreshed by one process
    while the others serve the previous value: a surge sends everyone to the home page)."""
    from django.utils import timezone

    from donations.selectors.disclosure import published_bulletins
    from donations.selectors.honor_roll import HonorRollFilters, honor_roll_page
    from redcross.cache import cached_or_refreshed

    def load() -> HomeFigures:
        # the kept rows' days are local days (TIME_ZONE), as the home page counts them
        today = timezone.localtime(timezone=timezone.get_default_timezone()).date()
        campaign = Campaign.objects.filter(is_emergency=True, status="open").order_by("-starts_on", "-id").first()
        return HomeFigures(
            today=kept_received_totals(Q(day__gte=today)),
            year=kept_received_totals(Q(day__gte=today.replace(month=1, day=1))),
            campaign=campaign,
            campaign_totals=kept_received_totals(Q(campaign=campaign)) if campaign else ReceivedTotals(),
            latest=honor_roll_page(HonorRollFilters(), size=8).rows,
            bulletins=list(published_bulletins().order_by("-published_at", "-id")[:5]),
        )

    # the key names the shape of HomeFigures: a deploy that changes it never reads the old one
    return cached_or_refreshed("disclosure:home-figures:kept", load, 30)
