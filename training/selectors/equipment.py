"""Reads about equipment: what is in stock, what each school or venue holds, the demonstration schools."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import F, QuerySet, Sum

from redcross.scoping import within_branch_ids
from training.models import EquipmentBatch, EquipmentDistribution, EquipmentKind, EquipmentSite

BranchIds = Collection[int] | None


def site_holdings(site: EquipmentSite) -> dict[str, int]:
    """What ``site`` has received, by equipment kind (kinds it has none of are left out)."""
    rows = (
        EquipmentDistribution.objects.filter(site=site)
        .values("batch__kind")
        .annotate(total=Sum("quantity"))
        .order_by("batch__kind")
    )
    return {row["batch__kind"]: row["total"] for row in rows}


def holdings_by_site(*, branch_ids: BranchIds, demonstration_only: bool = False) -> dict[int, dict[str, int]]:
    """{site id: {kind: quantity}} for every site the branches see, in one grouped query."""
    rows = within_branch_ids(EquipmentDistribution.objects.all(), branch_ids, branch_field="site__branch")
    if demonstration_only:
        rows = rows.filter(site__demonstration_since__isnull=False)
    holdings: dict[int, dict[str, int]] = {}
    for row in rows.values("site_id", "batch__kind").annotate(total=Sum("quantity")).order_by():
        holdings.setdefault(row["site_id"], {})[row["batch__kind"]] = row["total"]
    return holdings


def demonstration_schools(*, branch_ids: BranchIds) -> QuerySet[EquipmentSite]:
    """The red-cross demonstration schools (红十字示范校) the branches see."""
    return within_branch_ids(EquipmentSite.objects.filter(demonstration_since__isnull=False), branch_ids)


def stock_by_kind(*, branch_ids: BranchIds) -> dict[str, dict[str, int]]:
    """{kind: {"bought", "distributed", "in_stock"}} over the branches' batches, in one query."""
    rows = (
        within_branch_ids(EquipmentBatch.objects.all(), branch_ids)
        .values("kind")
        .annotate(bought=Sum("quantity"), distributed=Sum("distributed"))
        .annotate(in_stock=F("bought") - F("distributed"))
        .order_by("kind")
    )
    return {row["kind"]: {k: row[k] for k in ("bought", "distributed", "in_stock")} for row in rows}


def holdings_text(holdings: dict[str, int]) -> str:
    """ "心肺复苏模拟人 10、急救包 5" in the order of ``EquipmentKind``; "—" when nothing."""
    parts = [f"{label} {holdings[kind]:,}" for kind, label in EquipmentKind.choices if holdings.get(kind)]
    return "、".join(parts) or "—"
