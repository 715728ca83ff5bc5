"""The staff API's one-file evidence uploads (plan documents, payment vouchers, signed sheets,
stock-in photos): ``POST .../<field>/`` (multipart, ``file``) sets it once, ``GET`` downloads it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from donations.services.evidence import evidence_attach
from redcross.api import ServiceChecksPermissions, raise_as_drf
from redcross.uploads import stored_file_download


class EvidenceInput(serializers.Serializer):
    file = serializers.FileField(max_length=200, allow_empty_file=False, help_text="PDF, JPG or PNG")


class EvidenceSerializer(serializers.Serializer):
    field = serializers.CharField()
    name = serializers.CharField()
    size = serializers.IntegerField()


def evidence_action(field: str, *, permission: str, branch_of: Callable) -> Callable:
    """A viewset action at ``<id>/<field>/``: GET downloads the file, POST sets it once
    (``permission`` and the record's branch checked by ``evidence_attach``)."""

    def handler(self, request, pk=None):
        record = self.get_object()
        if request.method == "GET":
            return stored_file_download(getattr(record, field))
        data = EvidenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            record = evidence_attach(
                record=record, field=field, file=data.validated_data["file"], by=request.user,
                permission=permission, branch_id=branch_of(record),
            )  # fmt: skip
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        stored = getattr(record, field)
        return Response({"field": field, "name": PurePath(stored.name).name, "size": stored.size})

    handler.__name__ = field  # the action's name and URL
    handler = extend_schema(
        methods=["POST"], request={"multipart/form-data": EvidenceInput}, responses={200: EvidenceSerializer}
    )(handler)
    handler = extend_schema(methods=["GET"], responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})(
        handler
    )
    return action(
        detail=True,
        methods=["get", "post"],
        url_path=field,
        parser_classes=[MultiPartParser],
        permission_classes=[ServiceChecksPermissions],
    )(handler)
