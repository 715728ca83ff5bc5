"""Certificates: read-only as issued (a list and a detail page with the PDF to download); the
holder's photo may be put on (the PDF is rendered again); revocation with a reason as an action."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from redcross.admin import BranchScopedAdmin, download_link, pdf_document_download
from redcross.forms import service_error_message
from redcross.uploads import stored_file_download
from redcross.verification import VerificationStatus
from training.models import Certificate
from training.selectors.workbench import instructor_certificates_expiring
from training.services.certificates import certificate_photo_set, certificate_revoke

_BADGE = {
    VerificationStatus.VALID: "badge badge-ok",
    VerificationStatus.EXPIRED: "badge badge-warn",
    VerificationStatus.REVOKED: "badge badge-bad",
}


class ExpiringFilter(admin.SimpleListFilter):
    """The workbench's "即将到期的师资证" line links here: the same rows it counts."""

    title = _("有效期")
    parameter_name = "expiring"

    def lookups(self, request, model_admin):
        return [("instructor", _("即将到期的师资证"))]

    def queryset(self, request, queryset):
        if self.value() == "instructor":
            return queryset & instructor_certificates_expiring(branch_ids=None)
        return queryset


class OriginFilter(admin.SimpleListFilter):
    title = _("来源")
    parameter_name = "origin"

    def lookups(self, request, model_admin):
        return [("here", _("本系统颁发")), ("recorded", _("外单位颁发（登记）"))]

    def queryset(self, request, queryset):
        if self.value() == "here":
            return queryset.filter(session__isnull=False)
        if self.value() == "recorded":
            return queryset.filter(session__isnull=True)
        return queryset


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("撤销原因"), max_length=200, widget=forms.Textarea(attrs={"rows": 3}))


@admin.action(description=_("撤销证书"), permissions=["change"])
def revoke_certificates(modeladmin, request, queryset):
    """Ask for the reason, then revoke each selected certificate through ``certificate_revoke``."""
    form = RevokeForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        done = 0
        for certificate in queryset:
            try:
                certificate_revoke(certificate=certificate, reason=form.cleaned_data["reason"], by=request.user)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                modeladmin.message_user(request, f"{certificate}: {service_error_message(exc)}", messages.ERROR)
        if done:
            modeladmin.message_user(request, gettext("已撤销 %(count)d 本证书") % {"count": done}, messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": gettext("撤销证书"),
        "opts": modeladmin.model._meta,
        "form": form,
        "certificates": queryset,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/training/certificate/revoke.html", context)


class CertificatePhotoForm(forms.ModelForm):
    class Meta:
        model = Certificate
        fields = ("photo",)


@admin.register(Certificate)
class CertificateAdmin(BranchScopedAdmin):
    form = CertificatePhotoForm
    list_display = (
        "number", "holder_display_name", "kind", "branch", "issued_on", "expires_on", "status_badge", "pdf_status",
    )  # fmt: skip
    list_filter = ("kind", ExpiringFilter, OriginFilter, "issued_on", ("branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("branch",)
    search_fields = ("=number",)
    show_full_result_count = False
    actions = (revoke_certificates,)
    fieldsets = (
        (None, {"fields": ("number", "kind", "level", "holder_display_name", "status_badge")}),
        (_("颁发"), {"fields": ("branch", "session", "renews_display", "renewal_display", "issued_on",
                                "expires_on", "issued_by")}),
        (_("撤销"), {"fields": ("revoked_at", "revoked_reason")}),
        (_("证书文件"), {"fields": ("photo", "photo_link", ("pdf_link", "pdf_status"))}),
    )  # fmt: skip
    readonly_fields = (
        "number", "kind", "level", "holder_display_name", "status_badge", "branch", "session", "renews_display",
        "renewal_display", "issued_on", "expires_on", "issued_by", "revoked_at", "revoked_reason", "photo_link",
        "pdf_link", "pdf_status",
    )  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.pdf_renderable() and obj.revoked_at is None:
            return self.readonly_fields  # only the photo may be put on
        return (*self.readonly_fields, "photo")

    def get_fieldsets(self, request, obj=None):
        if obj is not None and obj.pdf_renderable() and obj.revoked_at is None:
            return self.fieldsets
        # the photo field itself only where it may change; its link shows the one there is
        return (*self.fieldsets[:-1], (_("证书文件"), {"fields": ("photo_link", ("pdf_link", "pdf_status"))}))

    def has_add_permission(self, request):
        return False  # issued by the exam services

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if "photo" in form.changed_data:
            certificate_photo_set(certificate=obj, photo=form.cleaned_data.get("photo") or None, by=request.user)

    def save_related(self, request, form, formsets, change):
        pass

    def get_urls(self):
        return [
            path(
                "<int:certificate_id>/pdf/", self.admin_site.admin_view(self.pdf_view), name="training_certificate_pdf"
            ),
            path(
                "<int:certificate_id>/photo/",
                self.admin_site.admin_view(self.photo_view),
                name="training_certificate_photo",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request, certificate_id: int):
        return pdf_document_download(self, request, certificate_id)

    def photo_view(self, request, certificate_id: int):
        certificate = self.get_queryset(request).filter(pk=certificate_id).first()
        if certificate is None or not self.has_view_permission(request, certificate):
            raise PermissionDenied
        return stored_file_download(certificate.photo)

    @admin.display(description=_("状态"))
    def status_badge(self, obj) -> str:
        from django.utils.html import format_html

        status = obj.verification_status()
        return format_html('<span class="{}">{}</span>', _BADGE[status], VerificationStatus(status).label)

    @admin.display(description=_("PDF 文件"))
    def pdf_link(self, obj) -> str:
        return download_link(reverse("admin:training_certificate_pdf", args=[obj.pk]) if obj.pdf_ready else None)

    @admin.display(description=_("照片文件"))
    def photo_link(self, obj) -> str:
        url = reverse("admin:training_certificate_photo", args=[obj.pk]) if obj.photo else None
        return download_link(url, gettext("下载照片"))

    @admin.display(description=_("换发自"))
    def renews_display(self, obj) -> str:
        return obj.renews.number if obj.renews_id else "—"

    @admin.display(description=_("已换发为"))
    def renewal_display(self, obj) -> str:
        renewal = Certificate.objects.filter(renews=obj).values_list("number", flat=True).first()
        return renewal or "—"
