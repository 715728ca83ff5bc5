"""Staff forms for applications: registering a beneficiary (with the household's members) and the
application with its documents, adding a document, recording a visit.

Choices are limited to what the user may use (``relief.selectors.choices``); the facts (ID
checksum, phone, caps, files) are checked by the services, whose errors come back on these fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from donations.forms.allocations import date_input
from redcross.scoping import visible_branches
from relief.models import BeneficiaryKind, DocumentKind, Project, VisitKind
from relief.selectors.choices import projects_taking_applications
from relief.services.beneficiaries import can_see_details

SEX_CHOICES = (("", "---------"), ("male", _("男")), ("female", _("女")))
SENSITIVE = ("address", "illness", "income", "disability")


class ProjectChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Project) -> str:
        return f"{obj.code} {obj.name}"


def no_autofill(**attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={"autocomplete": "off", **attrs})


class ApplicationRegisterForm(forms.Form):
    """The beneficiary (a person or a household's head) and the application, as the district
    officer takes them at the counter or on a home visit."""

    project = ProjectChoice(label=_("救助项目"), queryset=None)
    branch = forms.ModelChoiceField(label=_("所在区县组织"), queryset=None)
    kind = forms.ChoiceField(
        label=_("申请类型"),
        choices=BeneficiaryKind.choices,
        initial=BeneficiaryKind.HOUSEHOLD,
        widget=forms.RadioSelect,
    )
    name = forms.CharField(label=_("姓名（户主）"), max_length=50)
    id_number = forms.CharField(label=_("身份证号码"), max_length=20, required=False, widget=no_autofill())
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False, widget=no_autofill())
    birth_date = forms.DateField(label=_("出生日期"), required=False, widget=date_input())
    sex = forms.ChoiceField(label=_("性别"), choices=SEX_CHOICES, required=False)
    address = forms.CharField(label=_("住址"), max_length=200, required=False)
    illness = forms.CharField(label=_("疾病情况"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    income = forms.CharField(label=_("家庭收入情况"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    disability = forms.CharField(label=_("残疾情况"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    situation = forms.CharField(label=_("申请理由和困难情况"), widget=forms.Textarea(attrs={"rows": 4}))
    requested_amount = forms.CharField(
        label=_("申请金额（元）"), max_length=32, required=False, help_text=_("不超过项目每人（户）限额")
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects_taking_applications(user)
        self.fields["branch"].queryset = visible_branches(user).filter(is_active=True).order_by("path")
        if user.branch_id and not self.is_bound:
            self.initial.setdefault("branch", user.branch_id)
        if not can_see_details(user):  # whoever may not read them afterwards does not type them
            for name in SENSITIVE:
                del self.fields[name]

    def beneficiary_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        names = ("branch", "kind", "name", "id_number", "phone", "birth_date", "sex", *SENSITIVE)
        return {name: data[name] for name in names if name in data}


class MemberForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    relation = forms.CharField(label=_("与户主关系"), max_length=20)
    id_number = forms.CharField(label=_("身份证号码"), max_length=20, required=False, widget=no_autofill())
    birth_date = forms.DateField(label=_("出生日期"), required=False, widget=date_input())


MemberFormSet = forms.formset_factory(MemberForm, extra=5, can_delete=True)


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("材料类型"), choices=(("", "---------"), *DocumentKind.choices))
    file = forms.FileField(label=_("文件"), help_text=_("PDF、JPG 或 PNG"))


DocumentFormSet = forms.formset_factory(DocumentForm, extra=3)


class VisitForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=VisitKind.choices, widget=forms.RadioSelect)
    visited_on = forms.DateField(label=_("走访日期"), widget=date_input())
    findings = forms.CharField(label=_("走访情况"), widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("visited_on", timezone.localdate())
