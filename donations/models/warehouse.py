"""Warehouses and stock movements (入库 / 出库 / 调拨 / 盘点), each signed by two keepers,
and the nightly reconciliation of every campaign's books."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from donations.models.allocations import QUANTITY, Allocation
from donations.models.intake import Campaign, DonationItem
from redcross.models import Branch
from redcross.signoff import TwoPersonConfirmed
from redcross.uploads import validate_evidence_file


class Warehouse(models.Model):
    branch = models.ForeignKey(Branch, verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="warehouses")
    name = models.CharField(_("名称"), max_length=120)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("仓库")
        verbose_name_plural = _("仓库")
        ordering = ["branch__path", "name"]
        constraints = [models.UniqueConstraint(fields=["branch", "name"], name="warehouse_unique_name")]

    def __str__(self) -> str:
        return self.name


class MovementKind(models.TextChoices):
    STOCK_IN = "in", _("入库")
    STOCK_OUT = "out", _("出库")
    TRANSFER_OUT = "transfer_out", _("调出")
    TRANSFER_IN = "transfer_in", _("调入")
    ADJUSTMENT = "adjustment", _("盘点调整")


class MovementStatus(models.TextChoices):
    PENDING = "pending", _("待第二人签字")
    CONFIRMED = "confirmed", _("已签字")
    CANCELLED = "cancelled", _("已撤销")


class StockMovement(TwoPersonConfirmed):
    """One signed change of the stock of a lot (a donation's item line) in a warehouse.

    Stock = sum of the confirmed movements' signed quantities; it never goes below zero.
    A movement counts once a second keeper, not the one who recorded it, signs it: the keepers'
    own words (经办 / 复核保管员, 签字) are kept as the labels of the inherited signature pair.
    """

    registrar_field = "recorded_by"
    own_confirmation_message = _("双人签字：出入库记录 %(serial)s 由您登记，须由另一名仓库管理员签字")
    registered_by = None
    registered_at = None

    serial = models.CharField(_("编号"), max_length=30, unique=True, editable=False)
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("仓库"), on_delete=models.PROTECT, related_name="movements")
    item = models.ForeignKey(
        DonationItem, verbose_name=_("物资批次"), on_delete=models.PROTECT, related_name="movements"
    )
    kind = models.CharField(_("类型"), max_length=14, choices=MovementKind.choices)
    # signed: stock-in and transfer-in positive, stock-out and transfer-out negative, adjustments either way
    quantity = models.DecimalField(_("数量"), **QUANTITY)
    moved_at = models.DateTimeField(_("发生时间"))
    status = models.CharField(_("状态"), max_length=10, choices=MovementStatus.choices, default=MovementStatus.PENDING)
    allocation = models.ForeignKey(
        Allocation,
        verbose_name=_("物资调拨令"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="movements",
    )
    # the two movements of a transfer between warehouses point at each other through this
    transfer_pair = models.OneToOneField(
        "self", verbose_name=_("对应调拨"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # stock-in check (数质量检查): what the donor declared, what was counted, in what state
    declared_quantity = models.DecimalField(_("捐赠函数量"), null=True, blank=True, **QUANTITY)
    shortfall_quantity = models.DecimalField(_("短缺数量"), null=True, blank=True, **QUANTITY)
    condition = models.CharField(_("质量状况"), max_length=200, blank=True)
    expiry_date = models.DateField(_("核实有效期"), null=True, blank=True)
    photos = models.FileField(
        _("查验照片"), upload_to="donations/stock/%Y/", blank=True, validators=[validate_evidence_file]
    )
    reason = models.TextField(_("原因"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办保管员"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("复核保管员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("签字时间"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("出入库记录")
        verbose_name_plural = _("出入库记录")
        ordering = ["-moved_at", "-id"]
        constraints = [models.CheckConstraint(condition=~models.Q(quantity=0), name="movement_quantity_nonzero")]
        indexes = [
            models.Index(fields=["item", "warehouse", "status"], name="movement_lot"),
            models.Index(fields=["warehouse", "moved_at"], name="movement_warehouse"),
        ]
        permissions = [("sign_stockmovement", _("保管员签字（出入库）"))]

    def __str__(self) -> str:
        return self.serial


class ReconciliationRun(models.Model):
    """One check of received = allocated + in stock + cash balance for a campaign at a branch."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("募捐活动"), on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(Branch, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField(_("核对时间"), auto_now_add=True)
    is_balanced = models.BooleanField(_("平衡"))
    figures = models.JSONField(_("各项金额"))
    discrepancies = models.JSONField(_("差异"), default=list, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolution = models.TextField(_("处理说明"), blank=True)

    class Meta:
        verbose_name = _("对账记录")
        verbose_name_plural = _("对账记录")
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["campaign", "branch", "checked_at"], name="reconciliation_campaign")]

    def __str__(self) -> str:
        return f"{self.campaign} {self.checked_at:%Y-%m-%d}"
