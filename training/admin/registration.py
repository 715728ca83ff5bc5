"""Registrations: written by the public form and the services, read-only here; staff cancel through
``registration_cancel`` (which gives the seat to the first person waiting). The session list shows
seats taken and the waitlist, counted in its one query (``with_seats``)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from redcross.admin import BranchScopedAdmin
from redcross.forms import service_error_message
from training.models import Registration, RegistrationStatus
from training.services.registration import registration_cancel

_BADGE = {
    RegistrationStatus.REGISTERED: "badge badge-ok",
    RegistrationStatus.WAITLISTED: "badge badge-warn",
    RegistrationStatus.CANCELLED: "badge",
}
STAFF_CANCEL_REASON = _("工作人员在管理后台取消")


def _status_badge(obj: Registration) -> str:
    return format_html('<span class="{}">{}</span>', _BADGE[obj.status], obj.get_status_display())


def _person_link(obj: Registration) -> str:
    url = reverse("admin:redcross_person_change", args=[obj.person_id])
    return format_html('<a href="{}">{}</a>', url, obj.person)


@admin.display(description=_("已报名 / 名额"), ordering="seats_taken")
def seats_column(session) -> str:
    """For the session list, annotated by ``with_seats``."""
    if session.is_outdoor:
        return "—"
    return f"{session.seats_taken} / {session.capacity}"


@admin.display(description=_("候补"), ordering="waitlisted")
def waitlist_column(session) -> str:
    return "—" if session.is_outdoor else str(session.waitlisted)


class RegistrationInline(admin.TabularInline):
    """A session's registrations, in order of arrival; rows written by the services."""

    model = Registration
    fields = ("queue_number", "person_display", "masked_phone", "status_display", "created_at", "cancelled_at")
    readonly_fields = fields
    ordering = ("queue_number",)
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("报名名单")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("报名人"))
    def person_display(self, obj) -> str:
        return _person_link(obj)

    @admin.display(description=_("手机号码"))
    def masked_phone(self, obj) -> str:
        return obj.person.masked_phone or "—"

    @admin.display(description=_("状态"))
    def status_display(self, obj) -> str:
        return _status_badge(obj)


@admin.action(description=_("取消报名（名额自动递补给候补第一位）"), permissions=["change"])
def cancel_registrations(modeladmin, request, queryset):
    done = 0
    for registration in queryset.order_by("session_id", "queue_number"):
        try:
            if registration.status != RegistrationStatus.CANCELLED:
                registration_cancel(registration=registration, by=request.user, reason=str(STAFF_CANCEL_REASON))
                done += 1
        except (ValidationError, PermissionDenied) as exc:
            modeladmin.message_user(request, f"{registration}: {service_error_message(exc)}", messages.ERROR)
    if done:
        modeladmin.message_user(request, gettext("已取消 %(count)d 份报名") % {"count": done}, messages.SUCCESS)


@admin.register(Registration)
class RegistrationAdmin(BranchScopedAdmin):
    branch_field = "session__branch"
    list_display = ("queue_number", "person_display", "session", "branch_display", "status_display", "created_at")
    list_filter = ("status", "session__kind", ("session__branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("session", "session__branch", "person")
    search_fields = ("session__title", "person__name")
    show_full_result_count = False
    actions = (cancel_registrations,)
    fieldsets = (
        (None, {"fields": ("session", "person_display", "masked_phone", "status_display", "queue_number")}),
        (_("时间"), {"fields": ("created_at", "promoted_at", "registered_by")}),
        (_("取消"), {"fields": ("cancelled_at", "cancelled_by", "cancel_reason")}),
        (_("同意"), {"fields": ("consent_display",)}),
    )
    readonly_fields = (
        "session", "person_display", "masked_phone", "status_display", "queue_number", "created_at",
        "promoted_at", "registered_by", "cancelled_at", "cancelled_by", "cancel_reason", "consent_display",
    )  # fmt: skip

    def has_add_permission(self, request):
        return False  # registrations come through the public form (registration_create)

    def has_delete_permission(self, request, obj=None):
        return False  # a cancellation keeps the row

    def save_model(self, request, obj, form, change):
        pass  # read-only: changes go through the cancel action

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("报名人"), ordering="person__name")
    def person_display(self, obj) -> str:
        return _person_link(obj)

    @admin.display(description=_("手机号码"))
    def masked_phone(self, obj) -> str:
        return obj.person.masked_phone or "—"

    @admin.display(description=_("主办组织"), ordering="session__branch__path")
    def branch_display(self, obj) -> str:
        return obj.session.branch.short_name or obj.session.branch.name

    @admin.display(description=_("状态"), ordering="status")
    def status_display(self, obj) -> str:
        return _status_badge(obj)

    @admin.display(description=_("同意记录"))
    def consent_display(self, obj) -> str:
        if obj.consent_id is None:
            return "—"
        consent = obj.consent
        text = f"{consent.text.title}（v{consent.text.version}）"
        if consent.withdrawn_at:
            return gettext("%(text)s，已撤回") % {"text": text}
        return text
