"""Rescue cases: written through the rescue services; published by an action that asks for the
rescuer's consent; the consent itself recorded on the case's own page (at the counter, or a signed
form with its scan) through ``rescue_consent_record``."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from redcross.admin import render_admin_page
from redcross.consent import consent_text_current, standing_consents
from redcross.forms import service_error_message, service_errors_to_form
from redcross.models import ConsentMethod
from training.admin.base import ServiceFormAdmin, ServiceModelForm
from training.models import RESCUE_CASE_PURPOSE, RescueCase, RescueCaseStatus
from training.services.rescue import (
    rescue_case_create,
    rescue_case_publish,
    rescue_case_unpublish,
    rescue_case_update,
    rescue_consent_record,
)

EDITABLE = ("rescued_on", "place", "title", "story", "certificate", "session")


class RescueCaseForm(ServiceModelForm):
    class Meta:
        model = RescueCase
        fields = ("branch", "rescuer", *EDITABLE)

    def call_service(self, data, *, by):
        if self.instance.pk:
            return rescue_case_update(case=self.instance, by=by, **{f: data[f] for f in EDITABLE})
        return rescue_case_create(by=by, **data)


class ConsentForm(forms.Form):
    method = forms.ChoiceField(
        label=_("同意方式"),
        choices=[(method, method.label) for method in (ConsentMethod.COUNTER, ConsentMethod.WRITTEN)],
    )
    evidence = forms.FileField(label=_("签字表格扫描件"), required=False, help_text=_("书面同意时必须上传"))


def _each(modeladmin, request, queryset, call, done: str) -> None:
    count = 0
    for case in queryset:
        try:
            call(case)
            count += 1
        except (ValidationError, PermissionDenied) as exc:
            modeladmin.message_user(request, f"{case}: {service_error_message(exc)}", messages.ERROR)
    if count:
        modeladmin.message_user(request, done % {"count": count}, messages.SUCCESS)


@admin.action(description=_("发布（须施救人同意）"), permissions=["change"])
def publish(modeladmin, request, queryset):
    call = lambda case: rescue_case_publish(case=case, by=request.user)  # noqa: E731
    _each(modeladmin, request, queryset, call, gettext("已发布 %(count)d 个案例"))


@admin.action(description=_("撤下"), permissions=["change"])
def unpublish(modeladmin, request, queryset):
    call = lambda case: rescue_case_unpublish(case=case, by=request.user)  # noqa: E731
    _each(modeladmin, request, queryset, call, gettext("已撤下 %(count)d 个案例"))


@admin.register(RescueCase)
class RescueCaseAdmin(ServiceFormAdmin):
    form = RescueCaseForm
    list_display = ("title", "rescued_on", "branch", "rescuer_display", "status", "consenting", "is_public")
    list_filter = ("status", ("branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("branch", "rescuer")
    search_fields = ("title",)
    autocomplete_fields = ("rescuer", "certificate", "session")
    date_hierarchy = "rescued_on"
    actions = (publish, unpublish)
    readonly_fields = ("status", "published_at", "published_by", "consent_display")

    def get_fieldsets(self, request, obj=None):
        fieldsets = [(None, {"fields": ("branch", "rescuer", "rescued_on", "place", "title", "story")}),
                     (_("培训"), {"fields": ("certificate", "session")})]  # fmt: skip
        if obj is not None:
            fieldsets.append((_("发布"), {"fields": self.readonly_fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return ("branch", "rescuer", *self.readonly_fields) if obj else ()

    def get_queryset(self, request):
        consenting = standing_consents(RESCUE_CASE_PURPOSE).filter(person_id=OuterRef("rescuer_id"))
        return super().get_queryset(request).annotate(_consenting=Exists(consenting))

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.consent_view)
        return [path("<int:object_id>/consent/", view, name="training_rescuecase_consent")] + super().get_urls()

    @admin.display(description=_("施救人"), ordering="rescuer__name")
    def rescuer_display(self, obj) -> str:
        return obj.rescuer.name

    @admin.display(description=_("施救人同意公开"), boolean=True)
    def consenting(self, obj) -> bool:
        return obj._consenting

    @admin.display(description=_("公开显示中"), boolean=True)
    def is_public(self, obj) -> bool:
        return obj.status == RescueCaseStatus.PUBLISHED and obj._consenting

    @admin.display(description=_("施救人同意"))
    def consent_display(self, obj) -> str:
        url = reverse("admin:training_rescuecase_consent", args=[obj.pk])
        state = gettext("已同意公开") if obj._consenting else gettext("未同意或已撤回")
        return format_html('{} · <a href="{}">{}</a>', state, url, gettext("登记同意"))

    def consent_view(self, request, object_id: int):
        case = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, case):
            raise PermissionDenied
        form = ConsentForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                rescue_consent_record(
                    case=case, method=form.cleaned_data["method"], evidence=form.cleaned_data["evidence"],
                    by=request.user,
                )  # fmt: skip
            except (ValidationError, PermissionDenied) as exc:
                service_errors_to_form(exc, form)
            else:
                self.message_user(request, gettext("已登记施救人的同意"), messages.SUCCESS)
                return redirect("admin:training_rescuecase_change", case.pk)
        return render_admin_page(
            self,
            request,
            "admin/training/consent_form.html",
            title=gettext("登记施救人同意公开案例"),
            form=form,
            case=case,
            consent_text=consent_text_current(RESCUE_CASE_PURPOSE),
        )
