"""Admin for the kernel, and the base class every domain admin page uses.

``BranchScopedAdmin`` limits list, change, delete and history views, and every
branch choice in forms, to the branches the user may see (``redcross.scoping``),
and shows each object's audit trail (django-simple-history).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ForeignKey
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from redcross.consent import (
    consent_text_change,
    consent_text_draft,
    consent_text_is_used,
    consent_text_publish,
    consent_withdraw,
)
from redcross.forms import service_error_message, service_errors_to_form
from redcross.models import (
    Branch,
    BranchLevel,
    ConsentMethod,
    ConsentRecord,
    ConsentText,
    DuplicateStatus,
    NumberSequence,
    Person,
    PersonDuplicate,
    User,
    WorkerHeartbeat,
)
from redcross.money import format_yuan_unit
from redcross.people import (
    PHONE_AND_NAME,
    person_by_id_number,
    person_duplicate_dismiss,
    person_duplicate_merge,
    person_facts_clean,
    person_find_or_register,
    person_match_key,
    person_update,
)
from redcross.public_forms import CnIdNumberField
from redcross.scoping import can_access_branch, scope_queryset, visible_branches
from redcross.uploads import stored_file_download
from redcross.validators import normalize_cn_id_number


def branch_id_of(obj, branch_field: str) -> int | None:
    """Follow ``branch_field`` ("branch", "donation__branch", "id") from a row to a Branch id."""
    *path, last = branch_field.split("__")
    target = obj
    for step in path:
        target = getattr(target, step, None)
        if target is None:
            return None
    if last == "id":
        return target.pk
    return getattr(target, f"{last}_id", None)


# --- read-only values on change pages: formatted, never raw JSON, tokens or storage paths ---------


def yuan_or_dash(amount) -> str:
    """An amount as staff read it (``12,345.67 元``); "—" when there is none."""
    return format_yuan_unit(amount) if amount not in (None, "") else "—"


def table_html(headers: Sequence[str], rows: Iterable[Sequence], *, numeric: Collection[int] = ()) -> str:
    """Lines stored as JSON (a receipt's 项目明细, a correction's changes, refunds) as a small table;
    the columns numbered in ``numeric`` are right-aligned. "—" when there are no rows."""
    rows = list(rows)
    if not rows:
        return "—"

    def cells(tag: str, values: Sequence) -> str:
        pattern = f'<{tag} class="{{}}">{{}}</{tag}>'
        return format_html_join("", pattern, (("num" if i in numeric else "", v) for i, v in enumerate(values)))

    return format_html(
        '<table class="readonly-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
        cells("th", headers),
        format_html_join("", "<tr>{}</tr>", ((cells("td", row),) for row in rows)),
    )


def download_link(url: str | None, label: str | None = None) -> str:
    """A branch-checked download view's link ("下载 PDF"), never the file's /media/ path; "—" without one."""
    if not url:
        return "—"
    return format_html('<a href="{}">{}</a>', url, label or gettext("下载 PDF"))


def pdf_document_download(model_admin: admin.ModelAdmin, request, pk: int) -> FileResponse:
    """Staff download of a ``PdfDocument``'s file (receipt, certificate, bulletin): the row from the
    admin's own queryset (the user's branches only), the view permission, a PDF that is ready; never
    from a public /media/ address."""
    document = get_object_or_404(model_admin.get_queryset(request), pk=pk)
    if not model_admin.has_view_permission(request, document) or not document.pdf_ready:
        raise PermissionDenied
    return FileResponse(document.pdf.open("rb"), content_type="application/pdf", filename=document.pdf_filename())


def render_admin_page(model_admin: admin.ModelAdmin, request, template: str, title: str, **context):
    """A custom page inside the admin (forms, reports): the site's frame, breadcrumbs and the model."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        **context,
    }
    return TemplateResponse(request, template, context)


class BranchScopedAdminMixin:
    """Only rows of the user's branch subtree; branch choices limited the same way."""

    branch_field = "branch"

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request.user, branch_field=self.branch_field)

    def formfield_for_foreignkey(self, db_field: ForeignKey, request, **kwargs):
        if db_field.related_model is Branch:
            kwargs["queryset"] = visible_branches(request.user).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _in_scope(self, request, obj) -> bool:
        return obj is None or can_access_branch(request.user, branch_id_of(obj, self.branch_field))

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._in_scope(request, obj)

    def has_view_history_or_change_history_permission(self, request, obj):
        # simple-history falls back to the last history row for objects outside
        # the queryset; without this a district user could read another's audit trail
        return super().has_view_history_or_change_history_permission(request, obj) and self._in_scope(request, obj)

    def save_model(self, request, obj, form, change):
        # defence in depth: the form already offers only visible branches
        if not self._in_scope(request, obj):
            raise PermissionDenied
        super().save_model(request, obj, form, change)


