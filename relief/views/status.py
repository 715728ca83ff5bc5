"""The applicant's status lookup (/relief/status/): application number + last six characters of
the ID number → the status and its dates, nothing else.

The kernel's ``PublicLookupView``: an unknown number and a wrong ID ending get one answer; every
lookup counts against a per-client limit (``RELIEF_STATUS_LIMIT`` per
``RELIEF_STATUS_WINDOW_SECONDS``). Nothing is logged.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from redcross.public_forms import PublicLookupView
from redcross.ratelimit import RateLimiter
from redcross.validators import fold_full_width
from relief.models import Application, ApplicationStatus
from relief.selectors.public import application_by_number_and_id6, application_paid_on

NOT_FOUND_MESSAGE = _("未找到匹配的申请，请核对申请编号和身份证号码后六位")

_ID6_RE = re.compile(r"[0-9]{5}[0-9X]", flags=re.ASCII)

STATUS_LIMITER = RateLimiter(
    scope="relief-status",
    template="relief/rate_limited.html",
    limit_setting="RELIEF_STATUS_LIMIT",
    window_setting="RELIEF_STATUS_WINDOW_SECONDS",
)


class StatusForm(forms.Form):
    number = forms.CharField(label=_("申请编号"), max_length=30)
    id_last6 = forms.CharField(label=_("身份证号码后六位"), max_length=12)

    def clean_number(self) -> str:
        # any text is accepted: one that cannot be a number simply finds nothing
        return fold_full_width(self.cleaned_data["number"]).strip().upper()

    def clean_id_last6(self) -> str:
        value = fold_full_width(self.cleaned_data["id_last6"]).strip().upper()
        if not _ID6_RE.fullmatch(value):
            raise ValidationError(_("请输入身份证号码的最后 6 位（数字，末位可为 X）"), code="invalid")
        return value


def _steps(application: Application) -> list[tuple[str, object]]:
    """The dates the applicant may see: submitted, reviewed, decided, paid."""
    steps: list[tuple[str, object]] = [(_("提交申请"), application.submitted_at)]
    if application.reviewed_at:
        steps.append((_("区县初审"), application.reviewed_at))
    if application.decided_at:
        steps.append((_("市级审批"), application.decided_at))
    if application.status == ApplicationStatus.APPROVED:
        paid_on = application_paid_on(application)
        if paid_on:
            steps.append((_("救助已发放"), paid_on))
    return steps


class StatusLookupView(PublicLookupView):
    form_class = StatusForm
    template_name = "relief/status.html"
    limiter = STATUS_LIMITER
    not_found_message = NOT_FOUND_MESSAGE

    def find(self, cleaned_data: dict) -> Application | None:
        return application_by_number_and_id6(number=cleaned_data["number"], id_last6=cleaned_data["id_last6"])

    def found_context(self, application: Application) -> dict:
        return {"application": application, "steps": _steps(application)}


status_lookup = StatusLookupView.as_view()
