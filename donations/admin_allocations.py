"""Staff work on where gifts go, in the admin: plans, allocations, recipient sign-offs, the
warehouse (stock-in checks, transfers, stock-taking, the per-item ledger, goods near expiry) and
the campaigns' books.

Every page is branch-scoped (``BranchScopedAdmin``) and thin: a form parses the input, one
service (``donations.services.allocations`` / ``.warehouse``) or selector
(``donations.selectors.warehouse`` / ``.books``) does the work, and the page renders the result.
The rows are written only by those services, so nothing here can be changed or deleted in
place: a mistake is cancelled (with a reason) while it waits for its second signature.
Loaded from ``donations.admin``.
"""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.exports import safe_cell
from donations.models import (
    Allocation,
    AllocationPlan,
    AllocationPlanLine,
    AllocationSource,
    AllocationStatus,
    Campaign,
    Donation,
    DonationKind,
    MovementStatus,
    Recipient,
    RecipientConfirmation,
    ReconciliationRun,
    StockMovement,
    Warehouse,
)
from donations.selectors.books import campaign_books
from donations.selectors.warehouse import (
    Ledger,
    item_ledger,
    ledger_items,
    lots_awaiting_check,
    lots_in_stock,
    near_expiry_lots,
    outstanding_confirmations,
    quantity_text,
    scoped_warehouses,
)
from donations.services.allocations import (
    allocation_cancel,
    allocation_confirm,
    allocation_plan_register,
    allocation_register_cash,
    allocation_register_goods,
    recipient_confirmation_record,
)
from donations.services.warehouse import (
    stock_adjust,
    stock_in_check,
    stock_movement_cancel,
    stock_movement_confirm,
    stock_transfer,
)
from redcross.admin import BranchScopedAdmin, render_admin_page
from redcross.money import format_yuan_unit
from redcross.scoping import can_access_branch, scope_queryset, visible_branch_ids, visible_branches
from redcross.uploads import stored_file_download, validate_evidence_file

FORM_TEMPLATE = "admin/donations/allocation_form.html"
CHOICE_TEMPLATE = "admin/donations/add_choice.html"
REASON_TEMPLATE = "admin/donations/action_reason.html"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_LINE_ERROR = re.compile(r"^lines\[(\d+)\]\.(\w+)$")
MAX_EXPIRY_DAYS = 3650


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc) or gettext("您没有执行此操作的权限")


def _errors_to_form(exc: ValidationError | PermissionDenied, form: forms.Form, formset=None, aliases=None) -> None:
    """Put a service's field errors on the matching form field or line (``lines[i].field``)."""
    if isinstance(exc, PermissionDenied) or not hasattr(exc, "error_dict"):
        form.add_error(None, _reason(exc))
        return
    aliases = aliases or {}
    filled = [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")] if formset else []
    for field, errors in exc.message_dict.items():
        match = _LINE_ERROR.match(field)
        if match and int(match.group(1)) < len(filled):
            line_form = filled[int(match.group(1))]
            name = aliases.get(match.group(2), match.group(2))
            line_form.add_error(name if name in line_form.fields else None, errors)
        elif aliases.get(field, field) in form.fields:
            form.add_error(aliases.get(field, field), errors)
        else:
            form.add_error(None, errors)


def _filled(formset) -> list[dict[str, Any]]:
    return [f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]


def _branch_ids(request):
    return visible_branch_ids(request.user)


def _date_input():
    return forms.DateInput(attrs={"type": "date"})


def _datetime_input():
    return forms.DateTimeInput(attrs={"type": "datetime-local"})


# --- forms --------------------------------------------------------------------------------------


class _BranchForm(forms.Form):
    """A form whose branch, recipient and campaign choices are limited to what the user may see."""

    def _limit(self, user) -> None:
        branches = visible_branches(user).filter(is_active=True)
        if "branch" in self.fields:
            self.fields["branch"].queryset = branches
            if user.branch_id and not self.is_bound:
                self.initial.setdefault("branch", user.branch_id)
        if "recipient" in self.fields:
            self.fields["recipient"].queryset = scope_queryset(Recipient.objects.filter(is_active=True), user)
        if "campaign" in self.fields:
            self.fields["campaign"].queryset = Campaign.objects.order_by("-id")


class AllocationPlanForm(_BranchForm):
    branch = forms.ModelChoiceField(label=_("组织"), queryset=None)
    document_number = forms.CharField(label=_("文号"), max_length=80)
    title = forms.CharField(label=_("标题"), max_length=200)
    issuing_body = forms.CharField(label=_("发文机关"), max_length=120)
    issued_on = forms.DateField(label=_("发文日期"), widget=_date_input())
    attachment = forms.FileField(label=_("方案文件"), required=False, validators=[validate_evidence_file])
    note = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._limit(user)


class AllocationPlanLineForm(_BranchForm):
    kind = forms.ChoiceField(label=_("类型"), choices=DonationKind.choices, initial=DonationKind.CASH)
    campaign = forms.ModelChoiceField(label=_("募捐活动"), queryset=None)
    recipient = forms.ModelChoiceField(label=_("受赠单位"), queryset=None)
    amount = forms.CharField(label=_("金额（元）"), required=False, max_length=32)
    item_name = forms.CharField(label=_("物资名称"), required=False, max_length=120)
    quantity = forms.CharField(label=_("数量"), required=False, max_length=32)
    unit = forms.CharField(label=_("单位"), required=False, max_length=20)
    note = forms.CharField(label=_("说明"), required=False, max_length=200)

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._limit(user)


AllocationPlanLineFormSet = forms.formset_factory(AllocationPlanLineForm, extra=3, can_delete=True)


class _PlanLineChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: AllocationPlanLine) -> str:
        what = (
            format_yuan_unit(obj.amount)
            if obj.amount is not None
            else f"{obj.item_name} {quantity_text(obj.quantity)}{obj.unit}"
        )
        return f"{obj.plan.document_number}：{obj.recipient.name} {what}"


