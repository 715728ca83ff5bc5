"""The donations app's sections of the monthly and annual reports (registered in ``reports.registry``).

Every figure is a SQL aggregate over the ledgers, for a period, a branch and a scope (本级: the
branch alone; 全市系统: the branch and everything below it):

- donations received: confirmed donations whose 到账时间 falls in the period; cash net of
  refunds (as the campaign books count it), goods valued lot by lot where the lot has evidence of
  value (``donations.valuation``: the one rule, in SQL here, in Python for the books); by
  campaign, channel, kind, and directed or not; and, for 全市系统, per branch with the subtree's rollup;
- receipts issued (开票日期 in the period) and reversed (冲红时间 in the period);
- allocations confirmed (复核时间) in the period, by recipient kind: cash paid, goods value
  (each source's quantity × its lot's unit value), count;
- stock at the end of the period per warehouse and item: confirmed movements up to the end;
- the books of every campaign that received or allocated anything in the period, at report time
  (all-time figures, as kept in each write's transaction: ``kept_figures``), with the result of
  the last nightly check, which compares them with the books gift by gift (state, discrepancies).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.models import (
    Allocation,
    AllocationSource,
    AllocationStatus,
    Campaign,
    CampaignKind,
    Channel,
    Donation,
    DonationItem,
    DonationKind,
    MovementStatus,
    Receipt,
    ReceiptReversal,
    Recipient,
    ReconciliationRun,
    StockMovement,
    public_donation_q,
)
from donations.selectors.campaigns import kept_figures
from donations.valuation import fen_to_yuan, has_value_evidence, lot_value, lot_value_fen
from redcross.models import Branch, BranchLevel
from redcross.money import fen
from redcross.selectors import BranchScope, branch_depth, branch_subtree, filter_by_branch_scope
from reports.periods import ReportPeriod
from reports.registry import Chart, Column, ColumnType, Target, report_memo, report_section

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=20, decimal_places=2)

INT, MONEY, QUANTITY = ColumnType.INT, ColumnType.MONEY, ColumnType.QUANTITY


# --- donations received ------------------------------------------------------------------------


def received_donations(period: ReportPeriod, branch: Branch, scope: str) -> QuerySet[Donation]:
    """Confirmed donations received in the period by the branch (本级) or its subtree (全市系统)."""
    donations = Donation.objects.public().filter(received_at__gte=period.start, received_at__lt=period.end)
    return filter_by_branch_scope(donations, branch, scope)


_INTAKE_DIMENSIONS = ("campaign_id", "channel", "kind", "designated_recipient_id", "branch_id")


def _intake_cube(period: ReportPeriod, branch: Branch, scope: str) -> dict[tuple, dict[str, Any]]:
    """{(campaign, channel, kind, designated recipient, branch): {count, cash, goods}} for the
    donations received: two grouped queries, shared by every intake section of a report."""

    def compute() -> dict[tuple, dict[str, Any]]:
        cube: dict[tuple, dict[str, Any]] = defaultdict(lambda: {"count": 0, "cash": ZERO, "goods": ZERO})
        cash = Coalesce(
            Sum(F("amount") - F("refunded_amount"), filter=Q(kind=DonationKind.CASH), output_field=_MONEY),
            Value(ZERO),
            output_field=_MONEY,
        )
        donations = received_donations(period, branch, scope).values(*_INTAKE_DIMENSIONS)
        for row in donations.annotate(count=Count("id"), cash=cash).order_by():
            cube[tuple(row[d] for d in _INTAKE_DIMENSIONS)].update(count=row["count"], cash=fen(row["cash"]))
        items = DonationItem.objects.filter(
            public_donation_q("donation__"),
            donation__kind=DonationKind.IN_KIND,
            donation__received_at__gte=period.start,
            donation__received_at__lt=period.end,
        )
        items = filter_by_branch_scope(items, branch, scope, branch_field="donation__branch").filter(
            has_value_evidence()
        )
        dimensions = [f"donation__{d}" for d in _INTAKE_DIMENSIONS]
        for row in items.values(*dimensions).annotate(value=Sum(lot_value_fen())).order_by():
            cube[tuple(row[d] for d in dimensions)]["goods"] = fen_to_yuan(row["value"])
        return dict(cube)

    return report_memo(("donations.intake", period, branch.pk, str(scope)), compute)


def intake_by(period: ReportPeriod, branch: Branch, scope: str, group: str) -> dict[Any, dict[str, Any]]:
    """{group value: {count, cash, goods, total}} for the donations received, ``group`` one of
    campaign_id, channel, kind, designated_recipient_id, branch_id."""
    at = _INTAKE_DIMENSIONS.index(group)
    out: dict[Any, dict[str, Any]] = {}
    for key, figures in _intake_cube(period, branch, scope).items():
        row = out.setdefault(key[at], {"count": 0, "cash": ZERO, "goods": ZERO})
        for name in ("count", "cash", "goods"):
            row[name] += figures[name]
    for figures in out.values():
        figures["total"] = figures["cash"] + figures["goods"]
    return out


_INTAKE_COLUMNS = (
    Column("count", _("笔数"), INT),
    Column("cash", _("捐款"), MONEY),
    Column("goods", _("物资价值"), MONEY),
    Column("total", _("合计"), MONEY, wan=True),
)


def campaign_targets(period: ReportPeriod, branch: Branch, scope: str) -> dict[tuple, Decimal]:
    """Targets of the special campaigns of the branch (or its subtree) that have one."""
    campaigns = filter_by_branch_scope(Campaign.objects.filter(target_amount__isnull=False), branch, scope)
    return {(pk,): target for pk, target in campaigns.values_list("pk", "target_amount")}


@report_section(
    key="donations_by_campaign",
    title=_("接收捐赠（按募捐活动）"),
    order=100,
    description=_("期内到账并已复核的捐赠；捐款扣除退款，物资按有价值凭证的单价计价。"),
    columns=[
        Column("campaign", _("募捐活动")),
        Column("campaign_branch", _("所属组织")),
        Column("campaign_kind", _("类型")),
        *_INTAKE_COLUMNS,
    ],
    row_key=("campaign_id",),
    target=Target(column="total", values=campaign_targets, header=_("募捐目标")),
    chart=Chart(label="campaign", value="total"),
)
def donations_by_campaign(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    figures = intake_by(period, branch, scope, "campaign_id")
    campaigns = Campaign.objects.select_related("branch").in_bulk(list(figures))
    ordered = sorted(figures.items(), key=lambda pair: (-pair[1]["total"], campaigns[pair[0]].name))
    for campaign_id, row in ordered:
        campaign = campaigns[campaign_id]
        yield {
            "campaign_id": campaign_id,
            "campaign": campaign.name,
            "campaign_branch": campaign.branch.name,
            "campaign_kind": str(CampaignKind(campaign.kind).label),
            **row,
        }


@report_section(
    key="donations_by_channel",
    title=_("接收捐赠（按渠道）"),
    order=110,
    columns=[Column("channel_label", _("渠道")), *_INTAKE_COLUMNS],
    row_key=("channel",),
    chart=Chart(label="channel_label", value="total"),
)
def donations_by_channel(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    figures = intake_by(period, branch, scope, "channel")
    for channel in Channel:
        if channel.value in figures:
            yield {"channel": channel.value, "channel_label": str(channel.label), **figures[channel.value]}


@report_section(
    key="donations_by_kind",
    title=_("接收捐赠（捐款、捐物）"),
    order=120,
    columns=[
        Column("kind_label", _("类型")),
        Column("count", _("笔数"), INT),
        Column("amount", _("金额"), MONEY, wan=True),
    ],
    row_key=("kind",),
    description=_("捐款为到账金额（扣除退款），捐物为物资价值。"),
)
def donations_by_kind(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    figures = intake_by(period, branch, scope, "kind")
    for kind in DonationKind:
        if kind.value in figures:
            row = figures[kind.value]
            yield {
                "kind": kind.value,
                "kind_label": str(kind.label),
                "count": row["count"],
                "amount": row["cash"] if kind == DonationKind.CASH else row["goods"],
            }


@report_section(
    key="donations_directed",
    title=_("接收捐赠（定向、非定向）"),
    order=130,
    columns=[Column("directed_label", _("捐赠意愿")), *_INTAKE_COLUMNS],
    row_key=("directed",),
)
def donations_directed(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    # grouped by designated recipient (few), then merged into directed / undirected
    figures = intake_by(period, branch, scope, "designated_recipient_id")
    merged: dict[bool, dict[str, Any]] = {}
    for recipient_id, row in figures.items():
        target = merged.setdefault(recipient_id is not None, {"count": 0, "cash": ZERO, "goods": ZERO, "total": ZERO})
        for key in target:
            target[key] += row[key]
    for directed, label in ((True, _("定向捐赠")), (False, _("非定向捐赠"))):
        if directed in merged:
            yield {"directed": directed, "directed_label": str(label), **merged[directed]}


# --- per branch (全市系统) ----------------------------------------------------------------------


def confirmed_allocations(period: ReportPeriod, branch: Branch, scope: str) -> QuerySet[Allocation]:
    """Allocations whose second signature (复核) falls in the period."""
    allocations = Allocation.objects.filter(
        status=AllocationStatus.CONFIRMED, confirmed_at__gte=period.start, confirmed_at__lt=period.end
    )
    return filter_by_branch_scope(allocations, branch, scope)


def allocated_by(period: ReportPeriod, branch: Branch, scope: str, group: str) -> dict[Any, dict[str, Any]]:
    """{group value: {count, cash, goods, total}} for allocations confirmed in the period."""
    allocations = confirmed_allocations(period, branch, scope)
    out: dict[Any, dict[str, Any]] = defaultdict(lambda: {"count": 0, "cash": ZERO, "goods": ZERO})
    cash = Coalesce(Sum("amount", filter=Q(kind=DonationKind.CASH)), Value(ZERO), output_field=_MONEY)
    for row in allocations.values(group).annotate(count=Count("id"), cash=cash).order_by():
        out[row[group]].update(count=row["count"], cash=fen(row["cash"]))
    sources = AllocationSource.objects.filter(
        has_value_evidence("item__unit_value", "item__value_basis"),
        allocation__in=allocations,
        item__isnull=False,
        quantity__isnull=False,
    )
    lots = lot_value_fen("quantity", "item__unit_value", "item__value_basis")
    goods = sources.values(f"allocation__{group}").annotate(value=Sum(lots))
    for row in goods.order_by():
        out[row[f"allocation__{group}"]]["goods"] = fen_to_yuan(row["value"])
    for figures in out.values():
        figures["total"] = figures["cash"] + figures["goods"]
    return dict(out)


@report_section(
    key="branch_rollup",
    title=_("各级红十字会汇总"),
    order=150,
    description=_("本级为该组织自身的数字，含下级为该组织及其全部下级组织的合计。"),
    columns=[
        Column("branch", _("组织")),
        Column("level", _("层级")),
        Column("count", _("捐赠笔数"), INT),
        Column("cash", _("捐款"), MONEY),
        Column("goods", _("物资价值"), MONEY),
        Column("own_total", _("本级接收合计"), MONEY, wan=True),
        Column("subtree_total", _("含下级接收合计"), MONEY, wan=True, total=False),
        Column("allocated", _("本级拨付款物"), MONEY),
    ],
    row_key=("branch_id",),
    scopes=frozenset({BranchScope.SYSTEM}),
)
def branch_rollup(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    intake = intake_by(period, branch, BranchScope.SYSTEM, "branch_id")
    allocated = allocated_by(period, branch, BranchScope.SYSTEM, "branch_id")
    branches = list(branch_subtree(branch).only("pk", "name", "path", "level"))
    own = {b.pk: intake.get(b.pk, {}).get("total", ZERO) for b in branches}
    for node in branches:
        row = intake.get(node.pk, {"count": 0, "cash": ZERO, "goods": ZERO, "total": ZERO})
        subtree = sum((own[b.pk] for b in branches if b.is_within(node)), ZERO)
        has_activity = subtree or allocated.get(node.pk)
        if not has_activity and node.pk != branch.pk:
            continue  # branches with nothing in the period stay out of the table
        yield {
            "branch_id": node.pk,
            "branch": "\u3000" * (branch_depth(node) - branch_depth(branch)) + node.name,
            "level": str(BranchLevel(node.level).label),
            "count": row["count"],
            "cash": row["cash"],
            "goods": row["goods"],
            "own_total": row["total"],
            "subtree_total": subtree,
            "allocated": allocated.get(node.pk, {}).get("total", ZERO),
        }


# --- receipts --------------------------------------------------------------------------------------


@report_section(
    key="receipts",
    title=_("捐赠票据"),
    order=200,
    description=_("期内开具的票据和期内冲红的票据；物资无价值凭证的票据只有数量，不计金额。"),
    columns=[
        Column("item", _("项目")),
        Column("count", _("张数"), INT, total=False),
        Column("amount", _("金额"), MONEY, total=False),
    ],
    row_key=("item_key",),
)
def receipts(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    issued = filter_by_branch_scope(
        Receipt.objects.filter(issued_at__gte=period.start, issued_at__lt=period.end), branch, scope
    ).aggregate(n=Count("id"), amount=Sum("total_amount"))
    reversed_ = filter_by_branch_scope(
        ReceiptReversal.objects.filter(reversed_at__gte=period.start, reversed_at__lt=period.end),
        branch,
        scope,
        branch_field="receipt__branch",
    ).aggregate(n=Count("id"), amount=Sum("receipt__total_amount"))
    issued_amount, reversed_amount = fen(issued["amount"]), fen(reversed_["amount"])
    yield {"item_key": "issued", "item": gettext("开具票据"), "count": issued["n"], "amount": issued_amount}
    yield {"item_key": "reversed", "item": gettext("冲红票据"), "count": reversed_["n"], "amount": reversed_amount}
    yield {
        "item_key": "net",
        "item": gettext("净额（开具减冲红）"),
        "count": issued["n"] - reversed_["n"],
        "amount": issued_amount - reversed_amount,
    }


# --- bulletins -------------------------------------------------------------------------------------


@report_section(
    key="bulletins",
    title=_("信息公示"),
    order=250,
    description=_("期内发布的接收公示和使用公告：期数、公示的笔数和金额，以及最后一期的哈希，可在门户网站核验。"),
    columns=[
        Column("kind_label", _("类型")),
        Column("count", _("发布期数"), INT),
        Column("rows", _("公示笔数"), INT),
        Column("amount", _("公示金额"), MONEY, wan=True),
        Column("numbers", _("期号")),
        Column("last_hash", _("最后一期哈希（SHA-256）"), total=False),
    ],
    row_key=("kind",),
)
def bulletins(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    from donations.models import Bulletin, BulletinKind, BulletinStatus

    published = filter_by_branch_scope(
        Bulletin.objects.filter(
            status=BulletinStatus.PUBLISHED, published_at__gte=period.start, published_at__lt=period.end
        ),
        branch,
        scope,
    ).order_by("published_at", "id")
    for kind, label in BulletinKind.choices:
        rows = list(
            published.filter(kind=kind).values_list(
                "branch__code", "number", "content_hash", "content__totals__count", "content__totals__total"
            )
        )
        yield {
            "kind": kind,
            "kind_label": str(label),
            "count": len(rows),
            "rows": sum(int(count or 0) for _c, _n, _h, count, _t in rows),
            "amount": fen(sum((Decimal(str(total or 0)) for *_rest, total in rows), Decimal("0"))),
            "numbers": "、".join(f"{code}第{number}期" for code, number, *_rest in rows),
            "last_hash": rows[-1][2] if rows else "",
        }


# --- allocations -----------------------------------------------------------------------------------


@report_section(
    key="allocations_by_recipient_kind",
    title=_("拨付款物（按受赠单位类型）"),
    order=300,
    description=_("期内复核的拨付；物资按所用批次的单价计价。"),
    columns=[Column("kind_label", _("受赠单位类型")), *_INTAKE_COLUMNS],
    row_key=("kind",),
    chart=Chart(label="kind_label", value="total"),
)
def allocations_by_recipient_kind(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    figures = allocated_by(period, branch, scope, "recipient__kind")
    for kind in Recipient.Kind:
        if kind.value in figures:
            yield {"kind": kind.value, "kind_label": str(kind.label), **figures[kind.value]}


# --- stock at the end of the period ----------------------------------------------------------------


@report_section(
    key="stock_at_end",
    title=_("期末库存物资"),
    order=400,
    description=_("截至期末已签字的出入库记录；价值只计有价值凭证的批次，其余列为未计价数量。"),
    columns=[
        Column("warehouse", _("仓库")),
        Column("warehouse_branch", _("所属组织")),
        Column("item", _("物资名称")),
        Column("specification", _("规格型号")),
        Column("unit", _("单位")),
        Column("quantity", _("期末数量"), QUANTITY),
        Column("unvalued_quantity", _("其中未计价数量"), QUANTITY),
        Column("value", _("期末价值"), MONEY),
    ],
    row_key=("warehouse_id", "item", "specification", "unit"),
)
def stock_at_end(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    movements = filter_by_branch_scope(
        StockMovement.objects.filter(status=MovementStatus.CONFIRMED, moved_at__lt=period.end),
        branch,
        scope,
        branch_field="warehouse__branch",
    )
    lots = (
        movements.values(
            "warehouse_id",
            "warehouse__name",
            "warehouse__branch__name",
            "warehouse__branch__path",
            "item_id",
            "item__name",
            "item__specification",
            "item__unit",
            "item__unit_value",
            "item__value_basis",
        )
        .annotate(quantity_total=Sum("quantity"))
        .order_by()
    )
    groups: dict[tuple, dict[str, Any]] = {}
    for lot in lots:
        quantity = Decimal(lot["quantity_total"] or 0).quantize(Decimal("0.001"))
        if not quantity:
            continue
        key = (lot["warehouse_id"], lot["item__name"], lot["item__specification"], lot["item__unit"])
        row = groups.setdefault(
            key,
            {
                "warehouse_id": lot["warehouse_id"],
                "warehouse": lot["warehouse__name"],
                "warehouse_branch": lot["warehouse__branch__name"],
                "path": lot["warehouse__branch__path"],
                "item": lot["item__name"],
                "specification": lot["item__specification"],
                "unit": lot["item__unit"],
                "quantity": Decimal("0.000"),
                "unvalued_quantity": Decimal("0.000"),
                "value": ZERO,
            },
        )
        row["quantity"] += quantity
        value = lot_value(quantity, lot["item__unit_value"], lot["item__value_basis"])
        if value is None:
            row["unvalued_quantity"] += quantity
        else:
            row["value"] += value
    yield from sorted(groups.values(), key=lambda r: (r["path"], r["warehouse"], r["item"], r["specification"]))


# --- the books -----------------------------------------------------------------------------------


@report_section(
    key="reconciliation",
    title=_("募捐活动账目核对"),
    order=500,
    description=_(
        "期内有接收或拨付的募捐活动在制表时的账目（自开始累计）：接收 = 已拨付 + 库存 + 资金结余 + 核销；"
        "及最近一次夜间对账结果。"
    ),
    columns=[
        Column("campaign", _("募捐活动")),
        Column("branch", _("组织")),
        Column("received", _("接收款物"), MONEY, wan=True),
        Column("allocated", _("已拨付"), MONEY),
        Column("in_stock", _("库存物资"), MONEY),
        Column("cash_balance", _("资金结余"), MONEY),
        Column("written_off", _("核销物资"), MONEY),
        Column("state", _("账目状态")),
        Column("discrepancies", _("差异数"), INT),
        Column("last_checked", _("最近对账时间")),
        Column("last_result", _("最近对账结果")),
    ],
    row_key=("campaign_id", "branch_id"),
    compare=False,
)
def reconciliation(period: ReportPeriod, branch: Branch, scope: str) -> Iterator[dict[str, Any]]:
    from django.utils import timezone

    # the campaigns (at each branch) that received or allocated anything in the period
    pairs = set(received_donations(period, branch, scope).values_list("campaign_id", "branch_id").distinct().order_by())
    pairs |= set(
        confirmed_allocations(period, branch, scope).values_list("campaign_id", "branch_id").distinct().order_by()
    )
    campaigns = Campaign.objects.in_bulk({c for c, _b in pairs})
    branches = Branch.objects.in_bulk({b for _c, b in pairs})
    ordered = sorted(pairs, key=lambda p: (branches[p[1]].path, campaigns[p[0]].name))
    for campaign_id, branch_id in ordered:
        campaign, at = campaigns[campaign_id], branches[branch_id]
        # the kept figures (what the books sum to, kept in each write's transaction), not the books
        # gift by gift: a million-gift campaign's report stays seconds; the books' own check is the
        # nightly reconciliation's, reported with its time
        books = kept_figures(Q(campaign=campaign, branch=at))
        last = ReconciliationRun.objects.filter(campaign=campaign, branch=at).order_by("-checked_at", "-id").first()
        discrepancies = len(last.discrepancies or []) if last else 0
        yield {
            "campaign_id": campaign_id,
            "branch_id": branch_id,
            "campaign": campaign.name,
            "branch": at.name,
            "received": books.received,
            "allocated": books.allocated,
            "in_stock": books.in_stock,
            "cash_balance": books.cash_balance,
            "written_off": books.goods_written_off,
            "state": gettext("平衡") if not discrepancies else gettext("不平衡"),
            "discrepancies": discrepancies,
            "last_checked": f"{timezone.localtime(last.checked_at):%Y-%m-%d %H:%M}" if last else "",
            "last_result": (gettext("平衡") if last.is_balanced else gettext("不平衡")) if last else gettext("未核对"),
        }
