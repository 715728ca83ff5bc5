"""The application review queue in the admin: 待初审 (district) and 待审批 (city) as filters the
workbench links to, actions that call the review and decision services with a reason, documents
downloaded through a branch-checked view, visits on the application's page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.admin.base import ReadOnlyInline, ServiceWrittenAdmin
from donations.forms.allocations import ReasonForm
from redcross.admin import render_admin_page, yuan_or_dash
from redcross.forms import service_error_message
from redcross.scoping import visible_branch_ids
from relief.models import Application, ApplicationDocument, Visit
from relief.selectors.workbench import applications_to_decide, applications_to_review
from relief.services.applications import application_decide_batch, application_review
from relief.services.beneficiaries import can_see_details

REFUSALS_LISTED = 20  # a surge's batch may refuse hundreds: the first ones, then how many more
LISTED = 50  # the confirmation page names the first applications and how many in all
DECIDE_TEMPLATE = "admin/relief/application_decide.html"


class QueueFilter(admin.SimpleListFilter):
    title = _("待办")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return (("review", _("待区县初审")), ("decide", _("待市级审批")))

    def queryset(self, request, queryset):
        ids = visible_branch_ids(request.user)
        if self.value() == "review":
            return queryset.filter(pk__in=applications_to_review(branch_ids=ids).values("pk"))
        if self.value() == "decide":
            return queryset.filter(pk__in=applications_to_decide(branch_ids=ids).values("pk"))
        return queryset


class DocumentInline(ReadOnlyInline):
    model = ApplicationDocument
    fields = ("kind", "download", "uploaded_at")
    readonly_fields = fields

    @admin.display(description=_("文件"))
    def download(self, obj) -> str:
        return ApplicationDocumentAdmin._file_link(ApplicationDocumentAdmin, obj, "file")


class VisitInline(ReadOnlyInline):
    model = Visit
    fields = ("kind", "visited_on", "visited_by")
    readonly_fields = fields
    select_related = ("visited_by",)


@admin.register(Application)
class ApplicationAdmin(ServiceWrittenAdmin):
    list_display = ("number", "project", "beneficiary", "branch", "channel", "status", "amount", "submitted_at")
    list_filter = (QueueFilter, "status", "channel", ("project", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("project", "beneficiary", "branch")
    search_fields = ("=number",)
    show_full_result_count = False
    inlines = (DocumentInline, VisitInline)
    actions = ("review_pass", "review_reject", "decide_approve", "decide_reject")
    base_fields = (
        "number", "project", "beneficiary", "branch", "channel", "status", "requested_amount", "approved_amount",
        "registered_by", "submitted_at", "reviewed_by", "reviewed_at", "review_reason", "decided_by", "decided_at",
        "decision_reason", "referral_outcome", "referral_amount", "referral_note",
    )  # fmt: skip

    def get_fields(self, request, obj=None):
        # the applicant's account of the hardship is sensitive: relief roles only
        return (*self.base_fields, "situation") if can_see_details(request.user) else self.base_fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("批准金额"))
    def amount(self, obj) -> str:
        return yuan_or_dash(obj.approved_amount)

    def _act(self, request, queryset, action: str, title: str, call, done: str):
        return self._reason_action(request, queryset, action=action, title=title, call=call, done_message=done)

    @admin.action(description=_("初审通过（须填意见）"))
    def review_pass(self, request, queryset):
        return self._act(request, queryset, "review_pass", gettext("初审通过"),
                         lambda a, r: application_review(by=request.user, application=a, passed=True, reason=r),
                         gettext("已初审通过 %(n)d 份"))  # fmt: skip

    @admin.action(description=_("初审不通过（须填意见）"))
    def review_reject(self, request, queryset):
        return self._act(request, queryset, "review_reject", gettext("初审不通过"),
                         lambda a, r: application_review(by=request.user, application=a, passed=False, reason=r),
                         gettext("已退回 %(n)d 份"))  # fmt: skip

    def _decide(self, request, queryset, *, approve: bool, action: str, title: str, done: str):
        """The city's decision on the selected applications in one batch (a surge's thousands):
        ``application_decide_batch`` checks each as ``application_decide`` does, in one transaction."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return render_admin_page(
                self, request, DECIDE_TEMPLATE, title=title, form=form, listed=list(queryset[:LISTED]),
                total=queryset.count(), select_across=request.POST.get("select_across") == "1",
                selected=request.POST.getlist(helpers.ACTION_CHECKBOX_NAME), action=action,
                action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
            )  # fmt: skip
        try:
            result = application_decide_batch(
                by=request.user, applications=list(queryset.values_list("pk", flat=True)), approve=approve,
                reason=form.cleaned_data["reason"],
            )  # fmt: skip
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, service_error_message(exc), messages.ERROR)
            return None
        refused = list(result.refused.items())
        for number, why in refused[:REFUSALS_LISTED]:
            self.message_user(request, f"{number}: {why}", messages.ERROR)
        if len(refused) > REFUSALS_LISTED:
            more = gettext("另有 %(n)d 份未能办理") % {"n": len(refused) - REFUSALS_LISTED}
            self.message_user(request, more, messages.ERROR)
        if result.done:
            self.message_user(request, done % {"n": result.done})
        return None

    @admin.action(description=_("批准（按申请金额或项目限额，须填意见）"))
    def decide_approve(self, request, queryset):
        return self._decide(request, queryset, approve=True, action="decide_approve", title=gettext("批准"),
                            done=gettext("已批准 %(n)d 份"))  # fmt: skip

    @admin.action(description=_("不予批准（须填意见）"))
    def decide_reject(self, request, queryset):
        return self._decide(request, queryset, approve=False, action="decide_reject", title=gettext("不予批准"),
                            done=gettext("已不予批准 %(n)d 份"))  # fmt: skip


@admin.register(ApplicationDocument)
class ApplicationDocumentAdmin(ServiceWrittenAdmin):
    branch_field = "application__branch"
    file_fields = ("file",)
    list_display = ("application", "kind", "uploaded_at")
    list_select_related = ("application",)
    fields = ("application", "kind", "uploaded_by", "uploaded_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_module_permission(self, request):
        return False  # reached from the application's page


@admin.register(Visit)
class VisitAdmin(ServiceWrittenAdmin):
    branch_field = "application__branch"
    list_display = ("application", "kind", "visited_on", "visited_by")
    list_filter = ("kind",)
    list_select_related = ("application", "visited_by")

    def get_fields(self, request, obj=None):
        base = ("application", "kind", "visited_on", "visited_by", "recorded_at")
        return (*base, "findings") if can_see_details(request.user) else base

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request):
        return False
