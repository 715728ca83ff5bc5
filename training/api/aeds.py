"""Staff API for equipment and the AED registry: batches and what was distributed where (through
``equipment_distribute``, never more than a batch has left), AEDs and their checks (through
``aed_check_record``), with the attention flags staff act on."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from redcross.api import BranchScopedViewSetMixin, ScopedRelatedField, parse_input, raise_as_drf
from training.models import Aed, AedCheckResult, EquipmentBatch, EquipmentDistribution, EquipmentSite
from training.selectors.aeds import aeds_needing_attention
from training.services.aeds import aed_check_record
from training.services.equipment import equipment_distribute


class EquipmentBatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = EquipmentBatch
        fields = ["id", "branch", "kind", "model_name", "quantity", "distributed", "funding_line", "funding",
                  "purchased_on", "supplier"]  # fmt: skip
        read_only_fields = fields


class EquipmentDistributionSerializer(serializers.ModelSerializer):
    site_name = serializers.CharField(source="site.name", read_only=True)

    class Meta:
        model = EquipmentDistribution
        fields = ["id", "batch", "site", "site_name", "quantity", "distributed_on", "received_by_name", "recorded_at"]
        read_only_fields = fields


class DistributeInput(serializers.Serializer):
    site = ScopedRelatedField(base_queryset=EquipmentSite.objects.all(), label=_("学校或场所"))
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    distributed_on = serializers.DateField()
    received_by_name = serializers.CharField(max_length=50)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class EquipmentBatchViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Equipment bought under a funding line (manikins, AEDs, AED trainers, kits) and its distribution."""

    queryset = EquipmentBatch.objects.all()
    serializer_class = EquipmentBatchSerializer
    filterset_fields = ["branch", "kind", "funding_line"]
    cursor_ordering = ("-id",)

    @extend_schema(request=DistributeInput, responses={200: EquipmentDistributionSerializer})
    @action(detail=True, methods=["post"])
    def distribute(self, request, pk=None):
        data = parse_input(DistributeInput, request)
        try:
            distribution = equipment_distribute(batch=self.get_object(), by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(EquipmentDistributionSerializer(distribution).data)


class EquipmentDistributionViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = EquipmentDistribution.objects.select_related("site")
    serializer_class = EquipmentDistributionSerializer
    branch_field = "batch__branch"
    filterset_fields = ["batch", "site"]
    cursor_ordering = ("-id",)


class AedSerializer(serializers.ModelSerializer):
    class Meta:
        model = Aed
        fields = [
            "id", "branch", "place", "address", "location_detail", "level", "latitude", "longitude", "indoor",
            "access", "opening_hours", "operator", "model_name", "serial_number", "status", "last_checked_on",
            "battery_expires_on", "pads_expires_on",
        ]  # fmt: skip
        read_only_fields = fields


class AedCheckInput(serializers.Serializer):
    checked_on = serializers.DateField()
    result = serializers.ChoiceField(choices=AedCheckResult.choices)
    battery_expires_on = serializers.DateField(required=False, allow_null=True)
    pads_expires_on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AedViewSet(BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The AED registry; ``?attention=due`` lists those needing a check (overdue, never checked,
    faulty, battery or pads expiring), as the workbench counts them."""

    queryset = Aed.objects.all()
    serializer_class = AedSerializer
    filterset_fields = ["branch", "status", "indoor", "access"]
    cursor_ordering = ("-id",)

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.request.query_params.get("attention") == "due":
            queryset = queryset.filter(pk__in=aeds_needing_attention(branch_ids=None).values("pk"))
        return queryset

    @extend_schema(request=AedCheckInput, responses={200: AedSerializer})
    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        data = parse_input(AedCheckInput, request)
        try:
            check = aed_check_record(aed=self.get_object(), by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(AedSerializer(check.aed).data)
