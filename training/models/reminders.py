"""The reminder outbox (提醒): what the portal has to tell a person, e.g. that their certificate
expires soon. No SMS gateway is connected: reminders wait here for staff (who see and export them)
or for a sender named by ``TRAINING_REMINDER_SENDER``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.models import Branch, Person


class ReminderKind(models.TextChoices):
    CERTIFICATE_EXPIRY = "certificate_expiry", _("证书到期提醒")
    AED_CHECK = "aed_check", _("AED 检查提醒")


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    CANCELLED = "cancelled", _("已取消")


class Reminder(models.Model):
    """One message to one person, recorded once per subject and due date (a unique constraint per
    kind), so a job that runs twice records nothing new."""

    kind = models.CharField(_("提醒类别"), max_length=24, choices=ReminderKind.choices)
    branch = models.ForeignKey(Branch, verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="+")
    # a certificate's holder; empty for a reminder to the branch's staff (an AED to check)
    person = models.ForeignKey(
        Person, verbose_name=_("提醒对象"), on_delete=models.PROTECT, related_name="reminders", null=True, blank=True
    )
    certificate = models.ForeignKey(
        "training.Certificate",
        verbose_name=_("证书"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reminders",
    )
    aed = models.ForeignKey(
        "training.Aed", verbose_name=_("AED"), on_delete=models.PROTECT, null=True, blank=True, related_name="reminders"
    )
    due_on = models.DateField(_("到期日期"))
    message = models.TextField(_("提醒内容"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.PENDING, db_index=True
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    last_error = models.CharField(_("失败原因"), max_length=200, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("处理人"), on_delete=models.PROTECT, null=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒发件箱")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["certificate", "due_on"],
                condition=models.Q(kind="certificate_expiry"),
                name="training_reminder_certificate_once",
            ),
            # once per AED and check cycle (its last check, or its registration when never checked)
            models.UniqueConstraint(
                fields=["aed", "due_on"],
                condition=models.Q(kind="aed_check"),
                name="training_reminder_aed_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.person or self.aed}"
