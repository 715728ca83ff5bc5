"""The one pattern for public sign-up forms (course registration, volunteer and member sign-up).

A public form is a ``PublicSignupForm`` served by a ``PublicSignupView``; the kernel gives it:

- CSRF protection (Django's middleware; the template carries the token);
- a honeypot: a field people never see and bots fill in; a filled one answers exactly like a
  success (with a link that leads nowhere) and writes nothing;
- a per-client limit on submissions (``PUBLIC_FORM_LIMITER``, or the view's own ``limiter``);
- checked ID numbers, phone numbers, names and birth dates (``CnIdNumberField``, ``CnPhoneField``,
  ``PersonNameField``, ``BirthDateField``, through ``redcross.validators``);
- explicit consent: a required checkbox bound to the version of the purpose's consent text the
  person was shown (``redcross.consent``), recorded as an online ``ConsentRecord`` in the same
  transaction as the sign-up; without a published text the form is closed;
- a success page with a private management link (an unguessable token) to view, change or
  withdraw, served by a ``PublicManageView``.

An app writes only its form fields and the hooks: ``save(cleaned_data) -> obj`` (raise a
``ValidationError`` naming fields for anything wrong, e.g. a duplicate: nothing is written),
``consent_subject(obj)``, ``consent_branch(obj)`` and ``management_token(obj)``.

The other public form is a lookup by a number and a private factor (a donor's serial and the last
digits of the phone, an applicant's number and the end of the ID number, a certificate's number
and the holder's name): a ``PublicLookupView`` counts every attempt against its limiter and gives
one answer to every miss. An app writes the form, ``find(cleaned_data)`` (a selector) and, when
the page is not simply shown again with what was found, ``found(request, obj)``.
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from redcross.consent import consent_by_token, consent_give, consent_text_current, consent_withdraw
from redcross.forms import service_errors_to_form
from redcross.models import Branch, ConsentMethod, ConsentRecord, ConsentText
from redcross.ratelimit import RateLimiter, private_page
from redcross.validators import (
    PERSON_NAME_MAX_LENGTH,
    normalize_cn_id_number,
    normalize_cn_phone,
    normalize_person_name,
    validate_birth_date,
    validate_cn_id_number,
    validate_cn_phone,
    validate_person_name,
)

PUBLIC_FORM_LIMITER = RateLimiter(
    scope="public-form",
    template="public_forms/rate_limited.html",
    limit_setting="PUBLIC_FORM_LIMIT",
    window_setting="PUBLIC_FORM_WINDOW_SECONDS",
    default_limit=20,
)

HONEYPOT_FIELD = "website"
CONSENT_FIELD = "consent"
CONSENT_VERSION_FIELD = "consent_version"
_KERNEL_FIELDS = (HONEYPOT_FIELD, CONSENT_FIELD, CONSENT_VERSION_FIELD)


# --- fields ---------------------------------------------------------------------------------


class PersonNameField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", PERSON_NAME_MAX_LENGTH)
        kwargs.setdefault("label", gettext_lazy("姓名"))
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("autocomplete", "name")

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if value:
            validate_person_name(value)
        return normalize_person_name(value)


class CnIdNumberField(forms.CharField):
    """居民身份证号码: typed loosely (spaces, lower-case x, full-width), stored normalised."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault("label", gettext_lazy("居民身份证号码"))
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"})

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if value:
            validate_cn_id_number(value)
        return normalize_cn_id_number(value) if value else ""


class CnPhoneField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("label", gettext_lazy("手机号码"))
        super().__init__(**kwargs)
        self.widget.input_type = "tel"
        self.widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if value:
            validate_cn_phone(value)
        return normalize_cn_phone(value) if value else ""


