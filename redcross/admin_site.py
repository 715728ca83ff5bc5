"""The admin site, in Chinese, titled with the branch's own name."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from redcross.site import portal_name


class LabelledAutocompleteJsonView(AutocompleteJsonView):
    """Autocomplete answers labelled by the model admin's ``autocomplete_label(obj)`` where it has
    one (a donor's name with its masked phone or credit code), so two 张伟 can be told apart."""

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        label = getattr(self.model_admin, "autocomplete_label", None)
        if label is not None:
            result["text"] = label(obj)
        return result


class RedCrossAdminSite(admin.AdminSite):
    site_url = "/"
    enable_nav_sidebar = True
    index_title = gettext_lazy("工作台")

    def each_context(self, request):
        context = super().each_context(request)
        name = portal_name()
        context["site_header"] = _("%(name)s 管理系统") % {"name": name}
        context["site_title"] = name
        return context

    def autocomplete_view(self, request):
        return LabelledAutocompleteJsonView.as_view(admin_site=self)(request)

    def index(self, request, extra_context=None):
        from redcross.selectors import worker_status
        from redcross.workbench import todo_items

        extra_context = {**(extra_context or {}), "worker_status": worker_status(), "todo": todo_items(request.user)}
        return super().index(request, extra_context)
