"""Staff API building blocks every app uses: branch scoping, fields limited to the user's
branches, a service's errors as 400s, input parsing, the permission for service-checked actions."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from redcross.models import Branch
from redcross.permissions import StaffModelPermissions
from redcross.scoping import can_access_branch, scope_queryset, visible_branches


def raise_as_drf(exc: DjangoValidationError):
    raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})


class ServiceChecksPermissions(StaffModelPermissions):
    """For actions whose service checks its own permission (confirm, issue, reverse): staff who may view."""

    perms_map = {**StaffModelPermissions.perms_map, "POST": StaffModelPermissions.perms_map["GET"]}


@extend_schema_field(OpenApiTypes.INT)
class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key limited to the rows of the requesting user's branches."""

    def __init__(self, *, base_queryset, branch_field: str = "branch", **kwargs) -> None:
        self.base_queryset = base_queryset
        self.branch_field = branch_field
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return self.base_queryset.none()
        return scope_queryset(self.base_queryset.all(), request.user, branch_field=self.branch_field)


def parse_input(serializer_class, request):
    data = serializer_class(data=request.data, context={"request": request})
    data.is_valid(raise_exception=True)
    return data.validated_data


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class BranchScopedViewSetMixin:
    """Rows of the user's subtree only; writes into another branch are refused.

    ``branch_field`` is the lookup from a row to its branch (see
    ``redcross.scoping.scope_queryset``); ``branch_write_field`` is the
    serializer field that names the branch on create and update.
    """

    branch_field = "branch"
    branch_write_field = "branch"

    def get_queryset(self):
        return scope_queryset(super().get_queryset(), self.request.user, branch_field=self.branch_field)

    def _check_branch(self, serializer) -> None:
        branch = serializer.validated_data.get(self.branch_write_field)
        if branch is not None and not can_access_branch(self.request.user, branch):
            raise ValidationError({self.branch_write_field: [_("您无权操作其他组织的数据")]})

    def perform_create(self, serializer):
        self._check_branch(serializer)
        super().perform_create(serializer)

    def perform_update(self, serializer):
        self._check_branch(serializer)
        super().perform_update(serializer)


@extend_schema_field(OpenApiTypes.INT)
class ScopedBranchField(serializers.PrimaryKeyRelatedField):
    """A branch choice limited to the requesting user's subtree."""

    def get_queryset(self):
        request = self.context.get("request")
        return visible_branches(request.user) if request else Branch.objects.none()


class BranchSerializer(serializers.ModelSerializer):
    parent = ScopedBranchField(allow_null=True, required=False, label=_("上级组织"))

    class Meta:
        model = Branch
        fields = [
            "id",
            "name",
            "short_name",
            "code",
            "level",
            "grassroots_kind",
            "parent",
            "address",
            "phone",
            "email",
            "unified_social_credit_code",
            "public_fundraising_certificate",
            "is_active",
        ]

    def validate(self, attrs):
        # the model's own rules (levels, cycles, grassroots kind) in one place
        instance = Branch(**{**self._current_values(), **attrs})
        try:
            instance.clean()
        except Exception as exc:  # django ValidationError -> DRF's
            if hasattr(exc, "message_dict"):
                raise ValidationError(exc.message_dict) from exc
            raise
        return attrs

    def _current_values(self) -> dict:
        if self.instance is None:
            return {}
        return {field: getattr(self.instance, field) for field in self.Meta.fields if field != "parent"} | {
            "parent": self.instance.parent,
            "pk": self.instance.pk,
            "path": self.instance.path,
        }


class BranchViewSet(BranchScopedViewSetMixin, viewsets.ModelViewSet):
    """The branch tree. Branches are deactivated, never deleted."""

    queryset = Branch.objects.select_related("parent")
    serializer_class = BranchSerializer
    branch_field = "id"
    branch_write_field = "parent"
    filterset_fields = ["level", "grassroots_kind", "is_active", "parent"]
    http_method_names = ["get", "post", "patch", "put", "head", "options"]
    cursor_ordering = ("path", "id")


def exception_handler(exc, context):
    """DRF's handler, but a Django PermissionDenied keeps its message (e.g. the dual-signature rule)."""
    from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
    from rest_framework import exceptions
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoPermissionDenied) and str(exc):
        exc = exceptions.PermissionDenied(detail=str(exc))
    return drf_exception_handler(exc, context)
