"""Admin pages of the warehouse: warehouses, stock movements signed by two keepers, the item
ledger (台账) and its XLSX export, lots near expiry."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.admin.base import (
    CHOICE_TEMPLATE,
    XLSX,
    ServiceWrittenAdmin,
    status_badge_html,
)
from donations.exports import ledger_xlsx
from donations.forms.warehouse import StockAdjustForm, StockInCheckForm, StockTransferForm
from donations.models import (
    MovementStatus,
    StockMovement,
    Warehouse,
)
from donations.selectors.warehouse import (
    item_ledger,
    ledger_items,
    near_expiry_lots,
    quantity_text,
    scoped_warehouses,
)
from donations.services.warehouse import (
    stock_adjust,
    stock_in_check,
    stock_movement_cancel,
    stock_movement_confirm,
    stock_transfer,
)
from redcross.admin import BranchScopedAdmin, render_admin_page
from redcross.forms import service_errors_to_form
from redcross.scoping import visible_branch_ids

MAX_EXPIRY_DAYS = 3650


@admin.register(Warehouse)
class WarehouseAdmin(BranchScopedAdmin):
    list_display = ("name", "branch", "address", "is_active")
    list_filter = ("is_active", ("branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("branch",)
    search_fields = ("name", "address")

    def has_delete_permission(self, request, obj=None):
        return False  # movements keep pointing at it: deactivate instead


@admin.register(StockMovement)
class StockMovementAdmin(ServiceWrittenAdmin):
    """Movements are recorded through the stock-in, transfer and adjustment pages (or a transfer
    order) by one keeper and count once a second keeper signs them."""

    branch_field = "warehouse__branch"
    list_display = (
        "serial",
        "moved_at",
        "warehouse",
        "item",
        "kind",
        "quantity_display",
        "status_badge",
        "allocation",
        "recorded_by",
        "confirmed_by",
    )
    list_filter = (
        ("warehouse", admin.RelatedOnlyFieldListFilter),
        "kind",
        "status",
        ("moved_at", admin.DateFieldListFilter),
    )
    list_select_related = ("warehouse", "item", "allocation", "recorded_by", "confirmed_by")
    search_fields = ("=serial", "item__name", "=item__donation__serial")
    fieldsets = (
        (
            _("出入库"),
            {
                "fields": (
                    ("serial", "status_badge"),
                    ("warehouse", "item"),
                    ("kind", "quantity_display"),
                    "moved_at",
                    ("allocation", "transfer_pair"),
                    "reason",
                )
            },
        ),
        (
            _("数质量检查"),
            {"fields": (("declared_display", "shortfall_display"), "condition", "expiry_date", "photos_link")},
        ),
        (_("双人签字"), {"fields": (("recorded_by", "recorded_at"), ("confirmed_by", "confirmed_at"))}),
    )
    readonly_fields = (
        "serial", "status_badge", "warehouse", "item", "kind", "quantity_display", "moved_at", "allocation",
        "transfer_pair", "reason", "declared_display", "shortfall_display", "condition", "expiry_date", "photos_link",
        "recorded_by", "recorded_at", "confirmed_by", "confirmed_at",
    )  # fmt: skip
    file_fields = ("photos",)
    date_hierarchy = "moved_at"
    list_per_page = 100
    show_full_result_count = False
    actions = ["sign", "cancel"]

    def has_sign_permission(self, request) -> bool:
        return request.user.has_perm("donations.sign_stockmovement")

    @admin.display(description=_("查验照片"))
    def photos_link(self, obj: StockMovement):
        return self._file_link(obj, "photos")

    @admin.display(description=_("数量"), ordering="quantity")
    def quantity_display(self, obj: StockMovement) -> str:
        return f"{quantity_text(obj.quantity, signed=True)}{obj.item.unit}"

    @admin.display(description=_("捐赠函数量"))
    def declared_display(self, obj: StockMovement) -> str:
        return f"{quantity_text(obj.declared_quantity)}{obj.item.unit}" if obj.declared_quantity is not None else "—"

    @admin.display(description=_("短缺数量"))
    def shortfall_display(self, obj: StockMovement) -> str:
        return f"{quantity_text(obj.shortfall_quantity)}{obj.item.unit}" if obj.shortfall_quantity is not None else "—"

    @admin.display(description=_("状态"), ordering="status")
    def status_badge(self, obj: StockMovement):
        css = {
            MovementStatus.PENDING: "allocation-pending",
            MovementStatus.CONFIRMED: "allocation-confirmed",
        }.get(obj.status, "allocation-cancelled")
        return status_badge_html(css, obj.get_status_display())

    @admin.action(description=_("签字确认选中的出入库（第二名仓库管理员）"), permissions=["sign"])
    def sign(self, request, queryset):
        self._run_each(
            request,
            queryset,
            lambda movement: stock_movement_confirm(movement=movement, by=request.user),
            gettext("已签字 %(n)d 条出入库记录"),
        )

    @admin.action(description=_("撤销选中的待签字记录（须填写原因）"), permissions=["sign"])
    def cancel(self, request, queryset):
        return self._reason_action(
            request,
            queryset,
            action="cancel",
            title=gettext("撤销出入库记录"),
            call=lambda movement, reason: stock_movement_cancel(movement=movement, by=request.user, reason=reason),
            done_message=gettext("已撤销 %(n)d 条出入库记录"),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        custom = [
            path("stock-in/", view(self.stock_in_view), name="donations_stockmovement_stock_in"),
            path("transfer/", view(self.transfer_view), name="donations_stockmovement_transfer"),
            path("adjust/", view(self.adjust_view), name="donations_stockmovement_adjust"),
            path("ledger/", view(self.ledger_view), name="donations_stockmovement_ledger"),
            path("near-expiry/", view(self.near_expiry_view), name="donations_stockmovement_near_expiry"),
        ]
        return custom + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        self._require_add(request)
        return render_admin_page(
            self,
            request,
            CHOICE_TEMPLATE,
            title=gettext("登记出入库"),
            choices=[
                (reverse("admin:donations_stockmovement_stock_in"), gettext("数质量检查入库"),
                 gettext("清点数量、查验质量和有效期后入库；短缺数量记入该笔捐赠。")),
                (reverse("admin:donations_stockmovement_transfer"), gettext("仓库间调拨"),
                 gettext("同一组织的两个仓库之间移库。")),
                (reverse("admin:donations_stockmovement_adjust"), gettext("盘点调整"),
                 gettext("盘盈、盘亏或损毁，须写明原因。")),
                (reverse("admin:donations_allocation_add_goods"), gettext("物资调拨令"),
                 gettext("出库调拨给受赠单位。")),
            ],
            intro=gettext("每条出入库记录须由第二名仓库管理员签字后计入库存。"),
        )  # fmt: skip

    def _saved(self, request, movement: StockMovement):
        self.message_user(request, gettext("已登记 %(serial)s，待第二名仓库管理员签字") % {"serial": movement.serial})
        return HttpResponseRedirect(reverse("admin:donations_stockmovement_changelist"))

    def stock_in_view(self, request):
        self._require_add(request)
        form = StockInCheckForm(request.POST or None, request.FILES or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                movement = stock_in_check(by=request.user, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                service_errors_to_form(exc, form)
            else:
                return self._saved(request, movement)
        return self._form_page(
            request,
            gettext("数质量检查入库"),
            form,
            intro=gettext("清点数量少于捐赠函数量时，差额作为短缺记入该笔捐赠。"),
            submit=gettext("登记入库"),
        )

    def transfer_view(self, request):
        self._require_add(request)
        form = StockTransferForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            item_id, warehouse_id = data["lot"]
            try:
                out, _into = stock_transfer(
                    by=request.user,
                    item=item_id,
                    from_warehouse=warehouse_id,
                    to_warehouse=data["to_warehouse"],
                    quantity=data["quantity"],
                    reason=data["reason"],
                    moved_at=data["moved_at"],
                )
            except (ValidationError, PermissionDenied) as exc:
                service_errors_to_form(exc, form, aliases={"item": "lot", "from_warehouse": "lot"})
            else:
                return self._saved(request, out)
        return self._form_page(request, gettext("仓库间调拨"), form, submit=gettext("登记调拨"))

    def adjust_view(self, request):
        self._require_add(request)
        form = StockAdjustForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            item_id, warehouse_id = data["lot"]
            try:
                movement = stock_adjust(
                    by=request.user,
                    item=item_id,
                    warehouse=warehouse_id,
                    quantity=data["quantity"],
                    reason=data["reason"],
                    moved_at=data["moved_at"],
                )
            except (ValidationError, PermissionDenied) as exc:
                service_errors_to_form(exc, form, aliases={"item": "lot", "warehouse": "lot"})
            else:
                return self._saved(request, movement)
        return self._form_page(request, gettext("盘点调整"), form, submit=gettext("登记调整"))

    # --- reads: the per-item ledger (台账) and goods near expiry ------------------------------------

    def ledger_view(self, request):
        self._require_view(request)
        branch_ids = visible_branch_ids(request.user)
        warehouses = scoped_warehouses(branch_ids)
        try:
            warehouse_id = int(request.GET.get("warehouse") or 0) or None
        except ValueError:
            warehouse_id = None
        name = request.GET.get("name")
        if warehouse_id and name is not None:
            warehouse = warehouses.filter(pk=warehouse_id).first()
            if warehouse is None:
                raise Http404
            ledger = item_ledger(
                warehouse=warehouse,
                name=name,
                specification=request.GET.get("spec", ""),
                unit=request.GET.get("unit", ""),
            )
            query = urlencode(
                {"warehouse": warehouse.pk, "name": name, "spec": ledger.specification, "unit": ledger.unit}
            )
            if request.GET.get("format") == "xlsx":
                response = HttpResponse(ledger_xlsx(ledger), content_type=XLSX)
                response["Content-Disposition"] = (
                    f'attachment; filename="ledger-{warehouse.pk}-{timezone.localdate():%Y%m%d}.xlsx"'
                )
                return response
            return render_admin_page(
                self,
                request,
                "admin/donations/stockmovement/ledger.html",
                title=gettext("物资台账：%(name)s") % {"name": name},
                ledger=ledger,
                xlsx_query=f"{query}&format=xlsx",
            )
        items = ledger_items(branch_ids=branch_ids, warehouse_id=warehouse_id)
        rows = [
            (item, urlencode({"warehouse": item.warehouse_id, "name": item.name, "spec": item.specification,
                              "unit": item.unit}))
            for item in items
        ]  # fmt: skip
        return render_admin_page(
            self,
            request,
            "admin/donations/stockmovement/ledger_index.html",
            title=gettext("物资台账"),
            rows=rows,
            warehouses=warehouses,
            warehouse_id=warehouse_id,
        )

    def near_expiry_view(self, request):
        self._require_view(request)
        try:
            days = min(max(int(request.GET.get("days") or 30), 0), MAX_EXPIRY_DAYS)
        except ValueError:
            days = 30
        lots = near_expiry_lots(branch_ids=visible_branch_ids(request.user), within_days=days)
        return render_admin_page(
            self,
            request,
            "admin/donations/stockmovement/near_expiry.html",
            title=gettext("临期物资"),
            lots=lots,
            days=days,
        )
