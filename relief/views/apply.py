"""The public relief application form (/relief/projects/<pk>/apply/) on the kernel's public-form
pattern, with consent to the use of the applicant's data, and the applicant's private page.

The form registers (or finds) the beneficiary with ``by=None`` and the application through the
online channel; the district staff then visit, review and pass it on. The private page shows the
application's status, masked; the reasons and the amounts are told by the staff.
"""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from redcross.models import Branch, BranchLevel
from redcross.public_forms import (
    BirthDateField,
    CnIdNumberField,
    CnPhoneField,
    PersonNameField,
    PublicManageView,
    PublicSignupForm,
    PublicSignupView,
)
from relief.models import Application, ApplicationChannel, BeneficiaryKind, Project, ProjectStatus
from relief.models.applications import DocumentKind
from relief.selectors.public import public_project
from relief.services.applications import application_register
from relief.services.beneficiaries import beneficiary_find_or_register

CONSENT_PURPOSE = "relief-application"


def districts_of(project: Project) -> list[Branch]:
    """Where an applicant may live: the districts and counties under the project's branch (or the
    branch itself when it is one)."""
    rows = Branch.objects.filter(Branch.within_q(project.branch), is_active=True, level=BranchLevel.COUNTY)
    rows = rows.order_by("path")
    return list(rows) or [project.branch]


class ApplicationForm(PublicSignupForm):
    district = forms.ChoiceField(label=gettext_lazy("所在区县"))
    kind = forms.ChoiceField(
        label=gettext_lazy("申请类型"),
        choices=BeneficiaryKind.choices,
        initial=BeneficiaryKind.HOUSEHOLD,
        widget=forms.RadioSelect,
    )
    name = PersonNameField(help_text=gettext_lazy("家庭申请填写户主姓名；不会公开"))
    id_number = CnIdNumberField(help_text=gettext_lazy("用于核实身份、避免重复救助和查询进度；不会公开"))
    phone = CnPhoneField(help_text=gettext_lazy("工作人员联系您入户走访；不会公开"))
    birth_date = BirthDateField(required=False)
    situation = forms.CharField(
        label=gettext_lazy("困难情况"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("家庭成员、收入、疾病或就学等情况；只有负责审核的工作人员可以看到"),
    )
    requested_amount = forms.DecimalField(
        label=gettext_lazy("申请金额（元）"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    document_kind = forms.ChoiceField(label=gettext_lazy("证明材料类型"), choices=DocumentKind.choices, required=False)
    document = forms.FileField(
        label=gettext_lazy("证明材料"),
        required=False,
        help_text=gettext_lazy("诊断证明、收入证明、入学通知书等，PDF、JPG 或 PNG；也可在走访时交给工作人员"),
    )

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.districts = {branch.code: branch for branch in districts_of(project)}
        self.fields["district"].choices = [(code, branch.name) for code, branch in self.districts.items()]

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("document") and not cleaned.get("document_kind"):
            self.add_error("document_kind", _("请选择证明材料类型"))
        return cleaned


class ApplicationSignupView(PublicSignupView):
    form_class = ApplicationForm
    consent_purpose = CONSENT_PURPOSE
    title = gettext_lazy("在线申请救助")
    template_name = "relief/apply.html"
    success_template_name = "relief/apply_success.html"
    manage_url_name = "relief:manage"

    project: Project
    application: Application | None = None

    def dispatch(self, request: HttpRequest, *args, pk: int, **kwargs) -> HttpResponse:
        project = public_project(pk)
        if project is None:
            raise Http404
        self.project = project
        if project.status != ProjectStatus.OPEN or project.ends_on < timezone.localdate():
            status = 409 if request.method == "POST" else 200
            return render(request, "relief/apply_closed.html", self.get_context_data(), status=status)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict:
        return {"project": self.project}

    def get_context_data(self, **context) -> dict:
        context = super().get_context_data(project=self.project, **context)
        if "management_url" in context:
            # the honeypot's answer has no application: it looks like a submitted one
            context["application"] = self.application
        return context

    def save(self, cleaned_data: dict) -> Application:
        registration = beneficiary_find_or_register(
            by=None,
            branch=self._district(cleaned_data),
            kind=cleaned_data["kind"],
            name=cleaned_data["name"],
            id_number=cleaned_data["id_number"],
            phone=cleaned_data["phone"],
            birth_date=cleaned_data["birth_date"],
        )
        documents = []
        if cleaned_data.get("document"):
            documents.append((cleaned_data["document_kind"], cleaned_data["document"]))
        self.application = application_register(
            by=None,
            project=self.project,
            beneficiary=registration.beneficiary,
            situation=cleaned_data["situation"],
            requested_amount=cleaned_data["requested_amount"],
            documents=documents,
            channel=ApplicationChannel.ONLINE,
        )
        return self.application

    def _district(self, cleaned_data: dict) -> Branch:
        return next(branch for branch in districts_of(self.project) if branch.code == cleaned_data["district"])

    def consent_subject(self, obj: Application):
        return obj.beneficiary

    def consent_branch(self, obj: Application) -> Branch:
        return obj.branch

    def management_token(self, obj: Application) -> str:
        return obj.management_token


class ApplicationManageView(PublicManageView):
    """``/relief/a/<token>/``: the applicant sees their application (masked) and its status."""

    template_name = "relief/application_manage.html"
    title = gettext_lazy("我的救助申请")

    def get_object(self, token: str) -> Application | None:
        if not token or len(token) > 64:
            return None
        return (
            Application.objects.filter(management_token=token)
            .select_related("project", "beneficiary", "branch")
            .first()
        )

    def describe(self, obj: Application) -> list[tuple[str, str]]:
        status = obj.get_status_display()
        if obj.referral_outcome:
            status = f"{status}（{obj.get_referral_outcome_display()}）"
        return [
            (_("申请编号"), obj.number),
            (_("申请人"), obj.beneficiary.masked_name),
            (_("救助项目"), obj.project.name),
            (_("受理单位"), obj.branch.name),
            (_("提交时间"), timezone.localtime(obj.submitted_at).strftime("%Y-%m-%d")),
            (_("办理状态"), status),
        ]

    # nothing is changed or withdrawn online: the applicant calls the district staff
    http_method_names = ["get", "head"]