def _plan_lines(user, kind: str):
    return scope_queryset(
        AllocationPlanLine.objects.filter(kind=kind).select_related("plan", "recipient").order_by("-plan_id", "id"),
        user,
        branch_field="plan__branch",
    )


class CashAllocationForm(_BranchForm):
    branch = forms.ModelChoiceField(label=_("拨付组织"), queryset=None)
    campaign = forms.ModelChoiceField(label=_("募捐活动"), queryset=None)
    recipient = forms.ModelChoiceField(label=_("受赠单位"), queryset=None)
    amount = forms.CharField(label=_("拨付金额（元）"), max_length=32)
    allocated_on = forms.DateField(label=_("拨付日期"), widget=_date_input())
    plan_line = _PlanLineChoice(
        label=_("分配方案明细"), queryset=None, required=False, help_text=_("非定向捐款按分配方案拨付，先进先出")
    )
    directed_donation = forms.CharField(
        label=_("定向捐赠流水号"), required=False, max_length=30, help_text=_("按捐赠人意愿拨付定向捐款时填写")
    )
    voucher_number = forms.CharField(label=_("付款凭证号"), required=False, max_length=60)
    voucher = forms.FileField(label=_("付款凭证"), required=False, validators=[validate_evidence_file])
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self._limit(user)
        self.fields["plan_line"].queryset = _plan_lines(user, DonationKind.CASH)
        if not self.is_bound:
            self.initial.setdefault("allocated_on", timezone.localdate())

    def clean_directed_donation(self) -> Donation | None:
        serial = self.cleaned_data["directed_donation"].strip()
        if not serial:
            return None
        donation = scope_queryset(Donation.objects.filter(serial=serial), self.user).first()
        if donation is None:
            raise ValidationError(gettext("捐赠不存在"))
        return donation

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "branch": data["branch"],
            "campaign": data["campaign"],
            "recipient": data["recipient"],
            "amount": data["amount"],
            "allocated_on": data["allocated_on"],
            "plan_line": data["plan_line"],
            "directed_donation": data["directed_donation"],
            "voucher_number": data["voucher_number"],
            "voucher": data["voucher"],
            "note": data["note"],
        }


def _lot_choices(user, *, include_empty: bool = False) -> list[tuple[str, str]]:
    lots = lots_in_stock(branch_ids=visible_branch_ids(user), include_empty=include_empty)
    return [("", "---------")] + [(f"{lot.item_id}:{lot.warehouse_id}", lot.label) for lot in lots]


def _parse_lot(value: str) -> tuple[int, int]:
    item_id, _sep, warehouse_id = value.partition(":")
    try:
        return int(item_id), int(warehouse_id)
    except ValueError:
        raise ValidationError(gettext("请选择库存物资")) from None


