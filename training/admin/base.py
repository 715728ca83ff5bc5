"""What the equipment, AED and rescue-case admin pages share: forms saved through a service, and
evidence files downloaded through a branch-checked view (never a /media/ address)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext

from redcross.admin import BranchScopedAdmin
from redcross.forms import service_errors_to_form
from redcross.uploads import stored_file_download


class ServiceModelForm(forms.ModelForm):
    """An admin form whose save is a service call. The service runs once the fields are clean,
    inside the admin's transaction (in a savepoint), so a ``ValidationError`` it raises lands on the
    field it names and nothing is written; the row it returns is what the admin then shows. The
    model's own validation is the service's job, so it is not run a second time here."""

    request = None  # set by ServiceFormAdmin.get_form
    service_result = None

    def call_service(self, data: dict, *, by):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _post_clean(self) -> None:
        if self.errors:
            return
        try:
            with transaction.atomic():
                self.service_result = self.call_service(self.cleaned_data, by=self.request.user)
        except (ValidationError, PermissionDenied) as exc:
            service_errors_to_form(exc, self)


class ServiceFormAdmin(BranchScopedAdmin):
    """Admin pages whose add (and change) forms are ``ServiceModelForm``s; files listed in
    ``file_fields`` are downloaded through ``file_view`` (scope and permission checked)."""

    file_fields: tuple[str, ...] = ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if issubclass(form, ServiceModelForm):
            form = type(form.__name__, (form,), {"request": request})
        return form

    def save_form(self, request, form, change):
        if isinstance(form, ServiceModelForm):
            return form.service_result
        return super().save_form(request, form, change)

    def save_model(self, request, obj, form, change):
        if isinstance(form, ServiceModelForm):
            return  # the service wrote it
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        if isinstance(form, ServiceModelForm):
            for formset in formsets:  # read-only inlines: nothing of theirs is saved here
                formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        super().save_related(request, form, formsets, change)

    def get_urls(self):
        meta = self.model._meta
        name = f"{meta.app_label}_{meta.model_name}_file"
        custom = [path("<int:object_id>/file/<str:field>/", self.admin_site.admin_view(self.file_view), name=name)]
        return custom + super().get_urls()

    def file_view(self, request, object_id: int, field: str):
        if field not in self.file_fields:
            raise Http404
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return stored_file_download(getattr(obj, field))

    def file_link(self, obj, field: str) -> str:
        if not obj or not getattr(obj, field):
            return "—"
        meta = self.model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_file", args=[obj.pk, field])
        return format_html('<a href="{}">{}</a>', url, gettext("下载"))
