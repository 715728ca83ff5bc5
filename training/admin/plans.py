"""Annual plans: a plan with its targets and funding lines, saved through the plan services."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery, Sum
from django.utils.translation import gettext_lazy as _

from redcross.admin import BranchScopedAdmin, yuan_or_dash
from redcross.forms import service_error_message
from training.models import PlanFunding, PlanTarget, TrainingPlan
from training.services.plans import plan_funding_set, plan_target_set, training_plan_create


class PlanTargetInline(admin.TabularInline):
    model = PlanTarget
    extra = 1
    fields = ("kind", "audience", "sessions", "people")
    can_delete = False


class PlanFundingInline(admin.TabularInline):
    model = PlanFunding
    extra = 1
    fields = ("line", "project_name", "budget")
    can_delete = False


def _total(model, field: str) -> Subquery:
    rows = model.objects.filter(plan=OuterRef("pk")).values("plan").annotate(total=Sum(field)).values("total")
    return Subquery(rows)


@admin.register(TrainingPlan)
class TrainingPlanAdmin(BranchScopedAdmin):
    list_display = ("year", "title", "branch", "planned_sessions", "planned_people", "budget_display")
    list_filter = ("year", ("branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("branch",)
    search_fields = ("title",)
    fields = ("branch", "year", "title", "note")
    inlines = (PlanTargetInline, PlanFundingInline)

    def get_readonly_fields(self, request, obj=None):
        return ("branch", "year") if obj else ()

    def get_queryset(self, request):
        # one query for the list: each total a correlated subquery, so joins never multiply them
        return (
            super()
            .get_queryset(request)
            .annotate(
                _sessions=_total(PlanTarget, "sessions"),
                _people=_total(PlanTarget, "people"),
                _budget=_total(PlanFunding, "budget"),
            )
        )

    @admin.display(description=_("计划期数"), ordering="_sessions")
    def planned_sessions(self, obj) -> str:
        return f"{obj._sessions or 0:,}"

    @admin.display(description=_("计划人数"), ordering="_people")
    def planned_people(self, obj) -> str:
        return f"{obj._people or 0:,}"

    @admin.display(description=_("预算"), ordering="_budget")
    def budget_display(self, obj) -> str:
        return yuan_or_dash(obj._budget)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = training_plan_create(
            branch=obj.branch, year=obj.year, title=obj.title, note=obj.note, by=request.user
        )
        obj.pk = created.pk

    def save_formset(self, request, form, formset, change):
        # lines go through the services, which check the branch and record who set them
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for line in formset.cleaned_data:
            if not line or line.get("DELETE"):
                continue
            try:
                if formset.model is PlanTarget:
                    plan_target_set(plan=form.instance, kind=line["kind"], audience=line["audience"],
                                    sessions=line["sessions"], people=line["people"], by=request.user)  # fmt: skip
                else:
                    plan_funding_set(plan=form.instance, line=line["line"], budget=line["budget"],
                                     project_name=line.get("project_name", ""), by=request.user)  # fmt: skip
            except ValidationError as exc:
                self.message_user(request, service_error_message(exc), level="error")
