"""Keeping the public figures (``CampaignDayFigures``, ``CampaignRecipientFigures``) up to date.

Every service that changes what a campaign's figures count wraps its change in ``keep_figures``,
naming the donations, allocations and goods lots it is about to change. On entry the figures
those rows count for are computed (``donations.selectors.books``: the same sums the books make,
restricted to those rows); on leaving, the same sums again; the difference is added to the kept
rows in the same transaction, in one statement per table, so a batch updates each row once. The
figures of the rows a write does not touch do not change, so the kept rows stay equal to the
books; the nightly reconciliation checks that they do (``reconciliation_check``).

Nested uses (a confirmation confirming the retroactive allocation of its gift) join the
outermost one, which writes the difference once when it ends. The kept rows are written last in
the transaction, in key order, so the row lock of a busy day is held only until the commit.

``rebuild_kept_figures`` recomputes the rows of a campaign from its ledgers (after a bulk load,
after a reported discrepancy, and once after the migration that adds them).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q

from donations.models import (
    FIGURE_COLUMNS,
    Allocation,
    AllocationSource,
    Campaign,
    CampaignDayFigures,
    CampaignRecipientFigures,
    Donation,
    DonationItem,
)
from donations.selectors.books import (
    Bucket,
    Figures,
    allocation_figures,
    donation_figures,
    ledger_figures,
    lot_figures,
    recipient_kind_figures,
)
from redcross.models import Branch

KindKey = tuple[int, int, str]

_local = threading.local()


class _Snapshot:
    """What a set of rows counts for in the kept tables."""

    def __init__(self) -> None:
        self.days: dict[Bucket, Figures] = {}
        self.kinds: dict[KindKey, Decimal] = {}

    @classmethod
    def of(cls, *, donations: set[int], items: set[int], allocations: set[int], sources: set[int]) -> _Snapshot:
        snapshot = cls()
        if donations:
            donation_figures(Donation.objects.filter(pk__in=donations), snapshot.days)
        if items:
            lot_figures(DonationItem.objects.filter(pk__in=items), snapshot.days)
        if allocations:
            allocation_figures(Allocation.objects.filter(pk__in=allocations), snapshot.days)
        if sources:
            snapshot.kinds = recipient_kind_figures(AllocationSource.objects.filter(pk__in=sources))
        return snapshot

    def add(self, other: _Snapshot, sign: int = 1) -> None:
        for key, figures in other.days.items():
            self.days.setdefault(key, Figures()).add(figures, sign)
        for key, value in other.kinds.items():
            self.kinds[key] = self.kinds.get(key, Decimal("0.00")) + sign * value


class FiguresKeeper:
    """The rows one transaction changes, and what they counted for before it changed them."""

    def __init__(self) -> None:
        self.donations: set[int] = set()
        self.items: set[int] = set()
        self.allocations: set[int] = set()
        self.sources: set[int] = set()
        self.before = _Snapshot()

    def _items_and_sources(self, donations: set[int], allocations: set[int], items: set[int]) -> tuple[set, set]:
        """The lots and sources whose figures a change of these rows may change."""
        if donations:
            items |= set(DonationItem.objects.filter(donation__in=donations).values_list("pk", flat=True))
        where = Q(pk__in=[])
        if donations:
            where |= Q(donation__in=donations)
        if allocations:
            where |= Q(allocation__in=allocations)
        if items:
            where |= Q(item__in=items)
        sources: set[int] = set()
        for source, item in AllocationSource.objects.filter(where).values_list("pk", "item_id"):
            sources.add(source)
            if item is not None:
                items.add(item)
        return items, sources

    def track(self, *, donations: Iterable[int] = (), allocations: Iterable[int] = (), items: Iterable[int] = ()):
        """Note rows about to change (call before changing them): their figures now are the 'before'."""
        new_donations = set(donations) - self.donations
        new_allocations = set(allocations) - self.allocations
        new_items, new_sources = self._items_and_sources(new_donations, new_allocations, set(items))
        new_items -= self.items
        new_sources -= self.sources
        self.before.add(
            _Snapshot.of(donations=new_donations, items=new_items, allocations=new_allocations, sources=new_sources)
        )
        self.donations |= new_donations
        self.allocations |= new_allocations
        self.items |= new_items
        self.sources |= new_sources

    def track_new(self, *, donations: Iterable[int] = (), allocations: Iterable[int] = ()) -> None:
        """Note rows created in this transaction: before it they counted for nothing."""
        self.donations |= set(donations)
        self.allocations |= set(allocations)

    def flush(self) -> None:
        items, sources = self._items_and_sources(set(self.donations), set(self.allocations), set(self.items))
        after = _Snapshot.of(donations=self.donations, items=items, allocations=self.allocations, sources=sources)
        after.add(self.before, -1)
        add_to_kept_rows(after.days, after.kinds)


@contextmanager
def keep_figures(
    *, donations: Iterable[int] = (), allocations: Iterable[int] = (), items: Iterable[int] = ()
) -> Iterator[FiguresKeeper]:
    """Wrap a change of these rows (ids) so that the kept figures follow it, in the caller's
    transaction. Nested uses join the outermost, which writes the kept rows when it ends."""
    outer = getattr(_local, "keeper", None)
    if outer is not None:
        outer.track(donations=donations, allocations=allocations, items=items)
        yield outer
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("keep_figures must run inside the transaction of the change")
    keeper = FiguresKeeper()
    keeper.track(donations=donations, allocations=allocations, items=items)
    _local.keeper = keeper
    try:
        yield keeper
    finally:
        _local.keeper = None
    keeper.flush()  # not reached when the change raised: its transaction rolls back anyway


def _upsert(table: str, keys: tuple[str, ...], columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in (*keys, *columns))
    placeholders = "(" + ", ".join(["%s"] * (len(keys) + len(columns))) + ")"
    updates = ", ".join(f"{quote(c)} = {quote(table)}.{quote(c)} + excluded.{quote(c)}" for c in columns)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            cursor.execute(
                f"INSERT INTO {quote(table)} ({names}) VALUES {', '.join([placeholders] * len(chunk))} "  # noqa: S608
                f"ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET {updates}",
                [value for row in chunk for value in row],
            )


def add_to_kept_rows(days: dict[Bucket, Figures], kinds: dict[KindKey, Decimal] | None = None) -> None:
    """Add these differences to the kept rows (one statement per table, rows in key order)."""
    day_rows = []
    for (campaign_id, branch_id, day), figures in sorted(days.items(), key=lambda kv: kv[0]):
        values = figures.fen()
        if any(values.values()):
            day_rows.append((campaign_id, branch_id, day, *(values[c] for c in FIGURE_COLUMNS)))
    _upsert(CampaignDayFigures._meta.db_table, ("campaign_id", "branch_id", "day"), FIGURE_COLUMNS, day_rows)
    kind_rows = [
        (campaign_id, branch_id, kind, int(value * 100))
        for (campaign_id, branch_id, kind), value in sorted((kinds or {}).items())
        if value
    ]
    _upsert(
        CampaignRecipientFigures._meta.db_table,
        ("campaign_id", "branch_id", "recipient_kind"),
        ("allocated",),
        kind_rows,
    )


def ledger_recipient_figures(campaign: Campaign, branch: Branch) -> dict[KindKey, Decimal]:
    """What the campaign's confirmed allocations at the branch gave each kind of recipient, from the ledgers."""
    return recipient_kind_figures(
        AllocationSource.objects.filter(allocation__campaign=campaign, allocation__branch=branch)
    )


@transaction.atomic
def rebuild_kept_figures(*, campaign: Campaign | None = None) -> int:
    """Recompute the kept rows (of ``campaign``, or of every campaign) from the ledgers; returns the
    number of day rows written. For a quiet moment (``manage.py rebuild_campaign_figures``): a
    confirmation committed while the ledgers are read may be counted twice or not at all, which
    the next nightly check would report."""
    from donations.selectors.books import campaigns_to_reconcile

    pairs = [(c, b) for c, b in campaigns_to_reconcile() if campaign is None or c.pk == campaign.pk]
    days = CampaignDayFigures.objects.all()
    kinds = CampaignRecipientFigures.objects.all()
    if campaign is not None:
        days, kinds = days.filter(campaign=campaign), kinds.filter(campaign=campaign)
    days.delete()
    kinds.delete()
    written = 0
    for pair_campaign, branch in pairs:
        buckets = ledger_figures(pair_campaign, branch)
        add_to_kept_rows(buckets, ledger_recipient_figures(pair_campaign, branch))
        written += len(buckets)
    return written


__all__ = [
    "FiguresKeeper",
    "add_to_kept_rows",
    "keep_figures",
    "ledger_recipient_figures",
    "rebuild_kept_figures",
]
