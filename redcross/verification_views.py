"""The public verification page of every verifiable document (``redcross.verification``).

``/verify/<code>/`` is what QR codes open; ``/verify/`` takes a number and the holder's full name.
Unknown codes and every number + name attempt count against a per-client limit; once a client is
over it, right and wrong guesses get the same refusal. Nothing personal is logged.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from redcross.public_forms import PublicLookupView
from redcross.ratelimit import RateLimiter, private_page
from redcross.validators import PERSON_NAME_MAX_LENGTH
from redcross.verification import (
    DEFAULT_TEMPLATE,
    NUMBER_MAX_LENGTH,
    VerifiableDocument,
    VerifiableKind,
    document_by_code,
    document_by_number_and_name,
    verifiable_kinds,
)

VERIFY_LIMITER = RateLimiter(
    scope="document-verify",
    template="verify/rate_limited.html",
    limit_setting="VERIFICATION_LIMIT",
    window_setting="VERIFICATION_WINDOW_SECONDS",
    default_limit=20,
)

NOT_FOUND_MESSAGE = _("未找到匹配的证书，请核对证书编号和持证人姓名")


def _found(request: HttpRequest, kind: VerifiableKind, document: VerifiableDocument) -> HttpResponse:
    context = {"document": document, "verification": document.verification_facts(), **kind.extra_context(document)}
    return render(request, kind.template, context)


def document_verify_response(
    request: HttpRequest,
    code: str,
    *,
    limiter: RateLimiter,
    kinds: Iterable[type[VerifiableDocument]] | None = None,
) -> HttpResponse:
    """The one verification answer for a code: the document's page, or "not found" (404).

    ``kinds`` narrows the search (a page kept at an app's old address, e.g. the donation
    certificate's ``/donations/verify/<code>/``); ``limiter`` is the limit that address counts
    against.
    """
    if limiter.is_blocked(request):
        return limiter.refusal(request)
    found = document_by_code(code, kinds=kinds)
    if found is None:
        refused = limiter.refused_attempt(request)
        if refused is not None:
            return refused
        narrowed = verifiable_kinds(kinds) if kinds is not None else []
        template = narrowed[0].template if len(narrowed) == 1 else DEFAULT_TEMPLATE
        return render(request, template, {"not_found": True}, status=404)
    return _found(request, *found)


@require_safe
@private_page(noindex=True)
def verify_document(request: HttpRequest, code: str) -> HttpResponse:
    return document_verify_response(request, code, limiter=VERIFY_LIMITER)


class NumberAndNameForm(forms.Form):
    number = forms.CharField(label=_("证书编号"), max_length=NUMBER_MAX_LENGTH)
    name = forms.CharField(label=_("持证人姓名"), max_length=PERSON_NAME_MAX_LENGTH)


class VerifyLookupView(PublicLookupView):
    """Number + the holder's full name: every attempt counts, every miss gets one answer."""

    form_class = NumberAndNameForm
    template_name = "verify/lookup.html"
    limiter = VERIFY_LIMITER
    not_found_message = NOT_FOUND_MESSAGE

    def find(self, cleaned_data: dict) -> tuple[VerifiableKind, VerifiableDocument] | None:
        return document_by_number_and_name(cleaned_data["number"], cleaned_data["name"])

    def found(self, request: HttpRequest, found: tuple[VerifiableKind, VerifiableDocument]) -> HttpResponse:
        return _found(request, *found)


verify_lookup = VerifyLookupView.as_view()
