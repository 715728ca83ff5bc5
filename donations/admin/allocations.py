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

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.admin.base import (
    CHOICE_TEMPLATE,
    ReadOnlyInline,
    ServiceWrittenAdmin,
    int_or_zero,
    status_badge_html,
)
from donations.forms.allocations import (
    AllocationPlanForm,
    AllocationPlanLineForm,
    CashAllocationForm,
    GoodsAllocationForm,
    GoodsLineForm,
    RecipientConfirmationForm,
    lot_choices,
)
from donations.models import (
    Allocation,
    AllocationPlan,
    AllocationPlanLine,
    AllocationSource,
    AllocationStatus,
    Campaign,
    DonationKind,
    RecipientConfirmation,
    ReconciliationRun,
    StockMovement,
)
from donations.selectors.books import campaign_books
from donations.selectors.warehouse import outstanding_confirmations, quantity_text
from donations.services.allocations import (
    allocation_cancel,
    allocation_confirm,
    allocation_plan_register,
    allocation_register_cash,
    allocation_register_goods,
    recipient_confirmation_record,
)
from redcross.admin import render_admin_page, table_html, yuan_or_dash
from redcross.forms import filled_forms, service_errors_to_form
from redcross.money import format_yuan_unit
from redcross.scoping import can_access_branch, visible_branch_ids, visible_branches

# the figures a reconciliation run keeps (``Books.figures``), in the order of the books page
RECONCILIATION_FIGURES = (
    ("donations", _("笔数"), False),
    ("cash_received", _("已接收捐款"), True),
    ("cash_refunded", _("已退款"), True),
    ("cash_allocated", _("资金已拨付"), True),
    ("cash_reserved", _("资金待复核拨付"), True),
    ("cash_balance", _("资金结余"), True),
    ("goods_received", _("捐赠物资价值"), True),
    ("goods_allocated", _("物资已拨付"), True),
    ("goods_in_stock", _("库存物资"), True),
    ("goods_awaiting_check", _("待验收物资"), True),
    ("goods_written_off", _("损耗核销"), True),
    ("unvalued_lots", _("未标价物资批次"), False),
    ("received", _("合计"), True),
)


AllocationPlanLineFormSet = forms.formset_factory(AllocationPlanLineForm, extra=3, can_delete=True)


GoodsLineFormSet = forms.formset_factory(GoodsLineForm, extra=3, can_delete=True)


