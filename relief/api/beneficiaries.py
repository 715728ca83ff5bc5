"""Staff API for the beneficiary register and the duplicate review queue.

A beneficiary's ID number is never returned, only masked (the one masking pattern of
``redcross.masking``); the phone, address and sensitive details (illness, income, disability)
are returned only to relief roles (``can_see_details``, as the admin shows them), the phone
masked and the details null for everyone else. Registration is ``beneficiary_find_or_register``:
the same ID number is the same beneficiary, and a shared phone or name + birth date opens a
suspected duplicate that only the reviewer role settles, with a reason."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from redcross.api import (
    BranchScopedViewSetMixin,
    ReasonInput,
    ScopedBranchField,
    ServiceChecksPermissions,
    parse_input,
    raise_as_drf,
)
from redcross.masking import mask_id_number
from relief.models import (
    Beneficiary,
    BeneficiaryDuplicate,
    BeneficiaryKind,
    DuplicateStatus,
    HouseholdMember,
)
from relief.services.beneficiaries import (
    beneficiary_duplicate_clear,
    beneficiary_duplicate_merge,
    beneficiary_find_or_register,
    can_see_details,
)

SEX_CHOICES = [("male", _("男")), ("female", _("女"))]


def sees_details(serializer: serializers.Serializer) -> bool:
    """Whether the requesting user reads the details in full (computed once per response)."""
    root = serializer.root
    if not hasattr(root, "_sees_details"):
        request = serializer.context.get("request")
        root._sees_details = bool(request and can_see_details(request.user))
    return root._sees_details


class HouseholdMemberSerializer(serializers.ModelSerializer):
    id_number_masked = serializers.SerializerMethodField()

    class Meta:
        model = HouseholdMember
        fields = ["id", "name", "relation", "id_number_masked", "birth_date"]
        read_only_fields = fields

    def get_id_number_masked(self, member: HouseholdMember) -> str:
        return mask_id_number(member.id_number)


class BeneficiarySerializer(serializers.ModelSerializer):
    """Names and masked ID numbers for every staff reader; the contact and sensitive details in
    full for relief roles only (``details_visible``)."""

    branch_name = serializers.CharField(source="branch.name", read_only=True)
    id_number_masked = serializers.CharField(source="masked_id_number", read_only=True)
    phone = serializers.SerializerMethodField(help_text=_("救助工作人员可见完整号码，其他人为脱敏号码"))
    address = serializers.SerializerMethodField(help_text=_("仅救助工作人员可见，其他人为 null"))
    illness = serializers.SerializerMethodField(help_text=_("仅救助工作人员可见，其他人为 null"))
    income = serializers.SerializerMethodField(help_text=_("仅救助工作人员可见，其他人为 null"))
    disability = serializers.SerializerMethodField(help_text=_("仅救助工作人员可见，其他人为 null"))
    details_visible = serializers.SerializerMethodField()
    is_minor = serializers.BooleanField(read_only=True)
    open_duplicate = serializers.BooleanField(read_only=True, default=False, help_text=_("有待复核的疑似重复"))
    members = HouseholdMemberSerializer(many=True, read_only=True)

    class Meta:
        model = Beneficiary
        fields = [
            "id", "kind", "branch", "branch_name", "name", "id_number_masked", "phone", "birth_date", "sex",
            "is_minor", "address", "illness", "income", "disability", "details_visible", "members", "merged_into",
            "open_duplicate", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_details_visible(self, beneficiary: Beneficiary) -> bool:
        return sees_details(self)

    def get_phone(self, beneficiary: Beneficiary) -> str:
        return beneficiary.phone if sees_details(self) else beneficiary.masked_phone

    def _detail(self, beneficiary: Beneficiary, field: str) -> str | None:
        return getattr(beneficiary, field) if sees_details(self) else None

    def get_address(self, beneficiary: Beneficiary) -> str | None:
        return self._detail(beneficiary, "address")

    def get_illness(self, beneficiary: Beneficiary) -> str | None:
        return self._detail(beneficiary, "illness")

    def get_income(self, beneficiary: Beneficiary) -> str | None:
        return self._detail(beneficiary, "income")

    def get_disability(self, beneficiary: Beneficiary) -> str | None:
        return self._detail(beneficiary, "disability")


class HouseholdMemberInput(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    relation = serializers.CharField(max_length=20)
    id_number = serializers.CharField(required=False, allow_blank=True, max_length=30, default="")
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)


class BeneficiaryInput(serializers.Serializer):
    branch = ScopedBranchField(label=_("所在区县组织"))
    kind = serializers.ChoiceField(choices=BeneficiaryKind.choices)
    name = serializers.CharField(max_length=50)
    id_number = serializers.CharField(required=False, allow_blank=True, max_length=30, default="")
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30, default="")
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    sex = serializers.ChoiceField(choices=SEX_CHOICES, required=False, allow_blank=True, default="")
    address = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    illness = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    income = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    disability = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    members = HouseholdMemberInput(many=True, required=False, default=list, max_length=50)


class BeneficiaryDuplicateSerializer(serializers.ModelSerializer):
    beneficiary_name = serializers.CharField(source="beneficiary.masked_name", read_only=True)
    candidate_name = serializers.CharField(source="candidate.masked_name", read_only=True)

    class Meta:
        model = BeneficiaryDuplicate
        fields = [
            "id", "beneficiary", "beneficiary_name", "candidate", "candidate_name", "reason", "status",
            "created_at", "resolved_at", "resolved_by", "resolution_reason",
        ]  # fmt: skip
        read_only_fields = fields


class BeneficiaryRegistrationSerializer(serializers.Serializer):
    beneficiary = BeneficiarySerializer()
    created = serializers.BooleanField(help_text=_("false：同一身份证号码的受助人已登记，返回该记录"))
    duplicate_review = serializers.BooleanField(help_text=_("true：疑似重复，已进入复核队列，复核前不能批准其申请"))
    suspected_duplicates = BeneficiaryDuplicateSerializer(many=True)


def _with_duplicate_flag(queryset):
    open_rows = BeneficiaryDuplicate.objects.filter(
        Q(beneficiary=OuterRef("pk")) | Q(candidate=OuterRef("pk")), status=DuplicateStatus.OPEN
    )
    return queryset.annotate(open_duplicate=Exists(open_rows))


class BeneficiaryViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """受助人（户） of the user's branches; registered (found or new) through ``POST``."""

    queryset = Beneficiary.objects.select_related("branch").prefetch_related(
        Prefetch("members", queryset=HouseholdMember.objects.order_by("id"))
    )
    serializer_class = BeneficiarySerializer
    filterset_fields = ["branch", "kind", "merged_into"]
    cursor_ordering = ("-id",)

    def get_queryset(self):
        return _with_duplicate_flag(super().get_queryset())

    @extend_schema(
        request=BeneficiaryInput,
        responses={201: BeneficiaryRegistrationSerializer, 200: BeneficiaryRegistrationSerializer},
    )
    def create(self, request):
        """Find or register: 200 with the registered beneficiary for a known ID number (under the
        same name), 201 for a new one; ``duplicate_review`` says it went to the review queue."""
        data = parse_input(BeneficiaryInput, request)
        try:
            registration = beneficiary_find_or_register(by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        beneficiary = self.get_queryset().get(pk=registration.beneficiary.pk)
        body = BeneficiaryRegistrationSerializer(
            {
                "beneficiary": beneficiary,
                "created": registration.created,
                "duplicate_review": bool(registration.suspected_duplicates),
                "suspected_duplicates": registration.suspected_duplicates,
            },
            context={"request": request},
        ).data
        return Response(body, status=status.HTTP_201_CREATED if registration.created else status.HTTP_200_OK)


class DuplicateViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The duplicate review queue (疑似重复的受助人): open ones unless ``status`` is given; only the
    reviewer role (``relief.review_beneficiaryduplicate``) clears or merges, with a reason."""

    queryset = BeneficiaryDuplicate.objects.select_related("beneficiary", "candidate")
    serializer_class = BeneficiaryDuplicateSerializer
    branch_field = "beneficiary__branch"
    filterset_fields = ["status", "reason", "beneficiary", "candidate"]
    cursor_ordering = ("-id",)

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list" and "status" not in self.request.query_params:
            queryset = queryset.filter(status=DuplicateStatus.OPEN)
        return queryset

    @extend_schema(parameters=[OpenApiParameter("status", enum=DuplicateStatus.values, description="默认 open")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ReasonInput, responses={200: BeneficiaryDuplicateSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def clear(self, request, pk=None):
        """Not the same beneficiary: the applications go on."""
        duplicate = self.get_object()  # scoped first: another district's row is a 404
        data = parse_input(ReasonInput, request)
        try:
            duplicate = beneficiary_duplicate_clear(by=request.user, duplicate=duplicate, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(BeneficiaryDuplicateSerializer(duplicate).data)

    @extend_schema(request=ReasonInput, responses={200: BeneficiaryDuplicateSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def merge(self, request, pk=None):
        """The same beneficiary: applications, aid, shares and members move to the one registered
        first; the later registration stays as a tombstone."""
        duplicate = self.get_object()
        data = parse_input(ReasonInput, request)
        try:
            beneficiary_duplicate_merge(by=request.user, duplicate=duplicate, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(BeneficiaryDuplicateSerializer(self.get_queryset().get(pk=duplicate.pk)).data)
