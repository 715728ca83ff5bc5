"""The beneficiary register and the duplicate review queue in the admin.

Lists show names and masked ID numbers only; a beneficiary's page shows the ID number, phone,
address and the sensitive details (illness, income, disability) in full only to relief roles
(``relief.see_beneficiary_details``), masked or hidden for everyone else (leadership, supervisors,
other officers). Rows are written by the services: registration comes with an application."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.admin.base import ReadOnlyInline, ServiceWrittenAdmin
from redcross.masking import mask_id_number
from relief.models import Beneficiary, BeneficiaryDuplicate, DuplicateStatus, HouseholdMember
from relief.selectors.workbench import open_duplicates_queryset
from relief.services.beneficiaries import (
    beneficiary_duplicate_clear,
    beneficiary_duplicate_merge,
    can_see_details,
    id_key,
)

HIDDEN = _("（仅救助工作人员可见）")


class HouseholdMemberInline(ReadOnlyInline):
    model = HouseholdMember
    fk_name = "household"
    fields = ("name", "relation", "masked_id", "birth_date")
    readonly_fields = fields

    @admin.display(description=_("身份证号码"))
    def masked_id(self, obj) -> str:
        return mask_id_number(obj.id_number) or "—"


class OpenDuplicateFilter(admin.SimpleListFilter):
    title = _("疑似重复")
    parameter_name = "duplicate"

    def lookups(self, request, model_admin):
        return (("open", _("待复核")),)

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(pk__in=open_duplicates_queryset(branch_ids=None).values("beneficiary_id"))
        return queryset


@admin.register(Beneficiary)
class BeneficiaryAdmin(ServiceWrittenAdmin):
    list_display = ("id", "name", "kind", "masked_id", "branch", "minor", "created_at")
    list_display_links = ("id", "name")
    list_filter = ("kind", OpenDuplicateFilter, ("branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("branch",)
    search_fields = ("name",)
    search_help_text = _("按姓名或完整的身份证号码查找")
    show_full_result_count = False
    inlines = (HouseholdMemberInline,)
    basic = ("kind", "name", "masked_id", "birth_date", "sex", "branch", "merged_into", "created_at")
    # relief roles see the details in full; everyone else masked contact and no health or income
    full_details = ("id_number", "phone", "address", "illness", "income", "disability")
    masked_details = ("masked_phone_display", "details_hidden")

    def _details(self, request) -> tuple[str, ...]:
        return self.full_details if can_see_details(request.user) else self.masked_details

    def get_fieldsets(self, request, obj=None):
        return ((None, {"fields": self.basic}), (_("敏感信息"), {"fields": self._details(request)}))

    def get_readonly_fields(self, request, obj=None):
        return (*self.basic, *self._details(request))

    def get_search_results(self, request, queryset, search_term):
        key = id_key(search_term.strip()) if len(search_term.strip()) in (15, 18) else ""
        if key:
            return queryset.filter(id_key=key), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("身份证号码"))
    def masked_id(self, obj) -> str:
        return obj.masked_id_number or "—"

    @admin.display(description=_("联系电话"))
    def masked_phone_display(self, obj) -> str:
        return obj.masked_phone or "—"

    @admin.display(description=_("住址、病情、收入、残疾"))
    def details_hidden(self, obj) -> str:
        return str(HIDDEN)

    @admin.display(description=_("未成年"), boolean=True)
    def minor(self, obj) -> bool:
        return obj.is_minor


@admin.register(BeneficiaryDuplicate)
class BeneficiaryDuplicateAdmin(ServiceWrittenAdmin):
    branch_field = "beneficiary__branch"
    list_display = ("id", "beneficiary", "candidate", "reason", "status", "created_at", "resolved_by")
    list_filter = ("status", "reason")
    list_select_related = ("beneficiary", "candidate", "resolved_by")
    fields = ("beneficiary", "candidate", "reason", "status", "created_at", "resolved_at", "resolved_by",
              "resolution_reason")  # fmt: skip
    readonly_fields = fields
    actions = ("clear_duplicates", "merge_duplicates")

    def has_add_permission(self, request):
        return False

    def _can_review(self, request) -> bool:
        return request.user.has_perm("relief.review_beneficiaryduplicate")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._can_review(request):
            actions.pop("clear_duplicates", None)
            actions.pop("merge_duplicates", None)
        return actions

    def changelist_view(self, request, extra_context=None):
        if (
            "status__exact" not in request.GET
            and not request.GET.get("_changelist_filters")
            and request.method == "GET"
        ):
            request.GET = request.GET.copy()
            request.GET["status__exact"] = DuplicateStatus.OPEN
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("不是同一人，放行（须说明理由）"))
    def clear_duplicates(self, request, queryset):
        return self._reason_action(
            request, queryset, action="clear_duplicates", title=gettext("放行疑似重复"),
            call=lambda d, reason: beneficiary_duplicate_clear(by=request.user, duplicate=d, reason=reason),
            done_message=gettext("已放行 %(n)d 条"),
            intro=gettext("以下疑似重复经复核不是同一人，放行后其申请可以继续办理；理由记入复核记录。"),
            submit=gettext("确认放行"),
        )  # fmt: skip

    @admin.action(description=_("同一人，合并到先登记的记录（须说明理由）"))
    def merge_duplicates(self, request, queryset):
        return self._reason_action(
            request, queryset, action="merge_duplicates", title=gettext("合并重复受助人"),
            call=lambda d, reason: beneficiary_duplicate_merge(by=request.user, duplicate=d, reason=reason),
            done_message=gettext("已合并 %(n)d 条"),
            intro=gettext("以下疑似重复经复核是同一人：后登记的记录合并到先登记的记录，申请、发放和股份随之转移；理由记入复核记录。"),
            submit=gettext("确认合并"),
        )  # fmt: skip
