"""Disbursements and 博爱家园 shares in the admin: lists, the second signature on cash handed over in
cash (an action calling ``aid_confirm``), withdrawal of unsigned cash with a reason, and the
recipient's scan and transfer voucher downloaded through a branch-checked view."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.admin.base import ServiceWrittenAdmin
from redcross.admin import yuan_or_dash
from relief.models import Aid, AidStatus, LivelihoodShare
from relief.services.aid import aid_cancel, aid_confirm


class AwaitingSignatureFilter(admin.SimpleListFilter):
    title = _("待办")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return (("sign", _("待第二人签字")),)

    def queryset(self, request, queryset):
        if self.value() == "sign":
            return queryset.filter(status=AidStatus.REGISTERED)
        return queryset


@admin.register(Aid)
class AidAdmin(ServiceWrittenAdmin):
    file_fields = ("voucher", "receipt_scan")
    list_display = ("number", "project", "beneficiary", "branch", "method", "value_display", "disbursed_on", "status")
    list_filter = (
        AwaitingSignatureFilter,
        "status",
        "method",
        "purpose",
        ("project", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("project", "beneficiary", "branch")
    search_fields = ("=number", "=voucher_number")
    show_full_result_count = False
    actions = ("confirm_cash", "cancel_cash")
    fields = (
        "number", "project", "application", "beneficiary", "branch", "purpose", "period", "method", "amount",
        "goods_value", "disbursed_on", "voucher_number", "voucher_link", "scan_link", "status", "registered_by",
        "registered_at", "confirmed_by", "confirmed_at", "cancel_reason",
    )  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("金额（含物资）"))
    def value_display(self, obj) -> str:
        return yuan_or_dash(obj.amount + obj.goods_value)

    @admin.display(description=_("转账凭证"))
    def voucher_link(self, obj) -> str:
        return self._file_link(obj, "voucher")

    @admin.display(description=_("受助人签字或手印"))
    def scan_link(self, obj) -> str:
        return self._file_link(obj, "receipt_scan")

    @admin.action(description=_("现金发放第二人签字"))
    def confirm_cash(self, request, queryset):
        self._run_each(request, queryset, lambda aid: aid_confirm(by=request.user, aid=aid), gettext("已签字 %(n)d 笔"))

    @admin.action(description=_("撤销未签字的现金发放（须说明原因）"))
    def cancel_cash(self, request, queryset):
        return self._reason_action(
            request, queryset, action="cancel_cash", title=gettext("撤销发放"),
            call=lambda aid, reason: aid_cancel(by=request.user, aid=aid, reason=reason),
            done_message=gettext("已撤销 %(n)d 笔"),
        )  # fmt: skip


@admin.register(LivelihoodShare)
class LivelihoodShareAdmin(ServiceWrittenAdmin):
    branch_field = "beneficiary__branch"
    list_display = ("project", "beneficiary", "year", "shares")
    list_filter = ("year", ("project", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("project", "beneficiary")
    fields = ("project", "beneficiary", "year", "shares", "recorded_by", "recorded_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False
