"""Bulletins (公示): receipt bulletins (接收公示) and usage announcements (使用公告), 第N期.

A bulletin is drafted for a branch, a period and optionally one campaign (by the beat or by
staff), reviewed, and published by ``donations.services.bulletins.publish.bulletin_publish``, which
recomputes its rows, takes its number and links it into the branch's hash chain.

Rules that belong to the row live here:

- a published bulletin never changes: ``save()`` refuses to write a row that is published in
  the database (attaching the rendered PDF is an ``update()`` of the file columns only), and
  ``delete()`` always refuses, drafts included (a wrong draft is simply never published);
- numbers are gapless per branch and kind (``number``) and every published bulletin of a
  branch has its place in the branch's one chain across both kinds (``chain_position``);
- one bulletin per branch, kind, campaign (or the whole branch) and period, whatever its
  status: the beat drafting twice finds the first draft, and a period is published once
  (a correction is an erratum in a later bulletin, never a second bulletin of the period).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from donations.models.allocations import Allocation
from donations.models.intake import Campaign, Donation
from redcross.documents import PdfDocument, pdf_pending_index
from redcross.models import Branch

# previous_hash of a branch's first bulletin
GENESIS_HASH = "0" * 64


class BulletinKind(models.TextChoices):
    RECEIPT = "receipt", _("接收公示")
    USAGE = "usage", _("使用公告")


class BulletinStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class Bulletin(PdfDocument):
    pdf_upload_to = "donations/bulletins/%Y/"
    pdf_render_task = "donations.tasks.bulletin_render_pdf_task"

    branch = models.ForeignKey(Branch, verbose_name=_("发布组织"), on_delete=models.PROTECT, related_name="bulletins")
    kind = models.CharField(_("类型"), max_length=10, choices=BulletinKind.choices)
    number = models.PositiveIntegerField(_("期号"), null=True, blank=True, editable=False)
    chain_position = models.PositiveIntegerField(
        _("链上序号"), null=True, blank=True, editable=False, help_text=_("本组织全部已发布公示（两类合计）的顺序")
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("募捐活动"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bulletins",
        help_text=_("空白表示本组织的全部捐赠"),
    )
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    title = models.CharField(_("标题"), max_length=200)
    status = models.CharField(_("状态"), max_length=10, choices=BulletinStatus.choices, default=BulletinStatus.DRAFT)
    # canonical rows and totals; a draft holds a preview, publication recomputes it
    content = models.JSONField(_("内容"), default=dict, blank=True, editable=False)
    errata = models.TextField(_("勘误"), blank=True, help_text=_("对以前各期公示的更正，随本期一并发布"))
    content_hash = models.CharField(_("本期哈希（SHA-256）"), max_length=64, blank=True, editable=False)
    previous_hash = models.CharField(_("上一期哈希（SHA-256）"), max_length=64, blank=True, editable=False)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("起草人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("空白表示由定时任务起草"),
    )
    drafted_at = models.DateTimeField(_("起草时间"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    donations = models.ManyToManyField(
        Donation, through="BulletinDonation", related_name="bulletins", blank=True, verbose_name=_("公示的捐赠")
    )
    allocations = models.ManyToManyField(
        Allocation, through="BulletinAllocation", related_name="bulletins", blank=True, verbose_name=_("公告的拨付")
    )

    # the content is computed by the service (and frozen by the hash); the history keeps who
    # drafted, edited and published what, without a copy of possibly thousands of rows per save
    history = HistoricalRecords(excluded_fields=["content"])

    class Meta:
        verbose_name = _("公示")
        verbose_name_plural = _("公示")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "kind", "number"],
                condition=models.Q(number__isnull=False),
                name="bulletin_unique_number",
            ),
            models.UniqueConstraint(
                fields=["branch", "chain_position"],
                condition=models.Q(chain_position__isnull=False),
                name="bulletin_unique_chain_position",
            ),
            # one bulletin per branch, kind, scope and period (draft or published)
            models.UniqueConstraint(
                fields=["branch", "kind", "campaign", "period_start", "period_end"],
                condition=models.Q(campaign__isnull=False),
                name="bulletin_unique_campaign_period",
                violation_error_message=_("该活动这一期间的公示已经存在"),
            ),
            models.UniqueConstraint(
                fields=["branch", "kind", "period_start", "period_end"],
                condition=models.Q(campaign__isnull=True),
                name="bulletin_unique_branch_period",
                violation_error_message=_("本组织这一期间的公示已经存在"),
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="bulletin_period_order",
                violation_error_message=_("截止日期不能早于起始日期"),
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft")
                | (
                    models.Q(number__isnull=False)
                    & models.Q(chain_position__isnull=False)
                    & models.Q(published_at__isnull=False)
                    & ~models.Q(content_hash="")
                ),
                name="bulletin_published_is_numbered",
            ),
        ]
        indexes = [
            models.Index(
                fields=["-published_at", "-id"], condition=models.Q(status="published"), name="bulletin_archive"
            ),
            models.Index(fields=["campaign", "kind", "status"], name="bulletin_campaign"),
            pdf_pending_index("bulletin_pdf_pending"),
        ]
        permissions = [("publish_bulletin", _("发布公示"))]

    def __str__(self) -> str:
        if self.number:
            return _("%(branch)s%(kind)s第%(number)d期") % {
                "branch": self.branch.name,
                "kind": self.get_kind_display(),
                "number": self.number,
            }
        return f"{self.get_kind_display()}（{_('草稿')}）{self.period_start:%Y-%m-%d}—{self.period_end:%Y-%m-%d}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is None:
            if self.status != BulletinStatus.DRAFT:
                raise ValidationError(_("公示须先起草，再经发布程序发布"))
        elif (
            type(self).objects.filter(pk=self.pk, status=BulletinStatus.PUBLISHED).exists()
        ):  # what the database holds decides, not this (maybe stale) instance
            raise ValidationError(_("已发布的公示不能修改；更正请在以后的公示中发布勘误"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("公示不能删除"))

    @property
    def is_published(self) -> bool:
        return self.status == BulletinStatus.PUBLISHED

    def pdf_renderable(self) -> bool:
        return self.is_published

    def pdf_filename(self) -> str:
        return f"{self.branch.code}-{self.kind}-{self.number:04d}.pdf"

    @property
    def number_label(self) -> str:
        """e.g. 使用公告第3期 (empty for a draft)."""
        if not self.number:
            return ""
        return _("%(kind)s第%(number)d期") % {"kind": self.get_kind_display(), "number": self.number}


class BulletinDonation(models.Model):
    """A donation listed in a published receipt bulletin."""

    bulletin = models.ForeignKey(Bulletin, on_delete=models.PROTECT, related_name="donation_links")
    donation = models.ForeignKey(Donation, on_delete=models.PROTECT, related_name="bulletin_links")

    class Meta:
        verbose_name = _("公示的捐赠")
        verbose_name_plural = _("公示的捐赠")
        constraints = [models.UniqueConstraint(fields=["bulletin", "donation"], name="bulletin_donation_once")]

    def __str__(self) -> str:
        return f"{self.bulletin_id} → {self.donation_id}"

    def delete(self, *args, **kwargs):
        raise ValidationError(_("公示记录不能删除"))


class BulletinAllocation(models.Model):
    """An allocation listed in a published usage announcement."""

    bulletin = models.ForeignKey(Bulletin, on_delete=models.PROTECT, related_name="allocation_links")
    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="bulletin_links")

    class Meta:
        verbose_name = _("公告的拨付")
        verbose_name_plural = _("公告的拨付")
        constraints = [models.UniqueConstraint(fields=["bulletin", "allocation"], name="bulletin_allocation_once")]

    def __str__(self) -> str:
        return f"{self.bulletin_id} → {self.allocation_id}"

    def delete(self, *args, **kwargs):
        raise ValidationError(_("公示记录不能删除"))


class DisclosureReminder(models.Model):
    """One day's deadline reminder to a branch's staff: makes the daily reminder task idempotent."""

    branch = models.ForeignKey(Branch, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="+")
    sent_on = models.DateField(_("日期"))
    campaigns = models.JSONField(_("提醒的募捐活动"), default=list)
    recipients = models.PositiveIntegerField(_("收件人数"), default=0)
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("公开期限提醒")
        verbose_name_plural = _("公开期限提醒")
        ordering = ["-sent_on", "branch"]
        constraints = [models.UniqueConstraint(fields=["branch", "sent_on"], name="disclosure_reminder_once_a_day")]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.sent_on}"
