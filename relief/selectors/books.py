"""A project's books: funds in (allocations) = paid out + goods out + balance, to the fen.

The running totals on the project row are kept by the services; ``project_books`` recomputes
every figure from the rows (fundings, disbursements, goods lines, the allocations themselves)
and lists each disagreement. The nightly check (``relief.services.books.relief_books_check_all``)
records the result for every project with money.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from donations.models import Allocation, AllocationSource, AllocationStatus, DonationKind
from relief.models import Aid, AidGoodsLine, AidStatus, Project, ProjectFunding

ZERO = Decimal("0.00")


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


@dataclass
class ProjectBooks:
    funds_in_cash: Decimal
    funds_in_goods: Decimal
    paid_out: Decimal
    goods_out: Decimal
    discrepancies: list[str] = field(default_factory=list)

    @property
    def funds_in(self) -> Decimal:
        return self.funds_in_cash + self.funds_in_goods

    @property
    def cash_balance(self) -> Decimal:
        return self.funds_in_cash - self.paid_out

    @property
    def goods_balance(self) -> Decimal:
        return self.funds_in_goods - self.goods_out

    @property
    def balance(self) -> Decimal:
        return self.cash_balance + self.goods_balance

    @property
    def is_balanced(self) -> bool:
        return not self.discrepancies

    def figures(self) -> dict[str, str]:
        return {
            "funds_in": str(self.funds_in),
            "funds_in_cash": str(self.funds_in_cash),
            "funds_in_goods": str(self.funds_in_goods),
            "paid_out": str(self.paid_out),
            "goods_out": str(self.goods_out),
            "balance": str(self.balance),
        }


def project_books(project: Project) -> ProjectBooks:
    """Every figure recomputed from the rows; each disagreement with the running totals, the
    allocations or the goods received is listed (no names: numbers and serials only)."""
    project = Project.objects.get(pk=project.pk)
    fundings = ProjectFunding.objects.filter(project=project)
    cash_in = _money(fundings.filter(kind=DonationKind.CASH).aggregate(t=Sum("value"))["t"])
    goods_in = _money(fundings.filter(kind=DonationKind.IN_KIND).aggregate(t=Sum("value"))["t"])
    live = Aid.objects.filter(project=project).exclude(status=AidStatus.CANCELLED)
    totals = live.aggregate(cash=Sum("amount"), goods=Sum("goods_value"))
    books = ProjectBooks(
        funds_in_cash=cash_in,
        funds_in_goods=goods_in,
        paid_out=_money(totals["cash"]),
        goods_out=_money(totals["goods"]),
    )
    problems = books.discrepancies
    stored = {
        _("资金到账"): (project.funds_in_cash, books.funds_in_cash),
        _("物资到账"): (project.funds_in_goods, books.funds_in_goods),
        _("已发放资金"): (project.paid_out, books.paid_out),
        _("已发放物资"): (project.goods_out, books.goods_out),
    }
    for label, (kept, computed) in stored.items():
        if _money(kept) != computed:
            problems.append(_("%(label)s：项目记录 %(kept)s 元，明细合计 %(computed)s 元") % {
                "label": label, "kept": kept, "computed": computed})  # fmt: skip
    if books.cash_balance < 0:
        problems.append(_("资金发放超出到账 %(x)s 元") % {"x": -books.cash_balance})
    if books.goods_balance < 0:
        problems.append(_("物资发放超出到账 %(x)s 元") % {"x": -books.goods_balance})
    # each funding still matches its allocation
    for funding in fundings.select_related("allocation"):
        allocation = funding.allocation
        if allocation.status != AllocationStatus.CONFIRMED or allocation.recipient_id != project.recipient_id:
            problems.append(_("拨付 %(serial)s 已不是本项目的有效拨付") % {"serial": allocation.serial})
        elif allocation.kind == DonationKind.CASH and allocation.amount != funding.value:
            problems.append(_("拨付 %(serial)s 金额与计入项目的金额不符") % {"serial": allocation.serial})
    if project.recipient_id:
        uncounted = Allocation.objects.filter(
            recipient_id=project.recipient_id, status=AllocationStatus.CONFIRMED, relief_funding__isnull=True
        ).values_list("serial", flat=True)
        for serial in uncounted[:20]:
            problems.append(_("拨付 %(serial)s 已拨给本项目但未计入项目资金") % {"serial": serial})
    # goods handed out never exceed what each lot brought in
    given = (
        AidGoodsLine.objects.filter(aid__project=project)
        .exclude(aid__status=AidStatus.CANCELLED)
        .values("source_id")
        .annotate(out=Sum("quantity"))
    )
    received = dict(
        AllocationSource.objects.filter(pk__in=[row["source_id"] for row in given]).values_list("pk", "quantity")
    )
    for row in given:
        if row["out"] > (received.get(row["source_id"]) or 0):
            problems.append(_("物资批次 #%(id)s 发放数量超过调入数量") % {"id": row["source_id"]})
    return books


def projects_to_check():
    """Projects with money: not referral ones."""
    return (
        Project.objects.filter(is_referral=False).filter(Q(fundings__isnull=False) | Q(aids__isnull=False)).distinct()
    )