class BranchScopedAdmin(BranchScopedAdminMixin, SimpleHistoryAdmin):
    """Base for every domain admin page: branch-scoped and audited."""


@admin.register(Branch)
class BranchAdmin(BranchScopedAdmin):
    branch_field = "id"
    list_display = ("indented_name", "code", "level", "grassroots_kind", "phone", "is_active")
    list_filter = ("level", "grassroots_kind", "is_active")
    search_fields = ("name", "short_name", "code")
    fieldsets = (
        (None, {"fields": ("name", "short_name", "code", "level", "grassroots_kind", "parent", "sort_order")}),
        (_("联系方式"), {"fields": ("address", "phone", "email")}),
        (
            _("资质与账户"),
            {
                "fields": (
                    "unified_social_credit_code",
                    "public_fundraising_certificate",
                    "bank_account_name",
                    "bank_name",
                    "bank_account_number",
                )
            },
        ),
        (None, {"fields": ("is_active",)}),
    )

    def _in_scope(self, request, obj) -> bool:
        if obj is not None and obj.pk is None:  # a new branch belongs where its parent is
            return can_access_branch(request.user, obj.parent_id)
        return super()._in_scope(request, obj)

    @admin.display(description=_("名称"), ordering="path")
    def indented_name(self, obj: Branch) -> str:
        return "\u3000" * max(obj.path.count("/") - 2, 0) + obj.name

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # staff below the city may not move or re-level their own top branch out of their subtree
        user_branch_id = getattr(request.user, "branch_id", None)
        own_district = obj is not None and obj.pk == user_branch_id and obj.level != BranchLevel.CITY
        if own_district and not request.user.is_superuser:
            readonly += ["parent", "level", "code"]
        return readonly

    def has_delete_permission(self, request, obj=None):
        return False  # branches are deactivated, never deleted (history keeps pointing at them)


@admin.register(User)
class StaffUserAdmin(BranchScopedAdminMixin, DjangoUserAdmin, SimpleHistoryAdmin):
    list_display = ("username", "last_name", "first_name", "branch", "title", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "groups", "branch__level")
    list_select_related = ("branch",)
    search_fields = ("username", "first_name", "last_name", "email")
    fieldsets = DjangoUserAdmin.fieldsets + ((_("员工档案"), {"fields": ("branch", "title", "phone")}),)
    add_fieldsets = DjangoUserAdmin.add_fieldsets + ((_("员工档案"), {"fields": ("branch", "title")}),)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not request.user.is_superuser and "is_superuser" in form.base_fields:
            form.base_fields["is_superuser"].disabled = True
        return form


@admin.register(NumberSequence)
class NumberSequenceAdmin(admin.ModelAdmin):
    """Read-only: numbers are taken by services only, and auditors read them here."""

    list_display = ("scope", "last_number", "updated_at")
    search_fields = ("scope",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "hostname", "last_seen", "beats")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- persons (自然人) and consent -------------------------------------------------------------


class PersonAdminForm(forms.ModelForm):
    """The ID number is never shown in full: staff see it masked and may type a correction."""

    new_id_number = CnIdNumberField(
        required=False, label=_("居民身份证号码"), help_text=_("新登记时填写；修改时留空即保留原号码，填写则更正")
    )

    class Meta:
        model = Person
        fields = ("name", "phone", "birth_date", "sex", "branch")

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        number = cleaned.get("new_id_number") or (self.instance.id_number if self.instance.pk else "")
        try:
            person_facts_clean(
                name=cleaned.get("name", ""),
                phone=cleaned.get("phone", ""),
                id_number=number,
                birth_date=cleaned.get("birth_date"),
                sex=cleaned.get("sex", ""),
            )
        except ValidationError as exc:
            service_errors_to_form(exc, self, aliases={"id_number": "new_id_number"})
            return cleaned
        holder = person_by_id_number(number) if number else None
        if holder is not None and holder.pk != self.instance.pk:
            self.add_error(
                "new_id_number", _("该身份证号码已登记为 %(person)s；如为同一人，请合并两条记录") % {"person": holder}
            )
        return cleaned


