"""Staff API for disbursements (救助发放) and 博爱家园 shares: one disbursement (``aid_disburse``),
a bank transfer batch of a project's approved applications (``aid_disburse_batch``), the second
signature on cash (``aid_confirm``), the recipient's signature or thumbprint scan
(``aid_receipt_record``), withdrawal of unsigned cash with a reason (``aid_cancel``) and a
household's shares (``livelihood_share_record``). Caps, funds and "no double aid" are the
services' checks; a refusal is a 400 naming the field."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from redcross.api import BranchScopedViewSetMixin, ReasonInput, ServiceChecksPermissions, parse_input, raise_as_drf
from redcross.scoping import scope_queryset
from redcross.uploads import stored_file_download
from relief.api.base import MAX_ID, MONEY, application_field, beneficiary_field, project_field
from relief.models import Aid, AidGoodsLine, AidMethod, Application, ApplicationStatus, LivelihoodShare
from relief.services.aid import (
    aid_cancel,
    aid_confirm,
    aid_disburse,
    aid_disburse_batch,
    aid_receipt_record,
    livelihood_share_record,
)

MAX_BATCH = 5000


class AidGoodsLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = AidGoodsLine
        fields = ["source", "quantity", "value"]
        read_only_fields = fields


class AidSerializer(serializers.ModelSerializer):
    beneficiary_name = serializers.CharField(source="beneficiary.masked_name", read_only=True)
    goods_lines = AidGoodsLineSerializer(many=True, read_only=True)
    has_voucher = serializers.SerializerMethodField()
    has_receipt_scan = serializers.SerializerMethodField()

    class Meta:
        model = Aid
        fields = [
            "id", "number", "project", "application", "beneficiary", "beneficiary_name", "branch", "purpose",
            "period", "method", "amount", "goods_value", "goods_lines", "disbursed_on", "year", "voucher_number",
            "has_voucher", "has_receipt_scan", "status", "registered_by", "registered_at", "confirmed_by",
            "confirmed_at", "cancel_reason",
        ]  # fmt: skip
        read_only_fields = fields

    def get_has_voucher(self, aid: Aid) -> bool:
        return bool(aid.voucher)

    def get_has_receipt_scan(self, aid: Aid) -> bool:
        return bool(aid.receipt_scan)


class AidGoodsInput(serializers.Serializer):
    source = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=_("本项目调拨令调入的物资批次"))
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0)


class AidDisburseInput(serializers.Serializer):
    application = application_field()
    method = serializers.ChoiceField(choices=AidMethod.choices)
    disbursed_on = serializers.DateField(required=False, allow_null=True, default=None)
    amount = serializers.DecimalField(
        required=False, allow_null=True, default=None, help_text=_("不填则为批准金额"), **MONEY
    )
    goods = AidGoodsInput(many=True, required=False, default=list, max_length=100)
    voucher_number = serializers.CharField(required=False, allow_blank=True, max_length=60, default="")
    voucher = serializers.FileField(required=False, allow_null=True, default=None, max_length=200)
    receipt_scan = serializers.FileField(required=False, allow_null=True, default=None, max_length=200)


class AidBatchInput(serializers.Serializer):
    project = project_field()
    applications = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=MAX_BATCH,
        help_text=_("不填则为本项目在您所辖组织内全部已批准的申请"),
    )
    voucher_number = serializers.CharField(max_length=60)
    disbursed_on = serializers.DateField(required=False, allow_null=True, default=None)


class AidBatchRefusedSerializer(serializers.Serializer):
    number = serializers.CharField(help_text=_("申请编号"))
    reason = serializers.CharField()


class AidBatchSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    refused = AidBatchRefusedSerializer(many=True)


class AidReceiptScanInput(serializers.Serializer):
    receipt_scan = serializers.FileField(max_length=200, allow_empty_file=False, help_text="PDF, JPG or PNG")


class AidViewSet(BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """救助发放 of the user's branches: bank transfer (paid at once), cash (counts once a second
    person signs) or goods from the project's transfer orders."""

    queryset = Aid.objects.select_related("beneficiary").prefetch_related("goods_lines")
    serializer_class = AidSerializer
    filterset_fields = ["project", "application", "beneficiary", "status", "method", "purpose", "year"]
    cursor_ordering = ("-id",)

    def _fresh(self, aid: Aid, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=aid.pk)).data, status=code)

    @extend_schema(request=AidDisburseInput, responses={201: AidSerializer})
    def create(self, request):
        """Disburse what an approved application was granted (files in multipart)."""
        data = parse_input(AidDisburseInput, request)
        try:
            aid = aid_disburse(by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return self._fresh(aid, status.HTTP_201_CREATED)

    @extend_schema(request=AidBatchInput, responses={200: AidBatchSerializer})
    @action(detail=False, methods=["post"])
    def batch(self, request):
        """One bank transfer batch (its voucher number) for approved applications of one project:
        the same checks as one disbursement; the refused are listed with the reason."""
        data = parse_input(AidBatchInput, request)
        project = data["project"]
        rows = scope_queryset(Application.objects.filter(project=project), request.user)
        if "applications" in data:
            wanted = set(data["applications"])
            rows = list(rows.filter(pk__in=wanted))
            missing = sorted(wanted - {row.pk for row in rows})
            if missing:
                message = _gettext("不是本项目在您所辖组织内的申请：%(ids)s") % {
                    "ids": ", ".join(map(str, missing[:20]))
                }
                raise serializers.ValidationError({"applications": [message]})
        else:
            rows = list(rows.filter(status=ApplicationStatus.APPROVED).order_by("pk"))
        try:
            result = aid_disburse_batch(
                by=request.user, project=project, applications=rows, voucher_number=data["voucher_number"],
                disbursed_on=data.get("disbursed_on"),
            )  # fmt: skip
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        refused = [{"number": number, "reason": reason} for number, reason in result.refused.items()]
        return Response(AidBatchSerializer({"done": result.done, "refused": refused}).data)

    @extend_schema(request=None, responses={200: AidSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def confirm(self, request, pk=None):
        """双人双签: the second signature on cash handed over in cash, never the registrar's (403)."""
        try:
            aid = aid_confirm(by=request.user, aid=self.get_object())
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return self._fresh(aid)

    @extend_schema(methods=["GET"], responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @extend_schema(
        methods=["POST"], request={"multipart/form-data": AidReceiptScanInput}, responses={200: AidSerializer}
    )
    @action(
        detail=True, methods=["get", "post"], url_path="receipt-scan", parser_classes=[MultiPartParser],
        permission_classes=[ServiceChecksPermissions],
    )  # fmt: skip
    def receipt_scan(self, request, pk=None):
        """The recipient's signature or thumbprint scan: GET downloads it, POST records it."""
        aid = self.get_object()
        if request.method == "GET":
            return stored_file_download(aid.receipt_scan)
        data = AidReceiptScanInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            aid = aid_receipt_record(by=request.user, aid=aid, **data.validated_data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return self._fresh(aid)

    @extend_schema(request=ReasonInput, responses={200: AidSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def cancel(self, request, pk=None):
        """Withdraw cash not yet signed for by the second person; the money returns to the project."""
        aid = self.get_object()  # scoped first: another district's row is a 404
        data = parse_input(ReasonInput, request)
        try:
            aid = aid_cancel(by=request.user, aid=aid, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return self._fresh(aid)


class LivelihoodShareSerializer(serializers.ModelSerializer):
    beneficiary_name = serializers.CharField(source="beneficiary.masked_name", read_only=True)

    class Meta:
        model = LivelihoodShare
        fields = ["id", "project", "beneficiary", "beneficiary_name", "year", "shares", "recorded_by", "recorded_at"]
        read_only_fields = fields


class LivelihoodShareInput(serializers.Serializer):
    project = project_field()
    beneficiary = beneficiary_field()
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    shares = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)


class LivelihoodShareViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """博爱家园 shares per household and year; ``POST`` records (or corrects) one. The year's
    dividends are paid through ``POST projects/{id}/dividends/``."""

    queryset = LivelihoodShare.objects.select_related("beneficiary")
    serializer_class = LivelihoodShareSerializer
    branch_field = "beneficiary__branch"
    filterset_fields = ["project", "beneficiary", "year"]
    cursor_ordering = ("-id",)

    @extend_schema(request=LivelihoodShareInput, responses={201: LivelihoodShareSerializer})
    def create(self, request):
        data = parse_input(LivelihoodShareInput, request)
        try:
            share = livelihood_share_record(by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(LivelihoodShareSerializer(share).data, status=status.HTTP_201_CREATED)
