"""Sessions (added through ``session_create``, moved along their status by list actions),
attendance (recorded through ``attendance_record``) and certificates (read-only)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from redcross.admin import BranchScopedAdmin
from redcross.forms import service_error_message
from redcross.scoping import scope_queryset
from redcross.verification import VerificationStatus
from training.admin.registration import RegistrationInline, seats_column, waitlist_column
from training.models import Attendance, Certificate, Session, SessionStatus
from training.selectors.registration import with_seats
from training.selectors.sessions import qualified_instructors
from training.selectors.workbench import instructor_certificates_expiring
from training.services.sessions import (
    attendance_record,
    session_create,
    session_instructors_check,
    session_set_status,
)

_BADGE = {
    SessionStatus.PLANNED: "badge",
    SessionStatus.OPEN: "badge badge-ok",
    SessionStatus.HELD: "badge badge-warn",
    SessionStatus.CLOSED: "badge",
}


class SessionAddForm(forms.ModelForm):
    instructors = forms.ModelMultipleChoiceField(
        label=_("授课师资"), queryset=qualified_instructors(), required=False, widget=forms.SelectMultiple
    )

    class Meta:
        model = Session
        fields = (
            "branch", "title", "kind", "audience", "is_outdoor", "venue", "latitude", "longitude",
            "starts_at", "ends_at", "hours", "capacity", "funding_line",
        )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hours"].required = False
        self.fields["hours"].help_text = _("留空则按课程类别的规定学时")
        self.fields["instructors"].queryset = qualified_instructors()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("ends_at") and cleaned.get("instructors"):
            try:
                session_instructors_check(instructors=cleaned["instructors"], ends_at=cleaned["ends_at"])
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field, errors)
        return cleaned

    def _post_clean(self):
        # hours may be left empty here: the service fills in the course's hours
        if self.cleaned_data.get("hours") is None and self.cleaned_data.get("kind"):
            from training.conf import course_hours

            self.cleaned_data["hours"] = course_hours(self.cleaned_data["kind"])
        super()._post_clean()


def _transition(status: str, description):
    def action(modeladmin, request, queryset):
        done = 0
        for session in queryset:
            try:
                session_set_status(session=session, status=status, by=request.user)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                modeladmin.message_user(request, f"{session}: {service_error_message(exc)}", messages.ERROR)
        if done:
            modeladmin.message_user(request, _("已更新 %(count)d 个培训班") % {"count": done}, messages.SUCCESS)

    action.__name__ = f"mark_{status}"
    return admin.action(description=description, permissions=["change"])(action)


@admin.register(Session)
class SessionAdmin(BranchScopedAdmin):
    list_display = (
        "title", "branch", "kind", "audience", "starts_at", seats_column, waitlist_column, "status_badge", "is_outdoor",
    )  # fmt: skip
    list_filter = (
        "status",
        "kind",
        "audience",
        "is_outdoor",
        "funding_line",
        ("branch", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("branch",)
    search_fields = ("title", "venue")
    date_hierarchy = "starts_at"
    show_full_result_count = False
    actions = (
        _transition(SessionStatus.OPEN, _("开放报名")),
        _transition(SessionStatus.HELD, _("标记为已举办")),
        _transition(SessionStatus.CLOSED, _("结班")),
    )
    fieldsets = (
        (None, {"fields": ("title", "branch", "kind", "audience", "is_outdoor", "status")}),
        (_("时间与地点"), {"fields": ("starts_at", "ends_at", "hours", "venue", "coordinates")}),
        (_("名额与师资"), {"fields": ("capacity", "instructor_names", "people_reached", "funding_line")}),
        (_("登记"), {"fields": ("created_by", "created_at")}),
    )
    readonly_fields = (
        "title", "branch", "kind", "audience", "is_outdoor", "status", "starts_at", "ends_at", "hours",
        "venue", "coordinates", "capacity", "instructor_names", "people_reached", "funding_line",
        "created_by", "created_at",
    )  # fmt: skip

    inlines = (RegistrationInline,)

    def get_queryset(self, request):
        return with_seats(super().get_queryset(request))  # seats taken and waitlist in the list's one query

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = SessionAddForm
            kwargs["fields"] = SessionAddForm._meta.fields + ("instructors",)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": SessionAddForm._meta.fields + ("instructors",)}),)
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False  # attendance and certificates point at it

    def save_model(self, request, obj, form, change):
        if change:
            return  # a session changes only through its actions
        data = form.cleaned_data
        created = session_create(
            branch=data["branch"], title=data["title"], kind=data["kind"], audience=data["audience"],
            venue=data["venue"], starts_at=data["starts_at"], ends_at=data["ends_at"],
            capacity=data.get("capacity") or 0, hours=data.get("hours"), is_outdoor=data["is_outdoor"],
            latitude=data.get("latitude"), longitude=data.get("longitude"),
            funding_line=data.get("funding_line", ""), instructors=data.get("instructors") or (), by=request.user,
        )  # fmt: skip
        obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        pass  # instructors are saved by session_create

    @admin.display(description=_("状态"), ordering="status")
    def status_badge(self, obj) -> str:
        return format_html('<span class="{}">{}</span>', _BADGE[obj.status], obj.get_status_display())

    @admin.display(description=_("坐标"))
    def coordinates(self, obj) -> str:
        if obj.latitude is None:
            return "—"
        return f"{obj.latitude}, {obj.longitude}"

    @admin.display(description=_("授课师资"))
    def instructor_names(self, obj) -> str:
        return "、".join(person.name for person in obj.instructors.all()) or "—"


class AttendanceForm(forms.ModelForm):
    class Meta:
        model = Attendance
        fields = ("session", "person", "hours_attended")


@admin.register(Attendance)
class AttendanceAdmin(BranchScopedAdmin):
    branch_field = "session__branch"
    form = AttendanceForm
    list_display = ("person", "session", "hours_attended", "recorded_at")
    list_filter = ("session__kind", ("session__branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("person", "session")
    search_fields = ("person__name", "session__title")
    autocomplete_fields = ("person",)
    show_full_result_count = False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "session":
            held = Session.objects.filter(status=SessionStatus.HELD, is_outdoor=False)
            kwargs["queryset"] = scope_queryset(held, request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ("session", "person") if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        attendance = attendance_record(
            session=obj.session, person=obj.person, hours_attended=obj.hours_attended, by=request.user
        )
        obj.pk = attendance.pk


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


@admin.register(Certificate)
class CertificateAdmin(BranchScopedAdmin):
    list_display = ("number", "holder_display_name", "kind", "branch", "issued_on", "expires_on", "status_display")
    list_filter = ("kind", ExpiringFilter, ("branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("branch",)
    search_fields = ("=number",)
    show_full_result_count = False
    fields = (
        "number", "kind", "level", "holder_display_name", "branch", "session", "issued_on", "expires_on",
        "status_display", "revoked_at", "revoked_reason", "issued_by",
    )  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # issued by the exam services

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("状态"))
    def status_display(self, obj) -> str:
        return str(VerificationStatus(obj.verification_status()).label)
