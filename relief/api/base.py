"""Building blocks of the relief staff API: the fields that offer the user's own projects,
beneficiaries and applications, money inputs, and the one call that turns a service's refusal
into a 400 (generic pieces are the kernel's, in ``redcross.api``)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from redcross.api import ScopedRelatedField, ServiceChecksPermissions
from redcross.scoping import visible_branch_ids
from relief.models import Application, Beneficiary, Project

# money in yuan, two places, as the services take it (money_input refuses above 一百亿)
MONEY = {"max_digits": 13, "decimal_places": 2, "min_value": Decimal("0.01")}
MONEY_OUT = {"max_digits": 14, "decimal_places": 2}
# a primary key PostgreSQL's bigint can hold: a bigger one is a 400 on its field, not a 500
MAX_ID = 2**63 - 1


def projects_serving(user) -> QuerySet[Project]:
    """The projects a user's applications, disbursements and shares may name: those of the user's
    branches and of the branches above them (a district registers its households in the city's
    projects), as the public form offers a project's districts. The project endpoints themselves
    list the user's branches only, as the admin does."""
    ids = visible_branch_ids(user)
    if ids is None:
        return Project.objects.all()
    above: list[int] = []
    if user.branch_id is not None:
        above = [int(part) for part in (user.branch.path or "").strip("/").split("/") if part.isdigit()]
    return Project.objects.filter(branch_id__in=[*ids, *above])


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
