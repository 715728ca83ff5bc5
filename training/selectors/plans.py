"""Plan vs actual (计划完成情况) for a branch and year, 本级 or 全市系统, aggregated in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from redcross.models import Branch
from training.models import Attendance, PlanFunding, PlanTarget, Session, SessionStatus


class Scope:
    OWN = "own"  # 本级: the branch alone
    SYSTEM = "system"  # 全市系统: the branch and everything below it

    choices = ((OWN, _("本级")), (SYSTEM, _("全市系统")))


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


def _branch_q(branch: Branch, scope: str, field: str) -> Q:
    if scope == Scope.SYSTEM:
        return Branch.within_q(branch, field)
    if scope == Scope.OWN:
        return Q(**{field: branch})
    raise ValueError(f"unknown scope {scope!r}")


def plan_vs_actual(branch: Branch, year: int, scope: str = Scope.OWN) -> PlanVsActual:
    """Planned sessions and people by course kind and audience beside the sessions held and the
    people trained: trainees who attended a held session, plus the people an outdoor event
    reached. Three grouped queries, whatever the number of trainees."""
    targets = (
        PlanTarget.objects.filter(_branch_q(branch, scope, "plan__branch"), plan__year=year)
        .values("kind", "audience")
        .annotate(sessions=Sum("sessions"), people=Sum("people"))
    )
    held = Session.objects.filter(_branch_q(branch, scope, "branch"), starts_at__year=year, status__in=DONE)
    sessions = held.values("kind", "audience").annotate(
        count=Count("id"), reached=Coalesce(Sum("people_reached", filter=Q(is_outdoor=True)), 0)
    )
    attended = (
        Attendance.objects.filter(session__in=held.values("id"), hours_attended__gt=0)
        .values("session__kind", "session__audience")
        .annotate(people=Count("id"))
    )
    figures: dict[tuple[str, str], list[int]] = {}
    for row in targets:
        figures.setdefault((row["kind"], row["audience"]), [0, 0, 0, 0])[0:2] = [row["sessions"], row["people"]]
    for row in sessions:
        line = figures.setdefault((row["kind"], row["audience"]), [0, 0, 0, 0])
        line[2] += row["count"]
        line[3] += row["reached"]
    for row in attended:
        figures.setdefault((row["session__kind"], row["session__audience"]), [0, 0, 0, 0])[3] += row["people"]
    budgets = dict(
        PlanFunding.objects.filter(_branch_q(branch, scope, "plan__branch"), plan__year=year)
        .values("line")
        .annotate(total=Sum("budget"))
        .values_list("line", "total")
    )
    lines = [PlanLine(kind, audience, *values) for (kind, audience), values in sorted(figures.items())]
    return PlanVsActual(lines=lines, budgets=budgets)
