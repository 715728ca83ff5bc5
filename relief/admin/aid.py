"""Disbursements and 博爱家园 shares in the admin: lists, the second signature on cash handed over in
cash (an action calling ``aid_confirm``), withdrawal of unsigned cash with a reason, the recipient's
signature scan recorded later (``aid_receipt_record``), and the scan and transfer voucher downloaded
through a branch-checked view. A 博爱家园 project's shares are recorded a year at a time for all its
households on one page (``livelihood_share_record``), and the year's dividends paid from another
(``livelihood_dividends_pay``). Disbursing itself starts from the application (its page, or the
batch action on 救助申请)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.admin.base import CHOICE_TEMPLATE, ServiceWrittenAdmin, int_or_zero
from redcross.admin import render_admin_page, yuan_or_dash
from redcross.forms import service_error_message, service_errors_to_form
from redcross.scoping import can_access_branch
from relief.admin.pages import form_page, posted
from relief.forms.aid import DividendsForm, ReceiptForm, SharesForm
from relief.models import Aid, AidStatus, LivelihoodShare
from relief.selectors.choices import livelihood_households, livelihood_projects
from relief.services.aid import (
    aid_cancel,
    aid_confirm,
    aid_receipt_record,
    livelihood_dividends_pay,
    livelihood_share_record,
)


class AwaitingSignatureFilter(admin.SimpleListFilter):
    title = _("待办")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return (("sign", _("待第二人签字")),)

    def queryset(self, request, queryset):
        if self.value() == "sign":
            return queryset.filter(status=AidStatus.REGISTERED)
        return queryset


class ReceiptScanFilter(admin.SimpleListFilter):
    title = _("受助人签收")
    parameter_name = "receipt"

    def lookups(self, request, model_admin):
        return (("missing", _("缺签字或手印扫描件")), ("done", _("已上传")))

    def queryset(self, request, queryset):
        if self.value() == "missing":
            return queryset.exclude(status=AidStatus.CANCELLED).filter(receipt_scan="")
        if self.value() == "done":
            return queryset.exclude(receipt_scan="")
        return queryset


@admin.register(Aid)
class AidAdmin(ServiceWrittenAdmin):
    file_fields = ("voucher", "receipt_scan")
    list_display = (
        "number", "project", "beneficiary", "branch", "method", "value_display", "disbursed_on", "status", "signed_for",
    )  # fmt: skip
    list_filter = (
        AwaitingSignatureFilter,
        ReceiptScanFilter,
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

    @admin.display(description=_("已签收"), boolean=True)
    def signed_for(self, obj) -> bool:
        return bool(obj.receipt_scan)

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

    def get_urls(self):
        wrap = self.admin_site.admin_view
        custom = [path("<int:object_id>/receipt/", wrap(self.receipt_view), name="relief_aid_receipt")]
        return custom + super().get_urls()

    def _can_record_receipt(self, request, aid: Aid) -> bool:
        return request.user.has_perm("relief.change_aid") and aid.status != AidStatus.CANCELLED

    def receipt_view(self, request, object_id: int):
        """登记签收扫描件: the recipient's signature or thumbprint, when it comes after the aid."""
        aid = get_object_or_404(self.get_queryset(request).select_related("project", "beneficiary"), pk=object_id)
        if not request.user.has_perm("relief.change_aid"):
            raise PermissionDenied
        form = ReceiptForm(*posted(request))
        if request.method == "POST" and form.is_valid():
            try:
                aid_receipt_record(by=request.user, aid=aid, receipt_scan=form.cleaned_data["receipt_scan"])
            except (ValidationError, PermissionDenied) as exc:
                service_errors_to_form(exc, form)
            else:
                self.message_user(request, gettext("已登记 %(number)s 的签收扫描件") % {"number": aid.number})
                return HttpResponseRedirect(reverse("admin:relief_aid_change", args=[aid.pk]))
        facts = [
            (gettext("发放编号"), aid.number),
            (gettext("救助项目"), str(aid.project)),
            (gettext("受助人（户）"), str(aid.beneficiary)),
            (gettext("金额（含物资）"), yuan_or_dash(aid.amount + aid.goods_value)),
            (
                gettext("受助人签字或手印"),
                gettext("已上传，重新上传即替换") if aid.receipt_scan else gettext("尚未上传"),
            ),
        ]
        return form_page(
            self, request, gettext("登记签收扫描件"), form, facts=facts, original=aid, submit=gettext("上传"),
        )  # fmt: skip

    def change_view(self, request, object_id, form_url="", extra_context=None):
        aid = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "can_record_receipt": bool(aid and self._can_record_receipt(request, aid)),
        }
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(LivelihoodShare)
class LivelihoodShareAdmin(ServiceWrittenAdmin):
    branch_field = "beneficiary__branch"
    list_display = ("project", "beneficiary", "year", "shares")
    list_filter = ("year", ("project", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("project", "beneficiary")
    fields = ("project", "beneficiary", "year", "shares", "recorded_by", "recorded_at")
    readonly_fields = fields

    def get_urls(self):
        wrap = self.admin_site.admin_view
        custom = [
            path("project/<int:project_id>/", wrap(self.shares_view), name="relief_livelihoodshare_shares"),
            path(
                "project/<int:project_id>/dividends/",
                wrap(self.dividends_view),
                name="relief_livelihoodshare_dividends",
            ),
        ]  # fmt: skip
        return custom + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        """Which 博爱家园 project: its shares, or its dividends."""
        self._require_add(request)
        choices = []
        for project in livelihood_projects(request.user):
            choices.append((reverse("admin:relief_livelihoodshare_shares", args=[project.pk]),
                            gettext("%(project)s：登记股份") % {"project": project},
                            gettext("逐户登记本年度的股份数；再次登记即更正。")))  # fmt: skip
            if request.user.has_perm("relief.add_aid") and can_access_branch(request.user, project.branch_id):
                choices.append((reverse("admin:relief_livelihoodshare_dividends", args=[project.pk]),
                                gettext("%(project)s：发放分红") % {"project": project},
                                gettext("按各户股份比例分配本年度分红，精确到分。")))  # fmt: skip
        return render_admin_page(self, request, CHOICE_TEMPLATE, title=gettext("博爱家园"), choices=choices)

    def _project(self, request, project_id: int):
        return get_object_or_404(livelihood_projects(request.user), pk=project_id)

    def shares_view(self, request, project_id: int):
        """登记博爱家园股份: every household with an approved application, one line each; the lines
        filled in are recorded together, or none of them."""
        self._require_add(request)
        project = self._project(request, project_id)
        year = int_or_zero(request.POST.get("year") or request.GET.get("year")) or timezone.localdate().year
        households = livelihood_households(project, request.user, year)
        form = SharesForm(posted(request)[0], households=households, initial={"year": year})
        if request.method == "POST" and form.is_valid() and self._record_shares(request, project, form):
            self.message_user(
                request, gettext("已登记 %(project)s %(year)d 年的股份") % {"project": project, "year": year}
            )
            return HttpResponseRedirect(f"{reverse('admin:relief_livelihoodshare_changelist')}?year__exact={year}")
        return form_page(
            self, request, gettext("登记博爱家园股份"), form,
            facts=[(gettext("救助项目"), str(project)), (gettext("获批户数"), str(len(households)))],
            intro=gettext("填写各户本年度的股份数；留空的户不登记。改年度后请先刷新页面查看该年已登记的股份。"),
        )  # fmt: skip

    def _record_shares(self, request, project, form: SharesForm) -> bool:
        entered = form.entered()
        if not entered:
            form.add_error(None, gettext("请至少填写一户的股份数"))
            return False
        with transaction.atomic():
            for application, shares in entered:
                try:
                    with transaction.atomic():
                        livelihood_share_record(
                            by=request.user, project=project, beneficiary=application.beneficiary,
                            year=form.cleaned_data["year"], shares=shares,
                        )  # fmt: skip
                except (ValidationError, PermissionDenied) as exc:
                    form.add_error(f"shares_{application.beneficiary_id}", service_error_message(exc))
            if form.errors:
                transaction.set_rollback(True)  # all the households or none
                return False
        return True

    def dividends_view(self, request, project_id: int):
        """发放博爱家园分红: the year's total shared by the households in proportion to their shares."""
        project = self._project(request, project_id)
        if not request.user.has_perm("relief.add_aid"):
            raise PermissionDenied
        form = DividendsForm(posted(request)[0])
        if request.method == "POST" and form.is_valid():
            try:
                aids = livelihood_dividends_pay(by=request.user, project=project, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                service_errors_to_form(exc, form)
            else:
                total = sum((aid.amount for aid in aids), 0)
                self.message_user(request, gettext("已发放 %(n)d 户分红，合计 %(total)s") % {
                    "n": len(aids), "total": yuan_or_dash(total)})  # fmt: skip
                return HttpResponseRedirect(
                    f"{reverse('admin:relief_aid_changelist')}?purpose__exact=dividend&project__id__exact={project.pk}"
                )
        return form_page(
            self, request, gettext("发放博爱家园分红"), form,
            facts=[(gettext("救助项目"), str(project)),
                   (gettext("项目可发放资金"), yuan_or_dash(project.cash_balance))],
            intro=gettext("分红按各户当年股份比例分配，每户每年一次，以一笔银行转账发放。"), submit=gettext("发放"),
        )  # fmt: skip
