"""Relief projects (救助项目) and the allocations that fund them.

A project receives money and goods only through confirmed allocations (拨付 / 物资调拨令) of the
donations app whose recipient is the project's own recipient unit (``Project.recipient``, kind
困难群众): so every yuan in a project is traced to donations, and a directed gift (定向) that names
the project reaches this project only. Referral projects (小天使基金, 天使阳光基金) have no
recipient: the branch forwards applications, records the outcome, and no money passes through it.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.models import Branch
from redcross.money import MoneyField


class ProjectKind(models.TextChoices):
    HARDSHIP = "hardship", _("助困")
    MEDICAL = "medical", _("助医")
    STUDENT = "student", _("助学")
    LIVELIHOOD = "livelihood", _("生计（博爱家园）")
    WINTER = "winter", _("暖冬")
    DISASTER = "disaster", _("灾害救助")
    OTHER = "other", _("其他")


# kinds whose applications need a home visit (走访) before the district review
VISIT_REQUIRED_KINDS = frozenset({ProjectKind.MEDICAL, ProjectKind.STUDENT, ProjectKind.LIVELIHOOD})


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("筹备中")
    OPEN = "open", _("实施中")
    CLOSED = "closed", _("已结项")


class AidUnit(models.TextChoices):
    PERSON = "person", _("按人")
    HOUSEHOLD = "household", _("按户")


class Project(models.Model):
    """A relief project: its purpose, period, budget, caps and funding; planned → open → closed."""

    branch = models.ForeignKey(Branch, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="relief_projects")
    code = models.CharField(_("项目编号"), max_length=30, unique=True, editable=False)
    name = models.CharField(_("项目名称"), max_length=120)
    kind = models.CharField(_("项目类型"), max_length=12, choices=ProjectKind.choices)
    purpose = models.TextField(_("项目目的"), help_text=_("公开展示，不得含个人信息"))
    eligibility = models.TextField(_("救助条件"), blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    budget = MoneyField(_("预算（元）"), null=True, blank=True)
    unit = models.CharField(_("救助对象"), max_length=10, choices=AidUnit.choices, default=AidUnit.HOUSEHOLD)
    cap_per_project = MoneyField(
        _("每人（户）本项目限额（元）"), null=True, blank=True, help_text=_("空为不限；物资按价值计")
    )
    cap_per_year = MoneyField(
        _("每人（户）年度限额（元）"),
        null=True,
        blank=True,
        help_text=_("同一受助人一个自然年内在各救助项目所得合计不超过此数；空为不限"),
    )
    visit_required = models.BooleanField(_("须入户走访"), default=False)
    is_referral = models.BooleanField(
        _("转介项目"),
        default=False,
        help_text=_("由全国性基金实施、本会只协助申请的项目（如小天使基金）：不经本会拨款"),
    )
    referral_body = models.CharField(_("实施机构"), max_length=120, blank=True)
    recipient = models.OneToOneField(
        "donations.Recipient",
        verbose_name=_("受赠单位（项目账户）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="relief_project",
        help_text=_("拨付、定向捐赠以此为受赠单位，款物才进入本项目"),
    )
    status = models.CharField(_("状态"), max_length=10, choices=ProjectStatus.choices, default=ProjectStatus.PLANNED)
    # running totals, kept by the services under the project's row lock; the nightly check
    # recomputes them from the rows (relief.selectors.books)
    funds_in_cash = MoneyField(_("资金到账（元）"), default=Decimal("0.00"), editable=False)
    funds_in_goods = MoneyField(_("物资到账（元）"), default=Decimal("0.00"), editable=False)
    paid_out = MoneyField(_("已发放资金（元）"), default=Decimal("0.00"), editable=False)
    goods_out = MoneyField(_("已发放物资（元）"), default=Decimal("0.00"), editable=False)
    opened_at = models.DateTimeField(_("启动时间"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("结项时间"), null=True, blank=True, editable=False)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("结项人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    final_account = models.JSONField(_("结项决算"), default=dict, blank=True, editable=False)
    final_account_note = models.TextField(_("结项说明"), blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("救助项目")
        verbose_name_plural = _("救助项目")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="relief_project_period"
            ),
            models.CheckConstraint(
                condition=models.Q(is_referral=False) | models.Q(recipient__isnull=True),
                name="relief_referral_no_money",
            ),
            # the books never go below zero (the services check first; this is the last guard)
            models.CheckConstraint(
                condition=models.Q(paid_out__lte=models.F("funds_in_cash")), name="relief_project_cash_covered"
            ),
            models.CheckConstraint(
                condition=models.Q(goods_out__lte=models.F("funds_in_goods")), name="relief_project_goods_covered"
            ),
        ]
        indexes = [models.Index(fields=["status", "kind"], name="relief_project_status")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def funds_in(self) -> Decimal:
        return self.funds_in_cash + self.funds_in_goods

    @property
    def funds_out(self) -> Decimal:
        return self.paid_out + self.goods_out

    @property
    def cash_balance(self) -> Decimal:
        return self.funds_in_cash - self.paid_out

    @property
    def goods_balance(self) -> Decimal:
        return self.funds_in_goods - self.goods_out

    @property
    def balance(self) -> Decimal:
        return self.cash_balance + self.goods_balance


class ProjectFunding(models.Model):
    """A confirmed allocation to the project's recipient unit, counted as the project's funds.

    One allocation funds one project; the value is the cash amount, or the goods' value (lots
    without evidence of value count in quantities only, value 0).
    """

    project = models.ForeignKey(Project, verbose_name=_("救助项目"), on_delete=models.PROTECT, related_name="fundings")
    allocation = models.OneToOneField(
        "donations.Allocation", verbose_name=_("拨付"), on_delete=models.PROTECT, related_name="relief_funding"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=[("cash", _("资金")), ("in_kind", _("物资"))])
    value = MoneyField(_("金额（元）"))
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("项目资金来源")
        verbose_name_plural = _("项目资金来源")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.project.code} ← {self.allocation}"