class GoodsAllocationForm(_BranchForm):
    branch = forms.ModelChoiceField(label=_("调拨组织"), queryset=None)
    campaign = forms.ModelChoiceField(label=_("募捐活动"), queryset=None)
    recipient = forms.ModelChoiceField(label=_("受赠单位"), queryset=None)
    allocated_on = forms.DateField(label=_("调拨日期"), widget=_date_input())
    plan_line = _PlanLineChoice(
        label=_("分配方案明细"), queryset=None, required=False, help_text=_("定向捐赠的物资按捐赠人意愿调拨，可不选")
    )
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._limit(user)
        self.fields["plan_line"].queryset = _plan_lines(user, DonationKind.IN_KIND)
        if not self.is_bound:
            self.initial.setdefault("allocated_on", timezone.localdate())


class GoodsLineForm(forms.Form):
    lot = forms.ChoiceField(label=_("仓库 · 物资批次"), choices=())
    quantity = forms.CharField(label=_("出库数量"), max_length=32)

    def __init__(self, *args, lot_choices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot"].choices = lot_choices

    def clean_lot(self) -> tuple[int, int]:
        return _parse_lot(self.cleaned_data["lot"])


GoodsLineFormSet = forms.formset_factory(GoodsLineForm, extra=3, can_delete=True)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class _AllocationChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Allocation) -> str:
        what = format_yuan_unit(obj.amount) if obj.amount is not None else obj.get_kind_display()
        return f"{obj.serial} {obj.recipient.name} {what}（{obj.allocated_on:%Y-%m-%d}）"


class RecipientConfirmationForm(forms.Form):
    allocation = _AllocationChoice(label=_("拨付"), queryset=None)
    signed_by_name = forms.CharField(label=_("受赠单位签收人"), max_length=60)
    signed_at = forms.DateTimeField(label=_("签收时间"), widget=_datetime_input())
    amount_received = forms.CharField(
        label=_("实收金额（元）"), required=False, max_length=32, help_text=_("资金拨付填写；不填即按拨付金额")
    )
    scan = forms.FileField(label=_("签收单扫描件"), required=False, validators=[validate_evidence_file])
    note = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        allocations = scope_queryset(
            Allocation.objects.filter(status=AllocationStatus.CONFIRMED, recipient_confirmation__isnull=True),
            user,
        ).select_related("recipient")
        self.fields["allocation"].queryset = allocations
        chosen = self.data.get("allocation") if self.is_bound else self.initial.get("allocation")
        self.sources: list[AllocationSource] = []
        try:
            allocation = allocations.filter(pk=int(chosen)).first() if chosen else None
        except (TypeError, ValueError):
            allocation = None
        if allocation is not None and allocation.kind == DonationKind.IN_KIND:
            self.sources = list(allocation.sources.select_related("item").order_by("id"))
            for source in self.sources:
                item = source.item
                self.fields[f"received_{source.pk}"] = forms.CharField(
                    label=gettext("实收：%(name)s %(spec)s（调拨 %(quantity)s%(unit)s）")
                    % {
                        "name": item.name,
                        "spec": item.specification,
                        "quantity": quantity_text(source.quantity),
                        "unit": item.unit,
                    },
                    required=False,
                    max_length=32,
                    help_text=gettext("不填即按调拨数量"),
                )

    def quantities(self) -> dict[str, str]:
        return {
            str(source.pk): self.cleaned_data[f"received_{source.pk}"]
            for source in self.sources
            if self.cleaned_data.get(f"received_{source.pk}")
        }


class StockInCheckForm(forms.Form):
    item = forms.ModelChoiceField(label=_("物资批次"), queryset=None)
    warehouse = forms.ModelChoiceField(label=_("入库仓库"), queryset=None)
    counted_quantity = forms.CharField(label=_("清点数量"), max_length=32)
    condition = forms.CharField(label=_("质量状况"), max_length=200, help_text=_("外包装、破损、受潮等"))
    expiry_date = forms.DateField(label=_("核实有效期"), required=False, widget=_date_input())
    photos = forms.FileField(label=_("查验照片"), required=False, validators=[validate_evidence_file])
    moved_at = forms.DateTimeField(label=_("入库时间"), required=False, widget=_datetime_input())
    note = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = lots_awaiting_check(branch_ids=visible_branch_ids(user))
        self.fields["item"].label_from_instance = lambda item: (
            f"{item.donation.serial} {item.name} {item.specification} {quantity_text(item.quantity)}{item.unit}"
        )
        self.fields["warehouse"].queryset = scoped_warehouses(visible_branch_ids(user)).filter(is_active=True)


