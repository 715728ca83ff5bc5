"""The public figures kept up to date: what the campaign pages, the campaign list, the home page
and the reports' totals read instead of summing a million gifts on every request.

Rows are derived data, written only by ``donations.services.figures`` in the transaction of the
write that changes them (confirmation, refund, correction, allocation, stock movement, batch
load), as the difference of the same sums the books compute (``donations.selectors.books``), and
checked every night against a full recomputation (``reconciliation_check``). Amounts are whole
fen (exact on SQLite and PostgreSQL); ``donations.selectors.books.Figures`` turns them into yuan.

One row per campaign, branch and day, never one row per campaign: during a surge every
confirmation would wait on the same row. The day of a row is the local day (``TIME_ZONE``) a
donation was received for what came from donations and their lots, and the allocation date for
what allocations paid or reserved.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from donations.models.intake import Campaign, Recipient
from redcross.models import Branch

# the additive figures of the books, in the order of the columns below (fen except the counts)
FIGURE_COLUMNS = (
    "donations",
    "cash_gross",
    "cash_refunded",
    "goods_received",
    "unvalued_lots",
    "cash_allocated",
    "cash_reserved",
    "cash_paid",
    "goods_allocated",
    "goods_in_stock",
    "goods_awaiting_check",
    "goods_written_off",
)
COUNT_COLUMNS = frozenset({"donations", "unvalued_lots"})


class CampaignDayFigures(models.Model):
    campaign = models.ForeignKey(Campaign, verbose_name=_("募捐活动"), on_delete=models.CASCADE, related_name="+")
    branch = models.ForeignKey(Branch, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("日期"))
    donations = models.BigIntegerField(_("捐赠笔数"), default=0)
    cash_gross = models.BigIntegerField(_("捐款金额（分）"), default=0)
    cash_refunded = models.BigIntegerField(_("退款金额（分）"), default=0)
    goods_received = models.BigIntegerField(_("物资价值（分）"), default=0)
    unvalued_lots = models.BigIntegerField(_("未标价物资批次"), default=0)
    cash_allocated = models.BigIntegerField(_("已拨付捐款（分）"), default=0)
    cash_reserved = models.BigIntegerField(_("待复核拨付（分）"), default=0)
    cash_paid = models.BigIntegerField(_("拨付金额（分）"), default=0)
    goods_allocated = models.BigIntegerField(_("已调拨物资价值（分）"), default=0)
    goods_in_stock = models.BigIntegerField(_("库存物资价值（分）"), default=0)
    goods_awaiting_check = models.BigIntegerField(_("待验收物资价值（分）"), default=0)
    goods_written_off = models.BigIntegerField(_("损耗核销价值（分）"), default=0)

    class Meta:
        verbose_name = _("募捐活动每日数字")
        verbose_name_plural = _("募捐活动每日数字")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "branch", "day"], name="campaign_day_figures_unique")
        ]
        indexes = [models.Index(fields=["day"], name="campaign_day_figures_day")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.branch_id}/{self.day}"


class CampaignRecipientFigures(models.Model):
    """Yuan (in fen) allocated by confirmed allocations to each kind of recipient (按受赠单位类型)."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("募捐活动"), on_delete=models.CASCADE, related_name="+")
    branch = models.ForeignKey(Branch, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="+")
    recipient_kind = models.CharField(_("受赠单位类型"), max_length=20, choices=Recipient.Kind.choices)
    allocated = models.BigIntegerField(_("已拨付（分）"), default=0)

    class Meta:
        verbose_name = _("募捐活动按受赠单位类型拨付")
        verbose_name_plural = _("募捐活动按受赠单位类型拨付")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "branch", "recipient_kind"], name="campaign_recipient_figures_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.branch_id}/{self.recipient_kind}"
