"""The branch tree, staff users, number sequences, the worker heartbeat."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.validators import validate_cn_phone, validate_uscc


class BranchLevel(models.TextChoices):
    CITY = "city", _("市本级")
    COUNTY = "county", _("区县")
    GRASSROOTS = "grassroots", _("基层")


class GrassrootsKind(models.TextChoices):
    SCHOOL = "school", _("学校")
    COMMUNITY = "community", _("社区")
    ENTERPRISE = "enterprise", _("企业")
    TOWNSHIP = "township", _("乡镇（街道）")
    HOSPITAL = "hospital", _("医院")
    OTHER = "other", _("其他")


# A parent's level decides which levels may sit below it.
_ALLOWED_PARENT_LEVELS = {
    BranchLevel.CITY: set(),
    BranchLevel.COUNTY: {BranchLevel.CITY},
    BranchLevel.GRASSROOTS: {BranchLevel.CITY, BranchLevel.COUNTY},
}


class Branch(models.Model):
    """One Red Cross organisation in the tree: the city branch, its districts and
    counties, and the grassroots organisations below them.

    ``path`` is a materialised path ("/1/4/9/") so a subtree is one indexed
    prefix query; it is maintained by ``save()`` and never edited by hand.
    """

    name = models.CharField(_("名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    code = models.CharField(
        _("代码"),
        max_length=8,
        unique=True,
        validators=[RegexValidator(r"^[A-Z][A-Z0-9]{1,7}$", _("代码须为 2-8 位大写字母或数字，以字母开头"))],
        help_text=_("用于捐赠流水号、票据号等编号的前缀，如 XA"),
    )
    level = models.CharField(_("层级"), max_length=12, choices=BranchLevel.choices)
    grassroots_kind = models.CharField(_("基层组织类型"), max_length=12, choices=GrassrootsKind.choices, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级组织"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    path = models.CharField(_("路径"), max_length=255, editable=False, db_index=True, default="")
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True, validators=[validate_cn_phone])
    email = models.EmailField(_("电子邮箱"), blank=True)
    unified_social_credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, blank=True, validators=[validate_uscc]
    )
    public_fundraising_certificate = models.CharField(_("公开募捐资格证书编号"), max_length=60, blank=True)
    bank_account_name = models.CharField(_("开户名称"), max_length=100, blank=True)
    bank_name = models.CharField(_("开户银行"), max_length=100, blank=True)
    bank_account_number = models.CharField(_("银行账号"), max_length=40, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["path"])

    class Meta:
        verbose_name = _("红十字会组织")
        verbose_name_plural = _("红十字会组织")
        ordering = ["path", "sort_order"]
        constraints = [
            # one root: the city branch
            models.UniqueConstraint(
                fields=["level"],
                condition=models.Q(level="city"),
                name="branch_single_city",
                violation_error_message=_("只能有一个市本级红十字会"),
            ),
            models.CheckConstraint(
                condition=models.Q(level="city", parent__isnull=True)
                | (~models.Q(level="city") & models.Q(parent__isnull=False)),
                name="branch_city_is_root",
                violation_error_message=_("市本级没有上级组织，其余组织必须有上级组织"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        with transaction.atomic():
            old_path = self.path
            super().save(*args, **kwargs)
            new_path = (self.parent.path if self.parent_id else "/") + f"{self.pk}/"
            if new_path != old_path:
                # keep the materialised path of this branch and everything below it in step
                Branch.objects.filter(pk=self.pk).update(path=new_path)
                self.path = new_path
                if old_path:
                    # the old path: the descendants' own paths still start with it
                    for descendant in Branch.objects.filter(path__startswith=old_path).exclude(pk=self.pk):
                        Branch.objects.filter(pk=descendant.pk).update(path=new_path + descendant.path[len(old_path) :])
        # the portal's cached facts (name, phone, bank account) are forgotten by a post_save
        # handler (redcross.apps), so this module needs nothing from the site helpers

    def delete(self, *args, **kwargs):
        raise ValidationError(_("红十字会组织不能删除；请改为停用"))

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.level == BranchLevel.GRASSROOTS and not self.grassroots_kind:
            errors["grassroots_kind"] = _("基层组织须选择类型")
        if self.level != BranchLevel.GRASSROOTS and self.grassroots_kind:
            errors["grassroots_kind"] = _("只有基层组织有类型")
        if self.level == BranchLevel.CITY and self.parent_id:
            errors["parent"] = _("市本级没有上级组织")
        if self.level and self.level != BranchLevel.CITY:
            if self.parent is None:
                errors["parent"] = _("请选择上级组织")
            elif self.parent.level not in _ALLOWED_PARENT_LEVELS[BranchLevel(self.level)]:
                errors["parent"] = _("“%(level)s”不能设在“%(parent)s”之下") % {
                    "level": BranchLevel(self.level).label,
                    "parent": BranchLevel(self.parent.level).label,
                }
            elif self.pk and (self.parent_id == self.pk or (self.path and self.parent.is_within(self))):
                errors["parent"] = _("上级组织不能是本组织或其下级组织")
        if errors:
            raise ValidationError(errors)

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    # --- containment: the one place the materialised path is read as a tree --------------------

    def is_within(self, ancestor: Branch) -> bool:
        """This branch is ``ancestor`` or below it (in its 全市系统 subtree)."""
        return self.path.startswith(ancestor.subtree_prefix())

    @staticmethod
    def within_q(ancestor: Branch, field: str = "") -> models.Q:
        """``is_within`` as a filter: rows whose branch (reached by ``field``, e.g. ``"branch"`` or
        ``"warehouse__branch"``; ``""`` for branches themselves) is ``ancestor`` or below it.
        One indexed prefix match on the path."""
        lookup = f"{field}__path__startswith" if field else "path__startswith"
        return models.Q(**{lookup: ancestor.subtree_prefix()})

    @staticmethod
    def lineage_ids(path: str) -> list[int]:
        """The ids along a materialised path ("/1/5/9/"): the branch itself and every branch above
        it, the city first."""
        return [int(part) for part in path.strip("/").split("/") if part.isdigit()]

    def subtree_prefix(self) -> str:
        # an unsaved branch has no path yet: "" would be a prefix of every branch
        if not self.path:
            raise ValueError("a branch's subtree is known once it is saved")
        return self.path


class User(AbstractUser):
    """A staff account; its branch is the staff profile that scopes what the user sees."""

    branch = models.ForeignKey(
        Branch,
        verbose_name=_("所属组织"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        help_text=_("市本级人员可见全部数据；区县和基层人员只见本组织及下级组织的数据"),
    )
    title = models.CharField(_("职务"), max_length=60, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True, validators=[validate_cn_phone])

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta(AbstractUser.Meta):
        verbose_name = _("工作人员")
        verbose_name_plural = _("工作人员")
        swappable = "AUTH_USER_MODEL"


class NumberSequence(models.Model):
    """Gapless counters, one row per scope (e.g. ``receipt:XA:2026``).

    Numbers are taken with the row locked inside the caller's transaction
    (``redcross.numbering.sequence_next``), so a rolled-back document returns
    its number and two documents never share one.
    """

    scope = models.CharField(_("编号范围"), max_length=100, unique=True)
    last_number = models.PositiveBigIntegerField(_("最后编号"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("编号序列")
        verbose_name_plural = _("编号序列")
        ordering = ["scope"]

    def __str__(self) -> str:
        return f"{self.scope}: {self.last_number}"


class WorkerHeartbeat(models.Model):
    """Written by a periodic task, so staff can see the background worker is alive."""

    name = models.CharField(_("名称"), max_length=60, unique=True)
    hostname = models.CharField(_("主机"), max_length=200, blank=True)
    last_seen = models.DateTimeField(_("最近运行"))
    beats = models.PositiveBigIntegerField(_("运行次数"), default=0)

    class Meta:
        verbose_name = _("后台任务心跳")
        verbose_name_plural = _("后台任务心跳")

    def __str__(self) -> str:
        return self.name
