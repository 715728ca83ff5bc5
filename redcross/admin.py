"""Admin for the kernel, and the base class every domain admin page uses.

``BranchScopedAdmin`` limits list, change, delete and history views, and every
branch choice in forms, to the branches the user may see (``redcross.scoping``),
and shows each object's audit trail (django-simple-history).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import ForeignKey
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from redcross.models import Branch, BranchLevel, NumberSequence, User, WorkerHeartbeat
from redcross.money import format_yuan_unit
from redcross.scoping import can_access_branch, scope_queryset, visible_branches


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
