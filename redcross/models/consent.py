"""Consent (同意): versioned consent texts and the records of who consented to what, when and how.

Written through ``redcross.consent``: a text is immutable once a record uses it, and a withdrawal
takes effect at once (``has_consent`` reads only records not withdrawn).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.uploads import validate_evidence_file


def new_management_token() -> str:
    """An unguessable token for a private link (~192 bits)."""
    return secrets.token_urlsafe(24)


class ConsentText(models.Model):
    """One version of the text a person consents to for a purpose (e.g. ``training-registration``).

    Once a consent record uses it, the text is what that person agreed to and never changes: a
    new wording is a new version (``redcross.consent.consent_text_change`` refuses the edit).
    """

    purpose = models.SlugField(_("用途"), max_length=60, help_text=_("如 training-registration"))
    version = models.PositiveIntegerField(_("版本"))
    title = models.CharField(_("标题"), max_length=100)
    text = models.TextField(_("同意书正文"))
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("同意书文本")
        verbose_name_plural = _("同意书文本")
        ordering = ["purpose", "-version"]
        constraints = [models.UniqueConstraint(fields=["purpose", "version"], name="consent_text_version")]

    def __str__(self) -> str:
        return f"{self.title}（{self.purpose} v{self.version}）"


class ConsentMethod(models.TextChoices):
    ONLINE = "online", _("网上勾选")
    COUNTER = "counter", _("现场窗口确认")
    WRITTEN = "written", _("书面表格（附扫描件）")


class ConsentRecord(models.Model):
    """Whose consent (a person, or any other record through ``subject``), to which text version and
    purpose, given when and how; withdrawn when and how. ``management_token`` is the private link
    that lets the person see and withdraw it."""

    person = models.ForeignKey(
        "redcross.Person",
        verbose_name=_("自然人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consents",
    )
    subject_type = models.ForeignKey(
        ContentType, verbose_name=_("对象类型"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject_id = models.PositiveBigIntegerField(_("对象编号"), null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    branch = models.ForeignKey(
        "redcross.Branch", verbose_name=_("登记组织"), on_delete=models.PROTECT, related_name="consent_records"
    )
    text = models.ForeignKey(
        ConsentText, verbose_name=_("同意书版本"), on_delete=models.PROTECT, related_name="records"
    )
    purpose = models.SlugField(_("用途"), max_length=60, editable=False)
    given_at = models.DateTimeField(_("同意时间"))
    method = models.CharField(_("同意方式"), max_length=12, choices=ConsentMethod.choices)
    evidence = models.FileField(
        _("书面同意扫描件"),
        upload_to="consent/%Y/",
        blank=True,
        validators=[validate_evidence_file],
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawal_method = models.CharField(_("撤回方式"), max_length=12, choices=ConsentMethod.choices, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤回登记人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    management_token = models.CharField(
        _("管理链接令牌"), max_length=64, unique=True, default=new_management_token, editable=False
    )

    history = HistoricalRecords(excluded_fields=["management_token"])

    class Meta:
        verbose_name = _("同意记录")
        verbose_name_plural = _("同意记录")
        ordering = ["-given_at", "-id"]
        indexes = [
            models.Index(fields=["person", "purpose"], name="consent_person_purpose"),
            models.Index(fields=["subject_type", "subject_id", "purpose"], name="consent_subject_purpose"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False)
                | models.Q(subject_type__isnull=False, subject_id__isnull=False),
                name="consent_has_a_subject",
                violation_error_message=_("同意记录须属于一个自然人或一条记录"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.text} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None
