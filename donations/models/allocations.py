"""Where gifts go: allocation plans (分配方案), allocations of cash (拨付) and goods
(物资调拨令), the donations each draws from (款物去向), and the recipient's
confirmation (清点、查验、入库)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from donations.models.intake import Campaign, Donation, DonationItem, DonationKind, Recipient
from donations.valuation import lot_value
from redcross.models import Branch
from redcross.money import MoneyField
from redcross.signoff import TwoPersonConfirmed
from redcross.uploads import validate_evidence_file

QUANTITY = {"max_digits": 14, "decimal_places": 3}


class AllocationPlan(models.Model):
    """A decision on how to allocate, e.g. a command centre's 分配方案 with its document number."""

    branch = models.ForeignKey(
        Branch, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="allocation_plans"
    )
    document_number = models.CharField(_("文号"), max_length=80)
    title = models.CharField(_("标题"), max_length=200)
    issuing_body = models.CharField(_("发文机关"), max_length=120)
    issued_on = models.DateField(_("发文日期"))
    attachment = models.FileField(
        _("方案文件"), upload_to="donations/plans/%Y/", blank=True, validators=[validate_evidence_file]
    )
    note = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("分配方案")
        verbose_name_plural = _("分配方案")
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "document_number"], name="plan_unique_document_number")
        ]

    def __str__(self) -> str:
        return f"{self.document_number} {self.title}"


