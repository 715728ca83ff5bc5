"""Plan vs actual (计划完成情况) for a branch and year, 本级 or 全市系统, aggregated in SQL."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from redcross.models import Branch
from redcross.selectors import BranchScope, filter_by_branch_scope
from training.models import Attendance, PlanFunding, PlanTarget, Session, SessionStatus

DONE = (SessionStatus.HELD, SessionStatus.CLOSED)


@dataclass(frozen=True)
class PlanLine:
    kind: str
    audience: str
    planned_sessions: int
    planned_people: int
    held_sessions: int
    people_trained: int


@dataclass(frozen=True)
class PlanVsActual:
    lines: list[PlanLine]
    budgets: dict[str, Decimal]

    @property
    def planned_sessions(self) -> int:
        return sum(line.planned_sessions for line in self.lines)

    @property
    def planned_people(self) -> int:
        return sum(line.planned_people for line in self.lines)

    @property
    def held_sessions(self) -> int:
        return sum(line.held_sessions for line in self.lines)

    @property
    def people_trained(self) -> int:
        return sum(line.people_trained for line in self.lines)


def _year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    # a range on starts_at (its index serves it), in the portal's time zone like every report period
    zone = timezone.get_current_timezone()
    return (
        datetime.datetime(year, 1, 1, tzinfo=zone),
        datetime.datetime(year + 1, 1, 1, tzinfo=zone),
    )


def trained_by_kind_and_audience(
    branch: Branch, scope: str, start: datetime.datetime, end: datetime.datetime
) -> dict[tuple[str, str], tuple[int, int]]:
    """{(kind, audience): (sessions held, people trained)} for the sessions held (held or closed)
    that start in [start, end): trainees with attended hours, plus the people outdoor events
    reached. Two grouped queries; the monthly report and plan vs actual both read it."""
    held = filter_by_branch_scope(
        Session.objects.filter(starts_at__gte=start, starts_at__lt=end, status__in=DONE), branch, scope
    )
    figures: dict[tuple[str, str], list[int]] = {}
    sessions = held.values("kind", "audience").annotate(
        count=Count("id"), reached=Coalesce(Sum("people_reached", filter=Q(is_outdoor=True)), 0)
    )
    for row in sessions.order_by():
        figures[(row["kind"], row["audience"])] = [row["count"], row["reached"]]
    attended = (
        Attendance.objects.filter(session__in=held.values("id"), hours_attended__gt=0)
        .values("session__kind", "session__audience")
        .annotate(people=Count("id"))
    )
    for row in attended.order_by():
        figures.setdefault((row["session__kind"], row["session__audience"]), [0, 0])[1] += row["people"]
    return {key: (held_count, people) for key, (held_count, people) in figures.items()}


def plan_vs_actual(
    branch: Branch, year: int, scope: str = BranchScope.OWN, *, until: datetime.datetime | None = None
) -> PlanVsActual:
    """Planned sessions and people by course kind and audience beside the sessions held and the
    people trained: trainees who attended a held session, plus the people an outdoor event
    reached. Four grouped queries, whatever the number of trainees."""
    targets = (
        filter_by_branch_scope(PlanTarget.objects.filter(plan__year=year), branch, scope, branch_field="plan__branch")
        .values("kind", "audience")
        .annotate(sessions=Sum("sessions"), people=Sum("people"))
        .order_by()
    )
    figures: dict[tuple[str, str], list[int]] = {}
    for row in targets:
        figures[(row["kind"], row["audience"])] = [row["sessions"], row["people"], 0, 0]
    start, end = _year_bounds(year)
    end = min(end, until) if until else end  # a past month's report: the year up to that month
    for key, (held, people) in trained_by_kind_and_audience(branch, scope, start, end).items():
        figures.setdefault(key, [0, 0, 0, 0])[2:4] = [held, people]
    budgets = dict(
        filter_by_branch_scope(PlanFunding.objects.filter(plan__year=year), branch, scope, branch_field="plan__branch")
        .values("line")
        .annotate(total=Sum("budget"))
        .values_list("line", "total")
        .order_by()
    )
    lines = [PlanLine(kind, audience, *values) for (kind, audience), values in sorted(figures.items())]
    return PlanVsActual(lines=lines, budgets=budgets)
