"""Reads of the branch tree, used by pages, the API, scoping and reports."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet, TextChoices
from django.utils.translation import gettext_lazy as _

from redcross.models import Branch, BranchLevel

M = TypeVar("M", bound=Model)


class BranchScope(TextChoices):
    """Every total offers both: the branch alone, or the branch and everything below it."""

    OWN = "own", _("本级")
    SYSTEM = "system", _("全市系统")


def city_branch() -> Branch | None:
    """The root of the tree, or None before the portal is set up."""
    return Branch.objects.filter(level=BranchLevel.CITY).first()


def branch_subtree(branch: Branch, *, include_inactive: bool = True) -> QuerySet[Branch]:
    """The branch and every branch below it, in tree order."""
    queryset = Branch.objects.filter(Branch.within_q(branch))
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset


def branch_subtree_ids(branch: Branch) -> list[int]:
    return list(branch_subtree(branch).values_list("pk", flat=True))


def branch_ids_for_scope(branch: Branch, scope: BranchScope | str) -> list[int]:
    if BranchScope(scope) == BranchScope.OWN:
        return [branch.pk]
    return branch_subtree_ids(branch)


def filter_by_branch_scope(
    queryset: QuerySet[M], branch: Branch, scope: BranchScope | str, *, branch_field: str = "branch"
) -> QuerySet[M]:
    """Rows of ``branch`` alone (本级) or of its whole subtree (全市系统)."""
    if BranchScope(scope) == BranchScope.OWN:
        return queryset.filter(**{branch_field: branch.pk})
    return queryset.filter(Branch.within_q(branch, branch_field))


def branch_depth(branch: Branch) -> int:
    """0 for the city, 1 for a district, 2 for a grassroots branch below a district."""
    return branch.path.count("/") - 2


def worker_status(*, stale_after_minutes: int = 15) -> dict:
    """When the background worker last ran its heartbeat task, for the admin's front page."""
    from datetime import timedelta

    from django.utils import timezone

    from redcross.models import WorkerHeartbeat

    heartbeat = WorkerHeartbeat.objects.filter(name="worker").first()
    if heartbeat is None:
        return {"last_seen": None, "healthy": False, "hostname": ""}
    healthy = timezone.now() - heartbeat.last_seen < timedelta(minutes=stale_after_minutes)
    return {"last_seen": heartbeat.last_seen, "healthy": healthy, "hostname": heartbeat.hostname}


def public_branch_directory(city: Branch) -> list[Branch]:
    """The city branch and its districts and counties with their public contact facts."""
    return list(
        Branch.objects.filter(is_active=True, level__in=[BranchLevel.CITY, BranchLevel.COUNTY])
        .filter(Branch.within_q(city))
        .only("name", "address", "phone", "level", "path", "sort_order")
        .order_by("level", "sort_order", "name")
    )
