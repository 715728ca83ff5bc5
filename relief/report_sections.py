"""The relief app's sections of the monthly and annual reports (registered in ``reports.registry``).

Every figure is a SQL aggregate for a period, a branch and a scope (本级: projects the branch
runs; 全市系统: projects of the branch and every branch below it). The money follows the
project's books (``relief.selectors.books``): funds in are the counted fundings, dated by their
allocation's second signature (复核); paid out and goods out are the live disbursements (cash
awaiting its second signature included, as the books count it), dated by their disbursement date;
the balance is funds in less what went out, both up to the end of the period. People helped are
distinct beneficiaries with a paid disbursement in the period. Referral projects (no money through
the branch) have their own table.

- projects by kind and status (the status at the end of the period);
- each project: households or people helped (as the project counts them), money in and out, balance;
- households and people helped by project kind and by district (the beneficiary's branch);
- referral outcomes: applications received, forwarded, granted and declined in the period;
- 博爱家园: the year's shares and the dividends paid in the period, per project and year.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Case, CharField, Count, DecimalField, Q, QuerySet, Sum, Value, When
from django.utils.translation import gettext_lazy as _

from redcross.models import Branch
from redcross.money import fen
from redcross.selectors import filter_by_branch_scope
from relief.models import (
    Aid,
    AidPurpose,
    AidStatus,
    AidUnit,
    Application,
    ApplicationStatus,
    BeneficiaryKind,
    LivelihoodShare,
    Project,
    ProjectFunding,
    ProjectKind,
    ProjectStatus,
    ReferralOutcome,
)
from reports.periods import ReportPeriod
from reports.registry import Chart, Column, ColumnType, report_memo, report_section

ZERO = Decimal("0.00")
INT, MONEY, QUANTITY = ColumnType.INT, ColumnType.MONEY, ColumnType.QUANTITY
_MONEY = DecimalField(max_digits=20, decimal_places=2)


def _sum(field: str, condition: Q) -> Sum:
    return Sum(field, filter=condition, output_field=_MONEY, default=ZERO)


def scoped_projects(period: ReportPeriod, branch: Branch, scope: str) -> QuerySet[Project]:
    """Projects with money (not referral ones) of the branch or its subtree whose own period began
    before the end of the report's and that were not closed before it began, with their status at
    the end of the period."""
    projects = Project.objects.filter(is_referral=False, starts_on__lt=period.end_date)
    projects = projects.exclude(closed_at__lt=period.start)
    status_at_end = Case(
        When(closed_at__lt=period.end, then=Value(ProjectStatus.CLOSED.value)),
        When(opened_at__lt=period.end, then=Value(ProjectStatus.OPEN.value)),
        default=Value(ProjectStatus.PLANNED.value),
        output_field=CharField(),
    )
    return filter_by_branch_scope(projects, branch, scope).annotate(status_at_end=status_at_end)


def project_figures(period: ReportPeriod, branch: Branch, scope: str) -> dict[int, dict[str, Any]]:
    """{project id: its facts and figures for the period}: three grouped queries, shared by the
    sections of one report."""

    def compute() -> dict[int, dict[str, Any]]:
        start, end = period.start, period.end
        first, after = period.start_date, period.end_date
        projects = scoped_projects(period, branch, scope).values(
            "pk", "code", "name", "kind", "unit", "budget", "status_at_end", "branch__name"
        )
        out: dict[int, dict[str, Any]] = {}
        for row in projects.order_by("code"):
            out[row["pk"]] = {
                **row,
                "funds_in_cash": ZERO, "funds_in_goods": ZERO, "paid_out": ZERO, "goods_out": ZERO,
                "in_to_end": ZERO, "out_to_end": ZERO, "helped": 0,
            }  # fmt: skip
        if not out:
            return out
        confirmed = Q(allocation__confirmed_at__gte=start, allocation__confirmed_at__lt=end)
        fundings = (
            ProjectFunding.objects.filter(project_id__in=list(out))
            .values("project_id")
            .annotate(
                cash=_sum("value", confirmed & Q(kind="cash")),
                goods=_sum("value", confirmed & Q(kind="in_kind")),
                to_end=_sum("value", Q(allocation__confirmed_at__lt=end)),
            )
            .order_by()
        )
        for row in fundings:
            figures = out[row["project_id"]]
            figures.update(funds_in_cash=row["cash"], funds_in_goods=row["goods"], in_to_end=row["to_end"])
        in_period = Q(disbursed_on__gte=first, disbursed_on__lt=after)
        aids = (
            Aid.objects.filter(project_id__in=list(out))
            .exclude(status=AidStatus.CANCELLED)
            .values("project_id")
            .annotate(
                cash=_sum("amount", in_period),
                goods=_sum("goods_value", in_period),
                cash_to_end=_sum("amount", Q(disbursed_on__lt=after)),
                goods_to_end=_sum("goods_value", Q(disbursed_on__lt=after)),
                helped=Count("beneficiary", distinct=True, filter=in_period & Q(status=AidStatus.PAID)),
            )
            .order_by()
        )
        for row in aids:
            out[row["project_id"]].update(
                paid_out=row["cash"],
                goods_out=row["goods"],
                out_to_end=row["cash_to_end"] + row["goods_to_end"],
                helped=row["helped"],
            )
        for figures in out.values():
            figures["balance"] = figures["in_to_end"] - figures["out_to_end"]
        return out

    return report_memo(("relief.projects", period, branch.pk, str(scope)), compute)


_MONEY_COLUMNS = (
    Column("funds_in_cash", _("期内拨入资金"), MONEY),
    Column("funds_in_goods", _("期内拨入物资"), MONEY),
    Column("paid_out", _("期内发放资金"), MONEY),
    Column("goods_out", _("期内发放物资"), MONEY),
    Column("balance", _("期末结余"), MONEY, wan=True),
)
_MONEY_KEYS = ("funds_in_cash", "funds_in_goods", "paid_out", "goods_out", "balance")


@report_section(
    key="relief_projects_by_kind",
    title=_("人道救助项目（按类型和状态）"),
    order=600,
    description=_(
        "期末前已开始、期初前未结项的救助项目（不含转介项目），状态为期末时的状态；拨入按拨付的复核时间，"
        "发放按发放日期（含待第二人签字的现金），结余为截至期末的拨入减发放。"
    ),
    columns=[
        Column("kind_label", _("项目类型")),
        Column("status_label", _("状态")),
        Column("projects", _("项目数"), INT),
        Column("budget", _("预算"), MONEY, wan=True),
        *_MONEY_COLUMNS,
    ],
    row_key=("kind", "status"),
)
def relief_projects_by_kind(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for figures in project_figures(period, branch, scope).values():
        key = (figures["kind"], figures["status_at_end"])
        row = grouped.setdefault(key, {"projects": 0, "budget": ZERO, **dict.fromkeys(_MONEY_KEYS, ZERO)})
        row["projects"] += 1
        row["budget"] += figures["budget"] or ZERO
        for name in _MONEY_KEYS:
            row[name] += figures[name]
    for kind in ProjectKind:
        for status in ProjectStatus:
            if (kind.value, status.value) in grouped:
                yield {
                    "kind": kind.value,
                    "status": status.value,
                    "kind_label": str(kind.label),
                    "status_label": str(status.label),
                    **grouped[(kind.value, status.value)],
                }


@report_section(
    key="relief_projects",
    title=_("人道救助项目（逐项）"),
    order=610,
    description=_(
        "受助户数或人数按项目的救助对象计，为期内获得发放（已发放）的受助人（户），同一户在多个项目中各计一次；"
        "金额口径同上表。"
    ),
    columns=[
        Column("project", _("项目")),
        Column("project_branch", _("实施组织")),
        Column("kind_label", _("项目类型")),
        Column("status_label", _("状态")),
        Column("households", _("受助户数"), INT, total=False),
        Column("persons", _("受助人数"), INT, total=False),
        *_MONEY_COLUMNS,
        Column("given_out", _("期内发放合计"), MONEY, wan=True),
    ],
    row_key=("code",),
    chart=Chart(label="project", value="given_out"),
)
def relief_projects(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    for figures in project_figures(period, branch, scope).values():
        household = figures["unit"] == AidUnit.HOUSEHOLD
        yield {
            "code": figures["code"],
            "project": f"{figures['name']}（{figures['code']}）",
            "project_branch": figures["branch__name"],
            "kind_label": str(ProjectKind(figures["kind"]).label),
            "status_label": str(ProjectStatus(figures["status_at_end"]).label),
            "households": figures["helped"] if household else None,
            "persons": None if household else figures["helped"],
            **{name: figures[name] for name in _MONEY_KEYS},
            "given_out": figures["paid_out"] + figures["goods_out"],
        }


# --- people helped ---------------------------------------------------------------------------------


def paid_aids(period: ReportPeriod, branch: Branch, scope: str) -> QuerySet[Aid]:
    """Paid disbursements of the scope's projects whose disbursement date falls in the period."""
    aids = Aid.objects.filter(
        status=AidStatus.PAID, disbursed_on__gte=period.start_date, disbursed_on__lt=period.end_date
    )
    return filter_by_branch_scope(aids, branch, scope, branch_field="project__branch")


