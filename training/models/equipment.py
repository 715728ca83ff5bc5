"""Equipment (教学和急救设备): batches bought under a funding line, the schools and venues that
receive them (红十字示范校 among them), and each distribution with its signed receipt.

A batch's ``distributed`` is kept by ``training.services.equipment`` under a row lock and checked
by the database (never above ``quantity``), so stock can never go below zero.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.models import Branch
from redcross.money import MoneyField
from redcross.uploads import validate_evidence_file
from training.models.plans import FundingLine


class EquipmentKind(models.TextChoices):
    MANIKIN = "manikin", _("心肺复苏模拟人")
    AED = "aed", _("AED（自动体外除颤器）")
    AED_TRAINER = "aed_trainer", _("AED 训练机")
    FIRST_AID_KIT = "first_aid_kit", _("急救包")


class EquipmentBatch(models.Model):
    """A purchase of one kind of equipment: how many, under which funding line, and how many of
    them have gone out. In stock = quantity − distributed."""

    branch = models.ForeignKey(
        Branch, verbose_name=_("采购组织"), on_delete=models.PROTECT, related_name="training_equipment_batches"
    )
    kind = models.CharField(_("设备类别"), max_length=16, choices=EquipmentKind.choices)
    model_name = models.CharField(_("品牌型号"), max_length=120, blank=True)
    quantity = models.PositiveIntegerField(_("采购数量"))
    distributed = models.PositiveIntegerField(_("已发放数量"), default=0, editable=False)
    unit_price = MoneyField(_("单价（元）"), null=True, blank=True)
    funding_line = models.CharField(_("资金渠道"), max_length=16, choices=FundingLine.choices)
    funding = models.ForeignKey(
        "training.PlanFunding",
        verbose_name=_("计划资金"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="equipment_batches",
        help_text=_("年度培训计划中的资金渠道（可选）"),
    )
    purchased_on = models.DateField(_("采购日期"))
    supplier = models.CharField(_("供应商"), max_length=120, blank=True)
    note = models.TextField(_("备注"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("设备采购批次")
        verbose_name_plural = _("设备采购批次")
        ordering = ["-purchased_on", "-id"]
        indexes = [models.Index(fields=["kind", "purchased_on"], name="training_batch_kind_date")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="training_batch_quantity_positive"),
            models.CheckConstraint(
                condition=Q(distributed__lte=F("quantity")), name="training_batch_stock_not_negative"
            ),
        ]

    def __str__(self) -> str:
        label = self.model_name or self.get_kind_display()
        return f"{self.purchased_on:%Y-%m-%d} {label} × {self.quantity}"

    @property
    def in_stock(self) -> int:
        return self.quantity - self.distributed


class SiteKind(models.TextChoices):
    SCHOOL = "school", _("学校")
    VENUE = "venue", _("培训场所")
    COMMUNITY = "community", _("社区")
    PUBLIC_PLACE = "public_place", _("公共场所")
    OTHER = "other", _("其他")


class EquipmentSite(models.Model):
    """A school or venue that receives equipment. A red-cross demonstration school (红十字示范校)
    is a school with the year it was named one."""

    branch = models.ForeignKey(
        Branch, verbose_name=_("所在区县组织"), on_delete=models.PROTECT, related_name="training_equipment_sites"
    )
    name = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(_("类别"), max_length=16, choices=SiteKind.choices, default=SiteKind.SCHOOL)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    demonstration_since = models.PositiveSmallIntegerField(
        _("命名红十字示范校年份"), null=True, blank=True, help_text=_("仅学校；留空表示不是示范校")
    )
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    note = models.TextField(_("备注"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("受配单位（学校、场所）")
        verbose_name_plural = _("受配单位（学校、场所）")
        ordering = ["branch__path", "name"]
        indexes = [models.Index(fields=["demonstration_since"], name="training_site_demonstration")]
        constraints = [
            models.UniqueConstraint(fields=["branch", "name"], name="training_site_unique_name"),
            models.CheckConstraint(
                condition=Q(demonstration_since__isnull=True) | Q(kind="school"),
                name="training_site_demonstration_is_school",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_demonstration_school(self) -> bool:
        return self.demonstration_since is not None


class EquipmentDistribution(models.Model):
    """Equipment from a batch given to a school or venue, with the receipt its recipient signed."""

    batch = models.ForeignKey(
        EquipmentBatch, verbose_name=_("采购批次"), on_delete=models.PROTECT, related_name="distributions"
    )
    site = models.ForeignKey(
        EquipmentSite, verbose_name=_("受配单位"), on_delete=models.PROTECT, related_name="distributions"
    )
    quantity = models.PositiveIntegerField(_("发放数量"))
    distributed_on = models.DateField(_("发放日期"))
    received_by_name = models.CharField(_("签收人"), max_length=50)
    receipt_scan = models.FileField(
        _("签收单扫描件"), upload_to="training/receipts/%Y/", blank=True, validators=[validate_evidence_file]
    )
    note = models.TextField(_("备注"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("设备发放")
        verbose_name_plural = _("设备发放")
        ordering = ["-distributed_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="training_distribution_positive")]

    def __str__(self) -> str:
        return f"{self.site} · {self.batch.get_kind_display()} × {self.quantity}"
