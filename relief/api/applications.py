"""Staff API for applications: registration by district staff (``application_register``),
documents through the evidence-file checks (``application_document_add``), home visits
(``visit_record``), the district review (``application_review``), the city decision
(``application_decide``: a different person from the registrar and the reviewer, which the service
enforces with a 403) and a referral's outcome (``application_referral_outcome``).

The applicant's account of the hardship and the visits' findings are returned to relief roles
only, as the admin shows them; the beneficiary is named masked, as the admin's lists do."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from redcross.api import BranchScopedViewSetMixin, ServiceChecksPermissions, parse_input, raise_as_drf
from redcross.scoping import visible_branch_ids
from redcross.uploads import stored_file_download
from relief.api.base import MONEY, beneficiary_field, project_field
from relief.api.beneficiaries import sees_details
from relief.models import (
    Application,
    ApplicationDocument,
    DocumentKind,
    ReferralOutcome,
    Visit,
    VisitKind,
)
from relief.selectors.workbench import applications_to_decide, applications_to_disburse, applications_to_review
from relief.services.applications import (
    application_decide,
    application_document_add,
    application_referral_outcome,
    application_register,
    application_review,
    visit_record,
)
from relief.services.beneficiaries import can_see_details


class ApplicationDocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApplicationDocument
        fields = ["id", "kind", "uploaded_by", "uploaded_at"]
        read_only_fields = fields


class ReliefVisitSerializer(serializers.ModelSerializer):
    findings = serializers.SerializerMethodField(help_text=_("仅救助工作人员可见，其他人为 null"))

    class Meta:
        model = Visit
        fields = ["id", "kind", "visited_on", "findings", "visited_by", "recorded_at"]
        read_only_fields = fields

    def get_findings(self, visit: Visit) -> str | None:
        return visit.findings if sees_details(self) else None


class ApplicationSerializer(serializers.ModelSerializer):
    project_code = serializers.CharField(source="project.code", read_only=True)
    beneficiary_name = serializers.CharField(source="beneficiary.masked_name", read_only=True)
    situation = serializers.SerializerMethodField(help_text=_("仅救助工作人员可见，其他人为 null"))
    documents = ApplicationDocumentSerializer(many=True, read_only=True)
    visits = ReliefVisitSerializer(many=True, read_only=True)

    class Meta:
        model = Application
        fields = [
            "id", "number", "project", "project_code", "beneficiary", "beneficiary_name", "branch", "channel",
            "situation", "requested_amount", "status", "registered_by", "submitted_at", "reviewed_by", "reviewed_at",
            "review_reason", "decided_by", "decided_at", "decision_reason", "approved_amount", "referral_outcome",
            "referral_amount", "referral_note", "documents", "visits",
        ]  # fmt: skip
        read_only_fields = fields

    def get_situation(self, application: Application) -> str | None:
        return application.situation if sees_details(self) else None


class ApplicationInput(serializers.Serializer):
    project = project_field()
    beneficiary = beneficiary_field()
    situation = serializers.CharField(max_length=4000)
    requested_amount = serializers.DecimalField(required=False, allow_null=True, default=None, **MONEY)


class ApplicationDocumentInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    file = serializers.FileField(max_length=200, allow_empty_file=False, help_text="PDF, JPG or PNG")


class ReliefVisitInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=VisitKind.choices)
    visited_on = serializers.DateField()
    findings = serializers.CharField(max_length=4000)


class ApplicationReviewInput(serializers.Serializer):
    passed = serializers.BooleanField(help_text=_("true 初审通过；false 不通过"))
    reason = serializers.CharField(max_length=500)


class ApplicationDecideInput(serializers.Serializer):
    approve = serializers.BooleanField(help_text=_("true 批准（转介项目为转报）；false 不予批准"))
    reason = serializers.CharField(max_length=500)
    approved_amount = serializers.DecimalField(
        required=False, allow_null=True, default=None, help_text=_("不填则为申请金额或项目限额"), **MONEY
    )


class ReferralOutcomeInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=[ReferralOutcome.GRANTED, ReferralOutcome.DECLINED])
    amount = serializers.DecimalField(required=False, allow_null=True, default=None, **MONEY)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class ApplicationFilter(filters.FilterSet):
    district = filters.NumberFilter(field_name="branch", label=_("受理区县组织"))
    queue = filters.ChoiceFilter(
        method="in_queue",
        choices=[("review", _("待区县初审")), ("decide", _("待市级审批")), ("disburse", _("已批准待发放"))],
        label=_("待办（与工作台相同）"),
    )

    class Meta:
        model = Application
        fields = ["project", "status", "beneficiary", "channel"]

    def in_queue(self, queryset, name, value):
        ids = visible_branch_ids(self.request.user)
        selector = {
            "review": applications_to_review,
            "decide": applications_to_decide,
            "disburse": applications_to_disburse,
        }[value]
        return queryset.filter(pk__in=selector(branch_ids=ids).values("pk"))


class ApplicationViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """救助申请 of the user's branches: submitted → reviewed (区县初审) → approved or rejected (市级审批)."""

    queryset = Application.objects.select_related("project", "beneficiary").prefetch_related(
        Prefetch("documents", queryset=ApplicationDocument.objects.order_by("id")),
        Prefetch("visits", queryset=Visit.objects.order_by("visited_on", "id")),
    )
    serializer_class = ApplicationSerializer
    filterset_class = ApplicationFilter
    cursor_ordering = ("-id",)

    def _fresh(self, application: Application, code: int = status.HTTP_200_OK) -> Response:
        row = self.get_queryset().get(pk=application.pk)
        return Response(self.get_serializer(row).data, status=code)

    @extend_schema(request=ApplicationInput, responses={201: ApplicationSerializer})
    def create(self, request):
        """Registered by district staff for a beneficiary of their branches (registered first
        through ``POST beneficiaries/``); documents are added one at a time afterwards."""
        data = parse_input(ApplicationInput, request)
        try:
            application = application_register(by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return self._fresh(application, status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses={200: ApplicationDocumentSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": ApplicationDocumentInput},
        responses={201: ApplicationDocumentSerializer},
    )
    @action(
        detail=True, methods=["get", "post"], parser_classes=[MultiPartParser],
        permission_classes=[ServiceChecksPermissions], pagination_class=None,
    )  # fmt: skip
    def documents(self, request, pk=None):
        """The application's documents; POST adds one (multipart: ``kind``, ``file``; PDF, JPEG or
        PNG by content within the size limit)."""
        application = self.get_object()
        if request.method == "GET":
            return Response(ApplicationDocumentSerializer(application.documents.all(), many=True).data)
        data = ApplicationDocumentInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            document = application_document_add(by=request.user, application=application, **data.validated_data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(ApplicationDocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path=r"documents/(?P<document_id>[0-9]{1,18})")
    def document_file(self, request, pk=None, document_id=None):
        """One document's file, as a download (the application's branch checked)."""
        document = self.get_object().documents.filter(pk=document_id).first()
        if document is None:
            raise NotFound
        if not can_see_details(request.user):  # diagnoses and income proofs: relief roles only
            raise PermissionDenied()
        return stored_file_download(document.file)

    @extend_schema(request=ReliefVisitInput, responses={201: ReliefVisitSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def visits(self, request, pk=None):
        """走访 (assessment, before the review) or 回访 (follow-up, once aid was given)."""
        application = self.get_object()  # scoped first: another district's row is a 404
        data = parse_input(ReliefVisitInput, request)
        try:
            visit = visit_record(by=request.user, application=application, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(ReliefVisitSerializer(visit, context=self.get_serializer_context()).data, status=201)

    @extend_schema(request=ApplicationReviewInput, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def review(self, request, pk=None):
        """区县初审 by someone other than the registrar (403 otherwise)."""
        application = self.get_object()  # scoped first: another district's row is a 404
        data = parse_input(ApplicationReviewInput, request)
        try:
            application = application_review(by=request.user, application=application, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return self._fresh(application)

    @extend_schema(request=ApplicationDecideInput, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def decide(self, request, pk=None):
        """市级审批 by someone who neither registered nor reviewed it (403 otherwise); an amount
        within the project's cap; refused while the beneficiary has an open duplicate suspicion."""
        application = self.get_object()  # scoped first: another district's row is a 404
        data = parse_input(ApplicationDecideInput, request)
        try:
            application = application_decide(by=request.user, application=application, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return self._fresh(application)

    @extend_schema(request=ReferralOutcomeInput, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"], url_path="referral-outcome", permission_classes=[ServiceChecksPermissions])
    def referral_outcome(self, request, pk=None):
        """The national body's answer on a forwarded application (no money through the branch)."""
        application = self.get_object()  # scoped first: another district's row is a 404
        data = parse_input(ReferralOutcomeInput, request)
        try:
            application = application_referral_outcome(by=request.user, application=application, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return self._fresh(application)