def _helped(aids: QuerySet[Aid], group: str) -> QuerySet:
    return (
        aids.values(group)
        .annotate(
            households=Count("beneficiary", distinct=True, filter=Q(beneficiary__kind=BeneficiaryKind.HOUSEHOLD)),
            persons=Count("beneficiary", distinct=True, filter=Q(beneficiary__kind=BeneficiaryKind.PERSON)),
            count=Count("id"),
            cash=Sum("amount", output_field=_MONEY, default=ZERO),
            goods=Sum("goods_value", output_field=_MONEY, default=ZERO),
        )
        .order_by()
    )


_HELPED_COLUMNS = (
    Column("count", _("发放笔数"), INT),
    Column("cash", _("发放资金"), MONEY),
    Column("goods", _("发放物资"), MONEY),
    Column("total", _("合计"), MONEY, wan=True),
)


@report_section(
    key="relief_helped_by_kind",
    title=_("人道救助受助户和受助人（按项目类型）"),
    order=620,
    description=_(
        "期内获得发放（已发放）的受助家庭和个人，按受助人（户）登记的类型计；同一户在同类多个项目中只计一次，"
        "在不同类型的项目中各计一次，故户数、人数不合计。"
    ),
    columns=[
        Column("kind_label", _("项目类型")),
        Column("households", _("受助户数"), INT, total=False),
        Column("persons", _("受助人数"), INT, total=False),
        *_HELPED_COLUMNS,
    ],
    row_key=("kind",),
    chart=Chart(label="kind_label", value="total"),
)
def relief_helped_by_kind(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    figures = {row["project__kind"]: row for row in _helped(paid_aids(period, branch, scope), "project__kind")}
    for kind in ProjectKind:
        if kind.value in figures:
            row = figures[kind.value]
            yield {
                "kind": kind.value,
                "kind_label": str(kind.label),
                "households": row["households"],
                "persons": row["persons"],
                "count": row["count"],
                "cash": fen(row["cash"]),
                "goods": fen(row["goods"]),
                "total": fen(row["cash"] + row["goods"]),
            }


@report_section(
    key="relief_helped_by_district",
    title=_("人道救助受助户和受助人（按地区）"),
    order=630,
    description=_("期内获得发放（已发放）的受助家庭和个人，按受助人（户）所在区县组织；每户只属于一个地区。"),
    columns=[
        Column("district", _("地区")),
        Column("households", _("受助户数"), INT),
        Column("persons", _("受助人数"), INT),
        *_HELPED_COLUMNS,
    ],
    row_key=("branch_id",),
)
def relief_helped_by_district(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    rows = list(_helped(paid_aids(period, branch, scope), "beneficiary__branch"))
    if not rows:
        return
    districts = Branch.objects.only("name", "path").in_bulk([row["beneficiary__branch"] for row in rows])
    for row in sorted(rows, key=lambda r: districts[r["beneficiary__branch"]].path):
        yield {
            "branch_id": row["beneficiary__branch"],
            "district": districts[row["beneficiary__branch"]].name,
            "households": row["households"],
            "persons": row["persons"],
            "count": row["count"],
            "cash": fen(row["cash"]),
            "goods": fen(row["goods"]),
            "total": fen(row["cash"] + row["goods"]),
        }


# --- referral projects -----------------------------------------------------------------------------


@report_section(
    key="relief_referrals",
    title=_("转介项目（协助申请全国性基金资助）"),
    order=640,
    description=_(
        "期内受理的申请、经审批转报实施机构的申请，以及期内登记的实施机构结果（获得资助、未获资助）；"
        "等待结果为截至期末已转报、尚无结果的申请。资助金额由实施机构直接拨付，不经本会。"
    ),
    columns=[
        Column("project", _("项目")),
        Column("referral_body", _("实施机构")),
        Column("received", _("受理申请"), INT),
        Column("forwarded", _("转报"), INT),
        Column("granted", _("获得资助"), INT),
        Column("declined", _("未获资助"), INT),
        Column("pending", _("等待结果（期末）"), INT),
        Column("granted_amount", _("实施机构资助金额"), MONEY, wan=True),
    ],
    row_key=("code",),
)
def relief_referrals(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    start, end = period.start, period.end
    applications = filter_by_branch_scope(
        Application.objects.filter(project__is_referral=True), branch, scope, branch_field="project__branch"
    )
    outcome_in_period = Q(referral_outcome_at__gte=start, referral_outcome_at__lt=end)
    granted = outcome_in_period & Q(referral_outcome=ReferralOutcome.GRANTED)
    forwarded_by_end = Q(decided_at__lt=end, status=ApplicationStatus.FORWARDED)
    rows = (
        applications.values("project__code", "project__name", "project__referral_body")
        .annotate(
            received=Count("id", filter=Q(submitted_at__gte=start, submitted_at__lt=end)),
            forwarded=Count(
                "id", filter=Q(decided_at__gte=start, decided_at__lt=end, status=ApplicationStatus.FORWARDED)
            ),
            granted=Count("id", filter=granted),
            declined=Count("id", filter=outcome_in_period & Q(referral_outcome=ReferralOutcome.DECLINED)),
            pending=Count(
                "id", filter=forwarded_by_end & (Q(referral_outcome_at__isnull=True) | Q(referral_outcome_at__gte=end))
            ),
            granted_amount=Sum("referral_amount", filter=granted, output_field=_MONEY, default=ZERO),
        )
        .order_by("project__code")
    )
    for row in rows:
        if row["received"] or row["forwarded"] or row["granted"] or row["declined"] or row["pending"]:
            yield {
                "code": row["project__code"],
                "project": row["project__name"],
                "referral_body": row["project__referral_body"],
                **{name: row[name] for name in ("received", "forwarded", "granted", "declined", "pending")},
                "granted_amount": fen(row["granted_amount"]),
            }


# --- 博爱家园 ---------------------------------------------------------------------------------------


@report_section(
    key="relief_livelihood",
    title=_("博爱家园（入股和分红）"),
    order=650,
    description=_("报表年度登记的入股户数和股份数，以及期内发放的分红（按分红所属年度）。"),
    columns=[
        Column("project", _("项目")),
        Column("year", _("年度")),
        Column("shareholders", _("入股户数"), INT),
        Column("shares", _("股份数"), QUANTITY),
        Column("dividend_households", _("分红户数"), INT),
        Column("dividends", _("分红金额"), MONEY, wan=True),
    ],
    row_key=("code", "year"),
)
def relief_livelihood(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    shares = filter_by_branch_scope(
        LivelihoodShare.objects.filter(year=period.year), branch, scope, branch_field="project__branch"
    )
    dividends = paid_aids(period, branch, scope).filter(purpose=AidPurpose.DIVIDEND)
    out: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"shareholders": 0, "shares": Decimal(0), "dividend_households": 0, "dividends": ZERO}
    )
    names: dict[str, str] = {}
    for row in (
        shares.values("project__code", "project__name", "year")
        .annotate(households=Count("beneficiary", distinct=True), total=Sum("shares"))
        .order_by()
    ):
        names[row["project__code"]] = row["project__name"]
        out[(row["project__code"], str(row["year"]))].update(shareholders=row["households"], shares=row["total"])
    for row in (
        dividends.values("project__code", "project__name", "period")
        .annotate(households=Count("beneficiary", distinct=True), total=Sum("amount"))
        .order_by()
    ):
        names[row["project__code"]] = row["project__name"]
        out[(row["project__code"], row["period"])].update(
            dividend_households=row["households"], dividends=fen(row["total"])
        )
    for (code, year), row in sorted(out.items()):
        yield {"code": code, "project": names[code], "year": year, **row}
