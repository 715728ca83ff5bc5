"""Staff API for the warehouse: warehouses and stock movements (stock-in check, transfer,
adjustment, the second keeper's confirmation), each write calling one service of
``donations.services.warehouse``."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from donations.api.base import QUANTITY_TEXT, lot_field, warehouse_field
from donations.api.evidence import evidence_action
from donations.models import (
    MovementKind,
    StockMovement,
    Warehouse,
)
from donations.services.warehouse import (
    stock_adjust,
    stock_in_check,
    stock_movement_cancel,
    stock_movement_confirm,
    stock_transfer,
)
from redcross.api import BranchScopedViewSetMixin, ReasonInput, ServiceChecksPermissions, parse_input, raise_as_drf


class WarehouseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["id", "branch", "name", "address", "is_active"]
        read_only_fields = fields


@extend_schema_field(
    # inline, not a shared enum component: "kind" already names the donation kinds' enum
    {"allOf": [{"type": "string", "enum": MovementKind.values}], "description": "；".join(
        f"{value} {label}" for value, label in MovementKind.choices)}
)  # fmt: skip
class MovementKindField(serializers.ChoiceField):
    pass


class StockMovementSerializer(serializers.ModelSerializer):
    kind = MovementKindField(choices=MovementKind.choices, read_only=True)
    warehouse_name = serializers.CharField(source="warehouse.name", read_only=True)
    item_name = serializers.CharField(source="item.name", read_only=True)
    item_specification = serializers.CharField(source="item.specification", read_only=True)
    item_unit = serializers.CharField(source="item.unit", read_only=True)
    donation_serial = serializers.CharField(source="item.donation.serial", read_only=True)

    class Meta:
        model = StockMovement
        fields = [
            "id", "serial", "warehouse", "warehouse_name", "item", "item_name", "item_specification", "item_unit",
            "donation_serial", "kind", "quantity", "moved_at", "status", "allocation", "transfer_pair",
            "declared_quantity", "shortfall_quantity", "condition", "expiry_date", "reason", "recorded_by",
            "recorded_at", "confirmed_by", "confirmed_at",
        ]  # fmt: skip
        read_only_fields = fields


class StockInInput(serializers.Serializer):
    item = lot_field()
    warehouse = warehouse_field()
    counted_quantity = serializers.CharField(**QUANTITY_TEXT)
    condition = serializers.CharField(max_length=200)
    expiry_date = serializers.DateField(required=False, allow_null=True)
    moved_at = serializers.DateTimeField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class StockTransferInput(serializers.Serializer):
    item = lot_field()
    from_warehouse = warehouse_field()
    to_warehouse = warehouse_field()
    quantity = serializers.CharField(**QUANTITY_TEXT)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    moved_at = serializers.DateTimeField(required=False, allow_null=True)


class StockAdjustInput(serializers.Serializer):
    item = lot_field()
    warehouse = warehouse_field()
    quantity = serializers.CharField(help_text=_("盘盈为正，盘亏、损毁为负"), **QUANTITY_TEXT)
    reason = serializers.CharField(max_length=2000)
    moved_at = serializers.DateTimeField(required=False, allow_null=True)


class WarehouseViewSet(BranchScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Warehouse.objects.all()
    serializer_class = WarehouseSerializer
    filterset_fields = ["branch", "is_active"]
    cursor_ordering = ("-id",)


class StockMovementViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Stock-in checks, transfers and stock-taking adjustments; each counts once a second keeper signs."""

    queryset = StockMovement.objects.select_related("warehouse", "item__donation")
    serializer_class = StockMovementSerializer
    branch_field = "warehouse__branch"
    filterset_fields = {
        "warehouse": ["exact"],
        "kind": ["exact"],
        "status": ["exact"],
        "item": ["exact"],
        "allocation": ["exact"],
        "moved_at": ["gte", "lte"],
    }
    cursor_ordering = ("-id",)
    photos = evidence_action(
        "photos", permission="donations.add_stockmovement", branch_of=lambda movement: movement.warehouse.branch_id
    )

    def _created(self, *movements: StockMovement) -> Response:
        return Response(StockMovementSerializer(movements, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=StockInInput, responses={201: StockMovementSerializer(many=True)})
    @action(detail=False, methods=["post"], url_path="stock-in")
    def stock_in(self, request):
        data = parse_input(StockInInput, request)
        try:
            movement = stock_in_check(by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return self._created(movement)

    @extend_schema(request=StockTransferInput, responses={201: StockMovementSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def transfer(self, request):
        data = parse_input(StockTransferInput, request)
        try:
            out, into = stock_transfer(by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return self._created(out, into)

    @extend_schema(request=StockAdjustInput, responses={201: StockMovementSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def adjust(self, request):
        data = parse_input(StockAdjustInput, request)
        try:
            movement = stock_adjust(by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return self._created(movement)

    @extend_schema(request=None, responses={200: StockMovementSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def sign(self, request, pk=None):
        try:
            movement = stock_movement_confirm(movement=self.get_object(), by=request.user)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(StockMovementSerializer(movement).data)

    @extend_schema(request=ReasonInput, responses={200: StockMovementSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def cancel(self, request, pk=None):
        data = parse_input(ReasonInput, request)
        try:
            movement = stock_movement_cancel(movement=self.get_object(), by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(StockMovementSerializer(movement).data)
