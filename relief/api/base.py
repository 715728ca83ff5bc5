"""Building blocks of the relief staff API: the fields that offer the user's own projects,
beneficiaries and applications, money inputs, and the one call that turns a service's refusal
into a 400 (generic pieces are the kernel's, in ``redcross.api``)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from redcross.api import ScopedRelatedField, ServiceChecksPermissions
from relief.models import Application, Beneficiary, Project
from relief.selectors.choices import projects_serving

# money in yuan, two places, as the services take it (money_input refuses above 一百亿)
MONEY = {"max_digits": 13, "decimal_places": 2, "min_value": Decimal("0.01")}
MONEY_OUT = {"max_digits": 14, "decimal_places": 2}
# a primary key PostgreSQL's bigint can hold: a bigger one is a 400 on its field, not a 500
MAX_ID = 2**63 - 1


@extend_schema_field(OpenApiTypes.INT)
class ServingProjectField(serializers.PrimaryKeyRelatedField):
    """A project of ``projects_serving``."""

    def get_queryset(self):
        request = self.context.get("request")
        return projects_serving(request.user) if request else Project.objects.none()


def project_field(**kwargs) -> ServingProjectField:
    return ServingProjectField(label=_("救助项目"), **kwargs)


def beneficiary_field(**kwargs) -> ScopedRelatedField:
    # merged registrations are tombstones: never offered
    return ScopedRelatedField(base_queryset=Beneficiary.objects.active(), label=_("受助人（户）"), **kwargs)


def application_field(**kwargs) -> ScopedRelatedField:
    return ScopedRelatedField(base_queryset=Application.objects.all(), label=_("救助申请"), **kwargs)


def requires(*perms: str) -> type[ServiceChecksPermissions]:
    """Staff who may view, holding ``perms`` too: for an action whose service checks nothing when
    there is nothing to do (counting a project's waiting allocations), as the admin's action does."""

    class Requires(ServiceChecksPermissions):
        def has_permission(self, request, view):
            return super().has_permission(request, view) and request.user.has_perms(perms)

    return Requires
