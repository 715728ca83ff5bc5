"""Staff API for sessions (培训班): creation with qualified instructors, the status life cycle
and attendance, each write calling one service of ``training.services.sessions``."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from redcross.api import (
    BranchScopedViewSetMixin,
    ScopedBranchField,
    ScopedRelatedField,
    parse_input,
    raise_as_drf,
)
from redcross.models import Person
from training.models import Attendance, Audience, CourseKind, FundingLine, Session, SessionStatus
from training.services.sessions import attendance_record, session_create, session_instructors_set, session_set_status

_HOURS = {"max_digits": 5, "decimal_places": 1, "min_value": 0}
_COORDINATE = {"max_digits": 9, "decimal_places": 6, "required": False, "allow_null": True}


def person_field(**kwargs):
    # a person of the user's branches, as the admin's autocomplete offers; merged records never
    return ScopedRelatedField(base_queryset=Person.objects.filter(merged_into__isnull=True), **kwargs)


class SessionSerializer(serializers.ModelSerializer):
    instructor_names = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = [
            "id", "branch", "title", "kind", "audience", "is_outdoor", "venue", "latitude", "longitude",
            "starts_at", "ends_at", "hours", "capacity", "funding_line", "status", "people_reached",
            "instructors", "instructor_names", "created_by", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_instructor_names(self, session: Session) -> list[str]:
        return [person.name for person in session.instructors.all()]


class SessionInput(serializers.Serializer):
    branch = ScopedBranchField(label=_("主办组织"))
    title = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=CourseKind.choices)
    audience = serializers.ChoiceField(choices=Audience.choices)
    venue = serializers.CharField(max_length=200)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    capacity = serializers.IntegerField(min_value=0, max_value=100_000, required=False, default=0)
    hours = serializers.DecimalField(required=False, allow_null=True, max_value=999, **_HOURS)
    is_outdoor = serializers.BooleanField(required=False, default=False)
    latitude = serializers.DecimalField(min_value=-90, max_value=90, **_COORDINATE)
    longitude = serializers.DecimalField(min_value=-180, max_value=180, **_COORDINATE)
    funding_line = serializers.ChoiceField(choices=FundingLine.choices, required=False, allow_blank=True, default="")
    instructors = person_field(many=True, required=False, label=_("授课师资"))


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=SessionStatus.choices)
    people_reached = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False, allow_null=True)


class InstructorsInput(serializers.Serializer):
    instructors = person_field(many=True, label=_("授课师资"))


class AttendanceSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)

    class Meta:
        model = Attendance
        fields = ["id", "session", "person", "person_name", "hours_attended", "recorded_by", "recorded_at"]
        read_only_fields = fields


class AttendanceInput(serializers.Serializer):
    person = person_field(label=_("学员"))
    hours_attended = serializers.DecimalField(max_value=999, **_HOURS)


class SessionViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Sessions, planned → open for registration → held → closed; outdoor events count people reached."""

    queryset = Session.objects.prefetch_related("instructors")
    serializer_class = SessionSerializer
    filterset_fields = {
        "branch": ["exact"],
        "kind": ["exact"],
        "audience": ["exact"],
        "status": ["exact"],
        "is_outdoor": ["exact"],
        "starts_at": ["gte", "lte"],
    }
    cursor_ordering = ("-id",)

    def _session(self, session: Session) -> Response:
        return Response(SessionSerializer(Session.objects.prefetch_related("instructors").get(pk=session.pk)).data)

    @extend_schema(request=SessionInput, responses={201: SessionSerializer})
    def create(self, request):
        data = parse_input(SessionInput, request)
        try:
            session = session_create(by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        response = self._session(session)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=StatusInput, responses={200: SessionSerializer})
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        try:
            session = session_set_status(
                session=self.get_object(), by=request.user, **parse_input(StatusInput, request)
            )
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return self._session(session)

    @extend_schema(request=InstructorsInput, responses={200: SessionSerializer})
    @action(detail=True, methods=["post"])
    def instructors(self, request, pk=None):
        data = parse_input(InstructorsInput, request)
        try:
            session = session_instructors_set(session=self.get_object(), by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return self._session(session)

    @extend_schema(request=AttendanceInput, responses={200: AttendanceSerializer})
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        data = parse_input(AttendanceInput, request)
        try:
            attendance = attendance_record(session=self.get_object(), by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(AttendanceSerializer(attendance).data)


class AttendanceViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Attendance per trainee; recorded through ``POST sessions/{id}/attendance/``."""

    queryset = Attendance.objects.select_related("person")
    serializer_class = AttendanceSerializer
    branch_field = "session__branch"
    filterset_fields = ["session", "person"]
    cursor_ordering = ("-id",)
