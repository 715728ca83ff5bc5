"""Staff work on bulletins (公示) in the admin: draft, review (title and errata), publish, download
the PDF, and the Charity Law's disclosure deadlines of the campaigns the user may see.

Branch-scoped (``BranchScopedAdmin``) and thin: every write goes through
``donations.services.bulletins``. A published bulletin is read-only here and nothing is deleted.
Loaded from ``donations.admin``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.fields.json import KT
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from donations.forms.bulletins import BulletinChangeForm, BulletinDraftForm
from donations.models import Bulletin, BulletinStatus, Campaign, DisclosureReminder
from donations.selectors.disclosure import DeadlineStatus, campaign_deadlines, period_display, usage_tables
from donations.services.bulletins.compose import bulletin_draft, bulletin_edit_draft
from donations.services.bulletins.publish import bulletin_public_path, bulletin_publish
from redcross.admin import (
    BranchScopedAdmin,
    BranchScopedAdminMixin,
    download_link,
    pdf_document_download,
    render_admin_page,
)
from redcross.forms import service_errors_to_form
from redcross.money import format_yuan_unit
from redcross.scoping import visible_branch_ids


@admin.register(Bulletin)
class BulletinAdmin(BranchScopedAdmin):
    """Drafts are reviewed (title, errata) and published; published bulletins are read-only."""

    form = BulletinChangeForm
    list_display = (
        "display_name", "kind", "branch", "campaign", "period", "status", "row_count", "published_at", "pdf_status",
    )  # fmt: skip
    list_filter = ("kind", "status", "branch", "campaign")
    list_select_related = ("branch", "campaign")
    search_fields = ("title",)
    date_hierarchy = "period_end"
    actions = ["publish_selected"]
    show_full_result_count = False
    fieldsets = (
        (
            _("公示"),
            {
                "fields": (
                    ("branch", "kind"),
                    "campaign",
                    ("period_start", "period_end"),
                    "title",
                    "errata",
                    ("status", "number", "chain_position"),
                    "summary",
                    "public_link",
                    ("pdf_link", "pdf_status"),
                )
            },
        ),
        (_("公示链"), {"fields": ("content_hash", "previous_hash")}),
        (_("起草与发布"), {"fields": (("drafted_by", "drafted_at"), ("published_by", "published_at"))}),
    )
    _all_fields = (
        "branch", "kind", "campaign", "period_start", "period_end", "title", "errata", "status", "number",
        "chain_position", "summary", "public_link", "pdf_link", "content_hash", "previous_hash", "drafted_by",
        "drafted_at", "published_by", "published_at", "pdf_status",
    )  # fmt: skip
    _always_readonly = (
        "branch", "kind", "campaign", "period_start", "period_end", "status", "number", "chain_position", "summary",
        "public_link", "pdf_link", "content_hash", "previous_hash", "drafted_by", "drafted_at", "published_by",
        "published_at", "pdf_status",
    )  # fmt: skip

    def get_queryset(self, request):
        # lists read the totals inside the database, never the (possibly large) content itself
        return super().get_queryset(request).defer("content").annotate(rows_listed=KT("content__totals__count"))

    def get_object(self, request, object_id, from_field=None):
        # the change page shows the content's totals: load it for the one object
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj.refresh_from_db(fields=["content"])
        return obj

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == BulletinStatus.DRAFT:
            return self._always_readonly
        return self._all_fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != BulletinStatus.DRAFT:
            return False  # published: shown read-only
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_publish_permission(self, request) -> bool:
        return request.user.has_perm("donations.publish_bulletin")

    # --- columns ----------------------------------------------------------------------------------

    @admin.display(description=_("公示"), ordering="-published_at")
    def display_name(self, obj: Bulletin) -> str:
        return obj.number_label or obj.title

    @admin.display(description=_("期间"), ordering="period_end")
    def period(self, obj: Bulletin) -> str:
        return period_display(obj.period_start, obj.period_end)

    @admin.display(description=_("笔数"))
    def row_count(self, obj: Bulletin) -> str:
        return obj.rows_listed or "0"

    @admin.display(description=_("内容摘要"))
    def summary(self, obj: Bulletin) -> str:
        totals = (obj.content or {}).get("totals", {})
        text = gettext("%(n)s 笔，合计 %(total)s") % {
            "n": totals.get("count", 0),
            "total": format_yuan_unit(totals.get("total") or "0.00"),
        }
        if obj.status == BulletinStatus.DRAFT:
            text += gettext("（起草时的预览；发布时按当时已复核的数据重新计算）")
        return text

    @admin.display(description=_("PDF 文件"))
    def pdf_link(self, obj: Bulletin) -> str:
        return download_link(reverse("admin:donations_bulletin_pdf", args=[obj.pk]) if obj.pdf_ready else None)

    @admin.display(description=_("公开页面"))
    def public_link(self, obj: Bulletin):
        if obj.status != BulletinStatus.PUBLISHED:
            return "—"
        url = bulletin_public_path(obj)
        return format_html('<a href="{}">{}</a>', url, url)

    # --- writes through the services ------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if not change:  # the add view is our own draft form
            raise PermissionDenied
        bulletin_edit_draft(bulletin=obj, by=request.user, title=obj.title, errata=obj.errata)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = BulletinDraftForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                bulletin = bulletin_draft(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                service_errors_to_form(exc, form)
            else:
                self.message_user(request, gettext("已起草公示，请审核后发布"))
                return HttpResponseRedirect(reverse("admin:donations_bulletin_change", args=[bulletin.pk]))
        return render_admin_page(
            self, request, "admin/donations/bulletin/draft.html", title=gettext("起草公示"), form=form
        )

    def _publish(self, request, bulletin: Bulletin) -> bool:
        try:
            published = bulletin_publish(bulletin=bulletin, by=request.user)
        except (ValidationError, PermissionDenied) as exc:
            reason = "; ".join(getattr(exc, "messages", [str(exc)]))
            self.message_user(request, f"{bulletin.title}: {reason}", messages.ERROR)
            return False
        self.message_user(
            request,
            gettext("已发布 %(label)s：%(n)s 笔，本期哈希 %(hash)s")
            % {
                "label": published.number_label,
                "n": published.content["totals"]["count"],
                "hash": published.content_hash,
            },
        )
        return True

    @admin.action(description=_("发布选中的公示草稿"), permissions=["publish"])
    def publish_selected(self, request, queryset):
        for bulletin in queryset.order_by("period_start", "kind", "id"):
            if bulletin.status != BulletinStatus.DRAFT:
                self.message_user(
                    request, gettext("%(label)s 已经发布") % {"label": bulletin.number_label}, messages.WARNING
                )
                continue
            self._publish(request, bulletin)

    def get_urls(self):
        custom = [
            path(
                "<int:bulletin_id>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="donations_bulletin_publish",
            ),
            path("<int:bulletin_id>/pdf/", self.admin_site.admin_view(self.pdf_view), name="donations_bulletin_pdf"),
            path("deadlines/", self.admin_site.admin_view(self.deadlines_view), name="donations_bulletin_deadlines"),
        ]
        return custom + super().get_urls()

    def publish_view(self, request, bulletin_id: int):
        """Review a draft's preview and publish it (POST)."""
        bulletin = get_object_or_404(self.get_queryset(request).defer(None), pk=bulletin_id)
        if not self.has_publish_permission(request) or not self.has_view_permission(request, bulletin):
            raise PermissionDenied
        if request.method == "POST" and bulletin.status == BulletinStatus.DRAFT:
            self._publish(request, bulletin)
            return HttpResponseRedirect(reverse("admin:donations_bulletin_change", args=[bulletin.pk]))
        return render_admin_page(
            self,
            request,
            "admin/donations/bulletin/publish.html",
            title=gettext("发布公示"),
            bulletin=bulletin,
            period=period_display(bulletin.period_start, bulletin.period_end),
            totals=bulletin.content.get("totals", {}),
            rows=bulletin.content.get("rows", [])[:50],
            usage_tables=usage_tables(bulletin.content),  # what other apps add (relief disbursements)
            original=bulletin,
        )

    def pdf_view(self, request, bulletin_id: int):
        return pdf_document_download(self, request, bulletin_id)

    def deadlines_view(self, request):
        """法定公开期限: every campaign of the user's branches, most urgent first."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        deadlines = campaign_deadlines(branch_ids=visible_branch_ids(request.user))
        return render_admin_page(
            self,
            request,
            "admin/donations/bulletin/deadlines.html",
            title=gettext("法定公开期限"),
            deadlines=deadlines,
            counts={
                "overdue": sum(1 for d in deadlines if d.status == DeadlineStatus.OVERDUE),
                "due": sum(1 for d in deadlines if d.status == DeadlineStatus.DUE),
            },
        )


@admin.register(DisclosureReminder)
class DisclosureReminderAdmin(BranchScopedAdminMixin, admin.ModelAdmin):
    """Read-only record of the daily deadline reminders sent."""

    list_display = ("sent_on", "branch", "recipients", "campaign_count")
    list_filter = ("sent_on",)
    list_select_related = ("branch",)

    fields = ("sent_on", "branch", "recipients", "campaign_names", "created_at")
    readonly_fields = fields

    @admin.display(description=_("募捐活动数"))
    def campaign_count(self, obj: DisclosureReminder) -> int:
        return len(obj.campaigns or [])

    @admin.display(description=_("提醒的募捐活动"))
    def campaign_names(self, obj: DisclosureReminder) -> str:
        names = Campaign.objects.filter(pk__in=obj.campaigns or []).order_by("pk").values_list("name", flat=True)
        return pgettext("list separator", "、").join(names) or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
