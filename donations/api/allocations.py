"""Staff API for where gifts go: allocation plans, cash allocations and goods transfer orders,
the recipients' sign-off and a campaign's books.

Branch-scoped like every staff endpoint; each write parses its input with a small serializer
and calls one service (``donations.services.allocations`` / ``.warehouse``). A service's
``ValidationError`` becomes a 400 naming the field (``lines[0].quantity``), its
``PermissionDenied`` (the two-signature rule included) a 403 with the message.
Routes in ``donations/api/urls.py``; the warehouse endpoints are in ``donations/api/warehouse.py``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, OuterRef, Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from donations.api.base import MAX_LINES, QUANTITY_TEXT, lot_field, recipient_field, warehouse_field
from donations.api.evidence import evidence_action
from donations.models import (
    Allocation,
    AllocationPlan,
    AllocationPlanLine,
    AllocationSource,
    Campaign,
    Donation,
    DonationKind,
    RecipientConfirmation,
)
from donations.selectors.books import campaign_books
from donations.services.allocations import (
    allocation_cancel,
    allocation_confirm,
    allocation_plan_register,
    allocation_register_cash,
    allocation_register_goods,
    recipient_confirmation_record,
)
from redcross.api import (
    BranchScopedViewSetMixin,
    ReasonInput,
    ScopedBranchField,
    ScopedRelatedField,
    ServiceChecksPermissions,
    parse_input,
    raise_as_drf,
)
from redcross.scoping import can_access_branch


class AllocationPlanLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = AllocationPlanLine
        fields = ["id", "campaign", "recipient", "kind", "amount", "item_name", "quantity", "unit", "note"]
        read_only_fields = fields


class AllocationPlanSerializer(serializers.ModelSerializer):
    lines = AllocationPlanLineSerializer(many=True, read_only=True)

    class Meta:
        model = AllocationPlan
        fields = [
            "id", "branch", "document_number", "title", "issuing_body", "issued_on", "note", "lines", "created_by",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class AllocationSourceSerializer(serializers.ModelSerializer):
    donation_serial = serializers.CharField(source="donation.serial", read_only=True)
    item_name = serializers.CharField(source="item.name", read_only=True, allow_null=True)

    class Meta:
        model = AllocationSource
        fields = ["id", "donation", "donation_serial", "item", "item_name", "warehouse", "amount", "quantity"]
        read_only_fields = fields


class AllocationSerializer(serializers.ModelSerializer):
    recipient_name = serializers.CharField(source="recipient.name", read_only=True)
    sources = AllocationSourceSerializer(many=True, read_only=True)
    has_recipient_confirmation = serializers.SerializerMethodField()

    class Meta:
        model = Allocation
        fields = [
            "id", "serial", "branch", "campaign", "recipient", "recipient_name", "kind", "basis", "plan_line",
            "amount", "allocated_on", "voucher_number", "is_retroactive", "status", "note", "sources",
            "has_recipient_confirmation", "registered_by", "registered_at", "confirmed_by", "confirmed_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_has_recipient_confirmation(self, obj: Allocation) -> bool:
        annotated = getattr(obj, "_signed", None)
        if annotated is not None:
            return annotated
        return RecipientConfirmation.objects.filter(allocation=obj).exists()


class RecipientConfirmationSerializer(serializers.ModelSerializer):
    allocation_serial = serializers.CharField(source="allocation.serial", read_only=True)

    class Meta:
        model = RecipientConfirmation
        fields = [
            "id", "allocation", "allocation_serial", "signed_by_name", "signed_at", "quantities_received",
            "amount_received", "note", "recorded_by", "recorded_at",
        ]  # fmt: skip
        read_only_fields = fields


_MONEY = {"max_digits": 20, "decimal_places": 2, "read_only": True}


class BooksSerializer(serializers.Serializer):
    """received = allocated + in stock + cash balance (+ goods written off, with reasons)."""

    campaign = serializers.IntegerField(source="campaign_id", read_only=True)
    branch = serializers.IntegerField(source="branch_id", read_only=True)
    received = serializers.DecimalField(**_MONEY)
    allocated = serializers.DecimalField(**_MONEY)
    in_stock = serializers.DecimalField(**_MONEY)
    cash_balance = serializers.DecimalField(**_MONEY)
    cash_received = serializers.DecimalField(**_MONEY)
    cash_refunded = serializers.DecimalField(**_MONEY)
    cash_allocated = serializers.DecimalField(**_MONEY)
    cash_reserved = serializers.DecimalField(**_MONEY)
    goods_received = serializers.DecimalField(**_MONEY)
    goods_allocated = serializers.DecimalField(**_MONEY)
    goods_in_stock = serializers.DecimalField(**_MONEY)
    goods_awaiting_check = serializers.DecimalField(**_MONEY)
    goods_written_off = serializers.DecimalField(**_MONEY)
    unvalued_lots = serializers.IntegerField(read_only=True)
    donations = serializers.IntegerField(read_only=True)
    is_balanced = serializers.BooleanField(read_only=True)
    discrepancies = serializers.ListField(child=serializers.CharField(), read_only=True)


class PlanLineInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DonationKind.choices)
    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.all(), label=_("募捐活动"))
    recipient = recipient_field()
    amount = serializers.CharField(required=False, allow_null=True, allow_blank=True, **QUANTITY_TEXT)
    item_name = serializers.CharField(required=False, allow_blank=True, max_length=120)
    quantity = serializers.CharField(required=False, allow_null=True, allow_blank=True, **QUANTITY_TEXT)
    unit = serializers.CharField(required=False, allow_blank=True, max_length=20)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class PlanInput(serializers.Serializer):
    branch = ScopedBranchField(label=_("组织"))
    document_number = serializers.CharField(max_length=80)
    title = serializers.CharField(max_length=200)
    issuing_body = serializers.CharField(max_length=120)
    issued_on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    lines = PlanLineInput(many=True, max_length=MAX_LINES)


class CashAllocationInput(serializers.Serializer):
    branch = ScopedBranchField(required=False, label=_("拨付组织"), help_text=_("默认为募捐活动所属组织"))
    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.all(), label=_("募捐活动"))
    recipient = recipient_field()
    amount = serializers.CharField(**QUANTITY_TEXT)
    allocated_on = serializers.DateField()
    plan_line = ScopedRelatedField(
        base_queryset=AllocationPlanLine.objects.filter(kind=DonationKind.CASH),
        branch_field="plan__branch",
        required=False,
        allow_null=True,
    )
    directed_donation = ScopedRelatedField(base_queryset=Donation.objects.all(), required=False, allow_null=True)
    voucher_number = serializers.CharField(required=False, allow_blank=True, max_length=60)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class GoodsLineInput(serializers.Serializer):
    item = lot_field()
    warehouse = warehouse_field()
    quantity = serializers.CharField(**QUANTITY_TEXT)


class GoodsAllocationInput(serializers.Serializer):
    branch = ScopedBranchField(required=False, label=_("调拨组织"), help_text=_("默认为募捐活动所属组织"))
    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.all(), label=_("募捐活动"))
    recipient = recipient_field()
    allocated_on = serializers.DateField()
    plan_line = ScopedRelatedField(
        base_queryset=AllocationPlanLine.objects.filter(kind=DonationKind.IN_KIND),
        branch_field="plan__branch",
        required=False,
        allow_null=True,
    )
    lines = GoodsLineInput(many=True, max_length=MAX_LINES)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RecipientConfirmationInput(serializers.Serializer):
    allocation = ScopedRelatedField(base_queryset=Allocation.objects.all())
    signed_by_name = serializers.CharField(max_length=60)
    signed_at = serializers.DateTimeField()
    quantities_received = serializers.DictField(
        child=serializers.CharField(**QUANTITY_TEXT),
        required=False,
        help_text=_("物资：{款物去向编号: 实收数量}；不填即按调拨数量"),
    )
    amount_received = serializers.CharField(required=False, allow_null=True, allow_blank=True, **QUANTITY_TEXT)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AllocationPlanViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = AllocationPlan.objects.prefetch_related(
        Prefetch("lines", queryset=AllocationPlanLine.objects.order_by("id"))
    )
    serializer_class = AllocationPlanSerializer
    filterset_fields = {"branch": ["exact"], "issued_on": ["exact", "gte", "lte"]}
    cursor_ordering = ("-id",)
    attachment = evidence_action(
        "attachment", permission="donations.add_allocationplan", branch_of=lambda plan: plan.branch_id
    )

    @extend_schema(request=PlanInput, responses={201: AllocationPlanSerializer})
    def create(self, request):
        data = parse_input(PlanInput, request)
        try:
            plan = allocation_plan_register(by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(AllocationPlanSerializer(plan).data, status=status.HTTP_201_CREATED)


class AllocationViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Cash allocations (拨付) and goods transfer orders (物资调拨令)."""

    queryset = (
        Allocation.objects.select_related("recipient")
        .prefetch_related(
            Prefetch("sources", queryset=AllocationSource.objects.select_related("donation", "item").order_by("id"))
        )
        .annotate(_signed=Exists(RecipientConfirmation.objects.filter(allocation=OuterRef("pk"))))
    )
    serializer_class = AllocationSerializer
    filterset_fields = {
        "campaign": ["exact"],
        "kind": ["exact"],
        "status": ["exact"],
        "basis": ["exact"],
        "recipient": ["exact"],
        "recipient__kind": ["exact"],
        "branch": ["exact"],
        "is_retroactive": ["exact"],
        "allocated_on": ["exact", "gte", "lte"],
    }
    cursor_ordering = ("-id",)
    voucher = evidence_action(
        "voucher", permission="donations.add_allocation", branch_of=lambda allocation: allocation.branch_id
    )

    def _created(self, allocation: Allocation) -> Response:
        return Response(AllocationSerializer(allocation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CashAllocationInput, responses={201: AllocationSerializer})
    @action(detail=False, methods=["post"])
    def cash(self, request):
        data = parse_input(CashAllocationInput, request)
        try:
            allocation = allocation_register_cash(by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return self._created(allocation)

    @extend_schema(request=GoodsAllocationInput, responses={201: AllocationSerializer})
    @action(detail=False, methods=["post"])
    def goods(self, request):
        data = parse_input(GoodsAllocationInput, request)
        lines = [dict(line) for line in data.pop("lines")]
        try:
            allocation = allocation_register_goods(by=request.user, lines=lines, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return self._created(allocation)

    @extend_schema(request=None, responses={200: AllocationSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def confirm(self, request, pk=None):
        try:
            allocation = allocation_confirm(allocation=self.get_object(), by=request.user)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(AllocationSerializer(allocation).data)

    @extend_schema(request=ReasonInput, responses={200: AllocationSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def cancel(self, request, pk=None):
        data = parse_input(ReasonInput, request)
        try:
            allocation = allocation_cancel(allocation=self.get_object(), by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(AllocationSerializer(allocation).data)


class RecipientConfirmationViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The recipient counted, checked and took in an allocation (清点、查验、入库)."""

    queryset = RecipientConfirmation.objects.select_related("allocation")
    serializer_class = RecipientConfirmationSerializer
    branch_field = "allocation__branch"
    filterset_fields = ["allocation"]
    cursor_ordering = ("-id",)
    scan = evidence_action(
        "scan", permission="donations.add_recipientconfirmation", branch_of=lambda signed: signed.allocation.branch_id
    )

    @extend_schema(request=RecipientConfirmationInput, responses={201: RecipientConfirmationSerializer})
    def create(self, request):
        data = parse_input(RecipientConfirmationInput, request)
        try:
            confirmation = recipient_confirmation_record(by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(RecipientConfirmationSerializer(confirmation).data, status=status.HTTP_201_CREATED)


class BooksQuery(serializers.Serializer):
    branch = ScopedBranchField(required=False, label=_("组织"))


class CampaignBooksViewSet(viewsets.GenericViewSet):
    """A campaign's books at a branch, computed now: received = allocated + in stock + cash balance."""

    queryset = Campaign.objects.select_related("branch")
    serializer_class = BooksSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "branch", OpenApiTypes.INT, description="组织（默认为募捐活动所属组织，无权查看时为本人所在组织）"
            )
        ],
        responses={200: BooksSerializer},
    )
    def retrieve(self, request, pk=None):
        campaign = self.get_object()
        query = BooksQuery(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        branch = query.validated_data.get("branch")
        if branch is None:
            branch = campaign.branch if can_access_branch(request.user, campaign.branch_id) else request.user.branch
        if branch is None or not can_access_branch(request.user, branch):
            raise PermissionDenied(_("您无权查看其他组织的账目"))
        return Response(BooksSerializer(campaign_books(campaign, branch)).data)
