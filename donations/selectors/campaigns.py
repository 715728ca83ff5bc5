"""Public figures of campaigns: what came in, where it went, what is left, and whether the books
balance. Aggregates are computed in the database; nothing personal is read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db.models import Count, DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext as _

from donations.models import (
    Allocation,
    AllocationSource,
    AllocationStatus,
    Campaign,
    Donation,
    DonationItem,
    DonationKind,
    Recipient,
    ReconciliationRun,
)
from donations.selectors.books import Books, campaign_books
from donations.valuation import fen_to_yuan, has_value_evidence, lot_value_fen
from redcross.money import fen
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
    """The one definition of "received" for the home page, the campaign list and the campaign page.

    Sums the public (confirmed) donations matching ``where``, grouped by the donation field ``by``
    (e.g. ``"campaign"``; without it one group under the key ``None``), in two queries: the
    donations with their cash, and the goods lots at their value (``donations.valuation``). Lots
    without evidence of value are published in quantities and add nothing to the figures.
    """
    donations = Donation.objects.public().filter(where or Q()).order_by()
    cash = Coalesce(
        Sum(F("amount") - F("refunded_amount"), filter=Q(kind=DonationKind.CASH)), Value(ZERO), output_field=_MONEY
    )
    lots = DonationItem.objects.filter(
        has_value_evidence(), donation__in=donations.filter(kind=DonationKind.IN_KIND)
    ).order_by()
    if by is None:
        row = donations.aggregate(n=Count("id"), cash=cash)
        goods = fen_to_yuan(lots.aggregate(total=Sum(lot_value_fen()))["total"])
        return {None: ReceivedTotals(donations=row["n"], cash=fen(row["cash"]), goods=goods)}
    goods_by = {
        row["key"]: fen_to_yuan(row["total"])
        for row in lots.values(key=F(f"donation__{by}")).annotate(total=Sum(lot_value_fen()))
    }
    return {
        row["key"]: ReceivedTotals(donations=row["n"], cash=fen(row["cash"]), goods=goods_by.get(row["key"], ZERO))
        for row in donations.values(key=F(by)).annotate(n=Count("id"), cash=cash)
    }


def campaign_totals(campaigns) -> dict[int, ReceivedTotals]:
    """campaign id -> what it received (``received_totals``), one grouped query each for cash and goods."""
    return received_totals(Q(campaign__in=campaigns), by="campaign")


def campaign_summary(campaign: Campaign) -> CampaignSummary:
    """The campaign page's figures, summed over every branch that took gifts for it."""
    summary = CampaignSummary(campaign=campaign, totals=received_totals(Q(campaign=campaign))[None])
    branches = set(
        Donation.objects.public().filter(campaign=campaign).values_list("branch", flat=True).distinct()
    ) | set(Allocation.objects.filter(campaign=campaign).values_list("branch", flat=True).distinct())
    from redcross.models import Branch

    for branch in Branch.objects.filter(pk__in=branches):
        books: Books = campaign_books(campaign, branch)
        summary.allocated += books.allocated
        summary.in_stock += books.in_stock
        summary.cash_balance += books.cash_balance
        summary.written_off += books.goods_written_off
        summary.discrepancies += len(books.discrepancies)
    summary.is_balanced = summary.discrepancies == 0
    last = ReconciliationRun.objects.filter(campaign=campaign).order_by("-checked_at").first()
    summary.last_checked_at = last.checked_at if last else None
    summary.daily = campaign_daily(campaign)
    summary.by_recipient_kind = campaign_allocations_by_recipient_kind(campaign)
    return summary


def campaign_daily(campaign: Campaign) -> list[tuple[date, Decimal, int]]:
    rows = (
        Donation.objects.public()
        .filter(campaign=campaign)
        .annotate(day=TruncDate("received_at"))
        .values("day")
        .annotate(
            n=Count("id"),
            cash=Coalesce(Sum("amount", filter=Q(kind=DonationKind.CASH)), Value(ZERO), output_field=_MONEY),
        )
        .order_by("day")
    )
    return [(row["day"], fen(row["cash"]), row["n"]) for row in rows]


def campaign_allocations_by_recipient_kind(campaign: Campaign) -> list[tuple[str, Decimal]]:
    """Yuan allocated (cash, and goods at their lots' values) per kind of recipient, largest first."""
    confirmed = AllocationSource.objects.filter(
        allocation__campaign=campaign, allocation__status=AllocationStatus.CONFIRMED
    )
    totals: dict[str, Decimal] = {}
    for row in (
        confirmed.filter(item__isnull=True)
        .values("allocation__recipient__kind")
        .annotate(total=Coalesce(Sum("amount"), Value(ZERO), output_field=_MONEY))
    ):
        kind = row["allocation__recipient__kind"]
        totals[kind] = totals.get(kind, ZERO) + fen(row["total"])
    for row in (
        confirmed.filter(has_value_evidence("item__unit_value", "item__value_basis"), item__isnull=False)
        .values("allocation__recipient__kind")
        .annotate(total=Sum(lot_value_fen("quantity", "item__unit_value", "item__value_basis")))
    ):
        kind = row["allocation__recipient__kind"]
        totals[kind] = totals.get(kind, ZERO) + fen_to_yuan(row["total"])
    labels = dict(Recipient.Kind.choices)
    return sorted(((str(labels.get(k, k)), v) for k, v in totals.items()), key=lambda kv: -kv[1])


def campaign_allocations(campaign: Campaign, *, limit: int = 200):
    """Confirmed allocations with recipient, plan document number and what was sent (2 queries)."""
    return (
        Allocation.objects.filter(campaign=campaign, status=AllocationStatus.CONFIRMED)
        .select_related("recipient", "plan_line__plan", "recipient_confirmation")
        .prefetch_related("sources__item")
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
    """Live totals for the home page: today, this year, and the current emergency campaign, each
    counted by ``received_totals`` like the campaign pages (cached for 30 seconds: a surge sends
    everyone to the home page)."""
    from django.core.cache import cache
    from django.utils import timezone

    from donations.selectors.disclosure import published_bulletins
    from donations.selectors.honor_roll import HonorRollFilters, honor_roll_page

    def load() -> HomeFigures:
        now = timezone.localtime()
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        year_start = day_start.replace(month=1, day=1)
        campaign = Campaign.objects.filter(is_emergency=True, status="open").order_by("-starts_on", "-id").first()
        return HomeFigures(
            today=received_totals(Q(received_at__gte=day_start))[None],
            year=received_totals(Q(received_at__gte=year_start))[None],
            campaign=campaign,
            campaign_totals=received_totals(Q(campaign=campaign))[None] if campaign else ReceivedTotals(),
            latest=honor_roll_page(HonorRollFilters(), size=8).rows,
            bulletins=list(published_bulletins().order_by("-published_at", "-id")[:5]),
        )

    # the key names the shape of HomeFigures: a deploy that changes it never reads the old one
    return cache.get_or_set("disclosure:home-figures:received", load, 30)
