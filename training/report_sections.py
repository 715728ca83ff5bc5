"""The training app's sections of the monthly and annual reports (registered in ``reports.registry``).

Every figure is a SQL aggregate for a period, a branch and a scope (本级 or 全市系统):

- sessions held and people trained in the period, by course kind and audience (the annual report
  sets the year's plan beside them as the target);
- the year's plan vs actual up to the end of the period, by course kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from redcross.models import Branch
from redcross.selectors import filter_by_branch_scope
from reports.periods import ReportPeriod
from reports.registry import Chart, Column, ColumnType, Target, report_section
from training.models import Audience, CourseKind, PlanTarget
from training.selectors.plans import plan_vs_actual, trained_by_kind_and_audience

INT, PERCENT = ColumnType.INT, ColumnType.PERCENT


def _percent(done: int, planned: int) -> Decimal | None:
    return (Decimal(done * 100) / planned).quantize(Decimal("0.1")) if planned else None


def planned_people(period: ReportPeriod, branch: Branch, scope: str) -> dict[tuple, Decimal]:
    """The year's planned people per (kind, audience): the annual report's target."""
    targets = filter_by_branch_scope(
        PlanTarget.objects.filter(plan__year=period.year), branch, scope, branch_field="plan__branch"
    )
    rows = targets.values("kind", "audience").annotate(people=Sum("people")).order_by()
    return {(row["kind"], row["audience"]): Decimal(row["people"]) for row in rows}


@report_section(
    key="training_by_kind",
    title=_("应急救护培训（按类别和对象）"),
    order=500,
    description=_("期内举办（已举办或已结班）的培训班；培训人数为有出勤学时的学员，户外普及活动计受益人数。"),
    columns=[
        Column("kind_label", _("培训类别")),
        Column("audience_label", _("培训对象")),
        Column("sessions", _("期数"), INT),
        Column("people", _("培训人数"), INT),
    ],
    row_key=("kind", "audience"),
    target=Target(column="people", values=planned_people, header=_("计划人数")),
    chart=Chart(label="kind_label", value="people"),
)
def training_by_kind(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    figures = trained_by_kind_and_audience(branch, scope, period.start, period.end)
    for kind in CourseKind:
        for audience in Audience:
            if (kind.value, audience.value) in figures:
                sessions, people = figures[(kind.value, audience.value)]
                yield {
                    "kind": kind.value,
                    "audience": audience.value,
                    "kind_label": str(kind.label),
                    "audience_label": str(audience.label),
                    "sessions": sessions,
                    "people": people,
                }


@report_section(
    key="training_plan_progress",
    title=_("年度培训计划完成情况（截至期末）"),
    order=510,
    description=_("本年度计划与年初至期末已举办的培训班、培训人数。"),
    columns=[
        Column("kind_label", _("培训类别")),
        Column("planned_sessions", _("计划期数"), INT),
        Column("held_sessions", _("已举办期数"), INT),
        Column("planned_people", _("计划人数"), INT),
        Column("people_trained", _("已培训人数"), INT),
        Column("people_percent", _("人数完成率"), PERCENT, total=False),
    ],
    row_key=("kind",),
    compare=False,
)
def training_plan_progress(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    figures = plan_vs_actual(branch, period.year, scope, until=period.end)
    for kind in CourseKind:
        lines = [line for line in figures.lines if line.kind == kind.value]
        if not lines:
            continue
        row = {
            name: sum(getattr(line, name) for line in lines)
            for name in ("planned_sessions", "held_sessions", "planned_people", "people_trained")
        }
        yield {
            "kind": kind.value,
            "kind_label": str(kind.label),
            **row,
            "people_percent": _percent(row["people_trained"], row["planned_people"]),
        }
