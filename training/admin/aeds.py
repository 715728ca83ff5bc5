"""The AED registry: AEDs registered and changed through ``aed_register`` / ``aed_update``, checks
recorded through ``aed_check_record`` (the only way the last check changes), removal as an action.
The "需要处理" filter reads the workbench line's queryset."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from redcross.forms import service_error_message
from redcross.scoping import scope_queryset
from training.admin.base import ServiceFormAdmin, ServiceModelForm
from training.models import Aed, AedCheck, AedStatus, EquipmentBatch, EquipmentKind
from training.selectors.aeds import REASONS, aeds_needing_attention, attention_reasons
from training.services.aeds import AED_FIELDS, aed_check_record, aed_register, aed_remove, aed_update


class AedForm(ServiceModelForm):
    class Meta:
        model = Aed
        fields = AED_FIELDS
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        batches = EquipmentBatch.objects.filter(kind=EquipmentKind.AED).select_related("branch")
        self.fields["batch"].queryset = scope_queryset(batches, self.request.user)

    def call_service(self, data, *, by):
        if self.instance.pk:
            return aed_update(aed=self.instance, by=by, **data)
        return aed_register(by=by, **data)


class AttentionFilter(admin.SimpleListFilter):
    """The workbench's "需检查或更换耗材的 AED" line links here: the same rows it counts."""

    title = _("需要处理")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("due", _("需检查或更换耗材"))]

    def queryset(self, request, queryset):
        if self.value() == "due":
            return queryset & aeds_needing_attention(branch_ids=None)
        return queryset


class AedCheckInline(admin.TabularInline):
    model = AedCheck
    fields = ("checked_on", "result", "checked_by", "battery_expires_on", "pads_expires_on", "note")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("checked_by")


def _remove(modeladmin, request, queryset):
    done = 0
    for aed in queryset:
        try:
            aed_remove(aed=aed, by=request.user)
            done += 1
        except (ValidationError, PermissionDenied) as exc:
            modeladmin.message_user(request, f"{aed}: {service_error_message(exc)}", messages.ERROR)
    if done:
        modeladmin.message_user(request, _("已撤除 %(count)d 台 AED") % {"count": done}, messages.SUCCESS)


_remove.__name__ = "remove"
remove = admin.action(description=_("撤除（不再公开）"), permissions=["change"])(_remove)

_STATUS_BADGE = {
    AedStatus.IN_SERVICE: "badge badge-ok",
    AedStatus.OUT_OF_SERVICE: "badge badge-warn",
    AedStatus.REMOVED: "badge",
}


@admin.register(Aed)
class AedAdmin(ServiceFormAdmin):
    form = AedForm
    list_display = (
        "place", "location_detail", "branch", "indoor", "access", "status_badge", "last_checked_on",
        "battery_expires_on", "pads_expires_on", "attention",
    )  # fmt: skip
    list_filter = (AttentionFilter, "status", "indoor", "access", ("branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("branch",)
    search_fields = ("place", "address", "location_detail", "=serial_number")
    show_full_result_count = False
    actions = (remove,)
    inlines = (AedCheckInline,)
    fieldsets = (
        (_("位置"), {"fields": ("branch", "place", "address", "location_detail", "level", "latitude", "longitude")}),
        (_("使用条件"), {"fields": ("indoor", "access", "opening_hours", "operator")}),
        (_("设备"), {"fields": ("model_name", "serial_number", "batch", "installed_on")}),
        (_("维护"), {"fields": ("battery_expires_on", "pads_expires_on", "note")}),
    )
    check_fieldset = (
        _("检查（通过“AED 检查记录”登记）"),
        {"fields": ("status", "last_checked_on", "last_checked_by", "attention")},
    )

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets + ((self.check_fieldset,) if obj else ())

    def get_readonly_fields(self, request, obj=None):
        return ("status", "last_checked_on", "last_checked_by", "attention") if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False  # removal is an action; its checks stay

    @admin.display(description=_("状态"), ordering="status")
    def status_badge(self, obj) -> str:
        return format_html('<span class="{}">{}</span>', _STATUS_BADGE[obj.status], obj.get_status_display())

    @admin.display(description=_("需要处理"))
    def attention(self, obj) -> str:
        reasons = attention_reasons(obj)
        if not reasons:
            return "—"
        return format_html('<span class="badge badge-warn">{}</span>', "、".join(str(REASONS[r]) for r in reasons))


class AedCheckForm(ServiceModelForm):
    class Meta:
        model = AedCheck
        fields = ("aed", "checked_on", "result", "battery_expires_on", "pads_expires_on", "note")
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["battery_expires_on"].help_text = _("更换了电池时填写新电池的有效期")
        self.fields["pads_expires_on"].help_text = _("更换了电极片时填写新电极片的有效期")

    def call_service(self, data, *, by):
        return aed_check_record(by=by, **data)


@admin.register(AedCheck)
class AedCheckAdmin(ServiceFormAdmin):
    branch_field = "aed__branch"
    form = AedCheckForm
    list_display = ("checked_on", "aed", "district", "result", "checked_by")
    list_filter = ("result", ("aed__branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("aed__branch", "checked_by")
    search_fields = ("aed__place",)
    autocomplete_fields = ("aed",)
    date_hierarchy = "checked_on"
    show_full_result_count = False

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("checked_on", timezone.localdate())
        return initial

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("aed", "checked_on", "checked_by", "result", "battery_expires_on", "pads_expires_on", "note")

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) if obj else AedCheckForm._meta.fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("所在区县"), ordering="aed__branch__path")
    def district(self, obj) -> str:
        return obj.aed.branch.display_name
