"""The one place that decides which branches' rows a staff user may see and change.

City staff (and superusers) see every branch; district, county and grassroots
staff see their own branch and everything below it; an account with no
branch sees nothing. Every admin page (``redcross.admin.BranchScopedAdmin``)
and every staff API view (``redcross.api.BranchScopedViewSetMixin``) filters
through these functions, and services check writes with ``ensure_branch_access``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from redcross.models import Branch, BranchLevel

M = TypeVar("M", bound=Model)

_CACHE_ATTR = "_visible_branch_ids"


def visible_branch_ids(user) -> frozenset[int] | None:
    """None means "every branch"; otherwise the ids the user may see (maybe empty)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    if hasattr(user, _CACHE_ATTR):  # once per request: the user object lives as long as the request
        return getattr(user, _CACHE_ATTR)
    ids: frozenset[int] | None
    if user.is_superuser:
        ids = None
    elif user.branch_id is None:
        ids = frozenset()
    else:
        branch = user.branch
        if branch.level == BranchLevel.CITY:
            ids = None
        else:
            ids = frozenset(Branch.objects.filter(Branch.within_q(branch)).values_list("pk", flat=True))
    setattr(user, _CACHE_ATTR, ids)
    return ids


def sees_all_branches(user) -> bool:
    return visible_branch_ids(user) is None


def scope_queryset(queryset: QuerySet[M], user, *, branch_field: str = "branch") -> QuerySet[M]:
    """Limit ``queryset`` to rows whose ``branch_field`` the user may see.

    ``branch_field`` is the lookup from the row to its Branch id (``"branch"``,
    ``"donation__branch"``, or ``"id"`` for Branch itself).
    """
    return within_branch_ids(queryset, visible_branch_ids(user), branch_field=branch_field)


def within_branch_ids(
    queryset: QuerySet[M], branch_ids: Collection[int] | None, *, branch_field: str = "branch"
) -> QuerySet[M]:
    """Limit ``queryset`` to rows of these branches; ``None`` means every branch (city staff).
    Selectors that take the ids a view computed once (``visible_branch_ids``) scope with this."""
    if branch_ids is None:
        return queryset
    return queryset.filter(**{f"{branch_field}__in": list(branch_ids)})


def can_access_branch(user, branch: Branch | int | None) -> bool:
    if branch is None:
        return sees_all_branches(user)
    ids = visible_branch_ids(user)
    branch_id = branch.pk if isinstance(branch, Branch) else branch
    return ids is None or branch_id in ids


def visible_branches(user) -> QuerySet[Branch]:
    return scope_queryset(Branch.objects.all(), user, branch_field="id")


def ensure_branch_access(user, branch: Branch | int | None) -> None:
    """Raise PermissionDenied unless ``user`` may write rows of ``branch``."""
    if not can_access_branch(user, branch):
        raise PermissionDenied(_("您无权操作其他组织的数据"))
