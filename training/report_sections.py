"""The training app's sections of the monthly and annual reports (registered in ``reports.registry``).

Every figure is a SQL aggregate for a period, a branch and a scope (本级 or 全市系统):

- sessions held and people trained in the period, by course kind and audience (the annual report
  sets the year's plan beside them as the target);
- the year's plan vs actual up to the end of the period, by course kind;
- certificates issued (of which renewals), revoked and expired in the period, by kind;
- equipment bought and distributed in the period, by kind;
- the AED registry per branch at report time: AEDs in service, those needing attention (the
  workbench's rule), and the checks recorded in the period.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from redcross.models import Branch
from redcross.selectors import filter_by_branch_scope
from reports.periods import ReportPeriod
from reports.registry import Chart, Column, ColumnType, Target, report_section
from training.models import (
    Aed,
    AedCheck,
    AedStatus,
    Audience,
    Certificate,
    CertificateKind,
    CourseKind,
    EquipmentBatch,
    EquipmentDistribution,
    EquipmentKind,
    PlanTarget,
)
from training.selectors.aeds import aeds_needing_attention
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


@report_section(
    key="training_certificates",
    title=_("培训证书（颁发、换证、撤销、到期）"),
    order=520,
    description=_("期内本平台颁发的证书（其中复训换证）、撤销的证书和到期的证书，按证书类别。"),
    columns=[
        Column("kind_label", _("证书类别")),
        Column("issued", _("颁发"), INT),
        Column("renewed", _("其中复训换证"), INT),
        Column("revoked", _("撤销"), INT),
        Column("expired", _("到期"), INT),
    ],
    row_key=("kind",),
)
def training_certificates(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    start, end = period.start_date, period.end_date
    certificates = filter_by_branch_scope(Certificate.objects.all(), branch, scope)
    issued_here = Q(session__isnull=False, issued_on__gte=start, issued_on__lt=end)
    rows = certificates.values("kind").annotate(
        issued=Count("id", filter=issued_here),
        renewed=Count("id", filter=issued_here & Q(renews__isnull=False)),
        revoked=Count("id", filter=Q(revoked_at__gte=period.start, revoked_at__lt=period.end)),
        expired=Count("id", filter=Q(revoked_at__isnull=True, expires_on__gte=start, expires_on__lt=end)),
    )
    figures = {row["kind"]: row for row in rows.order_by()}
    for kind in CertificateKind:
        row = figures.get(kind.value)
        if row and (row["issued"] or row["revoked"] or row["expired"]):
            yield {
                "kind": kind.value,
                "kind_label": str(kind.label),
                **{name: row[name] for name in ("issued", "renewed", "revoked", "expired")},
            }


@report_section(
    key="training_equipment",
    title=_("应急救护设备（采购、发放）"),
    order=530,
    description=_("期内采购入账和发放到学校、场所的设备数量，按设备类别。"),
    columns=[
        Column("kind_label", _("设备类别")),
        Column("bought", _("采购数量"), INT),
        Column("distributed", _("发放数量"), INT),
        Column("sites", _("发放学校和场所数"), INT, total=False),
    ],
    row_key=("kind",),
)
def training_equipment(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    start, end = period.start_date, period.end_date
    bought = dict(
        filter_by_branch_scope(
            EquipmentBatch.objects.filter(purchased_on__gte=start, purchased_on__lt=end), branch, scope
        )
        .values("kind")
        .annotate(total=Sum("quantity"))
        .values_list("kind", "total")
        .order_by()
    )
    given = {
        row["batch__kind"]: row
        for row in filter_by_branch_scope(
            EquipmentDistribution.objects.filter(distributed_on__gte=start, distributed_on__lt=end),
            branch, scope, branch_field="batch__branch",
        )
        .values("batch__kind")
        .annotate(total=Sum("quantity"), sites=Count("site", distinct=True))
        .order_by()
    }  # fmt: skip
    for kind in EquipmentKind:
        if kind.value in bought or kind.value in given:
            row = given.get(kind.value, {})
            yield {
                "kind": kind.value,
                "kind_label": str(kind.label),
                "bought": bought.get(kind.value, 0),
                "distributed": row.get("total", 0),
                "sites": row.get("sites", 0),
            }


@report_section(
    key="training_aeds",
    title=_("AED 登记与检查（截至报表生成时）"),
    order=540,
    description=_(
        "各组织在用的 AED、需要处理的 AED（检查逾期、从未检查、停用待修、电池或电极片将过期）和期内登记的检查次数。"
    ),
    columns=[
        Column("branch_name", _("组织")),
        Column("in_service", _("在用 AED"), INT),
        Column("due", _("需要处理"), INT),
        Column("checks", _("期内检查次数"), INT),
    ],
    row_key=("branch_id",),
    compare=False,
)
def training_aeds(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    aeds = filter_by_branch_scope(Aed.objects.exclude(status=AedStatus.REMOVED), branch, scope)
    rows = aeds.values("branch_id", "branch__name").annotate(
        in_service=Count("id", filter=Q(status=AedStatus.IN_SERVICE)),
        due=Count("id", filter=Q(pk__in=aeds_needing_attention(branch_ids=None).values("pk"))),
    )
    counts = {
        row["branch_id"]: {"branch_id": row["branch_id"], "branch_name": row["branch__name"],
                           "in_service": row["in_service"], "due": row["due"], "checks": 0}
        for row in rows.order_by()
    }  # fmt: skip
    checks = filter_by_branch_scope(
        AedCheck.objects.filter(checked_on__gte=period.start_date, checked_on__lt=period.end_date),
        branch, scope, branch_field="aed__branch",
    )  # fmt: skip
    for branch_id, total in (
        checks.values("aed__branch").annotate(total=Count("id")).values_list("aed__branch", "total")
    ):
        if branch_id in counts:
            counts[branch_id]["checks"] = total
    yield from sorted(counts.values(), key=lambda row: row["branch_name"])
