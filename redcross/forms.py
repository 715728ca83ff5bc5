"""How a service's errors reach the staff form that called it (admin pages of every app)."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext

# a service numbers the lines it was given: items[0].quantity, lines[2].amount, members[1].id_number
_LINE_ERROR = re.compile(r"^(\w+)\[(\d+)\]\.(\w+)$")
_DEFAULT_LINES = ("items", "lines")


def service_error_message(exc: Exception) -> str:
    """One line for a message banner: the messages of a ValidationError, or why permission was denied."""
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc) or gettext("您没有执行此操作的权限")


def filled_forms(formset: forms.BaseFormSet | None) -> list[forms.Form]:
    """The lines a user filled in and did not delete, in the order the service numbers them."""
    if formset is None:
        return []
    return [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]


def service_errors_to_form(
    exc: ValidationError | PermissionDenied,
    form: forms.Form,
    formset: forms.BaseFormSet | None = None,
    aliases: dict[str, str] | None = None,
    formsets: dict[str, forms.BaseFormSet] | None = None,
) -> None:
    """Put a service's field errors on the matching form field or line (``lines[i].field``).

    ``aliases`` maps a service's argument name to the form field that carries it (a form that
    picks a lot and a warehouse in one field, say). ``formsets`` names the formset that carries
    each other list argument (``{"members": ..., "documents": ...}``); ``formset`` carries
    ``items`` and ``lines``. Anything else goes to the form's top.
    """
    if isinstance(exc, PermissionDenied) or not hasattr(exc, "error_dict"):
        form.add_error(None, service_error_message(exc))
        return
    aliases = aliases or {}
    filled = {name: filled_forms(formset) for name in _DEFAULT_LINES}
    filled.update({name: filled_forms(each) for name, each in (formsets or {}).items()})
    for field, errors in exc.message_dict.items():
        match = _LINE_ERROR.match(field)
        lines = filled.get(match.group(1), []) if match else []
        if match and int(match.group(2)) < len(lines):
            line_form = lines[int(match.group(2))]
            name = aliases.get(match.group(3), match.group(3))
            line_form.add_error(name if name in line_form.fields else None, errors)
        elif aliases.get(field, field) in form.fields:
            form.add_error(aliases.get(field, field), errors)
        else:
            form.add_error(None, errors)
