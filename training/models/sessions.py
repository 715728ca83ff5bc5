"""Sessions (培训班/期), their instructors and the attendance of each trainee."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.models import Branch, Person
from training.models.plans import Audience, CourseKind, FundingLine

HOURS = {"max_digits": 5, "decimal_places": 1}
COORDINATE = {"max_digits": 9, "decimal_places": 6, "null": True, "blank": True}


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("计划中")
    OPEN = "open", _("报名中")
    HELD = "held", _("已举办")
    CLOSED = "closed", _("已结班")


class Session(models.Model):
    """One course, from planning to closing; an outdoor popularisation event (户外普及) counts
    the people it reached instead of registering them."""

    branch = models.ForeignKey(
        Branch, verbose_name=_("主办组织"), on_delete=models.PROTECT, related_name="training_sessions"
    )
    title = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(_("培训类别"), max_length=16, choices=CourseKind.choices)
    audience = models.CharField(_("培训对象"), max_length=16, choices=Audience.choices)
    is_outdoor = models.BooleanField(_("户外普及活动"), default=False, help_text=_("不报名，只统计受益人数"))
    venue = models.CharField(_("地点"), max_length=200)
    # WGS-84, as a phone's location gives it and iCalendar's GEO expects
    latitude = models.DecimalField(_("纬度"), **COORDINATE)
    longitude = models.DecimalField(_("经度"), **COORDINATE)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    hours = models.DecimalField(_("学时"), **HOURS)
    capacity = models.PositiveIntegerField(_("名额"), default=0)
    funding_line = models.CharField(_("资金渠道"), max_length=16, choices=FundingLine.choices, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=SessionStatus.choices, default=SessionStatus.PLANNED)
    people_reached = models.PositiveIntegerField(_("受益人数"), default=0, help_text=_("户外普及活动的受益人数"))
    instructors = models.ManyToManyField(
        Person, verbose_name=_("授课师资"), through="SessionInstructor", related_name="sessions_taught", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("培训班")
        verbose_name_plural = _("培训班")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["status", "starts_at"], name="training_session_status_start")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gte=models.F("starts_at")), name="training_session_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors = {}
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude"] = [_("经纬度须同时填写")]
        if not self.is_outdoor and (self.capacity or 0) < 1:
            errors["capacity"] = [_("报名制培训班的名额至少为 1")]
        if self.starts_at and self.ends_at and self.ends_at < self.starts_at:
            errors["ends_at"] = [_("结束时间不能早于开始时间")]
        if errors:
            raise ValidationError(errors)


class SessionInstructor(models.Model):
    session = models.ForeignKey(Session, verbose_name=_("培训班"), on_delete=models.CASCADE, related_name="teaching")
    person = models.ForeignKey(Person, verbose_name=_("师资"), on_delete=models.PROTECT, related_name="teaching")

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("授课师资")
        verbose_name_plural = _("授课师资")
        constraints = [models.UniqueConstraint(fields=["session", "person"], name="training_instructor_once")]

    def __str__(self) -> str:
        return str(self.person)


class Attendance(models.Model):
    """A trainee's attendance of a session: the hours attended decide whether a pass certifies."""

    session = models.ForeignKey(Session, verbose_name=_("培训班"), on_delete=models.PROTECT, related_name="attendance")
    person = models.ForeignKey(
        Person, verbose_name=_("学员"), on_delete=models.PROTECT, related_name="training_attendance"
    )
    hours_attended = models.DecimalField(_("出勤学时"), **HOURS)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("出勤")
        verbose_name_plural = _("出勤")
        ordering = ["session", "person__name"]
        constraints = [models.UniqueConstraint(fields=["session", "person"], name="training_attendance_once")]

    def __str__(self) -> str:
        return f"{self.person} · {self.session}"

    def clean(self) -> None:
        session = self.session
        if session.is_outdoor:
            raise ValidationError({"session": [_("户外普及活动只统计受益人数，不登记出勤")]})
        if session.status != SessionStatus.HELD:
            raise ValidationError({"session": [_("只有已举办、尚未结班的培训班可以登记出勤")]})
        if self.hours_attended is not None and self.hours_attended > session.hours:
            raise ValidationError(
                {"hours_attended": [_("出勤学时不能超过本班学时（%(hours)s）") % {"hours": session.hours}]}
            )
