"""Rescue cases (成功救人案例): a trained person who saved a life.

A case is public only while it is published AND its rescuer's consent for
``rescue-case-publication`` stands (``redcross.consent``): a withdrawal hides it at once, whatever
the case's status. The public sees the rescuer's masked name, the date, the district, a place
description and the story; never a phone, an ID number or an address.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.masking import mask_person_name
from redcross.models import Branch, Person

RESCUE_CASE_PURPOSE = "rescue-case-publication"


class RescueCaseStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已撤下")


class RescueCase(models.Model):
    branch = models.ForeignKey(
        Branch, verbose_name=_("所在区县组织"), on_delete=models.PROTECT, related_name="training_rescue_cases"
    )
    rescuer = models.ForeignKey(
        Person, verbose_name=_("施救人"), on_delete=models.PROTECT, related_name="training_rescue_cases"
    )
    certificate = models.ForeignKey(
        "training.Certificate",
        verbose_name=_("施救人的培训证书"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rescue_cases",
    )
    session = models.ForeignKey(
        "training.Session",
        verbose_name=_("施救人参加的培训班"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rescue_cases",
    )
    rescued_on = models.DateField(_("施救日期"))
    place = models.CharField(
        _("施救地点"), max_length=100, help_text=_("公开显示：只写场所类别或街道，如“东湖区某菜市场”，不写门牌号")
    )
    title = models.CharField(_("标题"), max_length=100)
    story = models.TextField(_("经过"), max_length=5000, help_text=_("公开显示：不写被救者姓名、电话、住址和病情细节"))
    status = models.CharField(
        _("状态"), max_length=10, choices=RescueCaseStatus.choices, default=RescueCaseStatus.DRAFT
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("成功救人案例")
        verbose_name_plural = _("成功救人案例")
        ordering = ["-rescued_on", "-id"]
        indexes = [models.Index(fields=["status", "-rescued_on", "-id"], name="training_rescue_status_date")]

    def __str__(self) -> str:
        return self.title

    @property
    def rescuer_public_name(self) -> str:
        """The rescuer as the public sees them: masked (张*), like every person on a public page."""
        return mask_person_name(self.rescuer.name)
