"""Applications in the admin: the register page (the beneficiary with the household's members,
the application and its documents), the review queue (待初审 for the district, 待审批 for the city,
as filters the workbench links to, actions calling the review and decision services with a reason),
and from an application's page: record a visit (走访 / 回访), add a document, disburse the aid. The
surge's bank transfer of many approved applications is an action asking for the voucher number.

Every write calls a relief service; a service's error comes back on the field it names
(``members[1].id_number`` on the member's row) and nothing is written. Documents download through a
branch-checked view; the hardship account and the visits' findings only for relief roles."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.admin.base import ReadOnlyInline, ServiceWrittenAdmin
from donations.forms.allocations import ReasonForm
from redcross.admin import render_admin_page, yuan_or_dash
from redcross.forms import filled_forms, service_error_message, service_errors_to_form
from redcross.scoping import visible_branch_ids
from relief.admin.pages import form_page, posted
from relief.admin.roster import RosterImportAdminMixin
from relief.forms.aid import AidBatchForm, AidDisburseForm, GoodsLineFormSet
from relief.forms.applications import (
    ApplicationRegisterForm,
    DocumentForm,
    DocumentFormSet,
    MemberFormSet,
    VisitForm,
)
from relief.models import (
    Aid,
    AidMethod,
    AidStatus,
    Application,
    ApplicationDocument,
    ApplicationStatus,
    Project,
    Visit,
)
from relief.selectors.workbench import applications_to_decide, applications_to_disburse, applications_to_review
from relief.services.aid import aid_disburse, aid_disburse_batch
from relief.services.applications import (
    application_decide_batch,
    application_document_add,
    application_register,
    application_review,
    visit_record,
)
from relief.services.beneficiaries import beneficiary_find_or_register, can_see_details

BATCH_TEMPLATE = "admin/relief/application/disburse_batch.html"

REFUSALS_LISTED = 20  # a surge's batch may refuse hundreds: the first ones, then how many more
LISTED = 50  # the confirmation page names the first applications and how many in all
DECIDE_TEMPLATE = "admin/relief/application_decide.html"


class QueueFilter(admin.SimpleListFilter):
    title = _("待办")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return (("review", _("待区县初审")), ("decide", _("待市级审批")), ("disburse", _("已批准待发放")))

    def queryset(self, request, queryset):
        ids = visible_branch_ids(request.user)
        if self.value() == "review":
            return queryset.filter(pk__in=applications_to_review(branch_ids=ids).values("pk"))
        if self.value() == "decide":
            return queryset.filter(pk__in=applications_to_decide(branch_ids=ids).values("pk"))
        if self.value() == "disburse":
            return queryset.filter(pk__in=applications_to_disburse(branch_ids=ids).values("pk"))
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


class AidInline(ReadOnlyInline):
    model = Aid
    fields = ("number", "method", "value_display", "disbursed_on", "status")
    readonly_fields = fields
    verbose_name_plural = _("发放记录")

    @admin.display(description=_("金额（含物资）"))
    def value_display(self, obj) -> str:
        return yuan_or_dash(obj.amount + obj.goods_value)


@admin.register(Application)
class ApplicationAdmin(RosterImportAdminMixin, ServiceWrittenAdmin):
    list_display = ("number", "project", "beneficiary", "branch", "channel", "status", "amount", "submitted_at")
    list_filter = (QueueFilter, "status", "channel", ("project", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("project", "beneficiary", "branch")
    search_fields = ("=number",)
    show_full_result_count = False
    inlines = (DocumentInline, VisitInline, AidInline)
    actions = ("review_pass", "review_reject", "decide_approve", "decide_reject", "disburse_batch")
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

    @admin.display(description=_("批准金额"))
    def amount(self, obj) -> str:
        return yuan_or_dash(obj.approved_amount)

    def _act(self, request, queryset, action: str, title: str, call, done: str):
        intro = gettext("以下申请将%(step)s；意见记入申请，申请人查询时看不到。") % {"step": title}
        return self._reason_action(
            request, queryset, action=action, title=title, call=call, done_message=done, intro=intro,
            submit=gettext("确认%(step)s") % {"step": title},
        )  # fmt: skip

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
                action_checkbox_name=helpers.ACTION_CHECKBOX_NAME, submit=gettext("确认%(step)s") % {"step": title},
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

    # --- the register page ------------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        """登记救助申请: the beneficiary (found by ID number or registered, with the household's
        members), the application and its documents, in one transaction."""
        self._require_add(request)
        data, files = posted(request)
        form = ApplicationRegisterForm(data, user=request.user, initial={"project": request.GET.get("project")})
        members = MemberFormSet(data, prefix="members")
        documents = DocumentFormSet(data, files, prefix="documents")
        if data is not None and all([form.is_valid(), members.is_valid(), documents.is_valid()]):
            try:
                with transaction.atomic():
                    registration = beneficiary_find_or_register(
                        by=request.user, members=self._lines(members), **form.beneficiary_arguments()
                    )
                    application = application_register(
                        by=request.user, project=form.cleaned_data["project"], beneficiary=registration.beneficiary,
                        situation=form.cleaned_data["situation"],
                        requested_amount=form.cleaned_data["requested_amount"] or None,
                        documents=[(line["kind"], line["file"]) for line in self._lines(documents)],
                    )  # fmt: skip
            except (ValidationError, PermissionDenied) as exc:
                service_errors_to_form(exc, form, formsets={"members": members, "documents": documents})
            else:
                self._registered_messages(request, application, registration)
                return HttpResponseRedirect(reverse("admin:relief_application_change", args=[application.pk]))
        return form_page(
            self, request, gettext("登记救助申请"), form,
            formsets=[(gettext("家庭成员（家庭申请填写，户主不必重复）"), members),
                      (gettext("证明材料（诊断证明、收入证明、入学通知书等）"), documents)],
            intro=gettext("同一身份证号码即同一受助人：已登记的受助人沿用原记录；电话或姓名和出生日期相同的会转救助复核员复核。"),
            submit=gettext("登记"),
        )  # fmt: skip

    @staticmethod
    def _lines(formset) -> list[dict]:
        return [{k: v for k, v in f.cleaned_data.items() if k != "DELETE"} for f in filled_forms(formset)]

    def _registered_messages(self, request, application: Application, registration) -> None:
        self.message_user(request, gettext("已登记救助申请 %(number)s") % {"number": application.number})
        if not registration.created:
            self.message_user(
                request,
                gettext("该身份证号码已登记为受助人 %(who)s，沿用已登记的信息，家庭成员未更改")
                % {"who": registration.beneficiary},
                messages.WARNING,
            )
        if registration.suspected_duplicates:
            self.message_user(
                request,
                gettext("发现 %(n)d 条疑似重复的受助人记录，须由救助复核员复核后才能批准")
                % {"n": len(registration.suspected_duplicates)},
                messages.WARNING,
            )

    # --- from an application's page: visit, document, disburse --------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        custom = [
            path("<int:object_id>/visit/", wrap(self.visit_view), name="relief_application_visit"),
            path("<int:object_id>/document/", wrap(self.document_view), name="relief_application_document"),
            path("<int:object_id>/disburse/", wrap(self.disburse_view), name="relief_application_disburse"),
        ]
        return custom + super().get_urls()

    def _application(self, request, object_id: int, permission: str) -> Application:
        """The application from the user's own branches (404 otherwise), and the permission to act."""
        application = get_object_or_404(
            self.get_queryset(request).select_related("project", "beneficiary"), pk=object_id
        )
        if not request.user.has_perm(permission):
            raise PermissionDenied
        return application

    def _facts(self, application: Application) -> list[tuple[str, str]]:
        return [
            (gettext("申请编号"), application.number),
            (gettext("救助项目"), str(application.project)),
            (gettext("受助人（户）"), str(application.beneficiary)),
            (gettext("状态"), application.get_status_display()),
            (gettext("批准金额"), yuan_or_dash(application.approved_amount)),
        ]

    def _done(self, request, application: Application, message: str):
        self.message_user(request, message)
        return HttpResponseRedirect(reverse("admin:relief_application_change", args=[application.pk]))

    def visit_view(self, request, object_id: int):
        application = self._application(request, object_id, "relief.add_visit")
        form = VisitForm(posted(request)[0])
        if request.method == "POST" and form.is_valid():
            try:
                visit_record(by=request.user, application=application, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                service_errors_to_form(exc, form)
            else:
                return self._done(request, application, gettext("已登记走访记录"))
        return form_page(
            self, request, gettext("登记走访"), form, facts=self._facts(application), original=application,
            intro=gettext("入户走访在初审前登记；救助后回访在发放后登记。走访情况只有救助工作人员可以看到。"),
        )  # fmt: skip

    def document_view(self, request, object_id: int):
        application = self._application(request, object_id, "relief.add_applicationdocument")
        form = DocumentForm(*posted(request))
        if request.method == "POST" and form.is_valid():
            try:
                application_document_add(by=request.user, application=application, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                # the service checks the one document as the register page's first
                service_errors_to_form(exc, form, aliases={"documents[0].file": "file", "documents[0].kind": "kind"})
            else:
                return self._done(request, application, gettext("已补充申请材料"))
        return form_page(
            self, request, gettext("补充申请材料"), form, facts=self._facts(application), original=application,
            intro=gettext("审批前可以补充材料。"), submit=gettext("上传"),
        )  # fmt: skip

    def disburse_view(self, request, object_id: int):
        """发放救助 to one approved application: bank (voucher number), cash (a second person signs
        in 救助发放) or goods from the lots the project's transfer orders brought in."""
        application = self._application(request, object_id, "relief.add_aid")
        data, files = posted(request)
        form = AidDisburseForm(data, files)
        goods = GoodsLineFormSet(data, prefix="goods", form_kwargs={"project": application.project})
        if data is not None and all([form.is_valid(), goods.is_valid()]):
            arguments = dict(form.cleaned_data)
            goods_lines = self._lines(goods) if arguments["method"] == AidMethod.GOODS else []
            try:
                aid = aid_disburse(by=request.user, application=application, goods=goods_lines, **arguments)
            except (ValidationError, PermissionDenied) as exc:
                service_errors_to_form(exc, form, formsets={"goods": goods})
            else:
                done = gettext("已登记发放 %(number)s") % {"number": aid.number}
                if aid.status == AidStatus.REGISTERED:
                    done += gettext("，待另一名工作人员签字")
                self.message_user(request, done)
                return HttpResponseRedirect(reverse("admin:relief_aid_change", args=[aid.pk]))
        return form_page(
            self, request, gettext("发放救助"), form, facts=self._facts(application), original=application,
            formsets=[(gettext("发放物资（按物资发放时填写）"), goods)],
            intro=gettext("银行转账须填凭证号；现金发放须由另一名工作人员在“救助发放”中签字后计入；"
                          "物资从本项目调入的批次中发放。"),
            submit=gettext("发放"),
        )  # fmt: skip

    def change_view(self, request, object_id, form_url="", extra_context=None):
        application = self.get_object(request, object_id)
        user = request.user
        extra_context = extra_context or {}
        if application is not None:
            open_statuses = (ApplicationStatus.SUBMITTED, ApplicationStatus.REVIEWED)
            extra_context.update(
                can_visit=user.has_perm("relief.add_visit") and application.status != ApplicationStatus.WITHDRAWN,
                can_add_document=user.has_perm("relief.add_applicationdocument")
                and application.status in open_statuses,
                can_disburse=user.has_perm("relief.add_aid")
                and application.status == ApplicationStatus.APPROVED
                and not application.aids.exclude(status=AidStatus.CANCELLED).exists(),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    # --- the surge's bank transfer batch --------------------------------------------------------

    def has_disburse_permission(self, request) -> bool:
        return request.user.has_perm("relief.add_aid")

    @admin.action(description=_("批量银行转账发放（同一项目已批准的申请，须填凭证号）"), permissions=["disburse"])
    def disburse_batch(self, request, queryset):
        projects = list(queryset.order_by().values_list("project_id", flat=True).distinct()[:2])
        if len(projects) != 1:
            self.message_user(request, gettext("请只选择同一个救助项目的申请"), messages.ERROR)
            return None
        project = Project.objects.get(pk=projects[0])
        form = AidBatchForm(request.POST if "apply" in request.POST else None)
        context = {"form": form, "action": "disburse_batch", "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME}
        if form.is_bound and form.is_valid():
            try:
                result = aid_disburse_batch(
                    by=request.user,
                    project=project,
                    applications=list(queryset.select_related(None).only("pk")),
                    **form.cleaned_data,
                )
            except (ValidationError, PermissionDenied) as exc:
                service_errors_to_form(exc, form)
            else:
                if result.done:
                    self.message_user(request, gettext("已批量发放 %(n)d 份") % {"n": result.done})
                if not result.refused:
                    return None
                return render_admin_page(
                    self, request, BATCH_TEMPLATE, title=gettext("批量发放结果"), result=result,
                    refused=sorted(result.refused.items()), **context,
                )  # fmt: skip
        approved = queryset.filter(status=ApplicationStatus.APPROVED)
        figures = approved.aggregate(n=Count("pk"), total=Sum("approved_amount"))
        return render_admin_page(
            self, request, BATCH_TEMPLATE, title=gettext("批量银行转账发放"),
            facts=[(gettext("救助项目"), str(project)),
                   (gettext("所选申请"), str(queryset.count())),
                   (gettext("其中已批准"), str(figures["n"])),
                   (gettext("批准金额合计"), yuan_or_dash(figures["total"])),
                   (gettext("项目可发放资金"), yuan_or_dash(project.cash_balance))],
            select_across=request.POST.get("select_across") == "1",
            selected=request.POST.getlist(helpers.ACTION_CHECKBOX_NAME), **context,
        )  # fmt: skip


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

    def file_view(self, request, object_id: int, field: str):
        if not can_see_details(request.user):  # diagnoses and income proofs: relief roles only
            raise PermissionDenied
        return super().file_view(request, object_id, field)


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
