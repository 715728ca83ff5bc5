"""Relief's part of a usage announcement (使用公告): each project's disbursements in the period as
counts and totals, never a person.

Registered with the donations app's bulletins in ``relief.apps`` (``register_usage_lines``). A usage
announcement of a branch lists the paid disbursements of the branch's projects (of a campaign's
announcement: the projects an allocation of that campaign funded) made in the period, and those
made up to ``BULLETIN_LATE_LOOKBACK_DAYS`` before it that no published announcement of the same
branch and scope listed yet (cash counts once its second signature is given, which may come later):
the same rule as the allocations it publishes. What was counted is recorded on publication
(``relief.services.bulletins.bulletin_aids_record``).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from donations.models import Bulletin, BulletinStatus
from donations.services.bulletins.compose import UsageLines, lookback_days
from relief.models import Aid, AidStatus, AidUnit, BulletinAid, ProjectFunding, ProjectKind

ZERO = Decimal("0.00")


def _money(value: Decimal | None) -> str:
    return f"{Decimal(value or 0).quantize(ZERO)}"


def bulletin_aids(*, branch_id: int, start: date, end: date, campaign_id: int | None = None) -> QuerySet[Aid]:
    """Paid disbursements a usage announcement of this scope and period counts (in the period, or late)."""
    aids = Aid.objects.filter(status=AidStatus.PAID, project__branch_id=branch_id)
    if campaign_id is not None:
        funded = ProjectFunding.objects.filter(allocation__campaign_id=campaign_id).values("project_id")
        aids = aids.filter(project_id__in=funded)
    listed = BulletinAid.objects.filter(
        aid=OuterRef("pk"),
        bulletin__branch_id=branch_id,
        bulletin__campaign_id=campaign_id,
        bulletin__status=BulletinStatus.PUBLISHED,
    )
    return aids.filter(
        Q(disbursed_on__gte=start, disbursed_on__lte=end)
        | (Q(disbursed_on__gte=start - timedelta(days=lookback_days()), disbursed_on__lt=start) & ~Exists(listed))
    )


def _columns() -> list[tuple[str, str, str]]:
    return [
        ("project", _("救助项目"), "text"),
        ("kind", _("项目类型"), "text"),
        ("households", _("受助户数"), "int"),
        ("persons", _("受助人数"), "int"),
        ("count", _("发放笔数"), "int"),
        ("cash", _("发放资金（元）"), "money"),
        ("goods_value", _("发放物资价值（元）"), "money"),
        ("total", _("合计（元）"), "money"),
    ]


def relief_usage_lines(bulletin: Bulletin) -> UsageLines | None:
    """The announcement's table: one row per project, households or people helped (as the project
    counts them), disbursements, cash and goods value; two queries."""
    aids = bulletin_aids(
        branch_id=bulletin.branch_id,
        start=bulletin.period_start,
        end=bulletin.period_end,
        campaign_id=bulletin.campaign_id,
    )
    figures = (
        aids.values("project_id", "project__name", "project__code", "project__kind", "project__unit")
        .annotate(
            helped=Count("beneficiary", distinct=True),
            count=Count("id"),
            cash=Sum("amount"),
            goods=Sum("goods_value"),
        )
        .order_by("project__code")
    )
    rows: list[dict] = []
    totals = {"households": 0, "persons": 0, "count": 0, "cash": ZERO, "goods_value": ZERO}
    for row in figures:
        cash, goods = Decimal(row["cash"] or 0), Decimal(row["goods"] or 0)
        unit = "households" if row["project__unit"] == AidUnit.HOUSEHOLD else "persons"
        rows.append(
            {
                "project": row["project__name"],
                "code": row["project__code"],
                "kind": str(ProjectKind(row["project__kind"]).label),
                "households": row["helped"] if unit == "households" else None,
                "persons": row["helped"] if unit == "persons" else None,
                "count": row["count"],
                "cash": _money(cash),
                "goods_value": _money(goods),
                "total": _money(cash + goods),
                "url": reverse("relief:project", args=[row["project_id"]]),
            }
        )
        totals[unit] += row["helped"]
        totals["count"] += row["count"]
        totals["cash"] += cash
        totals["goods_value"] += goods
    if not rows:
        return None
    totals["total"] = totals["cash"] + totals["goods_value"]
    for key in ("cash", "goods_value", "total"):
        totals[key] = _money(totals[key])
    if bulletin.campaign_id is None:
        note = _(
            "期内各救助项目向受助人（户）发放的资金和物资，现金发放经第二人签字后计入；"
            "以前期间发放、复核较晚而未公告的一并列入。只列人数和金额，不列受助人信息。"
        )
    else:  # one sentence each, so the page can translate the note as published
        note = _(
            "本活动拨付资助的救助项目期内向受助人（户）发放的资金和物资，现金发放经第二人签字后计入；"
            "以前期间发放、复核较晚而未公告的一并列入。只列人数和金额，不列受助人信息。"
        )
    return UsageLines(
        title=_("人道救助发放（按项目）"),
        columns=_columns(),
        rows=rows,
        totals=totals,
        ids=list(aids.values_list("pk", flat=True)),
        note=note,
    )