class BirthDateField(forms.DateField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", gettext_lazy("出生日期"))
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        super().__init__(**kwargs)
        self.validators.append(validate_birth_date)


# --- the form -------------------------------------------------------------------------------


class PublicSignupForm(forms.Form):
    """Base of every public sign-up form: adds the honeypot and the consent checkbox.

    ``consent_text`` is the version shown; a submission that consented to another version (the
    text changed while the form was open) is asked to read the new one.
    """

    def __init__(self, *args, consent_text: ConsentText, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.consent_text = consent_text
        self.fields[HONEYPOT_FIELD] = forms.CharField(
            required=False,
            label=gettext_lazy("网址（请勿填写）"),
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )
        self.fields[CONSENT_FIELD] = forms.BooleanField(
            required=True,
            label=consent_text.title,
            error_messages={"required": _("请阅读并勾选同意“%(title)s”后再提交") % {"title": consent_text.title}},
        )
        self.fields[CONSENT_VERSION_FIELD] = forms.IntegerField(widget=forms.HiddenInput, initial=consent_text.version)

    @property
    def is_bot(self) -> bool:
        """The honeypot is filled: only a program fills a field no one sees."""
        return bool(self.is_bound and str(self.data.get(HONEYPOT_FIELD, "")).strip())

    def own_fields(self) -> list[forms.BoundField]:
        """The app's fields, in order, without the kernel's."""
        return [field for field in self if field.name not in _KERNEL_FIELDS]

    def clean(self) -> dict:
        cleaned = super().clean()
        version = cleaned.get(CONSENT_VERSION_FIELD)
        if cleaned.get(CONSENT_FIELD) and version != self.consent_text.version:
            self.add_error(CONSENT_FIELD, _("同意书已更新，请阅读新版本后重新勾选"))
        return cleaned

    def error_summary(self) -> list[tuple[str, str]]:
        """Every error with the label of the field it belongs to, for the summary at the top."""
        summary = []
        for name, errors in self.errors.items():
            label = "" if name == NON_FIELD_ERRORS else str(self.fields[name].label or name)
            summary.extend((label, str(error)) for error in errors)
        return summary


# --- the views ------------------------------------------------------------------------------


@method_decorator(private_page(noindex=False), name="dispatch")
class PublicSignupView(View):
    """GET shows the form; POST counts against the limit, then signs up and records consent in one
    transaction, or shows every error next to its field and writes nothing."""

    form_class: type[PublicSignupForm]
    consent_purpose: str
    title: str = ""
    template_name = "public_forms/signup.html"
    success_template_name = "public_forms/success.html"
    manage_url_name = ""
    limiter: RateLimiter = PUBLIC_FORM_LIMITER
    http_method_names = ["get", "head", "post"]

    consent_record: ConsentRecord | None = None

    # --- hooks ---
    def get_form_kwargs(self) -> dict:
        return {}

    def save(self, cleaned_data: dict) -> models.Model:
        """Write the sign-up; raise ``ValidationError`` naming fields to refuse it."""
        raise NotImplementedError

    def consent_subject(self, obj: models.Model) -> models.Model:
        return obj

    def consent_branch(self, obj: models.Model) -> Branch:
        return obj.branch

    def management_token(self, obj: models.Model) -> str:
        return obj.management_token

    def management_url(self, token: str) -> str:
        return reverse(self.manage_url_name, kwargs={"token": token})

    def get_context_data(self, **context) -> dict:
        return {"title": self.title, **context}

    # --- the flow ---
    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        text = consent_text_current(self.consent_purpose)
        if text is None:
            return self._closed(request)
        form = self.form_class(consent_text=text, **self.get_form_kwargs())
        return render(request, self.template_name, self.get_context_data(form=form, consent_text=text))

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refused = self.limiter.refused_attempt(request)
        if refused is not None:
            return refused
        text = consent_text_current(self.consent_purpose)
        if text is None:
            return self._closed(request)
        form = self.form_class(request.POST, request.FILES or None, consent_text=text, **self.get_form_kwargs())
        if form.is_bot:
            # answered like a success, so the bot learns nothing; the link leads nowhere
            return self._success(request, token=secrets.token_urlsafe(24))
        if form.is_valid():
            try:
                with transaction.atomic():
                    obj = self.save(form.cleaned_data)
                    self.consent_record = consent_give(
                        subject=self.consent_subject(obj),
                        text=text,
                        method=ConsentMethod.ONLINE,
                        branch=self.consent_branch(obj),
                    )
                    token = self.management_token(obj)
            except ValidationError as exc:
                service_errors_to_form(exc, form)
            else:
                return self._success(request, token=token)
        return render(request, self.template_name, self.get_context_data(form=form, consent_text=text))

    def _success(self, request: HttpRequest, *, token: str) -> HttpResponse:
        context = self.get_context_data(management_url=request.build_absolute_uri(self.management_url(token)))
        response = render(request, self.success_template_name, context)
        response.headers["X-Robots-Tag"] = "noindex"  # it carries the private link
        return response

    def _closed(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, self.get_context_data(closed=True), status=503)


@method_decorator(private_page(noindex=True), name="dispatch")
class PublicManageView(View):
    """The private page a management link opens: view (masked facts), change, withdraw.

    Unknown tokens count as guesses against the limit; once a client is over it, valid and
    invalid tokens get the same refusal. Hooks: ``get_object(token)``, ``describe(obj)``,
    ``is_withdrawn(obj)``, ``withdraw(obj)``, and for changes ``change_form_class``,
    ``change_initial(obj)`` and ``change(obj, cleaned_data)`` (raise ``ValidationError`` naming
    fields to refuse); ``extra_context(obj)`` for a template that extends the kernel's (its
    ``facts_after`` and ``withdraw`` blocks).
    """

    template_name = "public_forms/manage.html"
    title: str = ""
    limiter: RateLimiter = PUBLIC_FORM_LIMITER
    change_form_class: type[forms.Form] | None = None
    http_method_names = ["get", "head", "post"]

    def get_object(self, token: str) -> Any | None:
        raise NotImplementedError

    def describe(self, obj: Any) -> list[tuple[str, str]]:
        return []

    def is_withdrawn(self, obj: Any) -> bool:
        return False

    def withdraw(self, obj: Any) -> None:
        raise NotImplementedError

    def change_initial(self, obj: Any) -> dict:
        return {}

    def change(self, obj: Any, cleaned_data: dict) -> None:
        raise NotImplementedError

    def extra_context(self, obj: Any) -> dict:
        """More for the page's template (one that extends ``public_forms/manage.html``)."""
        return {}

    def _lookup(self, request: HttpRequest, token: str) -> tuple[Any | None, HttpResponse | None]:
        if self.limiter.is_blocked(request):
            return None, self.limiter.refusal(request)
        obj = self.get_object(token)
        if obj is None:
            refused = self.limiter.refused_attempt(request)
            return None, refused or render(request, self.template_name, {"not_found": True}, status=404)
        return obj, None

    def _page(self, request: HttpRequest, obj: Any, *, change_form=None, message: str = "") -> HttpResponse:
        withdrawn = self.is_withdrawn(obj)
        if change_form is None and self.change_form_class is not None and not withdrawn:
            change_form = self.change_form_class(initial=self.change_initial(obj))
        context = {
            "title": self.title,
            "facts": self.describe(obj),
            "withdrawn": withdrawn,
            "change_form": None if withdrawn else change_form,
            "message": message,
            **self.extra_context(obj),
        }
        return render(request, self.template_name, context)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        obj, refusal = self._lookup(request, token)
        return refusal or self._page(request, obj)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        obj, refusal = self._lookup(request, token)
        if refusal is not None:
            return refusal
        if self.is_withdrawn(obj):
            return self._page(request, obj)
        action = request.POST.get("action")
        if action == "withdraw":
            with transaction.atomic():
                self.withdraw(obj)
            return self._page(request, self.get_object(token), message=_("已撤回，即时生效。"))
        if action == "change" and self.change_form_class is not None:
            form = self.change_form_class(request.POST)
            if form.is_valid():
                try:
                    with transaction.atomic():
                        self.change(obj, form.cleaned_data)
                except ValidationError as exc:
                    service_errors_to_form(exc, form)
                else:
                    return self._page(request, self.get_object(token), message=_("已保存修改。"))
            return self._page(request, obj, change_form=form)
        return self._page(request, obj)


class PublicLookupView(View):
    """A lookup by a number and a private factor: GET shows the form; POST counts one attempt against
    ``limiter`` (over the limit, the refusal, whatever the answer would be), then shows what
    ``find`` found, or the form again with ``not_found_message``: one answer for an unknown number
    and a wrong factor, so the page tells nothing about which numbers exist.

    Set ``form_class`` (its clean methods normalise what people type; a malformed factor is an
    error on its field, and still counted), ``template_name`` (it gets ``form``, and on a hit what
    ``found_context`` adds), ``limiter``, ``not_found_message`` and ``noindex`` (False for a page
    search engines may list, e.g. the donor lookup), and write ``find(cleaned_data) -> obj | None``.
    Override ``found(request, obj)`` to answer otherwise, e.g. with a redirect to a private page.
    """

    form_class: type[forms.Form]
    template_name: str
    limiter: RateLimiter
    not_found_message: str
    noindex: bool = True
    http_method_names = ["get", "head", "post"]

    def find(self, cleaned_data: dict) -> Any | None:
        raise NotImplementedError

    def found_context(self, obj: Any) -> dict:
        return {}

    def found(self, request: HttpRequest, obj: Any) -> HttpResponse:
        """The page again with an empty form, and what was found."""
        return render(request, self.template_name, {"form": self.form_class(), **self.found_context(obj)})

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return private_page(noindex=self.noindex)(super().dispatch)(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return render(request, self.template_name, {"form": self.form_class()})

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refused = self.limiter.refused_attempt(request)
        if refused is not None:
            return refused
        form = self.form_class(request.POST)
        if form.is_valid():
            obj = self.find(form.cleaned_data)
            if obj is not None:
                return self.found(request, obj)
            form.add_error(None, self.not_found_message)
        return render(request, self.template_name, {"form": form})


class ConsentManageView(PublicManageView):
    """``/consent/<token>/``: a consent given online, seen and withdrawn by the person who gave it."""

    title = gettext_lazy("我的同意记录")

    def get_object(self, token: str) -> ConsentRecord | None:
        return consent_by_token(token)

    def describe(self, obj: ConsentRecord) -> list[tuple[str, str]]:
        facts = [
            (_("同意书"), f"{obj.text.title}（v{obj.text.version}）"),
            (_("同意时间"), timezone.localtime(obj.given_at).strftime("%Y-%m-%d %H:%M")),
            (_("同意方式"), obj.get_method_display()),
        ]
        if obj.person_id:
            facts.insert(0, (_("姓名"), obj.person.masked_name))
        if obj.withdrawn_at:
            facts.append((_("撤回时间"), timezone.localtime(obj.withdrawn_at).strftime("%Y-%m-%d %H:%M")))
        return facts

    def is_withdrawn(self, obj: ConsentRecord) -> bool:
        return obj.withdrawn_at is not None

    def withdraw(self, obj: ConsentRecord) -> None:
        consent_withdraw(record=obj, method=ConsentMethod.ONLINE)
