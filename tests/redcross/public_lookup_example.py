"""A small working lookup by a number and a private factor on the kernel's pattern
(redcross.public_forms.PublicLookupView), for the tests: a person looks up their own record by its
number and the last four digits of their phone. What an app writes is only this: the form, the
limiter, ``find`` and what a hit shows."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.urls import path

from redcross.models import Person
from redcross.public_forms import PublicLookupView
from redcross.ratelimit import RateLimiter
from redcross.urls import urlpatterns as site_urlpatterns
from redcross.validators import fold_full_width

TEMPLATE = "example/lookup.html"
# what the page shows: the form's errors, and on a hit the masked name
TEMPLATE_SOURCE = (
    "{% for error in form.non_field_errors %}MISS:{{ error }}{% endfor %}"
    "{% for field in form %}{% for error in field.errors %}FIELD {{ field.name }}:{{ error }}{% endfor %}"
    "[{{ field.name }}={{ field.value|default_if_none:'' }}]{% endfor %}"
    "{% if person %}FOUND:{{ person.masked_name }}{% endif %}"
)

EXAMPLE_LIMITER = RateLimiter(
    scope="example-lookup",
    template="public_forms/rate_limited.html",
    limit_setting="EXAMPLE_LOOKUP_LIMIT",
    window_setting="EXAMPLE_LOOKUP_WINDOW_SECONDS",
)


class RecordLookupForm(forms.Form):
    number = forms.CharField(label="登记编号", max_length=20)
    phone_last4 = forms.CharField(label="手机号后四位", max_length=8)

    def clean_phone_last4(self) -> str:
        digits = fold_full_width(self.cleaned_data["phone_last4"]).strip()
        if not re.fullmatch(r"[0-9]{4}", digits, flags=re.ASCII):
            raise ValidationError("请输入 4 位数字")
        return digits


class RecordLookupView(PublicLookupView):
    form_class = RecordLookupForm
    template_name = TEMPLATE
    limiter = EXAMPLE_LIMITER
    not_found_message = "未找到匹配的记录"

    def find(self, cleaned_data: dict) -> Person | None:
        number = cleaned_data["number"].strip()
        if not number.isdigit():
            return None
        return Person.objects.filter(pk=int(number), phone__endswith=cleaned_data["phone_last4"]).first()

    def found_context(self, person: Person) -> dict:
        return {"person": person}


class ListedRecordLookupView(RecordLookupView):
    noindex = False


urlpatterns = [
    *site_urlpatterns,
    path("example/lookup/", RecordLookupView.as_view(), name="example_lookup"),
    path("example/listed-lookup/", ListedRecordLookupView.as_view(), name="example_listed_lookup"),
]
