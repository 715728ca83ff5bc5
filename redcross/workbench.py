"""The staff workbench (工作台): what waits for this person, on the admin's front page.

Each app declares its to-do lines in its own ``<app>/workbench.py`` with ``register_todo``
(discovered at start-up, as report sections are). A line is shown to the users who hold its
permission; its count is taken over the branches the user may see (a district user counts its
own subtree only) and links to the admin list filtered to exactly those rows. A line whose
count is zero is still shown, so staff can tell "nothing waits" from "not my job".
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from django.utils.functional import Promise

from redcross.scoping import visible_branch_ids

BranchIds = Collection[int] | None  # None: every branch (city staff)


@dataclass(frozen=True)
class TodoLine:
    key: str
    title: Promise
    permission: str  # "app_label.codename": who this line is for
    count: Callable[..., int]  # count(branch_ids=..., user=...) -> int: one query
    url: Callable[[], str]  # the admin list filtered to what is counted
    group: Promise  # the heading the line sits under (捐赠, 公示, ...)
    order: int = 100
    urgent: bool = False  # shown in the warning colour when the count is not zero


@dataclass(frozen=True)
class TodoItem:
    line: TodoLine
    count: int
    url: str

    @property
    def needs_attention(self) -> bool:
        return self.count > 0


_LINES: dict[str, TodoLine] = {}


def register_todo(line: TodoLine) -> None:
    """Add (or, under the same key, replace) a to-do line; called from an app's ``workbench.py``."""
    _LINES[line.key] = line


def todo_lines() -> list[TodoLine]:
    return sorted(_LINES.values(), key=lambda line: (line.order, line.key))


def todo_items(user) -> list[TodoItem]:
    """The lines this user holds the permission for, each counted over the user's branches."""
    branch_ids = visible_branch_ids(user)
    return [
        TodoItem(line=line, count=line.count(branch_ids=branch_ids, user=user), url=line.url())
        for line in todo_lines()
        if user.has_perm(line.permission)
    ]
