"""The relief admin's own form page: a form, any number of line formsets (household members,
documents, goods), and the facts of the row it acts on."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext

from redcross.admin import render_admin_page

FORM_TEMPLATE = "admin/relief/form.html"


def form_page(
    model_admin, request, title: str, form, *, formsets: Sequence = (), intro: str = "",
    facts: Sequence[tuple[str, str]] = (), original=None, submit: str = "",
):  # fmt: skip
    return render_admin_page(
        model_admin, request, FORM_TEMPLATE, title=title, form=form, formsets=formsets, intro=intro,
        facts=facts, original=original, submit_label=submit or gettext("保存"), has_view_permission=True,
    )  # fmt: skip


def posted(request) -> tuple:
    """The data and files a form is bound to: a POST's even when empty (an empty POST is a form
    sent with nothing filled in, and must show what is missing), None on a GET."""
    return (request.POST, request.FILES) if request.method == "POST" else (None, None)
