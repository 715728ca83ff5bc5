"""Public figures of campaigns: what came in, where it went, what is left, and whether the books
balance. Aggregates are computed in the database; nothing personal is read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

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


@dataclass
class CampaignSummary:
    campaign: Campaign
    donations: int = 0
    cash_received: Decimal = ZERO
    goods_received: Decimal = ZERO
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
    def received(self) -> Decimal:
        return self.cash_received + self.goods_received


def public_campaigns():
    """Campaigns shown to the public: special campaigns and regular giving, newest first."""
    return Campaign.objects.select_related("branch").order_by("-starts_on", "-id")


def campaign_totals(campaigns) -> dict[int, tuple[int, Decimal]]:
    """campaign id -> (confirmed donations, confirmed cash net of refunds), one grouped query."""
    rows = (
        Donation.objects.public()
        .filter(campaign__in=campaigns)
        .values("campaign")
        .annotate(
            n=Count("id"),
            cash=Coalesce(
                Sum(F("amount") - F("refunded_amount"), filter=Q(kind=DonationKind.CASH)),
                Value(ZERO),
                output_field=_MONEY,
            ),
        )
    )
    return {row["campaign"]: (row["n"], fen(row["cash"])) for row in rows}


def campaign_summary(campaign: Campaign) -> CampaignSummary:
    """The campaign page's figures, summed over every branch that took gifts for it."""
    summary = CampaignSummary(campaign=campaign)
    branches = set(
        Donation.objects.public().filter(campaign=campaign).values_list("branch", flat=True).distinct()
    ) | set(Allocation.objects.filter(campaign=campaign).values_list("branch", flat=True).distinct())
    from redcross.models import Branch

    for branch in Branch.objects.filter(pk__in=branches):
        books: Books = campaign_books(campaign, branch)
        summary.donations += books.donations
        summary.cash_received += books.cash_received
        summary.goods_received += books.goods_received
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
    "campaign_allocations",
    "campaign_allocations_by_recipient_kind",
    "campaign_daily",
    "campaign_summary",
    "campaign_totals",
    "public_allocations_page",
    "public_campaigns",
]


@dataclass(frozen=True)
class HomeFigures:
    today_count: int
    today_cash: Decimal
    year_count: int
    year_cash: Decimal
    year_goods: Decimal
    campaign: Campaign | None
    campaign_count: int
    campaign_cash: Decimal
    latest: list  # the newest honor roll rows
    bulletins: list  # the newest published bulletins


def home_figures() -> HomeFigures:
    """Live totals for the home page: today, this year, and the current emergency campaign
    (cached for 30 seconds: a surge sends everyone to the home page)."""
    from django.core.cache import cache
    from django.utils import timezone

    from donations.selectors.disclosure import published_bulletins
    from donations.selectors.honor_roll import HonorRollFilters, honor_roll_page

    def load() -> HomeFigures:
        now = timezone.localtime()
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        year_start = day_start.replace(month=1, day=1)
        confirmed = Donation.objects.public().filter(received_at__gte=year_start)
        cash = Coalesce(
            Sum(F("amount") - F("refunded_amount"), filter=Q(kind=DonationKind.CASH)), Value(ZERO), output_field=_MONEY
        )
        totals = confirmed.aggregate(
            year_count=Count("id"),
            year_cash=cash,
            today_count=Count("id", filter=Q(received_at__gte=day_start)),
            today_cash=Coalesce(
                Sum(F("amount") - F("refunded_amount"), filter=Q(kind=DonationKind.CASH, received_at__gte=day_start)),
                Value(ZERO),
                output_field=_MONEY,
            ),
        )
        from donations.models import DonationItem

        year_goods = DonationItem.objects.filter(
            has_value_evidence(), donation__in=confirmed.filter(kind=DonationKind.IN_KIND)
        ).aggregate(total=Sum(lot_value_fen()))["total"]
        campaign = Campaign.objects.filter(is_emergency=True, status="open").order_by("-starts_on", "-id").first()
        count, campaign_cash = campaign_totals([campaign]).get(campaign.pk, (0, ZERO)) if campaign else (0, ZERO)
        return HomeFigures(
            today_count=totals["today_count"],
            today_cash=fen(totals["today_cash"]),
            year_count=totals["year_count"],
            year_cash=fen(totals["year_cash"]),
            year_goods=fen_to_yuan(year_goods),
            campaign=campaign,
            campaign_count=count,
            campaign_cash=campaign_cash,
            latest=honor_roll_page(HonorRollFilters(), size=8).rows,
            bulletins=list(published_bulletins().order_by("-published_at", "-id")[:5]),
        )

    return cache.get_or_set("disclosure:home-figures", load, 30)
