"""Staff API for donations and receipts: branch-scoped; every write calls a service."""

from __future__ import annotations

from pathlib import PurePath

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from donations.models import (
    Attachment,
    Campaign,
    Channel,
    Donation,
    DonationItem,
    DonationKind,
    Donor,
    Receipt,
    Recipient,
)
from donations.services.evidence import donation_attachment_add
from donations.services.intake import donation_confirm, donation_register
from donations.services.receipts import receipt_issue, receipt_reverse
from redcross.api import BranchScopedViewSetMixin, ScopedBranchField, ServiceChecksPermissions, raise_as_drf
from redcross.uploads import stored_file_download


class DonationItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = DonationItem
        fields = ["name", "specification", "quantity", "unit", "unit_value", "value_basis", "expiry_date"]


class DonationSerializer(serializers.ModelSerializer):
    items = DonationItemSerializer(many=True, read_only=True)
    donor_name = serializers.CharField(source="donor.name", read_only=True)

    class Meta:
        model = Donation
        fields = [
            "id", "serial", "branch", "donor", "donor_name", "campaign", "kind", "channel",
            "channel_transaction_id", "received_at", "amount", "items", "designated_recipient", "wish",
            "is_retroactive", "status", "registered_by", "registered_at", "confirmed_by", "confirmed_at",
        ]  # fmt: skip
        read_only_fields = fields


class DonationRegisterSerializer(serializers.Serializer):
    """Input of ``donation_register``; the service does the validation that matters."""

    branch = ScopedBranchField(label=_("接收组织"))
    donor = serializers.PrimaryKeyRelatedField(queryset=Donor.objects.all(), label=_("捐赠人"))
    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.all(), label=_("募捐活动"))
    kind = serializers.ChoiceField(choices=DonationKind.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    channel_transaction_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    received_at = serializers.DateTimeField()
    amount = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=32)
    items = serializers.ListField(child=serializers.DictField(), required=False, max_length=500)
    designated_recipient = serializers.PrimaryKeyRelatedField(
        queryset=Recipient.objects.all(), required=False, allow_null=True
    )
    wish = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    is_retroactive = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ReceiptSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="number_display")

    class Meta:
        model = Receipt
        fields = [
            "id", "donation", "invoice_code", "number", "check_code", "issued_at", "payer_name", "payer_credit_code",
            "lines", "total_amount", "total_in_words", "remark", "payee", "reviewer_name", "issuer_name", "status",
            "replaces", "pdf_status",
        ]  # fmt: skip
        read_only_fields = fields


class ReverseInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)
    reissue = serializers.BooleanField(default=True)


class AttachmentSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    size = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "kind", "name", "size", "uploaded_at"]
        read_only_fields = fields

    def get_name(self, attachment: Attachment) -> str:
        return PurePath(attachment.file.name).name

    def get_size(self, attachment: Attachment) -> int | None:
        try:
            return attachment.file.size
        except OSError:  # the file went missing from storage: the record still lists it
            return None


class AttachmentInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Attachment.Kind.choices)
    file = serializers.FileField(max_length=200, allow_empty_file=False, help_text="PDF, JPG or PNG")


class DonationViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = Donation.objects.select_related("donor").prefetch_related(
        Prefetch("items", queryset=DonationItem.objects.order_by("id"))
    )
    serializer_class = DonationSerializer
    filterset_fields = ["status", "kind", "channel", "campaign", "branch"]
    cursor_ordering = ("-id",)

    @extend_schema(request=DonationRegisterSerializer, responses={201: DonationSerializer})
    def create(self, request):
        data = DonationRegisterSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        try:
            donation = donation_register(by=request.user, **data.validated_data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(DonationSerializer(donation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: DonationSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def confirm(self, request, pk=None):
        try:
            donation = donation_confirm(donation=self.get_object(), by=request.user)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(DonationSerializer(donation).data)

    @extend_schema(methods=["GET"], responses={200: AttachmentSerializer(many=True)})
    @extend_schema(
        methods=["POST"], request={"multipart/form-data": AttachmentInput}, responses={201: AttachmentSerializer}
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser],
        permission_classes=[ServiceChecksPermissions],
        pagination_class=None,
    )
    def attachments(self, request, pk=None):
        """The donation's letters, agreements, bank slips and invoices; POST adds one (multipart)."""
        donation = self.get_object()
        if request.method == "GET":
            return Response(AttachmentSerializer(donation.attachments.order_by("id"), many=True).data)
        data = AttachmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            attachment = donation_attachment_add(donation=donation, by=request.user, **data.validated_data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>[0-9]{1,18})")
    def attachment_file(self, request, pk=None, attachment_id=None):
        """One attachment's file, as a download."""
        attachment = self.get_object().attachments.filter(pk=attachment_id).first()
        if attachment is None:
            raise NotFound
        return stored_file_download(attachment.file)

    @extend_schema(request=None, responses={201: ReceiptSerializer})
    @action(detail=True, methods=["post"], url_path="issue-receipt", permission_classes=[ServiceChecksPermissions])
    def issue_receipt(self, request, pk=None):
        try:
            receipt = receipt_issue(donation=self.get_object(), by=request.user)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(ReceiptSerializer(receipt).data, status=status.HTTP_201_CREATED)


class ReceiptViewSet(BranchScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Receipt.objects.all()
    serializer_class = ReceiptSerializer
    filterset_fields = ["status", "year", "donation"]
    cursor_ordering = ("-id",)

    @extend_schema(request=ReverseInput, responses={200: ReceiptSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def reverse(self, request, pk=None):
        data = ReverseInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            new = receipt_reverse(receipt=self.get_object(), by=request.user, **data.validated_data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(ReceiptSerializer(new).data if new else {"reversed": True})
