"""Exam results (考核成绩): a theory and a skills result per trainee and session."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.models import Person


class ExamPart(models.TextChoices):
    THEORY = "theory", _("理论考试")
    SKILLS = "skills", _("技能考核")


class ExamResult(models.Model):
    """One part of one trainee's exam in one session: a score (of 100) and/or pass or fail.

    Written only by ``exam_result_record`` (``training/services/exams.py``); a correction
    changes the row, and its history keeps what it said before and who changed it.
    """

    session = models.ForeignKey(
        "training.Session", verbose_name=_("培训班"), on_delete=models.PROTECT, related_name="exam_results"
    )
    person = models.ForeignKey(Person, verbose_name=_("学员"), on_delete=models.PROTECT, related_name="exam_results")
    part = models.CharField(_("考核科目"), max_length=8, choices=ExamPart.choices)
    score = models.DecimalField(
        _("成绩"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("百分制，可不填（只记合格与否）"),
    )
    passed = models.BooleanField(_("合格"))
    examiner = models.ForeignKey(
        Person,
        verbose_name=_("考官"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exams_examined",
        help_text=_("本班的授课师资之一"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("考核成绩")
        verbose_name_plural = _("考核成绩")
        ordering = ["session", "person__name", "part"]
        constraints = [
            models.UniqueConstraint(fields=["session", "person", "part"], name="training_exam_result_once"),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_part_display()}"
