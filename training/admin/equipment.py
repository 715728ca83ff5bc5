"""Equipment: batches (registered through ``equipment_batch_register``, then read-only), schools and
venues with what they hold (saved through ``equipment_site_save``), distributions (through
``equipment_distribute``; the signed receipt's scan attached once, downloaded through a checked view)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import F, Q, Sum
from django.utils.translation import gettext_lazy as _

from redcross.admin import table_html, yuan_or_dash
from redcross.scoping import scope_queryset
from training.admin.base import ServiceFormAdmin, ServiceModelForm
from training.models import EquipmentBatch, EquipmentDistribution, EquipmentKind, EquipmentSite, PlanFunding
from training.selectors.equipment import holdings_text, site_holdings
from training.services.equipment import (
    distribution_receipt_attach,
    equipment_batch_register,
    equipment_distribute,
    equipment_site_save,
)


class BatchForm(ServiceModelForm):
    class Meta:
        model = EquipmentBatch
        fields = (
            "branch", "kind", "model_name", "quantity", "unit_price", "funding_line", "funding", "purchased_on",
            "supplier", "note",
        )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["funding_line"].required = False
        self.fields["funding_line"].help_text = _("选择了计划资金时可留空")
        funding = PlanFunding.objects.select_related("plan")
        self.fields["funding"].queryset = scope_queryset(funding, self.request.user, branch_field="plan__branch")

    def call_service(self, data, *, by):
        return equipment_batch_register(by=by, **data)


@admin.register(EquipmentBatch)
class EquipmentBatchAdmin(ServiceFormAdmin):
    form = BatchForm
    list_display = (
        "purchased_on", "kind", "model_name", "branch", "funding_line", "quantity", "distributed", "in_stock_display",
    )  # fmt: skip
    list_filter = ("kind", "funding_line", ("branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("branch",)
    search_fields = ("model_name", "supplier")
    date_hierarchy = "purchased_on"
    fieldsets = (
        (None, {"fields": ("branch", "kind", "model_name", "supplier", "purchased_on")}),
        (_("数量"), {"fields": ("quantity", "distributed", "in_stock_display")}),
        (_("资金"), {"fields": ("funding_line", "funding", "unit_price_display")}),
        (_("登记"), {"fields": ("note", "recorded_by", "recorded_at")}),
    )
    readonly_fields = (
        "branch", "kind", "model_name", "supplier", "purchased_on", "quantity", "distributed", "in_stock_display",
        "funding_line", "funding", "unit_price_display", "note", "recorded_by", "recorded_at",
    )  # fmt: skip

    def get_fieldsets(self, request, obj=None):
        return ((None, {"fields": BatchForm._meta.fields}),) if obj is None else self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    def has_change_permission(self, request, obj=None):
        return False  # a purchase is a record; distributions change what is left

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("库存"), ordering="quantity")
    def in_stock_display(self, obj) -> str:
        return f"{obj.in_stock:,}"

    @admin.display(description=_("单价"))
    def unit_price_display(self, obj) -> str:
        return yuan_or_dash(obj.unit_price)


class SiteForm(ServiceModelForm):
    class Meta:
        model = EquipmentSite
        fields = ("branch", "name", "kind", "demonstration_since", "address", "contact_name", "contact_phone", "note")

    def call_service(self, data, *, by):
        return equipment_site_save(site=self.instance if self.instance.pk else None, by=by, **data)


class DemonstrationFilter(admin.SimpleListFilter):
    title = _("红十字示范校")
    parameter_name = "demonstration"

    def lookups(self, request, model_admin):
        return [("yes", _("是")), ("no", _("否"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(demonstration_since__isnull=False)
        if self.value() == "no":
            return queryset.filter(demonstration_since__isnull=True)
        return queryset


class DistributionInline(admin.TabularInline):
    model = EquipmentDistribution
    fields = ("distributed_on", "kind", "quantity", "received_by_name")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("batch")

    @admin.display(description=_("设备类别"))
    def kind(self, obj) -> str:
        return obj.batch.get_kind_display()


def _kind_total(kind: str) -> Sum:
    return Sum("distributions__quantity", filter=Q(distributions__batch__kind=kind))


@admin.register(EquipmentSite)
class EquipmentSiteAdmin(ServiceFormAdmin):
    form = SiteForm
    list_display = ("name", "kind", "branch", "demonstration_since", "holdings")
    list_filter = (DemonstrationFilter, "kind", ("branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("branch",)
    search_fields = ("name",)
    inlines = (DistributionInline,)
    readonly_fields = ("holdings_table",)

    def get_fieldsets(self, request, obj=None):
        fieldsets = [(None, {"fields": SiteForm._meta.fields})]
        if obj is not None:
            fieldsets.append((_("持有设备"), {"fields": ("holdings_table",)}))
        return fieldsets

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # the list's holdings column: one grouped query for the page, not one per school
        return queryset.annotate(**{f"_held_{kind}": _kind_total(kind) for kind in EquipmentKind.values})

    def has_delete_permission(self, request, obj=None):
        return False  # distributions point at it

    @admin.display(description=_("持有设备"))
    def holdings(self, obj) -> str:
        return holdings_text({kind: getattr(obj, f"_held_{kind}", 0) or 0 for kind in EquipmentKind.values})

    @admin.display(description=_("持有设备"))
    def holdings_table(self, obj) -> str:
        held = site_holdings(obj)
        rows = [(label, f"{held[kind]:,}") for kind, label in EquipmentKind.choices if held.get(kind)]
        return table_html([_("设备类别"), _("数量")], rows, numeric={1})


class DistributionForm(ServiceModelForm):
    class Meta:
        model = EquipmentDistribution
        fields = ("batch", "site", "quantity", "distributed_on", "received_by_name", "receipt_scan", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.request.user
        batches = EquipmentBatch.objects.filter(distributed__lt=F("quantity")).select_related("branch")
        self.fields["batch"].queryset = scope_queryset(batches, user)
        self.fields["site"].queryset = scope_queryset(EquipmentSite.objects.select_related("branch"), user)

    def call_service(self, data, *, by):
        return equipment_distribute(by=by, **data)


class ReceiptScanForm(ServiceModelForm):
    class Meta:
        model = EquipmentDistribution
        fields = ("receipt_scan",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "receipt_scan" in self.fields:  # not once the scan is there (then the page is read-only)
            self.fields["receipt_scan"].required = True

    def call_service(self, data, *, by):
        return distribution_receipt_attach(distribution=self.instance, file=data["receipt_scan"], by=by)


@admin.register(EquipmentDistribution)
class EquipmentDistributionAdmin(ServiceFormAdmin):
    branch_field = "site__branch"
    file_fields = ("receipt_scan",)
    list_display = ("distributed_on", "site", "kind", "quantity", "received_by_name", "has_receipt", "district")
    list_filter = ("batch__kind", ("site__branch", admin.RelatedOnlyFieldListFilter), "site__demonstration_since")
    list_select_related = ("site__branch", "batch")
    search_fields = ("site__name", "received_by_name")
    date_hierarchy = "distributed_on"
    show_full_result_count = False
    readonly_fields = (
        "batch", "site", "quantity", "distributed_on", "received_by_name", "receipt_link", "note",
        "recorded_by", "recorded_at",
    )  # fmt: skip

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ReceiptScanForm if obj is not None else DistributionForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": DistributionForm._meta.fields}),)
        fields = list(self.readonly_fields)
        if not obj.receipt_scan:
            fields[fields.index("receipt_link")] = "receipt_scan"
        return ((None, {"fields": fields}),)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return [f for f in self.readonly_fields if obj.receipt_scan or f != "receipt_link"]

    def has_change_permission(self, request, obj=None):
        # only to attach the signed receipt's scan, once
        if obj is not None and obj.receipt_scan:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("设备类别"), ordering="batch__kind")
    def kind(self, obj) -> str:
        return obj.batch.get_kind_display()

    @admin.display(description=_("所在区县"), ordering="site__branch__path")
    def district(self, obj) -> str:
        return obj.site.branch.display_name

    @admin.display(description=_("签收单"), boolean=True)
    def has_receipt(self, obj) -> bool:
        return bool(obj.receipt_scan)

    @admin.display(description=_("签收单扫描件"))
    def receipt_link(self, obj) -> str:
        return self.file_link(obj, "receipt_scan")