@admin.register(Person)
class PersonAdmin(BranchScopedAdmin):
    form = PersonAdminForm
    list_display = ("id", "name", "masked_phone_display", "masked_id_display", "sex", "birth_date", "branch", "status")
    list_display_links = ("id", "name")
    list_filter = ("sex", ("merged_into", admin.EmptyFieldListFilter), "branch__level")
    list_select_related = ("branch",)
    search_fields = ("name", "phone")
    search_help_text = _("按姓名、手机号码（或其中几位）或完整的身份证号码查找")
    readonly_fields = ("masked_id_display", "merged_into", "merged_at", "merged_by", "merge_reason", "created_at")
    fieldsets = (
        (None, {"fields": ("name", "phone", "masked_id_display", "new_id_number", "birth_date", "sex", "branch")}),
        (_("合并"), {"fields": ("merged_into", "merged_at", "merged_by", "merge_reason"), "classes": ("collapse",)}),
        (None, {"fields": ("created_at",)}),
    )

    @admin.display(description=_("手机号码"))
    def masked_phone_display(self, obj: Person) -> str:
        return obj.masked_phone

    @admin.display(description=_("居民身份证号码"))
    def masked_id_display(self, obj: Person) -> str:
        return obj.masked_id_number if obj and obj.pk else ""

    @admin.display(description=_("状态"))
    def status(self, obj: Person) -> str:
        return _("已合并到 #%(pk)s") % {"pk": obj.merged_into_id} if obj.merged_into_id else _("有效")

    def get_search_results(self, request, queryset, search_term):
        # a full ID number is found through its keyed hash (the number itself is encrypted)
        term = search_term.strip()
        if len(normalize_cn_id_number(term)) == 18:
            return queryset.filter(id_match_key=person_match_key(term)), False
        return super().get_search_results(request, queryset, search_term)

    def has_delete_permission(self, request, obj=None):
        return False  # a duplicate is merged, never deleted: other records point at the person

    def has_change_permission(self, request, obj=None):
        # a merged person is a tombstone; its history stays readable
        return super().has_change_permission(request, obj) and not (obj is not None and obj.merged_into_id)

    def save_model(self, request, obj, form, change):
        if not self._in_scope(request, obj):
            raise PermissionDenied
        data = form.cleaned_data
        facts = {key: data.get(key) or "" for key in ("name", "phone", "sex")}
        if change:
            person_update(
                person=obj,
                by=request.user,
                id_number=data.get("new_id_number") or None,
                birth_date=data.get("birth_date"),
                **facts,
            )
        else:
            registration = person_find_or_register(
                id_number=data.get("new_id_number") or "",
                birth_date=data.get("birth_date"),
                branch=data["branch"],
                by=request.user,
                **facts,
            )
            obj.pk = registration.person.pk
        obj.refresh_from_db()


class PersonDuplicateMergeForm(forms.Form):
    keep = forms.ChoiceField(label=_("保留哪一条记录"), widget=forms.RadioSelect)
    reason = forms.CharField(label=_("合并原因"), max_length=200, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, duplicate: PersonDuplicate, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [
            (person.pk, f"#{person.pk} {person.name} {person.masked_phone} {person.masked_id_number}")
            for person in (duplicate.candidate, duplicate.person)
        ]


@admin.register(PersonDuplicate)
class PersonDuplicateAdmin(BranchScopedAdmin):
    """The review list of suspected duplicates: merge the two, or mark them as two people."""

    branch_field = "person__branch"
    list_display = ("id", "person_display", "candidate_display", "reason_display", "status", "created_at", "merge_link")
    list_filter = ("status",)
    list_select_related = ("person", "candidate")
    readonly_fields = ("person", "candidate", "reason", "status", "created_at", "resolved_at", "resolved_by")
    fields = readonly_fields + ("resolution_note",)
    actions = ("dismiss_selected",)

    @admin.display(description=_("新登记"))
    def person_display(self, obj: PersonDuplicate) -> str:
        return f"#{obj.person_id} {obj.person.name} {obj.person.masked_phone}"

    @admin.display(description=_("疑似重复"))
    def candidate_display(self, obj: PersonDuplicate) -> str:
        return f"#{obj.candidate_id} {obj.candidate.name} {obj.candidate.masked_phone}"

    @admin.display(description=_("疑似原因"))
    def reason_display(self, obj: PersonDuplicate) -> str:
        return _("手机号码和姓名相同，身份证号码不同或缺失") if obj.reason == PHONE_AND_NAME else obj.reason

    @admin.display(description=_("处理"))
    def merge_link(self, obj: PersonDuplicate) -> str:
        if obj.status != DuplicateStatus.OPEN:
            return "—"
        url = reverse("admin:redcross_personduplicate_merge", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("合并…"))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        merge = self.admin_site.admin_view(self.merge_view)
        return [path("<int:pk>/merge/", merge, name="redcross_personduplicate_merge"), *super().get_urls()]

    def merge_view(self, request, pk: int):
        duplicate = get_object_or_404(
            self.get_queryset(request).select_related("person", "candidate"), pk=pk, status=DuplicateStatus.OPEN
        )
        if not request.user.has_perm("redcross.merge_person"):
            raise PermissionDenied
        form = PersonDuplicateMergeForm(request.POST or None, duplicate=duplicate)
        if request.method == "POST" and form.is_valid():
            keep = duplicate.person if int(form.cleaned_data["keep"]) == duplicate.person_id else duplicate.candidate
            try:
                result = person_duplicate_merge(
                    duplicate=duplicate, keep=keep, by=request.user, reason=form.cleaned_data["reason"]
                )
            except (ValidationError, PermissionDenied) as exc:
                service_errors_to_form(exc, form, aliases={"merge": "keep"})
            else:
                moved = sum(result.moved.values())
                self.message_user(request, _("已合并，%(count)d 条关联记录已转到保留的记录") % {"count": moved})
                return redirect("admin:redcross_personduplicate_changelist")
        return render_admin_page(
            self, request, "admin/redcross/personduplicate/merge.html", _("合并疑似重复的自然人"), form=form
        )

    @admin.action(description=_("标记为不是同一人"), permissions=["change"])
    def dismiss_selected(self, request, queryset):
        done = 0
        for duplicate in queryset.filter(status=DuplicateStatus.OPEN):
            person_duplicate_dismiss(duplicate=duplicate, by=request.user, note=gettext("经核对不是同一人"))
            done += 1
        self.message_user(request, _("已处理 %(count)d 条") % {"count": done})


class ConsentTextAdminForm(forms.ModelForm):
    class Meta:
        model = ConsentText
        fields = ("purpose", "title", "text")


@admin.register(ConsentText)
class ConsentTextAdmin(SimpleHistoryAdmin):
    """Texts are drafted and published here; a text anyone has consented to is read-only."""

    form = ConsentTextAdminForm
    list_display = ("purpose", "version", "title", "published_at", "created_at")
    list_filter = ("purpose",)
    actions = ("publish_selected",)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("version", "published_at")
        if consent_text_is_used(obj):
            return ("purpose", "version", "title", "text", "published_at")
        return ("purpose", "version", "published_at")

    def get_fields(self, request, obj=None):
        return ("purpose", "version", "title", "text", "published_at")

    def save_model(self, request, obj, form, change):
        try:
            if change:
                consent_text_change(text=obj, by=request.user, title=obj.title, body=obj.text)
            else:
                created = consent_text_draft(purpose=obj.purpose, title=obj.title, text=obj.text, by=request.user)
                obj.pk, obj.version = created.pk, created.version
        except ValidationError as exc:
            raise PermissionDenied(service_error_message(exc)) from exc

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("发布所选版本"), permissions=["change"])
    def publish_selected(self, request, queryset):
        for text in queryset:
            consent_text_publish(text=text, by=request.user)
        self.message_user(request, _("已发布"))