class StockTransferForm(forms.Form):
    lot = forms.ChoiceField(label=_("调出仓库 · 物资批次"), choices=())
    to_warehouse = forms.ModelChoiceField(label=_("调入仓库"), queryset=None)
    quantity = forms.CharField(label=_("调拨数量"), max_length=32)
    reason = forms.CharField(label=_("原因"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    moved_at = forms.DateTimeField(label=_("调拨时间"), required=False, widget=_datetime_input())

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot"].choices = _lot_choices(user)
        self.fields["to_warehouse"].queryset = scoped_warehouses(visible_branch_ids(user)).filter(is_active=True)

    def clean_lot(self) -> tuple[int, int]:
        return _parse_lot(self.cleaned_data["lot"])


class StockAdjustForm(forms.Form):
    lot = forms.ChoiceField(label=_("仓库 · 物资批次"), choices=())
    quantity = forms.CharField(label=_("调整数量"), max_length=32, help_text=_("盘盈填正数，盘亏、损毁填负数，如 -3"))
    reason = forms.CharField(label=_("原因"), widget=forms.Textarea(attrs={"rows": 2}))
    moved_at = forms.DateTimeField(label=_("盘点时间"), required=False, widget=_datetime_input())

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot"].choices = _lot_choices(user, include_empty=True)

    def clean_lot(self) -> tuple[int, int]:
        return _parse_lot(self.cleaned_data["lot"])


# --- the ledger as a spreadsheet ------------------------------------------------------------------


def ledger_xlsx(ledger: Ledger) -> bytes:
    """台账 as XLSX (write-only): a title block, then one row per movement with the running balance.
    Text is neutralised so that nothing a donor typed runs as a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(gettext("物资台账"))
    bold = Font(bold=True)

    def cells(values, *, font=None, quantity_columns=()):
        row = []
        for index, value in enumerate(values):
            cell = WriteOnlyCell(sheet, value=safe_cell(value))
            if index in quantity_columns:
                cell.number_format = "#,##0.###"
            if font:
                cell.font = font
            row.append(cell)
        return row

    sheet.append(cells([gettext("仓库"), ledger.warehouse.name], font=bold))
    sheet.append(cells([gettext("物资名称"), ledger.name]))
    sheet.append(cells([gettext("规格型号"), ledger.specification]))
    sheet.append(cells([gettext("单位"), ledger.unit]))
    sheet.append([])
    sheet.append(
        cells(
            [gettext("日期"), gettext("单号"), gettext("摘要"), gettext("捐赠流水号"), gettext("收入"),
             gettext("发出"), gettext("结存"), gettext("受赠单位 / 对方仓库"), gettext("原因"),
             gettext("经办保管员"), gettext("复核保管员")],
            font=bold,
        )
    )  # fmt: skip
    for row in ledger.rows:
        sheet.append(
            cells(
                [timezone.localtime(row.moved_at).replace(tzinfo=None), row.serial, row.kind_label,
                 row.donation_serial, row.quantity_in, row.quantity_out, row.balance, row.counterpart, row.reason,
                 row.recorded_by, row.confirmed_by],
                quantity_columns=(4, 5, 6),
            )
        )  # fmt: skip
    sheet.append(
        cells(
            [gettext("合计"), "", "", "", ledger.total_in, ledger.total_out, ledger.balance],
            font=bold,
            quantity_columns=(4, 5, 6),
        )
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- shared admin behaviour -----------------------------------------------------------------------


class ServiceWrittenAdmin(BranchScopedAdmin):
    """Rows written only by services: shown, never changed or deleted here.

    Their files (vouchers, signed forms, photos) are never served from a public media URL:
    ``file_fields`` are downloaded through ``file_view``, which checks scope and permission.
    """

    file_fields: tuple[str, ...] = ()

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        name = f"{self.model._meta.app_label}_{self.model._meta.model_name}_file"
        custom = [path("<int:object_id>/file/<str:field>/", self.admin_site.admin_view(self.file_view), name=name)]
        return custom + super().get_urls()

    def file_view(self, request, object_id: int, field: str):
        if field not in self.file_fields:
            raise Http404
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return stored_file_download(getattr(obj, field))

    def _file_link(self, obj, field: str):
        if not getattr(obj, field):
            return "—"
        meta = self.model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_file", args=[obj.pk, field])
        return format_html('<a href="{}">{}</a>', url, gettext("下载"))

    def _form_page(self, request, title: str, form, *, formset=None, intro: str = "", submit: str = "", **extra):
        return render_admin_page(
            self,
            request,
            FORM_TEMPLATE,
            title=title,
            form=form,
            formset=formset,
            intro=intro,
            submit_label=submit or gettext("保存"),
            has_view_permission=True,
            **extra,
        )

    def _require_add(self, request) -> None:
        if not self.has_add_permission(request):
            raise PermissionDenied

    def _require_view(self, request) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def _run_each(self, request, queryset, call, done_message: str) -> None:
        """Call a service on each row, each in its own transaction; report the refused ones."""
        done = 0
        for obj in queryset:
            try:
                call(obj)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{obj}: {_reason(exc)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"n": done})

    def _reason_action(self, request, queryset, *, action: str, title: str, call, done_message: str):
        """An action that needs a reason: an intermediate page, then the service on each row."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._run_each(request, queryset, lambda obj: call(obj, reason), done_message)
            return None
        return render_admin_page(
            self,
            request,
            REASON_TEMPLATE,
            title=title,
            form=form,
            queryset=queryset,
            action=action,
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
        )


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    select_related: tuple[str, ...] = ()

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.select_related)


def _badge(css: str, label: str):
    return format_html('<span class="{}">{}</span>', css, label)


# --- warehouses ---------------------------------------------------------------------------------


@admin.register(Warehouse)
class WarehouseAdmin(BranchScopedAdmin):
    list_display = ("name", "branch", "address", "is_active")
    list_filter = ("is_active", ("branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("branch",)
    search_fields = ("name", "address")

    def has_delete_permission(self, request, obj=None):
        return False  # movements keep pointing at it: deactivate instead


# --- allocation plans ----------------------------------------------------------------------------


class AllocationPlanLineInline(_ReadOnlyInline):
    model = AllocationPlanLine
    fields = ("campaign", "recipient", "kind", "amount", "item_name", "quantity", "unit", "note")
    readonly_fields = fields
    select_related = ("campaign", "recipient")


@admin.register(AllocationPlan)
class AllocationPlanAdmin(ServiceWrittenAdmin):
    list_display = ("document_number", "title", "issuing_body", "issued_on", "line_count", "branch")
    list_filter = (("issued_on", admin.DateFieldListFilter), ("branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("branch",)
    search_fields = ("document_number", "title", "issuing_body")
    inlines = [AllocationPlanLineInline]
    fields = ("branch", "document_number", "title", "issuing_body", "issued_on", "attachment_link", "note",
              "created_by", "created_at")  # fmt: skip
    readonly_fields = ("attachment_link",)
    file_fields = ("attachment",)

    @admin.display(description=_("方案文件"))
    def attachment_link(self, obj: AllocationPlan):
        return self._file_link(obj, "attachment")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_lines=Count("lines"))

    @admin.display(description=_("明细条数"), ordering="_lines")
    def line_count(self, obj: AllocationPlan) -> int:
        return obj._lines

    def add_view(self, request, form_url="", extra_context=None):
        self._require_add(request)
        form = AllocationPlanForm(request.POST or None, request.FILES or None, user=request.user)
        formset = AllocationPlanLineFormSet(request.POST or None, prefix="lines", form_kwargs={"user": request.user})
        if request.method == "POST" and form.is_valid() and formset.is_valid():
            lines = [{k: v for k, v in line.items() if k != "DELETE"} for line in _filled(formset)]
            try:
                plan = allocation_plan_register(by=request.user, lines=lines, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                _errors_to_form(exc, form, formset)
            else:
                self.message_user(request, gettext("已登记分配方案 %(number)s") % {"number": plan.document_number})
                return HttpResponseRedirect(reverse("admin:donations_allocationplan_change", args=[plan.pk]))
        return self._form_page(
            request,
            gettext("登记分配方案"),
            form,
            formset=formset,
            formset_title=gettext("方案明细：资金填金额，物资填名称、数量和单位"),
            submit=gettext("登记"),
        )


# --- allocations ----------------------------------------------------------------------------------


class RecipientKindFilter(admin.ChoicesFieldListFilter):
    """The recipient's kind, titled apart from the allocation's own kind (cash or goods)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.title = gettext("受赠单位类型")


class AllocationSourceInline(_ReadOnlyInline):
    model = AllocationSource
    verbose_name_plural = _("款物去向（来源捐赠）")
    fields = ("donation", "item", "warehouse", "amount", "quantity")
    readonly_fields = fields
    select_related = ("donation", "item", "warehouse")


class AllocationMovementInline(_ReadOnlyInline):
    model = StockMovement
    fk_name = "allocation"
    verbose_name_plural = _("出库记录")
    fields = ("serial", "warehouse", "item", "quantity", "status", "recorded_by", "confirmed_by", "confirmed_at")
    readonly_fields = fields
    select_related = ("warehouse", "item", "recorded_by", "confirmed_by")


@admin.register(Allocation)
class AllocationAdmin(ServiceWrittenAdmin):
    """Cash (拨付) and goods (物资调拨令): registered through their forms, confirmed by a second person."""

    list_display = (
        "serial",
        "allocated_on",
        "recipient",
        "kind",
        "value_display",
        "campaign",
        "basis",
        "status_badge",
        "has_signoff",
        "is_retroactive",
    )
    list_filter = (
        "status",
        "kind",
        "basis",
        "campaign",
        ("recipient__kind", RecipientKindFilter),
        ("allocated_on", admin.DateFieldListFilter),
        ("branch", admin.RelatedOnlyFieldListFilter),
        "is_retroactive",
    )
    list_select_related = ("recipient", "campaign")
    search_fields = ("=serial", "recipient__name")
    date_hierarchy = "allocated_on"
    list_per_page = 100
    show_full_result_count = False
    inlines = [AllocationSourceInline, AllocationMovementInline]
    actions = ["confirm", "cancel"]
    fields = (
        "serial", "branch", "campaign", "recipient", "kind", "basis", "plan_line", "amount", "allocated_on",
        "voucher_number", "voucher_link", "is_retroactive", "status", "note", "registered_by", "registered_at",
        "confirmed_by", "confirmed_at", "signoff",
    )  # fmt: skip
    readonly_fields = ("signoff", "voucher_link")
    file_fields = ("voucher",)

    @admin.display(description=_("付款凭证"))
    def voucher_link(self, obj: Allocation):
        return self._file_link(obj, "voucher")

    def get_queryset(self, request):
        signed = RecipientConfirmation.objects.filter(allocation=OuterRef("pk"))
        lots = (
            AllocationSource.objects.filter(allocation=OuterRef("pk"))
            .values("allocation")
            .annotate(n=Count("id"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(_signed=Exists(signed), _lots=Subquery(lots, output_field=IntegerField()))
        )

    def has_confirm_permission(self, request) -> bool:
        user = request.user
        return user.has_perm("donations.confirm_allocation") or user.has_perm("donations.sign_stockmovement")

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("donations.change_allocation")

    @admin.display(description=_("金额/物资"))
    def value_display(self, obj: Allocation) -> str:
        if obj.kind == DonationKind.CASH:
            return format_yuan_unit(obj.amount)
        return gettext("物资 %(n)d 批") % {"n": obj._lots or 0}

    @admin.display(description=_("状态"), ordering="status")
    def status_badge(self, obj: Allocation):
        css = {
            AllocationStatus.REGISTERED: "allocation-pending",
            AllocationStatus.CONFIRMED: "allocation-confirmed",
        }.get(obj.status, "allocation-cancelled")
        return _badge(css, obj.get_status_display())

    @admin.display(description=_("受赠单位签收"), boolean=True)
    def has_signoff(self, obj: Allocation) -> bool:
        return obj._signed

    @admin.display(description=_("受赠单位签收"))
    def signoff(self, obj: Allocation):
        confirmation = RecipientConfirmation.objects.filter(allocation=obj).first()
        if confirmation is None:
            return gettext("尚未签收")
        return gettext("%(name)s 于 %(at)s 签收") % {
            "name": confirmation.signed_by_name,
            "at": f"{timezone.localtime(confirmation.signed_at):%Y-%m-%d %H:%M}",
        }

    @admin.action(description=_("复核选中的拨付（双人双签）"), permissions=["confirm"])
    def confirm(self, request, queryset):
        self._run_each(
            request,
            queryset,
            lambda allocation: allocation_confirm(allocation=allocation, by=request.user),
            gettext("已复核 %(n)d 笔拨付"),
        )

    @admin.action(description=_("撤销选中的拨付（须填写原因）"), permissions=["cancel"])
    def cancel(self, request, queryset):
        return self._reason_action(
            request,
            queryset,
            action="cancel",
            title=gettext("撤销拨付"),
            call=lambda allocation, reason: allocation_cancel(allocation=allocation, by=request.user, reason=reason),
            done_message=gettext("已撤销 %(n)d 笔拨付"),
        )

    def get_urls(self):
        custom = [
            path("add-cash/", self.admin_site.admin_view(self.cash_view), name="donations_allocation_add_cash"),
            path("add-goods/", self.admin_site.admin_view(self.goods_view), name="donations_allocation_add_goods"),
        ]
        return custom + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        self._require_add(request)
        return render_admin_page(
            self,
            request,
            CHOICE_TEMPLATE,
            title=gettext("登记拨付"),
            choices=[
                (reverse("admin:donations_allocation_add_cash"), gettext("资金拨付"),
                 gettext("定向捐款按捐赠人意愿，非定向捐款按分配方案先进先出拨付；由另一名工作人员复核后计入。")),
                (reverse("admin:donations_allocation_add_goods"), gettext("物资调拨令"),
                 gettext("从仓库的物资批次出库调拨给受赠单位；由第二名仓库管理员签字后出库。")),
            ],
        )  # fmt: skip

    def cash_view(self, request):
        self._require_add(request)
        form = CashAllocationForm(request.POST or None, request.FILES or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                allocation = allocation_register_cash(by=request.user, **form.service_arguments())
            except (ValidationError, PermissionDenied) as exc:
                _errors_to_form(exc, form)
            else:
                self.message_user(
                    request, gettext("已登记拨付 %(serial)s，待另一名工作人员复核") % {"serial": allocation.serial}
                )
                return HttpResponseRedirect(reverse("admin:donations_allocation_change", args=[allocation.pk]))
        return self._form_page(
            request,
            gettext("资金拨付"),
            form,
            intro=gettext("非定向捐款按到账时间先进先出拨付；定向捐款只能拨付给捐赠人指定的受赠单位。"),
            submit=gettext("登记"),
        )

    def goods_view(self, request):
        self._require_add(request)
        form = GoodsAllocationForm(request.POST or None, user=request.user)
        formset = GoodsLineFormSet(
            request.POST or None, prefix="lines", form_kwargs={"lot_choices": _lot_choices(request.user)}
        )
        if request.method == "POST" and form.is_valid() and formset.is_valid():
            lines = [
                {"item": line["lot"][0], "warehouse": line["lot"][1], "quantity": line["quantity"]}
                for line in _filled(formset)
            ]
            try:
                allocation = allocation_register_goods(by=request.user, lines=lines, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                _errors_to_form(exc, form, formset, aliases={"item": "lot", "warehouse": "lot"})
            else:
                self.message_user(
                    request,
                    gettext("已登记物资调拨令 %(serial)s，待第二名仓库管理员签字") % {"serial": allocation.serial},
                )
                return HttpResponseRedirect(reverse("admin:donations_allocation_change", args=[allocation.pk]))
        return self._form_page(
            request,
            gettext("物资调拨令"),
            form,
            formset=formset,
            formset_title=gettext("出库明细"),
            intro=gettext("定向捐赠的物资只能调拨给捐赠人指定的受赠单位；其余物资须按分配方案调拨。"),
            submit=gettext("登记"),
        )


# --- the recipients' sign-off --------------------------------------------------------------------


@admin.register(RecipientConfirmation)
class RecipientConfirmationAdmin(ServiceWrittenAdmin):
    branch_field = "allocation__branch"
    list_display = ("allocation", "recipient_name", "signed_by_name", "signed_at", "amount_display", "recorded_by")
    list_filter = (("signed_at", admin.DateFieldListFilter),)
    list_select_related = ("allocation__recipient", "recorded_by")
    search_fields = ("=allocation__serial", "allocation__recipient__name", "signed_by_name")
    fields = ("allocation", "signed_by_name", "signed_at", "quantities_received", "amount_received", "scan_link",
              "note", "recorded_by", "recorded_at")  # fmt: skip
    readonly_fields = ("scan_link",)
    file_fields = ("scan",)

    @admin.display(description=_("签收单扫描件"))
    def scan_link(self, obj: RecipientConfirmation):
        return self._file_link(obj, "scan")

    @admin.display(description=_("实收金额"), ordering="amount_received")
    def amount_display(self, obj: RecipientConfirmation) -> str:
        return format_yuan_unit(obj.amount_received) if obj.amount_received is not None else "—"

    @admin.display(description=_("受赠单位"), ordering="allocation__recipient__name")
    def recipient_name(self, obj: RecipientConfirmation) -> str:
        return obj.allocation.recipient.name

    def get_urls(self):
        custom = [
            path(
                "outstanding/",
                self.admin_site.admin_view(self.outstanding_view),
                name="donations_recipientconfirmation_outstanding",
            ),
        ]
        return custom + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        self._require_add(request)
        initial = {"allocation": request.GET.get("allocation")} if request.GET.get("allocation") else {}
        form = RecipientConfirmationForm(
            request.POST or None, request.FILES or None, user=request.user, initial=initial
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                recipient_confirmation_record(
                    allocation=data["allocation"],
                    by=request.user,
                    signed_by_name=data["signed_by_name"],
                    signed_at=data["signed_at"],
                    quantities_received=form.quantities(),
                    amount_received=data["amount_received"] or None,
                    scan=data["scan"],
                    note=data["note"],
                )
            except (ValidationError, PermissionDenied) as exc:
                _errors_to_form(exc, form)
            else:
                self.message_user(request, gettext("已登记 %(serial)s 的签收") % {"serial": data["allocation"].serial})
                return HttpResponseRedirect(reverse("admin:donations_recipientconfirmation_outstanding"))
        return self._form_page(
            request,
            gettext("登记受赠单位签收"),
            form,
            intro=gettext("受赠单位清点、查验、入库后签收；请上传签收单扫描件。选择物资调拨令后可逐项填写实收数量。"),
            submit=gettext("登记"),
        )

    def outstanding_view(self, request):
        self._require_view(request)
        rows = outstanding_confirmations(branch_ids=_branch_ids(request))
        return render_admin_page(
            self,
            request,
            "admin/donations/recipientconfirmation/outstanding.html",
            title=gettext("待受赠单位签收"),
            rows=rows,
            can_add=self.has_add_permission(request),
        )


# --- the warehouse ---------------------------------------------------------------------------------


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
    fields = (
        "serial", "warehouse", "item", "kind", "quantity", "moved_at", "status", "allocation", "transfer_pair",
        "declared_quantity", "shortfall_quantity", "condition", "expiry_date", "photos_link", "reason",
        "recorded_by", "recorded_at", "confirmed_by", "confirmed_at",
    )  # fmt: skip
    readonly_fields = ("photos_link",)
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

    @admin.display(description=_("状态"), ordering="status")
    def status_badge(self, obj: StockMovement):
        css = {
            MovementStatus.PENDING: "allocation-pending",
            MovementStatus.CONFIRMED: "allocation-confirmed",
        }.get(obj.status, "allocation-cancelled")
        return _badge(css, obj.get_status_display())

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
                _errors_to_form(exc, form)
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
                _errors_to_form(exc, form, aliases={"item": "lot", "from_warehouse": "lot"})
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
                _errors_to_form(exc, form, aliases={"item": "lot", "warehouse": "lot"})
            else:
                return self._saved(request, movement)
        return self._form_page(request, gettext("盘点调整"), form, submit=gettext("登记调整"))

    # --- reads: the per-item ledger (台账) and goods near expiry ------------------------------------

    def ledger_view(self, request):
        self._require_view(request)
        branch_ids = _branch_ids(request)
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
        lots = near_expiry_lots(branch_ids=_branch_ids(request), within_days=days)
        return render_admin_page(
            self,
            request,
            "admin/donations/stockmovement/near_expiry.html",
            title=gettext("临期物资"),
            lots=lots,
            days=days,
        )


# --- the books ----------------------------------------------------------------------------------


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ServiceWrittenAdmin):
    """The nightly checks (read-only) and the campaign's current books."""

    list_display = ("campaign", "branch", "checked_at", "is_balanced", "discrepancy_count")
    list_filter = ("is_balanced", "campaign", ("checked_at", admin.DateFieldListFilter))
    list_select_related = ("campaign", "branch")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.display(description=_("差异数"))
    def discrepancy_count(self, obj: ReconciliationRun) -> int:
        return len(obj.discrepancies or [])

    def get_urls(self):
        custom = [
            path("books/", self.admin_site.admin_view(self.books_view), name="donations_reconciliationrun_books"),
        ]
        return custom + super().get_urls()

    def books_view(self, request):
        self._require_view(request)
        campaigns = Campaign.objects.select_related("branch").order_by("-id")
        branches = visible_branches(request.user).filter(is_active=True)
        campaign = campaigns.filter(pk=_int(request.GET.get("campaign"))).first() or campaigns.first()
        branch = branches.filter(pk=_int(request.GET.get("branch"))).first()
        if branch is None and campaign is not None:
            if can_access_branch(request.user, campaign.branch_id):
                branch = campaign.branch
            else:
                branch = branches.filter(pk=request.user.branch_id).first()
        books = campaign_books(campaign, branch) if campaign is not None and branch is not None else None
        right = books.allocated + books.in_stock + books.cash_balance + books.goods_written_off if books else None
        return render_admin_page(
            self,
            request,
            "admin/donations/reconciliationrun/books.html",
            title=gettext("募捐活动账目"),
            campaigns=campaigns,
            branches=branches,
            campaign=campaign,
            branch=branch,
            books=books,
            right_side=right,
            checked_at=timezone.now(),
        )


def _int(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
