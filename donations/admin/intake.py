"""Staff work on donations in the admin: branch-scoped, audited, every write through a service."""

from __future__ import annotations

from pathlib import PurePosixPath

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.admin.base import (
    XLSX,
    ReadOnlyInline,
    WriteOnlyInput,
    correction_changes_table,
    receipt_lines_table,
    refunds_table,
)
from donations.admin.imports import DonationImportAdminMixin
from donations.forms.intake import (
    DonationCorrectForm,
    DonationItemFormSet,
    DonationRegisterForm,
    DonorAdminForm,
    ReceiptReverseForm,
)
from donations.models import (
    Attachment,
    Campaign,
    CampaignStatus,
    Certificate,
    Donation,
    DonationCorrection,
    DonationItem,
    DonationKind,
    DonationStatus,
    Donor,
    Receipt,
    ReceiptCode,
    ReceiptStatus,
    Recipient,
)
from donations.selectors import daily_intake_report
from donations.selectors.warehouse import quantity_text
from donations.selectors.workbench import donations_awaiting_receipt
from donations.services.campaigns import campaign_set_status
from donations.services.intake import donation_confirm, donation_confirm_batch, donation_correct, donation_register
from donations.services.receipts import receipt_code_save, receipt_issue, receipt_number_report, receipt_reverse
from redcross.admin import BranchScopedAdmin, download_link, pdf_document_download, render_admin_page, yuan_or_dash
from redcross.forms import service_error_message, service_errors_to_form
from redcross.masking import mask_id_number
from redcross.money import format_yuan_unit
from redcross.scoping import visible_branches
from redcross.uploads import stored_file_download