class AllocationPlanLineInline(ReadOnlyInline):
    model = AllocationPlanLine
    fields = ("campaign", "recipient", "kind", "amount_display", "item_name", "quantity_display", "unit", "note")
    readonly_fields = fields
    select_related = ("campaign", "recipient")

    @admin.display(description=_("金额"))
    def amount_display(self, line: AllocationPlanLine) -> str:
        return yuan_or_dash(line.amount)

    @admin.display(description=_("数量"))
    def quantity_display(self, line: AllocationPlanLine) -> str:
        return quantity_text(line.quantity) if line.quantity is not None else "—"


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
            lines = [
                {k: v for k, v in line.items() if k != "DELETE"}
                for line in [f.cleaned_data for f in filled_forms(formset)]
            ]
            try:
                plan = allocation_plan_register(by=request.user, lines=lines, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                service_errors_to_form(exc, form, formset)
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


class RecipientKindFilter(admin.ChoicesFieldListFilter):
    """The recipient's kind, titled apart from the allocation's own kind (cash or goods)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.title = gettext("受赠单位类型")


class AllocationSourceInline(ReadOnlyInline):
    model = AllocationSource
    verbose_name_plural = _("款物去向（来源捐赠）")
    fields = ("donation", "item", "warehouse", "amount_display", "quantity_display")
    readonly_fields = fields
    select_related = ("donation", "item", "warehouse")

    @admin.display(description=_("金额"))
    def amount_display(self, source: AllocationSource) -> str:
        return yuan_or_dash(source.amount)

    @admin.display(description=_("数量"))
    def quantity_display(self, source: AllocationSource) -> str:
        return f"{quantity_text(source.quantity)}{source.item.unit}" if source.quantity is not None else "—"


class AllocationMovementInline(ReadOnlyInline):
    model = StockMovement
    fk_name = "allocation"
    verbose_name_plural = _("出库记录")
    fields = (
        "serial",
        "warehouse",
        "item",
        "quantity_display",
        "status",
        "recorded_by",
        "confirmed_by",
        "confirmed_at",
    )
    readonly_fields = fields
    select_related = ("warehouse", "item", "recorded_by", "confirmed_by")

    @admin.display(description=_("数量"))
    def quantity_display(self, movement: StockMovement) -> str:
        return f"{quantity_text(movement.quantity, signed=True)}{movement.item.unit}"


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
    # written by services only: the page shows it formatted, like a donation's
    fieldsets = (
        (
            _("拨付"),
            {
                "fields": (
                    ("serial", "status_badge"),
                    ("campaign", "branch"),
                    "recipient",
                    ("kind", "value_display"),
                    ("basis", "plan_line"),
                    "allocated_on",
                    ("voucher_number", "voucher_link"),
                    "is_retroactive",
                    "note",
                )
            },
        ),
        (_("双人双签"), {"fields": (("registered_by", "registered_at"), ("confirmed_by", "confirmed_at"))}),
        (_("受赠单位签收"), {"fields": ("signoff",)}),
    )
    readonly_fields = (
        "serial", "status_badge", "campaign", "branch", "recipient", "kind", "value_display", "basis", "plan_line",
        "allocated_on", "voucher_number", "voucher_link", "is_retroactive", "note", "registered_by", "registered_at",
        "confirmed_by", "confirmed_at", "signoff",
    )  # fmt: skip
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
        return gettext("物资 %(n)d 批") % {"n": getattr(obj, "_lots", None) or 0}

    @admin.display(description=_("状态"), ordering="status")
    def status_badge(self, obj: Allocation):
        css = {
            AllocationStatus.REGISTERED: "allocation-pending",
            AllocationStatus.CONFIRMED: "allocation-confirmed",
        }.get(obj.status, "allocation-cancelled")
        return status_badge_html(css, obj.get_status_display())

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
                service_errors_to_form(exc, form)
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
            request.POST or None, prefix="lines", form_kwargs={"lot_choices": lot_choices(request.user)}
        )
        if request.method == "POST" and form.is_valid() and formset.is_valid():
            lines = [
                {"item": line["lot"][0], "warehouse": line["lot"][1], "quantity": line["quantity"]}
                for line in [f.cleaned_data for f in filled_forms(formset)]
            ]
            try:
                allocation = allocation_register_goods(by=request.user, lines=lines, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                service_errors_to_form(exc, form, formset, aliases={"item": "lot", "warehouse": "lot"})
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


@admin.register(RecipientConfirmation)
class RecipientConfirmationAdmin(ServiceWrittenAdmin):
    branch_field = "allocation__branch"
    list_display = ("allocation", "recipient_name", "signed_by_name", "signed_at", "amount_display", "recorded_by")
    list_filter = (("signed_at", admin.DateFieldListFilter),)
    list_select_related = ("allocation__recipient", "recorded_by")
    search_fields = ("=allocation__serial", "allocation__recipient__name", "signed_by_name")
    fields = ("allocation", "signed_by_name", "signed_at", "received_display", "scan_link", "note", "recorded_by",
              "recorded_at")  # fmt: skip
    readonly_fields = ("received_display", "scan_link")
    file_fields = ("scan",)

    @admin.display(description=_("实收"))
    def received_display(self, obj: RecipientConfirmation) -> str:
        if obj.allocation.kind == DonationKind.CASH:
            return yuan_or_dash(obj.amount_received)
        counted = obj.quantities_received or {}
        rows = [
            (
                source.item.name,
                source.item.specification or "—",
                f"{quantity_text(source.quantity)}{source.item.unit}",
                f"{quantity_text(Decimal(counted[str(source.pk)]))}{source.item.unit}"
                if str(source.pk) in counted
                else "—",
            )
            for source in obj.allocation.sources.select_related("item").order_by("pk")
            if source.item_id
        ]
        return table_html(
            [gettext("物资名称"), gettext("规格型号"), gettext("调拨数量"), gettext("实收数量")], rows, numeric={2, 3}
        )

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
                service_errors_to_form(exc, form)
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
        rows = outstanding_confirmations(branch_ids=visible_branch_ids(request.user))
        return render_admin_page(
            self,
            request,
            "admin/donations/recipientconfirmation/outstanding.html",
            title=gettext("待受赠单位签收"),
            rows=rows,
            can_add=self.has_add_permission(request),
        )


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
        return self.fields

    fields = (
        "campaign", "branch", "checked_at", "is_balanced", "figures_display", "discrepancies_display", "resolved_by",
        "resolution",
    )  # fmt: skip

    @admin.display(description=_("差异数"))
    def discrepancy_count(self, obj: ReconciliationRun) -> int:
        return len(obj.discrepancies or [])

    @admin.display(description=_("各项金额"))
    def figures_display(self, obj: ReconciliationRun) -> str:
        figures = obj.figures or {}
        rows = [
            (label, yuan_or_dash(figures[key]) if is_money else figures[key])
            for key, label, is_money in RECONCILIATION_FIGURES
            if figures.get(key) not in (None, "")
        ]
        return table_html([gettext("项目"), gettext("数额")], rows, numeric={1})

    @admin.display(description=_("差异"))
    def discrepancies_display(self, obj: ReconciliationRun) -> str:
        if not obj.discrepancies:
            return gettext("无")
        return format_html_join("", "<p>{}</p>", ((line,) for line in obj.discrepancies))

    def get_urls(self):
        custom = [
            path("books/", self.admin_site.admin_view(self.books_view), name="donations_reconciliationrun_books"),
        ]
        return custom + super().get_urls()

    def books_view(self, request):
        self._require_view(request)
        campaigns = Campaign.objects.select_related("branch").order_by("-id")
        branches = visible_branches(request.user).filter(is_active=True)
        campaign = campaigns.filter(pk=int_or_zero(request.GET.get("campaign"))).first() or campaigns.first()
        branch = branches.filter(pk=int_or_zero(request.GET.get("branch"))).first()
        if branch is None and campaign is not None:
            if can_access_branch(request.user, campaign.branch_id):
                branch = campaign.branch
            else:
                branch = branches.filter(pk=request.user.branch_id).first()
        books = campaign_books(campaign, branch) if campaign is not None and branch is not None else None
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
            right_side=books.right_side if books else None,
            checked_at=timezone.now(),
        )
