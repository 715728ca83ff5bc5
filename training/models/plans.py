"""Annual training plans (年度培训计划): targets by course kind and audience, funding lines."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.models import Branch
from redcross.money import MoneyField


class CourseKind(models.TextChoices):
    AWARENESS = "awareness", _("普及培训")
    FIRST_AIDER = "first_aider", _("救护员培训")
    INSTRUCTOR = "instructor", _("师资培训")
    REFRESHER = "refresher", _("复训")


class Audience(models.TextChoices):
    COMMUNITY = "community", _("社区")
    VILLAGE = "village", _("农村")
    SCHOOL = "school", _("学校")
    OFFICE = "office", _("机关")
    ENTERPRISE = "enterprise", _("企业")
    CIVIL_SERVANTS = "civil_servants", _("新录用公务员")


class FundingLine(models.TextChoices):
    PEOPLE_PROJECT = "people_project", _("为民办实事")
    LOTTERY = "lottery", _("福彩公益金")
    OWN_FUNDS = "own_funds", _("自有资金")


class TrainingPlan(models.Model):
    """One branch's plan for one year; its targets and funding lines hang below it."""

    branch = models.ForeignKey(
        Branch, verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="training_plans"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("名称"), max_length=120)
    note = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("制定人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("制定时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("年度培训计划")
        verbose_name_plural = _("年度培训计划")
        ordering = ["-year", "branch__path"]
        constraints = [models.UniqueConstraint(fields=["branch", "year"], name="training_plan_one_per_year")]

    def __str__(self) -> str:
        return self.title


class PlanTarget(models.Model):
    """How many sessions and people a plan aims for, for one course kind and audience."""

    plan = models.ForeignKey(TrainingPlan, verbose_name=_("培训计划"), on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(_("培训类别"), max_length=16, choices=CourseKind.choices)
    audience = models.CharField(_("培训对象"), max_length=16, choices=Audience.choices)
    sessions = models.PositiveIntegerField(_("计划期数"), default=0)
    people = models.PositiveIntegerField(_("计划人数"), default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("培训目标")
        verbose_name_plural = _("培训目标")
        ordering = ["plan", "kind", "audience"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "kind", "audience"], name="training_target_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.get_audience_display()}"


class PlanFunding(models.Model):
    """A funding line of a plan (为民办实事, 福彩公益金, own funds) and its budget."""

    plan = models.ForeignKey(TrainingPlan, verbose_name=_("培训计划"), on_delete=models.CASCADE, related_name="funding")
    line = models.CharField(_("资金渠道"), max_length=16, choices=FundingLine.choices)
    project_name = models.CharField(_("项目名称"), max_length=120, blank=True)
    budget = MoneyField(_("预算（元）"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("资金渠道")
        verbose_name_plural = _("资金渠道")
        ordering = ["plan", "line"]
        constraints = [models.UniqueConstraint(fields=["plan", "line"], name="training_funding_unique")]

    def __str__(self) -> str:
        return self.get_line_display()