@admin.register(ConsentRecord)
class ConsentRecordAdmin(BranchScopedAdmin):
    """Read-only list of consents; staff record counter and written consent through the apps' forms."""

    list_display = ("id", "subject_display", "purpose", "text", "method", "given_at", "withdrawn_at", "branch")
    list_filter = ("purpose", "method", ("withdrawn_at", admin.EmptyFieldListFilter))
    list_select_related = ("person", "text", "branch")
    search_fields = ("=person__id",)
    exclude = ("management_token",)
    actions = ("withdraw_selected",)

    @admin.display(description=_("同意人"))
    def subject_display(self, obj: ConsentRecord) -> str:
        return str(obj.person) if obj.person_id else f"{obj.subject_type} #{obj.subject_id}"

    def get_readonly_fields(self, request, obj=None):
        # the signed form's scan is downloaded through a checked view, never from its /media/ path
        fields = [
            field.name for field in ConsentRecord._meta.fields if field.name not in ("management_token", "evidence")
        ]
        return [*fields, "evidence_download"]

    def get_exclude(self, request, obj=None):
        return ("management_token", "evidence")

    @admin.display(description=_("书面同意扫描件"))
    def evidence_download(self, obj: ConsentRecord) -> str:
        if not obj.evidence:
            return "—"
        return download_link(reverse("admin:redcross_consentrecord_evidence", args=[obj.pk]), gettext("下载扫描件"))

    def get_urls(self):
        view = self.admin_site.admin_view(self.evidence_view)
        return [path("<int:record_id>/evidence/", view, name="redcross_consentrecord_evidence"), *super().get_urls()]

    def evidence_view(self, request, record_id: int):
        record = get_object_or_404(self.get_queryset(request), pk=record_id)  # the user's branches only
        if not self.has_view_permission(request, record) or not record.evidence:
            raise PermissionDenied
        return stored_file_download(record.evidence)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("登记撤回（现场）"), permissions=["change"])
    def withdraw_selected(self, request, queryset):
        for record in queryset.filter(withdrawn_at__isnull=True):
            consent_withdraw(record=record, method=ConsentMethod.COUNTER, by=request.user)
        self.message_user(request, _("已登记撤回，即时生效"))
