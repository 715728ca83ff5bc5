"""Applications for aid: registered by district staff or by the applicant through the public form,
documents attached, visits (走访), and the workflow submitted → district reviewed → city approved or
rejected, each step by a different person with a reason. Referral applications are forwarded to the
national foundation and its outcome recorded."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.encryption import EncryptedTextField
from redcross.money import MoneyField
from redcross.uploads import validate_evidence_file


def _token() -> str:
    return secrets.token_urlsafe(24)


class ApplicationChannel(models.TextChoices):
    STAFF = "staff", _("区县工作人员登记")
    ONLINE = "online", _("网上申请")


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    REVIEWED = "reviewed", _("区县已初审")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未获批准")
    FORWARDED = "forwarded", _("已转报实施机构")
    WITHDRAWN = "withdrawn", _("已撤回")


class ReferralOutcome(models.TextChoices):
    PENDING = "pending", _("等待结果")
    GRANTED = "granted", _("获得资助")
    DECLINED = "declined", _("未获资助")


class Application(models.Model):
    """One beneficiary's application to one project."""

    number = models.CharField(_("申请编号"), max_length=30, unique=True, editable=False)
    project = models.ForeignKey(
        "relief.Project", verbose_name=_("救助项目"), on_delete=models.PROTECT, related_name="applications"
    )
    beneficiary = models.ForeignKey(
        "relief.Beneficiary", verbose_name=_("受助人（户）"), on_delete=models.PROTECT, related_name="applications"
    )
    branch = models.ForeignKey(
        "redcross.Branch", verbose_name=_("受理区县组织"), on_delete=models.PROTECT, related_name="relief_applications"
    )
    channel = models.CharField(_("申请方式"), max_length=10, choices=ApplicationChannel.choices)
    situation = EncryptedTextField(_("申请理由和困难情况"))
    requested_amount = MoneyField(_("申请金额（元）"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("初审人"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    reviewed_at = models.DateTimeField(_("初审时间"), null=True, blank=True)
    review_reason = models.CharField(_("初审意见"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审批人"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_reason = models.CharField(_("审批意见"), max_length=500, blank=True)
    approved_amount = MoneyField(_("批准金额（元）"), null=True, blank=True)
    referral_outcome = models.CharField(_("转介结果"), max_length=10, choices=ReferralOutcome.choices, blank=True)
    referral_amount = MoneyField(_("实施机构资助金额（元）"), null=True, blank=True)
    referral_note = models.CharField(_("转介结果说明"), max_length=500, blank=True)
    referral_outcome_at = models.DateTimeField(_("转介结果登记时间"), null=True, blank=True, editable=False)
    management_token = models.CharField(max_length=64, unique=True, default=_token, editable=False)

    history = HistoricalRecords(excluded_fields=["management_token"])

    class Meta:
        verbose_name = _("救助申请")
        verbose_name_plural = _("救助申请")
        ordering = ["-submitted_at", "-id"]
        permissions = [
            ("review_application", _("区县初审救助申请")),
            ("decide_application", _("审批救助申请（市级）")),
        ]
        constraints = [
            # one live application per beneficiary and project
            models.UniqueConstraint(
                fields=["project", "beneficiary"],
                condition=~models.Q(status__in=["rejected", "withdrawn"]),
                name="relief_application_one_live",
                violation_error_message=_("该受助人已申请过本项目"),
            )
        ]
        indexes = [models.Index(fields=["project", "status"], name="relief_application_status")]

    def __str__(self) -> str:
        return self.number


class DocumentKind(models.TextChoices):
    DIAGNOSIS = "diagnosis", _("诊断证明")
    INCOME = "income", _("收入证明")
    ADMISSION = "admission", _("入学通知书")
    HARDSHIP = "hardship", _("困难证明")
    OTHER = "other", _("其他材料")


class ApplicationDocument(models.Model):
    application = models.ForeignKey(
        Application, verbose_name=_("救助申请"), on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(_("材料类型"), max_length=12, choices=DocumentKind.choices)
    file = models.FileField(_("文件"), upload_to="relief/documents/%Y/", validators=[validate_evidence_file])
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.application} {self.get_kind_display()}"


class VisitKind(models.TextChoices):
    ASSESSMENT = "assessment", _("入户走访")
    FOLLOW_UP = "follow_up", _("救助后回访")


class Visit(models.Model):
    """A home visit: before the review (走访) or after the aid (回访)."""

    application = models.ForeignKey(
        Application, verbose_name=_("救助申请"), on_delete=models.PROTECT, related_name="visits"
    )
    kind = models.CharField(_("类型"), max_length=12, choices=VisitKind.choices)
    visited_on = models.DateField(_("走访日期"))
    findings = EncryptedTextField(_("走访情况"))
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("走访人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_on", "-id"]

    def __str__(self) -> str:
        return f"{self.application} {self.get_kind_display()} {self.visited_on}"
