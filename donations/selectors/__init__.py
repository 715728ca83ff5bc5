"""Reads of donations used by public pages, the API, PDFs and reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from donations.models import Donation, DonationKind
from redcross.scoping import within_branch_ids


@dataclass(frozen=True)
class DonationPublicFacts:
    """What anyone may see of a donation: no phone, no ID number, no address, masked persons."""

    serial: str
    donor_name: str
    kind: str
    kind_label: str
    amount: Decimal | None
    goods_summary: str
    goods_value: Decimal | None
    campaign: str
    branch: str
    received_at: datetime
    designated_recipient: str
    is_retroactive: bool
    confirmed: bool


def donation_public_facts(donation: Donation) -> DonationPublicFacts:
    items = list(donation.items.all()) if donation.kind == DonationKind.IN_KIND else []
    summary = "、".join(f"{item.name}{item.quantity.normalize():f}{item.unit}" for item in items[:5])
    if len(items) > 5:
        summary += "等"
    return DonationPublicFacts(
        serial=donation.serial,
        donor_name=donation.donor.public_name,
        kind=donation.kind,
        kind_label=donation.get_kind_display(),
        amount=donation.amount,
        goods_summary=summary,
        goods_value=donation.goods_value() if items else None,
        campaign=donation.campaign.name,
        branch=donation.branch.name,
        received_at=donation.received_at,
        designated_recipient=donation.designated_recipient.name if donation.designated_recipient_id else "",
        is_retroactive=donation.is_retroactive,
        confirmed=donation.is_confirmed,
    )


@dataclass(frozen=True)
class IntakeRow:
    campaign: str
    kind: str
    today_count: int
    today_cash: Decimal
    today_goods_value: Decimal
    total_count: int
    total_cash: Decimal
    total_goods_value: Decimal


@dataclass(frozen=True)
class DailyIntakeReport:
    day: date
    rows: list[IntakeRow]
    unconfirmed_cash_count: int
    unconfirmed_cash_amount: Decimal

    @property
    def totals(self) -> IntakeRow:
        def total(attr: str):
            return sum(
                (getattr(row, attr) for row in self.rows), start=0 if attr.endswith("count") else Decimal("0.00")
            )

        return IntakeRow(
            "合计", "", *(total(a) for a in ("today_count", "today_cash", "today_goods_value",
                                             "total_count", "total_cash", "total_goods_value"))
        )  # fmt: skip


def daily_intake_report(*, day: date, branch_ids: list[int] | None) -> DailyIntakeReport:
    """日报: confirmed donations received on ``day`` and cumulative to it, by campaign and kind.

    Two grouped aggregate queries; goods are valued by their item lines (``lot_value_fen``).
    """
    from django.db.models import Count, DecimalField, Q, Sum, Value
    from django.db.models.functions import Coalesce
    from django.utils import timezone

    from donations.models import DonationItem, DonationStatus
    from donations.valuation import fen_to_yuan, has_value_evidence, lot_value_fen

    end = timezone.make_aware(datetime.combine(day, datetime.max.time()))
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    money = DecimalField(max_digits=18, decimal_places=2)
    zero = Value(Decimal("0.00"), output_field=money)
    donations = Donation.objects.public().filter(received_at__lte=end)
    donations = within_branch_ids(donations, branch_ids)
    today = Q(received_at__gte=start)
    cash_rows = donations.values("campaign__name", "kind").annotate(
        today_count=Count("id", filter=today),
        total_count=Count("id"),
        today_cash=Coalesce(Sum("amount", filter=today), zero),
        total_cash=Coalesce(Sum("amount"), zero),
    )
    items = DonationItem.objects.filter(has_value_evidence(), donation__in=donations.filter(kind=DonationKind.IN_KIND))
    goods = {
        row["donation__campaign__name"]: row
        for row in items.values("donation__campaign__name").annotate(
            today_value=Sum(lot_value_fen(), filter=Q(donation__received_at__gte=start)),
            total_value=Sum(lot_value_fen()),
        )
    }
    rows = []
    for row in sorted(cash_rows, key=lambda r: (r["campaign__name"], r["kind"])):
        goods_row = goods.get(row["campaign__name"]) if row["kind"] == DonationKind.IN_KIND else None
        rows.append(
            IntakeRow(
                campaign=row["campaign__name"],
                kind=str(DonationKind(row["kind"]).label),
                today_count=row["today_count"],
                today_cash=row["today_cash"] if row["kind"] == DonationKind.CASH else Decimal("0.00"),
                today_goods_value=fen_to_yuan(goods_row["today_value"] if goods_row else 0),
                total_count=row["total_count"],
                total_cash=row["total_cash"] if row["kind"] == DonationKind.CASH else Decimal("0.00"),
                total_goods_value=fen_to_yuan(goods_row["total_value"] if goods_row else 0),
            )
        )
    pending = Donation.objects.filter(status=DonationStatus.REGISTERED, kind=DonationKind.CASH)
    pending = within_branch_ids(pending, branch_ids)
    pending_totals = pending.aggregate(n=Count("id"), amount=Coalesce(Sum("amount"), zero))
    return DailyIntakeReport(
        day=day,
        rows=rows,
        unconfirmed_cash_count=pending_totals["n"],
        unconfirmed_cash_amount=pending_totals["amount"],
    )
