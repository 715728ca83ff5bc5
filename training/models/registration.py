"""Registrations (报名) of persons for sessions: a seat, a place on the waitlist, or cancelled.

Written only by ``training.services.registration``: the session row is locked while a seat is
taken or given back, so a session never holds more registered people than its capacity and the
waitlist is served in order of arrival (``queue_number``).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.models import ConsentRecord, Person


def new_management_token() -> str:
    """The private link's secret: 32 URL-safe characters, ~190 bits."""
    return secrets.token_urlsafe(24)


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("已报名")
    WAITLISTED = "waitlisted", _("候补")
    CANCELLED = "cancelled", _("已取消")


ACTIVE = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)


class Registration(models.Model):
    """One person's registration for one session. A person has at most one active (registered or
    waitlisted) registration per session; a cancelled one stays, with who cancelled and when."""

    session = models.ForeignKey(
        "training.Session", verbose_name=_("培训班"), on_delete=models.PROTECT, related_name="registrations"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("报名人"), on_delete=models.PROTECT, related_name="training_registrations"
    )
    status = models.CharField(_("状态"), max_length=12, choices=RegistrationStatus.choices)
    # order of arrival within the session (1, 2, 3 ...), given under the session's lock: the
    # waitlist is served in this order
    queue_number = models.PositiveIntegerField(_("报名序号"))
    management_token = models.CharField(
        _("专属链接令牌"), max_length=64, unique=True, default=new_management_token, editable=False
    )
    consent = models.ForeignKey(
        ConsentRecord,
        verbose_name=_("同意记录"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="training_registrations",
    )
    created_at = models.DateTimeField(_("报名时间"), auto_now_add=True)
    promoted_at = models.DateTimeField(_("候补转正时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("取消人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("空白表示报名人本人通过专属链接取消"),
    )
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("代为报名的工作人员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["management_token"])

    class Meta:
        verbose_name = _("培训报名")
        verbose_name_plural = _("培训报名")
        ordering = ["session", "queue_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "person"],
                condition=~models.Q(status="cancelled"),
                name="training_registration_one_active",
                violation_error_message=_("此人已报名本期培训"),
            ),
            models.UniqueConstraint(fields=["session", "queue_number"], name="training_registration_queue_unique"),
        ]
        indexes = [models.Index(fields=["session", "status", "queue_number"], name="training_reg_session_status")]

    def __str__(self) -> str:
        return f"{self.session} · {self.person}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE
