"""Projects in the admin: registered and corrected through ``project_create`` / ``project_update``,
opened and closed by actions, funded by counting the confirmed allocations to the project."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext_lazy as _

from donations.admin.base import ReadOnlyInline, ServiceWrittenAdmin
from redcross.admin import BranchScopedAdmin, yuan_or_dash
from redcross.forms import service_error_message, service_errors_to_form
from relief.models import BooksCheck, Project, ProjectFunding, ProjectKind, ProjectStatus
from relief.services.projects import (
    project_close,
    project_create,
    project_fields_check,
    project_fundings_collect,
    project_open,
    project_update,
)

EDITABLE = (
    "name", "purpose", "eligibility", "starts_on", "ends_on", "budget",
    "cap_per_project", "cap_per_year", "visit_required", "referral_body",
)  # fmt: skip


class ProjectAdminForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ("branch", "kind", "unit", "is_referral", *EDITABLE)

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        instance = self.instance
        try:
            project_fields_check(
                kind=cleaned.get("kind", instance.kind),
                unit=cleaned.get("unit", instance.unit),
                starts_on=cleaned.get("starts_on"),
                ends_on=cleaned.get("ends_on"),
                budget=cleaned.get("budget"),
                cap_per_project=cleaned.get("cap_per_project"),
                cap_per_year=cleaned.get("cap_per_year"),
                is_referral=cleaned.get("is_referral", instance.is_referral),
                referral_body=cleaned.get("referral_body", ""),
            )
        except ValidationError as exc:
            service_errors_to_form(exc, self)
        return cleaned


class ProjectFundingInline(ReadOnlyInline):
    model = ProjectFunding
    fields = ("allocation", "kind", "value_display", "linked_by", "linked_at")
    readonly_fields = fields
    select_related = ("allocation", "linked_by")
    verbose_name_plural = _("资金来源（拨付）")

    @admin.display(description=_("金额"))
    def value_display(self, obj) -> str:
        return yuan_or_dash(obj.value)


@admin.register(Project)
class ProjectAdmin(BranchScopedAdmin):
    form = ProjectAdminForm
    list_display = ("code", "name", "kind", "branch", "status", "funds_in_display", "out_display", "balance_display")
    list_filter = ("status", "kind", "is_referral", ("branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("branch",)
    search_fields = ("=code", "name")
    inlines = (ProjectFundingInline,)
    actions = ("open_projects", "collect_fundings")
    readonly_fields = (
        "code", "status", "recipient", "funds_in_display", "out_display", "balance_display",
        "opened_at", "closed_at", "closed_by", "final_account_display", "final_account_note",
    )  # fmt: skip

    def get_fieldsets(self, request, obj=None):
        fixed = ("branch", "kind", "unit", "is_referral") if obj is None else ()
        return (
            (None, {"fields": (*(("code", "status") if obj else ()), *fixed, "name", "purpose", "eligibility")}),
            (
                _("期间、预算与限额"),
                {
                    "fields": (
                        "starts_on",
                        "ends_on",
                        "budget",
                        "cap_per_project",
                        "cap_per_year",
                        "visit_required",
                        "referral_body",
                    )
                },
            ),
            *(
                (
                    (
                        _("账目"),
                        {
                            "fields": (
                                "recipient",
                                "funds_in_display",
                                "out_display",
                                "balance_display",
                                "opened_at",
                                "closed_at",
                                "closed_by",
                                "final_account_display",
                                "final_account_note",
                            )
                        },
                    ),
                )
                if obj
                else ()
            ),
        )

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status == ProjectStatus.CLOSED:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description=_("到账"))
    def funds_in_display(self, obj) -> str:
        return yuan_or_dash(obj.funds_in)

    @admin.display(description=_("已发放（资金＋物资）"))
    def out_display(self, obj) -> str:
        return yuan_or_dash(obj.paid_out + obj.goods_out)

    @admin.display(description=_("结余"))
    def balance_display(self, obj) -> str:
        return yuan_or_dash(obj.balance)

    @admin.display(description=_("结项决算"))
    def final_account_display(self, obj) -> str:
        figures = obj.final_account or {}
        if not figures:
            return "—"
        return _("到账 %(i)s，发放资金 %(p)s，发放物资 %(g)s，结余 %(b)s") % {
            "i": yuan_or_dash(figures.get("funds_in")), "p": yuan_or_dash(figures.get("paid_out")),
            "g": yuan_or_dash(figures.get("goods_out")), "b": yuan_or_dash(figures.get("balance"))}  # fmt: skip

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data.get(name) for name in EDITABLE}
        data["referral_body"] = data["referral_body"] or ""
        data["eligibility"] = data["eligibility"] or ""
        if change:
            project_update(by=request.user, project=obj, **data)
        else:
            created = project_create(
                by=request.user, branch=form.cleaned_data["branch"], kind=form.cleaned_data["kind"],
                unit=form.cleaned_data["unit"], is_referral=form.cleaned_data["is_referral"], **data,
            )  # fmt: skip
            obj.pk = created.pk

    def save_formset(self, request, form, formset, change):
        pass  # fundings are read-only: counted by the action

    def _each(self, request, queryset, call, done: str) -> None:
        count = 0
        for project in queryset:
            try:
                call(project)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{project}: {service_error_message(exc)}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done % {"n": count})

    @admin.action(description=_("启动所选项目"), permissions=["change"])
    def open_projects(self, request, queryset):
        self._each(request, queryset, lambda p: project_open(by=request.user, project=p), _("已启动 %(n)d 个项目"))

    @admin.action(description=_("计入已复核的拨付"), permissions=["change"])
    def collect_fundings(self, request, queryset):
        self._each(
            request, queryset, lambda p: project_fundings_collect(by=request.user, project=p),
            _("已核对 %(n)d 个项目的资金来源"),
        )  # fmt: skip

    def get_urls(self):
        custom = [
            path("<int:object_id>/close/", self.admin_site.admin_view(self.close_view), name="relief_project_close"),
        ]
        return custom + super().get_urls()

    def close_view(self, request, object_id: int):
        """结项: the button on the project's page posts here with the note on the balance."""
        project = get_object_or_404(self.get_queryset(request), pk=object_id)
        if request.method != "POST" or not self.has_change_permission(request, project):
            raise PermissionDenied
        try:
            project_close(by=request.user, project=project, note=request.POST.get("note", ""))
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, service_error_message(exc), messages.ERROR)
        else:
            self.message_user(request, _("项目已结项，决算已保存"))
        return redirect("admin:relief_project_change", project.pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        project = self.get_object(request, object_id)
        extra_context["can_close"] = bool(
            project and project.status == ProjectStatus.OPEN and self.has_change_permission(request, project)
        )
        # the project's work in the admin: its applications, and for 博爱家园 its shares and dividends
        user, is_open = request.user, bool(project and project.status == ProjectStatus.OPEN)
        livelihood = is_open and project.kind == ProjectKind.LIVELIHOOD and not project.is_referral
        extra_context["can_register_application"] = is_open and user.has_perm("relief.add_application")
        extra_context["can_record_shares"] = livelihood and user.has_perm("relief.add_livelihoodshare")
        extra_context["can_pay_dividends"] = livelihood and user.has_perm("relief.add_aid")
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(BooksCheck)
class BooksCheckAdmin(ServiceWrittenAdmin):
    branch_field = "project__branch"
    list_display = ("project", "checked_at", "is_balanced")
    list_filter = ("is_balanced",)
    list_select_related = ("project",)
    fields = ("project", "checked_at", "is_balanced", "figures", "discrepancies")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False