class AllocationPlanLine(models.Model):
    """One decision of a plan: so much cash, or so many of an item, to a recipient from a campaign."""

    plan = models.ForeignKey(AllocationPlan, verbose_name=_("分配方案"), on_delete=models.PROTECT, related_name="lines")
    campaign = models.ForeignKey(Campaign, verbose_name=_("募捐活动"), on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(Recipient, verbose_name=_("受赠单位"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类型"), max_length=10, choices=DonationKind.choices)
    amount = MoneyField(_("金额（元）"), null=True, blank=True)
    item_name = models.CharField(_("物资名称"), max_length=120, blank=True)
    quantity = models.DecimalField(_("数量"), null=True, blank=True, **QUANTITY)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("分配方案明细")
        verbose_name_plural = _("分配方案明细")
        ordering = ["id"]

    def __str__(self) -> str:
        what = (
            f"{self.amount} 元" if self.kind == DonationKind.CASH else f"{self.item_name} {self.quantity:g}{self.unit}"
        )
        return f"{self.plan.document_number}：{self.recipient} {what}"


class AllocationBasis(models.TextChoices):
    DONOR_WISH = "donor_wish", _("捐赠人意愿（定向）")
    PLAN = "plan", _("分配方案")
    RETROACTIVE = "retroactive", _("捐赠人直接送达（补办手续）")


class AllocationStatus(models.TextChoices):
    REGISTERED = "registered", _("待复核")
    CONFIRMED = "confirmed", _("已复核")
    CANCELLED = "cancelled", _("已撤销")


class Allocation(TwoPersonConfirmed):
    """Cash paid (拨付) or goods sent (物资调拨令) to a recipient; counts once a second person confirms it."""

    own_confirmation_message = _("双人双签：拨付 %(serial)s 由您登记，须由另一名工作人员复核")

    serial = models.CharField(_("编号"), max_length=30, unique=True, editable=False)
    branch = models.ForeignKey(Branch, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="allocations")
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("募捐活动"), on_delete=models.PROTECT, related_name="allocations"
    )
    recipient = models.ForeignKey(
        Recipient, verbose_name=_("受赠单位"), on_delete=models.PROTECT, related_name="allocations"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=DonationKind.choices)
    basis = models.CharField(_("依据"), max_length=12, choices=AllocationBasis.choices)
    plan_line = models.ForeignKey(
        AllocationPlanLine,
        verbose_name=_("分配方案明细"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocations",
    )
    amount = MoneyField(_("拨付金额（元）"), null=True, blank=True)
    allocated_on = models.DateField(_("拨付日期"))
    voucher_number = models.CharField(_("付款凭证号"), max_length=60, blank=True)
    voucher = models.FileField(
        _("付款凭证"), upload_to="donations/vouchers/%Y/", blank=True, validators=[validate_evidence_file]
    )
    is_retroactive = models.BooleanField(_("补办手续"), default=False)
    status = models.CharField(
        _("状态"), max_length=12, choices=AllocationStatus.choices, default=AllocationStatus.REGISTERED
    )
    note = models.TextField(_("说明"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("拨付")
        verbose_name_plural = _("拨付")
        ordering = ["-allocated_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gt=0), name="allocation_amount_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="cash") | models.Q(amount__isnull=False), name="allocation_cash_has_amount"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "allocated_on"], name="allocation_campaign"),
            models.Index(fields=["recipient", "allocated_on"], name="allocation_recipient"),
        ]
        permissions = [("confirm_allocation", _("复核拨付（双人双签）"))]

    def __str__(self) -> str:
        return self.serial

    @property
    def is_confirmed(self) -> bool:
        return self.status == AllocationStatus.CONFIRMED


class AllocationSource(models.Model):
    """款物去向: how much of which donation (and, for goods, which lot) an allocation took.

    Immutable once written; the allocation's own history records the change.
    """

    allocation = models.ForeignKey(Allocation, verbose_name=_("拨付"), on_delete=models.PROTECT, related_name="sources")
    donation = models.ForeignKey(Donation, verbose_name=_("捐赠"), on_delete=models.PROTECT, related_name="uses")
    item = models.ForeignKey(
        DonationItem, verbose_name=_("物资批次"), on_delete=models.PROTECT, null=True, blank=True, related_name="uses"
    )
    warehouse = models.ForeignKey(
        "donations.Warehouse",
        verbose_name=_("出库仓库"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    amount = MoneyField(_("金额（元）"), null=True, blank=True)
    quantity = models.DecimalField(_("数量"), null=True, blank=True, **QUANTITY)

    class Meta:
        verbose_name = _("款物去向")
        verbose_name_plural = _("款物去向")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(amount__gt=0) & models.Q(item__isnull=True) & models.Q(quantity__isnull=True))
                | (models.Q(item__isnull=False) & models.Q(quantity__gt=0)),
                name="source_cash_or_goods",
            )
        ]
        indexes = [models.Index(fields=["donation", "allocation"], name="source_donation")]

    def __str__(self) -> str:
        return f"{self.allocation} ← {self.donation}"

    @property
    def value(self) -> Decimal | None:
        """Yuan: the cash amount, or the goods' value when the lot has one."""
        if self.item_id is None:
            return self.amount
        return lot_value(self.quantity, self.item.unit_value, self.item.value_basis)


class OpenCash(models.Model):
    """The undirected cash pool as a queue: one row per confirmed undirected cash donation that
    still has money to allocate, with what remains of it.

    Allocations draw from the front (oldest received first) and delete what they take whole in
    one statement, so a 1,000,000-yuan payment over 100k small gifts touches this narrow table,
    not 100k wide donation rows. Derived data: ``cash_pool_sync`` recomputes a donation's row
    from the donation and its sources, and the nightly reconciliation checks every row.
    """

    donation = models.OneToOneField(
        Donation, primary_key=True, on_delete=models.CASCADE, related_name="open_cash", verbose_name=_("捐赠")
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+", db_index=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", db_index=False)
    received_at = models.DateTimeField(_("到账时间"))
    remaining = MoneyField(_("可拨付金额（元）"))

    class Meta:
        verbose_name = _("可拨付捐款")
        verbose_name_plural = _("可拨付捐款")
        indexes = [models.Index(fields=["campaign", "branch", "received_at", "donation"], name="open_cash_fifo")]
        constraints = [models.CheckConstraint(condition=models.Q(remaining__gt=0), name="open_cash_positive")]

    def __str__(self) -> str:
        return f"{self.donation_id}: {self.remaining}"


class RecipientConfirmation(models.Model):
    """The recipient counted, checked and took in what was sent (清点、查验、入库)."""

    allocation = models.OneToOneField(
        Allocation, verbose_name=_("拨付"), on_delete=models.PROTECT, related_name="recipient_confirmation"
    )
    signed_by_name = models.CharField(_("受赠单位签收人"), max_length=60)
    signed_at = models.DateTimeField(_("签收时间"))
    # goods: {"<source id>": "quantity received"}; cash: {} (the bank voucher is the proof)
    quantities_received = models.JSONField(_("实收数量"), default=dict, blank=True)
    amount_received = MoneyField(_("实收金额（元）"), null=True, blank=True)
    scan = models.FileField(
        _("签收单扫描件"), upload_to="donations/confirmations/%Y/", blank=True, validators=[validate_evidence_file]
    )
    note = models.TextField(_("备注"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("受赠单位签收")
        verbose_name_plural = _("受赠单位签收")
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"{self.allocation} {self.signed_by_name}"
