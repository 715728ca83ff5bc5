"""Disbursements (救助发放): cash by bank transfer (with its voucher) or in cash with two signatures
(双人双签), or goods from what the project's transfer orders (物资调拨令) brought in; the
recipient's signature or thumbprint scan; and 博爱家园 livelihood shares, whose yearly dividends
are disbursements too."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.money import MoneyField
from redcross.signoff import TwoPersonConfirmed
from redcross.uploads import validate_evidence_file

QUANTITY = {"max_digits": 14, "decimal_places": 3}


class AidMethod(models.TextChoices):
    BANK = "bank", _("银行转账")
    CASH = "cash", _("现金（双人签字）")
    GOODS = "goods", _("物资")


class AidPurpose(models.TextChoices):
    AID = "aid", _("救助")
    DIVIDEND = "dividend", _("博爱家园分红")


class AidStatus(models.TextChoices):
    REGISTERED = "registered", _("待第二人签字")
    PAID = "paid", _("已发放")
    CANCELLED = "cancelled", _("已撤销")


class Aid(TwoPersonConfirmed):
    """One disbursement to one beneficiary of one project (or one year's dividend of a livelihood
    project). At most one per beneficiary per project period: ``period`` is empty for the whole
    project period, the year for dividends."""

    own_confirmation_message = _("双人双签：现金发放 %(serial)s 由您登记，须由另一名工作人员签字")

    number = models.CharField(_("发放编号"), max_length=30, unique=True, editable=False)
    project = models.ForeignKey(
        "relief.Project", verbose_name=_("救助项目"), on_delete=models.PROTECT, related_name="aids"
    )
    application = models.ForeignKey(
        "relief.Application", verbose_name=_("救助申请"), on_delete=models.PROTECT, related_name="aids"
    )
    beneficiary = models.ForeignKey(
        "relief.Beneficiary", verbose_name=_("受助人（户）"), on_delete=models.PROTECT, related_name="aids"
    )
    branch = models.ForeignKey(
        "redcross.Branch", verbose_name=_("区县组织"), on_delete=models.PROTECT, related_name="relief_aids"
    )
    purpose = models.CharField(_("用途"), max_length=10, choices=AidPurpose.choices, default=AidPurpose.AID)
    period = models.CharField(_("期间"), max_length=10, blank=True, help_text=_("分红为年度，其余为空（整个项目期）"))
    method = models.CharField(_("发放方式"), max_length=8, choices=AidMethod.choices)
    amount = MoneyField(_("发放金额（元）"), default=0)
    goods_value = MoneyField(_("物资价值（元）"), default=0)
    disbursed_on = models.DateField(_("发放日期"))
    year = models.PositiveSmallIntegerField(_("年度"), editable=False)
    voucher_number = models.CharField(_("转账凭证号"), max_length=60, blank=True)
    voucher = models.FileField(
        _("转账凭证"), upload_to="relief/vouchers/%Y/", blank=True, validators=[validate_evidence_file]
    )
    receipt_scan = models.FileField(
        _("受助人签字或手印扫描件"), upload_to="relief/receipts/%Y/", blank=True, validators=[validate_evidence_file]
    )
    status = models.CharField(_("状态"), max_length=12, choices=AidStatus.choices, default=AidStatus.REGISTERED)
    cancel_reason = models.CharField(_("撤销原因"), max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("救助发放")
        verbose_name_plural = _("救助发放")
        ordering = ["-disbursed_on", "-id"]
        permissions = [("confirm_aid", _("现金发放第二人签字"))]
        constraints = [
            # no double aid: one live disbursement per beneficiary, project and period
            models.UniqueConstraint(
                fields=["project", "beneficiary", "period"],
                condition=~models.Q(status="cancelled"),
                name="relief_aid_once_per_period",
                violation_error_message=_("该受助人在本项目本期已获救助"),
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0) | models.Q(goods_value__gte=0, method="goods"),
                name="relief_aid_something",
            ),
        ]
        indexes = [
            models.Index(fields=["beneficiary", "year"], name="relief_aid_year"),
            # the project's books and lists (project, status), and the public page's households
            # helped by district read from this index alone (an index-only scan, no register join)
            models.Index(fields=["project", "status", "purpose", "branch", "beneficiary"], name="relief_aid_helped"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def value(self):
        return self.amount + self.goods_value


class AidGoodsLine(models.Model):
    """Goods of a disbursement, from a lot the project received through a transfer order."""

    aid = models.ForeignKey(Aid, verbose_name=_("救助发放"), on_delete=models.PROTECT, related_name="goods_lines")
    source = models.ForeignKey(
        "donations.AllocationSource", verbose_name=_("物资批次"), on_delete=models.PROTECT, related_name="relief_lines"
    )
    quantity = models.DecimalField(_("数量"), **QUANTITY)
    value = MoneyField(_("价值（元）"), default=0)

    class Meta:
        verbose_name = _("发放物资明细")
        verbose_name_plural = _("发放物资明细")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="relief_goods_line_positive")]

    def __str__(self) -> str:
        return f"{self.aid} {self.quantity:g}"


class LivelihoodShare(models.Model):
    """博爱家园: a household's shares in a livelihood project for one year; the year's dividend is
    paid out in proportion (``livelihood_dividends_pay``)."""

    project = models.ForeignKey(
        "relief.Project", verbose_name=_("救助项目"), on_delete=models.PROTECT, related_name="shares"
    )
    beneficiary = models.ForeignKey(
        "relief.Beneficiary", verbose_name=_("受助户"), on_delete=models.PROTECT, related_name="shares"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    shares = models.DecimalField(_("股份数"), max_digits=10, decimal_places=2)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("博爱家园股份")
        verbose_name_plural = _("博爱家园股份")
        ordering = ["-year", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "beneficiary", "year"], name="relief_share_once_a_year"),
            models.CheckConstraint(condition=models.Q(shares__gt=0), name="relief_share_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.project.code} {self.year} {self.shares:g}"


class BooksCheck(models.Model):
    """The nightly check of a project's books (funds in = paid out + goods out + balance)."""

    project = models.ForeignKey(
        "relief.Project", verbose_name=_("救助项目"), on_delete=models.PROTECT, related_name="checks"
    )
    checked_at = models.DateTimeField(_("核对时间"), auto_now_add=True)
    is_balanced = models.BooleanField(_("账目相符"))
    figures = models.JSONField(_("数据"), default=dict)
    discrepancies = models.JSONField(_("不符之处"), default=list)

    class Meta:
        verbose_name = _("项目账目核对")
        verbose_name_plural = _("项目账目核对")
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{self.project_id} {self.checked_at:%Y-%m-%d}"
