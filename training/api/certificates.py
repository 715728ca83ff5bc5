"""Staff API for exams and certificates: exam results recorded through ``exam_result_record``,
certificates issued (one trainee or a whole session), revoked and listed, each write calling one
service of ``training.services``; and the registrations of sessions, cancelled through the service."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from redcross.api import (
    BranchScopedViewSetMixin,
    ReasonInput,
    ScopedRelatedField,
    ServiceChecksPermissions,
    parse_input,
    raise_as_drf,
)
from training.api.sessions import person_field
from training.models import Certificate, ExamPart, ExamResult, Registration, Session
from training.services.certificates import certificate_issue, certificate_revoke, certificates_issue_for_session
from training.services.exams import exam_result_record
from training.services.registration import registration_cancel


def session_field(**kwargs):
    return ScopedRelatedField(base_queryset=Session.objects.all(), label=_("培训班"), **kwargs)


class ExamResultSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)

    class Meta:
        model = ExamResult
        fields = ["id", "session", "person", "person_name", "part", "score", "passed", "examiner"]
        read_only_fields = fields


class ExamResultInput(serializers.Serializer):
    session = session_field()
    person = person_field(label=_("学员"))
    part = serializers.ChoiceField(choices=ExamPart.choices)
    score = serializers.DecimalField(max_digits=5, decimal_places=1, min_value=0, max_value=100, required=False)
    passed = serializers.BooleanField(required=False, allow_null=True, default=None)
    examiner = person_field(label=_("考官"), required=False, allow_null=True)


class ExamResultViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Theory and skills results per trainee; recorded (or corrected) one part at a time."""

    queryset = ExamResult.objects.select_related("person")
    serializer_class = ExamResultSerializer
    branch_field = "session__branch"
    filterset_fields = ["session", "person", "part", "passed"]
    cursor_ordering = ("-id",)

    @extend_schema(request=ExamResultInput, responses={201: ExamResultSerializer})
    def create(self, request):
        data = parse_input(ExamResultInput, request)
        try:
            result = exam_result_record(by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(ExamResultSerializer(result).data, status=status.HTTP_201_CREATED)


class CertificateSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)

    class Meta:
        model = Certificate
        fields = [
            "id", "number", "kind", "branch", "person", "person_name", "session", "level", "issued_on",
            "expires_on", "renews", "revoked_at", "revoked_reason", "verification_code",
        ]  # fmt: skip
        read_only_fields = fields


class IssueInput(serializers.Serializer):
    session = session_field()
    person = person_field(label=_("学员"), required=False, allow_null=True, help_text=_("不填则为本班每位合格学员颁发"))


class SessionIssueSerializer(serializers.Serializer):
    issued = CertificateSerializer(many=True)
    already = serializers.ListField(child=serializers.IntegerField(), help_text=_("已持本班证书的学员"))
    refused = serializers.ListField(child=serializers.DictField(), help_text=_("未能颁发的学员及原因"))


class CertificateViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """救护员证 and 师资证: issued after a passed exam (numbered gaplessly), revoked with a reason."""

    queryset = Certificate.objects.select_related("person")
    serializer_class = CertificateSerializer
    filterset_fields = {"branch": ["exact"], "kind": ["exact"], "person": ["exact"], "session": ["exact"],
                        "expires_on": ["gte", "lte"]}  # fmt: skip
    cursor_ordering = ("-id",)

    @extend_schema(request=IssueInput, responses={201: SessionIssueSerializer})
    @action(detail=False, methods=["post"])
    def issue(self, request):
        """Issue one trainee's certificate, or every qualified trainee's of the session; each refusal
        names the trainee and why (an exam part not passed, hours short)."""
        data = parse_input(IssueInput, request)
        try:
            if data.get("person"):
                issued, already, refused = [certificate_issue(session=data["session"], person=data["person"],
                                                              by=request.user)], [], []  # fmt: skip
            else:
                report = certificates_issue_for_session(session=data["session"], by=request.user)
                issued, already = report.issued, [person.pk for person in report.already]
                refused = [{"person": person.pk, "reason": reason} for person, reason in report.refused]
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        body = {"issued": CertificateSerializer(issued, many=True).data, "already": already, "refused": refused}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonInput, responses={200: CertificateSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def revoke(self, request, pk=None):
        data = parse_input(ReasonInput, request)
        try:
            certificate = certificate_revoke(certificate=self.get_object(), by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(CertificateSerializer(certificate).data)


class RegistrationSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)

    class Meta:
        model = Registration
        fields = ["id", "session", "person", "person_name", "status", "queue_number", "created_at", "promoted_at",
                  "cancelled_at"]  # fmt: skip
        read_only_fields = fields


class CancelInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class RegistrationViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Registrations (made on the public form); staff cancel one, and the first waiting takes the seat."""

    queryset = Registration.objects.select_related("person")
    serializer_class = RegistrationSerializer
    branch_field = "session__branch"
    filterset_fields = ["session", "status", "person"]
    cursor_ordering = ("-id",)

    @extend_schema(request=CancelInput, responses={200: RegistrationSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def cancel(self, request, pk=None):
        data = parse_input(CancelInput, request)
        try:
            registration = registration_cancel(registration=self.get_object(), by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(RegistrationSerializer(registration).data)
