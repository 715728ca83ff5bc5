"""Building blocks of the donations app's staff API: how a service's errors become 400s, the
permission for actions whose service checks its own rules, fields limited to the user's branches."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from donations.models import (
    DonationItem,
    Recipient,
    Warehouse,
)
from redcross.permissions import StaffModelPermissions
from redcross.scoping import scope_queryset


def raise_as_drf(exc: DjangoValidationError):
    raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})


class ServiceChecksPermissions(StaffModelPermissions):
    """For actions whose service checks its own permission (confirm, issue, reverse): staff who may view."""

    perms_map = {**StaffModelPermissions.perms_map, "POST": StaffModelPermissions.perms_map["GET"]}


QUANTITY_TEXT = {"max_length": 32}


MAX_LINES = 500


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


def recipient_field(**kwargs):
    return ScopedRelatedField(base_queryset=Recipient.objects.filter(is_active=True), label=_("受赠单位"), **kwargs)


def lot_field(**kwargs):
    return ScopedRelatedField(
        base_queryset=DonationItem.objects.all(), branch_field="donation__branch", label=_("物资批次"), **kwargs
    )


def warehouse_field(**kwargs):
    return ScopedRelatedField(base_queryset=Warehouse.objects.filter(is_active=True), **kwargs)


def parse_input(serializer_class, request):
    data = serializer_class(data=request.data, context={"request": request})
    data.is_valid(raise_exception=True)
    return data.validated_data


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)