@admin.register(Donor)
class DonorAdmin(BranchScopedAdmin):
    form = DonorAdminForm
    list_display = ("name", "kind", "masked_phone", "credit_code", "public_display", "wants_receipt", "branch")
    list_filter = ("kind", "public_display", "wants_receipt")
    list_select_related = ("branch",)
    search_fields = ("name", "credit_code", "=phone")
    readonly_fields = ("masked_id_number", "full_name_consent_at", "created_by_import", "created_by", "created_at")
    fieldsets = (
        (None, {"fields": ("branch", "kind", "name", "credit_code")}),
        (_("联系方式"), {"fields": ("contact_person", "phone", "email", "address")}),
        (_("身份证件"), {"fields": ("masked_id_number", "id_number")}),
        (
            _("公开与票据"),
            {"fields": ("public_display", "full_name_consent_text", "full_name_consent_at", "wants_receipt")},
        ),
        (None, {"fields": ("note", "allow_duplicate")}),
        (_("登记"), {"fields": (("created_by", "created_at"), "created_by_import")}),
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "id_number":
            # the full number is never sent to the browser: typed in to add or replace it, shown masked
            return forms.CharField(
                label=_("录入或更换身份证号码"),
                required=False,
                max_length=18,
                widget=WriteOnlyInput(attrs={"autocomplete": "off", "size": 20}),
                help_text=_("留空则保持原号码不变；已登记的号码只显示脱敏后的形式"),
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        """Name, credit code, or phone digits: a clerk types the last four digits a donor reads out."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term.isascii() and term.isdigit() and len(term) >= 4:
            results |= queryset.filter(phone__endswith=term)
        elif term.isascii() and term.isalnum() and len(term) >= 6:
            results |= queryset.filter(credit_code__startswith=term.upper())
        return results, may_have_duplicates

    def get_changeform_initial_data(self, request):
        # a donor added from the donation form's "+" belongs to the clerk's own branch
        return {"branch": request.user.branch_id, **super().get_changeform_initial_data(request)}

    def autocomplete_label(self, obj: Donor) -> str:
        """What the donation form's donor search shows: enough to tell two 张伟 apart, nothing more."""
        from redcross.masking import mask_phone

        detail = obj.credit_code or mask_phone(obj.phone)
        return f"{obj.name}（{detail}）" if detail else obj.name

    @admin.display(description=_("联系电话"))
    def masked_phone(self, obj: Donor) -> str:
        from redcross.masking import mask_phone

        return mask_phone(obj.phone)

    @admin.display(description=_("身份证号码（脱敏）"))
    def masked_id_number(self, obj: Donor) -> str:
        return mask_id_number(obj.id_number) if obj.id_number else "—"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        elif not form.cleaned_data.get("id_number"):
            obj.id_number = form.initial.get("id_number") or ""  # left blank: the number stays as it was
        if obj.public_display == "full" and obj.kind == "person" and obj.full_name_consent_text:
            obj.full_name_consent_at = obj.full_name_consent_at or timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(Recipient)
class RecipientAdmin(BranchScopedAdmin):
    list_display = ("name", "kind", "district", "contact_person", "is_active", "branch")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)

    def has_delete_permission(self, request, obj=None):
        return False  # a recipient that left the field is deactivated: the trace still names it


@admin.register(Campaign)
class CampaignAdmin(BranchScopedAdmin):
    list_display = ("name", "kind", "status", "is_emergency", "filing_number", "starts_on", "ends_on", "branch")
    list_filter = ("kind", "status", "is_emergency")
    search_fields = ("name", "slug", "filing_number")
    prepopulated_fields = {}
    actions = ["pause", "reopen", "close", "fold"]

    def get_readonly_fields(self, request, obj=None):
        return ("status", "target_display") if obj else ("target_display",)

    def get_fieldsets(self, request, obj=None):
        # a read-only user sees the target formatted (1,000,000.00 元), not the input's raw figure
        target = "target_amount" if obj is None or self.has_change_permission(request, obj) else "target_display"
        return (
            (None, {"fields": ("branch", ("kind", "is_emergency"), "name", "slug", "filing_number", "purpose")}),
            (_("目标与期限"), {"fields": (target, ("starts_on", "ends_on"))}),
            (_("状态"), {"fields": ("status",)}),
        )

    @admin.display(description=_("目标金额"))
    def target_display(self, obj: Campaign) -> str:
        return yuan_or_dash(obj.target_amount)

    def _set_status(self, request, queryset, status: str) -> None:
        for campaign in queryset:
            try:
                campaign_set_status(campaign=campaign, status=status, by=request.user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(
                    request, f"{campaign}: {'; '.join(getattr(exc, 'messages', [str(exc)]))}", messages.ERROR
                )
            else:
                self.message_user(request, f"{campaign}: {CampaignStatus(status).label}")

    @admin.action(description=_("暂停接收捐赠"))
    def pause(self, request, queryset):
        self._set_status(request, queryset, CampaignStatus.PAUSED)

    @admin.action(description=_("恢复接收捐赠"))
    def reopen(self, request, queryset):
        self._set_status(request, queryset, CampaignStatus.OPEN)

    @admin.action(description=_("结束募捐"))
    def close(self, request, queryset):
        self._set_status(request, queryset, CampaignStatus.CLOSED)

    @admin.action(description=_("恢复为日常捐赠（此后的捐赠计入日常捐赠）"))
    def fold(self, request, queryset):
        self._set_status(request, queryset, CampaignStatus.FOLDED)


class DonationItemInline(ReadOnlyInline):
    model = DonationItem
    fields = ("name", "specification", "quantity_display", "unit", "unit_value_display", "value_basis", "expiry_date")
    readonly_fields = fields

    @admin.display(description=_("数量"))
    def quantity_display(self, item: DonationItem) -> str:
        return quantity_text(item.quantity)

    @admin.display(description=_("单价"))
    def unit_value_display(self, item: DonationItem) -> str:
        return yuan_or_dash(item.unit_value)


class AttachmentInline(ReadOnlyInline):
    """A donation's attachments, never changed or removed. Their files are downloaded through the
    donation's own page (scope and permission checked), never from a media URL."""

    model = Attachment
    fields = ("kind", "download", "uploaded_at")
    readonly_fields = fields

    @admin.display(description=_("文件"))
    def download(self, attachment: Attachment):
        url = reverse("admin:donations_attachment_file", args=[attachment.donation_id, attachment.pk])
        return format_html('<a href="{}">{}</a>', url, PurePosixPath(attachment.file.name).name)


class AttachmentAddForm(forms.ModelForm):
    class Meta:
        model = Attachment
        fields = ("kind", "file")
        # a table row has its column heads, not labels: each control says what it is
        widgets = {
            "kind": forms.Select(attrs={"aria-label": _("附件类型")}),
            "file": forms.ClearableFileInput(attrs={"aria-label": _("附件文件")}),
        }


class AttachmentAddInline(admin.TabularInline):
    """Adding attachments to any donation (letters often arrive later)."""

    model = Attachment
    form = AttachmentAddForm
    extra = 1
    can_delete = False
    fields = ("kind", "file")
    verbose_name_plural = _("添加附件")

    def get_queryset(self, request):
        return super().get_queryset(request).none()  # the existing ones are listed above, read-only

    def has_add_permission(self, request, obj=None):
        return self.has_view_permission(request, obj) and request.user.has_perm("donations.add_attachment")

    def has_change_permission(self, request, obj=None):
        return False


class ReceiptInline(ReadOnlyInline):
    model = Receipt
    fk_name = "donation"
    fields = ("receipt_link", "issued_at", "total_display", "status", "pdf_status")
    readonly_fields = fields

    @admin.display(description=_("票据代码与号码"))
    def receipt_link(self, receipt: Receipt):
        url = reverse("admin:donations_receipt_change", args=[receipt.pk])
        return format_html('<a href="{}">{} {}</a>', url, receipt.invoice_code, receipt.number_display)

    @admin.display(description=_("金额合计"))
    def total_display(self, receipt: Receipt) -> str:
        # goods without evidence of value: quantities only, no amount (财综〔2024〕1号)
        return format_yuan_unit(receipt.total_amount) if receipt.total_amount is not None else gettext("仅列数量")


class CorrectionInline(ReadOnlyInline):
    model = DonationCorrection
    fields = ("corrected_at", "corrected_by", "reason", "changes_display")
    readonly_fields = fields

    @admin.display(description=_("更正内容"))
    def changes_display(self, correction: DonationCorrection) -> str:
        return correction_changes_table(correction.changes)


class ReceiptToIssueFilter(admin.SimpleListFilter):
    """The workbench's "待开具捐赠票据" line links here: the same rows it counts."""

    title = _("捐赠票据")
    parameter_name = "receipt"

    def lookups(self, request, model_admin):
        return [("to_issue", _("待开具"))]

    def queryset(self, request, queryset):
        if self.value() == "to_issue":
            return queryset & donations_awaiting_receipt(branch_ids=None)
        return queryset


@admin.register(Donation)
class DonationAdmin(DonationImportAdminMixin, BranchScopedAdmin):
    """Donations are registered through their own form (items included) and never edited here:
    confirmed ones change only through a recorded correction (``donation_correct``)."""

    list_display = (
        "serial",
        "received_at",
        "donor",
        "kind",
        "value_display",
        "channel",
        "campaign",
        "status_badge",
        "has_valid_receipt",
    )
    list_filter = (
        "status",
        "kind",
        "channel",
        "campaign",
        ("branch", admin.RelatedOnlyFieldListFilter),
        ReceiptToIssueFilter,
        "is_retroactive",
        ("received_at", admin.DateFieldListFilter),
    )
    list_select_related = ("donor", "campaign")
    search_fields = ("=serial", "donor__name", "=channel_transaction_id")
    date_hierarchy = "received_at"
    list_per_page = 100
    show_full_result_count = False  # no COUNT(*) over a surge of donations on every page
    inlines = [DonationItemInline, AttachmentInline, AttachmentAddInline, ReceiptInline, CorrectionInline]
    actions = ["confirm", "issue_receipts"]
    # a donation is written by services only: its page shows it, formatted, and offers the buttons
    fieldsets = (
        (
            _("捐赠"),
            {
                "fields": (
                    ("serial", "status"),
                    "donor",
                    ("kind", "amount_display", "refunded_display"),
                    "refunds_display",
                    ("channel", "channel_transaction_id"),
                    "received_at",
                )
            },
        ),
        (_("用途"), {"fields": (("campaign", "branch"), "designated_recipient", "wish", "is_retroactive")}),
        (_("双人双签"), {"fields": (("registered_by", "registered_at"), ("confirmed_by", "confirmed_at"))}),
        (_("内部备注"), {"fields": ("note",)}),
    )
    readonly_fields = [
        "serial",
        "branch",
        "donor",
        "campaign",
        "kind",
        "channel",
        "channel_transaction_id",
        "received_at",
        "amount_display",
        "refunded_display",
        "refunds_display",
        "designated_recipient",
        "wish",
        "is_retroactive",
        "status",
        "registered_by",
        "registered_at",
        "confirmed_by",
        "confirmed_at",
        "note",
    ]

    @admin.display(description=_("金额"))
    def amount_display(self, obj: Donation) -> str:
        if obj.kind != DonationKind.CASH:
            return gettext("见物资明细")
        return format_yuan_unit(obj.amount)

    @admin.display(description=_("已退款"))
    def refunded_display(self, obj: Donation) -> str:
        return format_yuan_unit(obj.refunded_amount) if obj.refunded_amount else "—"

    @admin.display(description=_("退款记录"))
    def refunds_display(self, obj: Donation) -> str:
        return refunds_table(obj.refunds)

    def get_queryset(self, request):
        valid = Receipt.objects.filter(donation=OuterRef("pk"), status=ReceiptStatus.VALID)
        return super().get_queryset(request).annotate(_has_valid_receipt=Exists(valid))

    def has_delete_permission(self, request, obj=None):
        return False

    def has_confirm_permission(self, request) -> bool:
        return request.user.has_perm("donations.confirm_donation")

    def has_issue_permission(self, request) -> bool:
        return request.user.has_perm("donations.issue_receipt")

    @admin.display(description=_("金额/物资"))
    def value_display(self, obj: Donation) -> str:
        if obj.kind == DonationKind.CASH:
            return format_yuan_unit(obj.amount)
        return gettext("物资")

    @admin.display(description=_("状态"), ordering="status")
    def status_badge(self, obj: Donation):
        css = "donation-confirmed" if obj.status == DonationStatus.CONFIRMED else "donation-pending"
        if obj.status != DonationStatus.CONFIRMED and obj.kind == DonationKind.CASH:
            css += " donation-pending-cash"  # unconfirmed cash stands out: it is not counted yet
        return format_html('<span class="{}">{}</span>', css, obj.get_status_display())

    @admin.display(description=_("有效票据"), boolean=True)
    def has_valid_receipt(self, obj: Donation) -> bool:
        return obj._has_valid_receipt

    @admin.action(description=_("复核选中的捐赠（双人双签）"), permissions=["confirm"])
    def confirm(self, request, queryset):
        confirmed, refused = donation_confirm_batch(donations=list(queryset), by=request.user)
        if confirmed:
            self.message_user(request, gettext("已复核 %(n)d 笔捐赠") % {"n": len(confirmed)})
        for donation, reason in refused:
            self.message_user(request, f"{donation.serial}: {reason}", messages.ERROR)

    @admin.action(description=_("为选中的捐赠开具票据"), permissions=["issue"])
    def issue_receipts(self, request, queryset):
        issued = 0
        for donation in queryset:
            try:
                receipt_issue(donation=donation, by=request.user)
                issued += 1
            except (ValidationError, PermissionDenied) as exc:
                reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{donation.serial}: {reason}", messages.ERROR)
        if issued:
            self.message_user(request, gettext("已开具 %(n)d 张票据") % {"n": issued})

    def get_urls(self):
        custom = [
            path("daily-report/", self.admin_site.admin_view(self.daily_report_view), name="donations_daily_report"),
            path("<int:donation_id>/correct/", self.admin_site.admin_view(self.correct_view), name="donations_correct"),
            path(
                "<int:donation_id>/confirm/",
                self.admin_site.admin_view(self.confirm_view),
                name="donations_donation_confirm",
            ),
            path(
                "<int:donation_id>/issue-receipt/",
                self.admin_site.admin_view(self.issue_receipt_view),
                name="donations_donation_issue_receipt",
            ),
            path(
                "<int:donation_id>/attachments/<int:attachment_id>/",
                self.admin_site.admin_view(self.attachment_file_view),
                name="donations_attachment_file",
            ),
        ]
        return custom + super().get_urls()

    # --- registration: a form with item lines, calling donation_register ---------------------

    def attachment_file_view(self, request, donation_id: int, attachment_id: int):
        donation = get_object_or_404(self.get_queryset(request), pk=donation_id)  # the user's branches only
        if not self.has_view_permission(request, donation):
            raise PermissionDenied
        return stored_file_download(get_object_or_404(Attachment, pk=attachment_id, donation=donation).file)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = DonationRegisterForm(request.POST or None, user=request.user, admin_site=self.admin_site)
        formset = DonationItemFormSet(request.POST or None, prefix="items")
        if request.method == "POST" and form.is_valid() and formset.is_valid():
            items = [f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            try:
                donation = donation_register(by=request.user, items=items, **form.service_arguments())
            except ValidationError as exc:
                service_errors_to_form(exc, form, formset)
            else:
                self.message_user(
                    request, gettext("已登记捐赠 %(serial)s，待另一名工作人员复核") % {"serial": donation.serial}
                )
                return HttpResponseRedirect(reverse("admin:donations_donation_change", args=[donation.pk]))
        return render_admin_page(
            self,
            request,
            "admin/donations/donation/register.html",
            title=gettext("登记捐赠"),
            form=form,
            formset=formset,
            has_view_permission=True,
        )

    # --- the buttons on a donation's own page: the same services as the list actions -------------

    def _post_on_own_page(self, request, donation_id: int, call, done: str):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:donations_donation_change", args=[donation_id]))
        donation = get_object_or_404(self.get_queryset(request), pk=donation_id)  # the user's branches only
        try:
            call(donation)
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, f"{donation.serial}: {service_error_message(exc)}", messages.ERROR)
        else:
            self.message_user(request, done % {"serial": donation.serial})
        return HttpResponseRedirect(reverse("admin:donations_donation_change", args=[donation.pk]))

    def confirm_view(self, request, donation_id: int):
        return self._post_on_own_page(
            request,
            donation_id,
            lambda donation: donation_confirm(donation=donation, by=request.user),
            gettext("已复核捐赠 %(serial)s"),
        )

    def issue_receipt_view(self, request, donation_id: int):
        return self._post_on_own_page(
            request,
            donation_id,
            lambda donation: receipt_issue(donation=donation, by=request.user),
            gettext("已为捐赠 %(serial)s 开具票据"),
        )

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        if obj is not None and obj.kind == DonationKind.CASH:
            # a cash gift has no goods lines: no empty goods table on its page
            inlines = [inline for inline in inlines if not isinstance(inline, DonationItemInline)]
        return inlines

    def change_view(self, request, object_id, form_url="", extra_context=None):
        donation = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), **self._own_page_buttons(request, donation)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _own_page_buttons(self, request, donation: Donation | None) -> dict:
        """Which of 复核 / 开具票据 / 冲红 this user may press on this donation's page."""
        if donation is None:
            return {}
        valid_receipt = donation.receipts.filter(status=ReceiptStatus.VALID).first()
        return {
            # the registrar sees the button too: the service refuses with the 双人双签 message,
            # which is where that rule lives
            "can_confirm": donation.status == DonationStatus.REGISTERED
            and request.user.has_perm("donations.confirm_donation"),
            "can_issue_receipt": donation.status == DonationStatus.CONFIRMED
            and valid_receipt is None
            and request.user.has_perm("donations.issue_receipt"),
            "valid_receipt": valid_receipt,
            "can_reverse_receipt": valid_receipt is not None and request.user.has_perm("donations.reverse_receipt"),
        }

    # --- corrections of confirmed donations -----------------------------------------------------

    def correct_view(self, request, donation_id: int):
        donation = get_object_or_404(self.get_queryset(request), pk=donation_id)
        if not request.user.has_perm("donations.correct_donation"):
            raise PermissionDenied
        form = DonationCorrectForm(request.POST or None, user=request.user, donation=donation)
        if request.method == "POST" and form.is_valid():
            try:
                donation_correct(
                    donation=donation, by=request.user, reason=form.cleaned_data["reason"], changes=form.changes()
                )
            except ValidationError as exc:
                service_errors_to_form(exc, form)
            else:
                self.message_user(request, gettext("已记录更正"))
                return HttpResponseRedirect(reverse("admin:donations_donation_change", args=[donation.pk]))
        return render_admin_page(
            self,
            request,
            "admin/donations/donation/correct.html",
            title=gettext("更正捐赠 %(serial)s") % {"serial": donation.serial},
            form=form,
            donation=donation,
        )

    # --- the daily intake report (日报) ------------------------------------------------------

    def daily_report_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            day = timezone.datetime.strptime(request.GET.get("date", ""), "%Y-%m-%d").date()
        except ValueError:
            day = timezone.localdate()
        branch_ids = (
            None if request.user.is_superuser else list(visible_branches(request.user).values_list("pk", flat=True))
        )
        report = daily_intake_report(day=day, branch_ids=branch_ids)
        if request.GET.get("format") == "xlsx":
            from donations.exports import daily_report_xlsx

            response = HttpResponse(
                daily_report_xlsx(report),
                content_type=XLSX,
            )
            response["Content-Disposition"] = f'attachment; filename="daily-intake-{day:%Y%m%d}.xlsx"'
            return response
        return render_admin_page(
            self,
            request,
            "admin/donations/donation/daily_report.html",
            title=gettext("捐赠日报 %(day)s") % {"day": f"{day:%Y年%m月%d日}"},
            report=report,
            day=day,
        )


@admin.register(ReceiptCode)
class ReceiptCodeAdmin(BranchScopedAdmin):
    """票据代码 per branch and year, registered by whoever may issue receipts; fixed once used."""

    list_display = ("year", "branch", "code", "receipts_issued", "registered_at")
    list_filter = ("year",)
    search_fields = ("code", "branch__name")
    list_select_related = ("branch",)

    def get_queryset(self, request):
        # receipts of the branch and year, counted in the list's one query
        issued = (
            Receipt.objects.filter(branch=OuterRef("branch"), year=OuterRef("year"))
            .order_by()
            .values("branch")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(issued=Coalesce(Subquery(issued), 0))

    @admin.display(description=_("已开票据"))
    def receipts_issued(self, obj: ReceiptCode) -> int:
        return obj.issued

    def has_add_permission(self, request):
        return super().has_add_permission(request) and request.user.has_perm("donations.issue_receipt")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and request.user.has_perm("donations.issue_receipt")

    def has_delete_permission(self, request, obj=None):
        return False  # a code once registered is part of the receipts' record

    def save_model(self, request, obj, form, change):
        if not self._in_scope(request, obj):
            raise PermissionDenied
        # checked again under the numbering lock: a receipt issued meanwhile refuses the change
        receipt_code_save(receipt_code=obj, by=request.user)


@admin.register(Receipt)
class ReceiptAdmin(BranchScopedAdmin):
    """Receipts are frozen: read-only here, reversed (冲红) through their own form."""

    list_display = ("__str__", "payer_name", "total_display", "issued_at", "status", "pdf_status")
    list_filter = ("status", "year", "pdf_status")
    search_fields = ("=number", "payer_name", "=donation__serial")
    list_select_related = ("donation",)
    show_full_result_count = False
    # the receipt as printed (财综〔2024〕1号 art. 6), formatted; its token and file path are never shown
    fieldsets = (
        (
            _("捐赠票据"),
            {"fields": (("invoice_code", "number_display", "check_code"), ("issued_at", "status"), "replaces")},
        ),
        (_("交款人"), {"fields": ("payer_name", "payer_credit_code", "donation")}),
        (_("项目明细"), {"fields": ("lines_display", "total_display", "total_in_words", "remark")}),
        (_("收款单位"), {"fields": ("payee", ("reviewer_name", "issuer_name"), "issued_by")}),
        (_("PDF"), {"fields": (("pdf_link", "pdf_status"),)}),
    )
    readonly_fields = (
        "invoice_code", "number_display", "check_code", "issued_at", "status", "replaces", "payer_name",
        "payer_credit_code", "donation", "lines_display", "total_display", "total_in_words", "remark", "payee",
        "reviewer_name", "issuer_name", "issued_by", "pdf_link", "pdf_status",
    )  # fmt: skip

    @admin.display(description=_("票据号码"), ordering="number")
    def number_display(self, obj: Receipt) -> str:
        return obj.number_display

    @admin.display(description=_("金额合计"), ordering="total_amount")
    def total_display(self, obj: Receipt) -> str:
        # goods without evidence of value: quantities only, no amount (财综〔2024〕1号)
        return format_yuan_unit(obj.total_amount) if obj.total_amount is not None else gettext("仅列数量")

    @admin.display(description=_("项目明细"))
    def lines_display(self, obj: Receipt) -> str:
        return receipt_lines_table(obj.lines)

    @admin.display(description=_("PDF 文件"))
    def pdf_link(self, obj: Receipt) -> str:
        return download_link(reverse("admin:donations_receipt_pdf", args=[obj.pk]) if obj.pdf_ready else None)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # frozen as issued: reversed (冲红) through its own form

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        custom = [
            path(
                "<int:receipt_id>/reverse/",
                self.admin_site.admin_view(self.reverse_view),
                name="donations_receipt_reverse",
            ),
            path("<int:receipt_id>/pdf/", self.admin_site.admin_view(self.pdf_view), name="donations_receipt_pdf"),
            path("numbering/", self.admin_site.admin_view(self.numbering_view), name="donations_receipt_numbering"),
        ]
        return custom + super().get_urls()

    def numbering_view(self, request):
        """票据号码核对: every number of a branch and year, issued or reversed, for auditors."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        branches = visible_branches(request.user).filter(is_active=True)
        branch = branches.filter(pk=request.GET.get("branch") or 0).first() or branches.first()
        try:
            year = int(request.GET.get("year") or timezone.localdate().year)
        except ValueError:
            year = timezone.localdate().year
        uses = list(receipt_number_report(branch=branch, year=year)) if branch else []
        return render_admin_page(
            self,
            request,
            "admin/donations/receipt/numbering.html",
            title=gettext("票据号码核对"),
            branches=branches,
            branch=branch,
            year=year,
            uses=uses,
            counts={
                "issued": sum(1 for u in uses if u.receipt and u.receipt.status == ReceiptStatus.VALID),
                "reversed": sum(1 for u in uses if u.receipt and u.receipt.status == ReceiptStatus.REVERSED),
                "missing": sum(1 for u in uses if u.receipt is None),
            },
        )

    def pdf_view(self, request, receipt_id: int):
        return pdf_document_download(self, request, receipt_id)

    def reverse_view(self, request, receipt_id: int):
        receipt = get_object_or_404(self.get_queryset(request), pk=receipt_id)
        if not request.user.has_perm("donations.reverse_receipt"):
            raise PermissionDenied
        form = ReceiptReverseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                new = receipt_reverse(
                    receipt=receipt,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    reissue=form.cleaned_data["reissue"],
                )
            except ValidationError as exc:
                service_errors_to_form(exc, form)
            else:
                text = gettext("票据 %(number)s 已冲红") % {"number": receipt.number_display}
                if new is not None:
                    text += gettext("，已重开票据 %(number)s") % {"number": new.number_display}
                self.message_user(request, text)
                return HttpResponseRedirect(reverse("admin:donations_receipt_change", args=[receipt.pk]))
        return render_admin_page(
            self,
            request,
            "admin/donations/receipt/reverse.html",
            title=gettext("冲红票据 %(number)s") % {"number": receipt.number_display},
            form=form,
            receipt=receipt,
        )


@admin.register(Certificate)
class CertificateAdmin(BranchScopedAdmin):
    branch_field = "donation__branch"
    list_display = ("verification_code", "donation", "issued_at", "pdf_status")
    search_fields = ("=verification_code", "=donation__serial")
    list_select_related = ("donation",)
    fields = ("verification_code", "donation", "issued_at", ("pdf_link", "pdf_status"))
    readonly_fields = fields[:-1] + ("pdf_link", "pdf_status")

    @admin.display(description=_("PDF 文件"))
    def pdf_link(self, obj: Certificate) -> str:
        return download_link(reverse("admin:donations_certificate_pdf", args=[obj.pk]) if obj.pdf_ready else None)

    def get_urls(self):
        view = self.admin_site.admin_view(self.pdf_view)
        return [path("<int:certificate_id>/pdf/", view, name="donations_certificate_pdf"), *super().get_urls()]

    def pdf_view(self, request, certificate_id: int):
        return pdf_document_download(self, request, certificate_id)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
