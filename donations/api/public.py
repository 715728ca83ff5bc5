"""Open data API (公开数据接口): read-only, no login, throttled per client, in the OpenAPI schema.

Everything here is what the public pages show and nothing more: donors by their public
name (organisations in full, persons masked unless they consented, anonymous as 爱心人士), no
phone, ID number or address, no recipient's signer. Lists are keyset-paginated (``cursor``),
never counted.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from donations.models import Campaign, Donation
from donations.selectors.campaigns import (
    campaign_summary,
    campaign_totals,
    public_allocations_page,
    public_campaigns,
)
from donations.selectors.honor_roll import (
    MAX_QUERY_LENGTH,
    honor_roll_filters,
    honor_roll_page,
    honor_roll_rows,
)
from donations.selectors.trace import donation_trace

PAGE = 50


class PublicThrottle(AnonRateThrottle):
    scope = "public"


class PublicViewSet(viewsets.ViewSet):
    """No authentication (so no session, no CSRF) and the public throttle."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicThrottle]
    pagination_class = None


REFUSED = OpenApiResponse(
    response=OpenApiTypes.OBJECT, description="A filter or cursor refused: each field named with its message"
)
NOT_FOUND = OpenApiResponse(response=OpenApiTypes.OBJECT, description="No such public record")


def page_of(serializer: type[serializers.Serializer], name: str) -> serializers.Serializer:
    """One page of a cursor-paged list: ``{"results": [...], "next": "<cursor or empty>"}``.

    Marked ``many=False``: drf-spectacular would otherwise document a list action's answer as
    an array of pages, which is not what the API sends."""
    page = extend_schema_serializer(many=False)(
        type(name, (serializers.Serializer,), {
            "results": serializer(many=True),
            "next": serializers.CharField(allow_blank=True, help_text="下一页的 cursor；最后一页为空"),
        })
    )  # fmt: skip
    return page()


def _django_to_drf(error: DjangoValidationError) -> ValidationError:
    return ValidationError(error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages})


class PublicDonationSerializer(serializers.Serializer):
    serial = serializers.CharField()
    received_at = serializers.DateTimeField()
    donor_name = serializers.CharField(help_text="公开名称：单位全称；个人按本人意愿全名或隐去部分；匿名为“爱心人士”")
    kind = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    goods_summary = serializers.CharField()
    goods_value = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    campaign = serializers.CharField()
    campaign_slug = serializers.CharField()
    channel_category = serializers.CharField()
    designated_recipient = serializers.CharField()
    is_retroactive = serializers.BooleanField()


class PublicTraceStepSerializer(serializers.Serializer):
    allocation_serial = serializers.CharField()
    allocated_on = serializers.DateField()
    recipient_name = serializers.CharField()
    recipient_kind = serializers.CharField()
    basis = serializers.CharField()
    is_retroactive = serializers.BooleanField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    item_name = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, allow_null=True)
    unit = serializers.CharField()
    value = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    plan_document_number = serializers.CharField()
    recipient_signed_at = serializers.DateTimeField(allow_null=True)
    bulletin = serializers.CharField(help_text="公布该拨付的使用公告，如“使用公告第3期”；尚未公布为空")
    bulletin_url = serializers.CharField(help_text="该使用公告的公开页面路径")
    outcome = serializers.CharField(help_text="受赠方的使用结果，仅计数、不含个人信息，如“已帮助 195 户”")
    outcome_url = serializers.CharField(help_text="使用结果的公开页面路径，如救助项目页")


ROLL_PARAMETERS = [
    OpenApiParameter("q", str, description=f"单位名称（或同意公开全名的个人）或流水号，最多 {MAX_QUERY_LENGTH} 字"),
    OpenApiParameter("campaign", str, description="募捐活动 slug"),
    OpenApiParameter("kind", str, enum=["cash", "in_kind"]),
    OpenApiParameter("branch", str, description="接收组织代码（含下级组织）"),
    OpenApiParameter("from", OpenApiTypes.DATE),
    OpenApiParameter("to", OpenApiTypes.DATE),
    OpenApiParameter("cursor", str, description="上一页返回的 next"),
]


@extend_schema(tags=["open data"])
class PublicDonationViewSet(PublicViewSet):
    """爱心榜单: every confirmed donation, newest first, as the public pages show it."""

    lookup_field = "serial"
    lookup_value_regex = "[A-Za-z0-9-]{1,30}"

    @extend_schema(
        parameters=ROLL_PARAMETERS,
        responses={200: page_of(PublicDonationSerializer, "PublicDonationPage"), 400: REFUSED},
    )
    def list(self, request):
        try:
            filters = honor_roll_filters(request.query_params)
            page = honor_roll_page(filters, cursor=request.query_params.get("cursor", ""), size=PAGE)
        except DjangoValidationError as error:
            raise _django_to_drf(error) from None
        rows = [{k: v for k, v in row._asdict().items() if k != "pk"} for row in page.rows]
        return Response({"results": PublicDonationSerializer(rows, many=True).data, "next": page.next_cursor})

    @extend_schema(
        responses={
            200: inline_serializer(
                "PublicDonationDetail",
                {"donation": PublicDonationSerializer(), "trace": PublicTraceStepSerializer(many=True)},
            ),
            404: NOT_FOUND,
        },
    )
    def retrieve(self, request, serial: str = ""):
        donations = Donation.objects.public().filter(serial=serial.upper())
        rows = honor_roll_rows(donations)
        if not rows:
            raise NotFound()
        donation = Donation.objects.get(serial=rows[0].serial)
        trace = donation_trace(donation)
        row = {k: v for k, v in rows[0]._asdict().items() if k != "pk"}
        return Response(
            {
                "donation": PublicDonationSerializer(row).data,
                "trace": PublicTraceStepSerializer([step.__dict__ for step in trace.steps], many=True).data,
            }
        )


class PublicCampaignSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    is_emergency = serializers.BooleanField()
    filing_number = serializers.CharField()
    branch = serializers.CharField(source="branch.name")
    starts_on = serializers.DateField(allow_null=True)
    ends_on = serializers.DateField(allow_null=True)
    target_amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class PublicCampaignTotalsSerializer(PublicCampaignSerializer):
    donations = serializers.IntegerField(source="confirmed_donations")
    cash_received = serializers.DecimalField(max_digits=16, decimal_places=2)


class PublicCampaignBooksSerializer(serializers.Serializer):
    donations = serializers.IntegerField()
    cash_received = serializers.DecimalField(max_digits=16, decimal_places=2)
    goods_received = serializers.DecimalField(max_digits=16, decimal_places=2)
    received = serializers.DecimalField(max_digits=16, decimal_places=2)
    allocated = serializers.DecimalField(max_digits=16, decimal_places=2)
    in_stock = serializers.DecimalField(max_digits=16, decimal_places=2)
    cash_balance = serializers.DecimalField(max_digits=16, decimal_places=2)
    written_off = serializers.DecimalField(max_digits=16, decimal_places=2)
    is_balanced = serializers.BooleanField()
    last_checked_at = serializers.DateTimeField(allow_null=True)


@extend_schema(tags=["open data"])
class PublicCampaignViewSet(PublicViewSet):
    """募捐活动 with what they received; one campaign with its books (received = allocated + in stock +
    cash balance)."""

    lookup_field = "slug"
    lookup_value_regex = "[-a-zA-Z0-9_]{1,80}"

    @extend_schema(responses=PublicCampaignTotalsSerializer(many=True))
    def list(self, request):
        campaigns = list(public_campaigns()[:200])
        totals = campaign_totals(campaigns)
        for campaign in campaigns:
            received = totals.get(campaign.pk)
            campaign.confirmed_donations, campaign.cash_received = (
                (received.donations, received.cash) if received else (0, 0)
            )
        return Response(PublicCampaignTotalsSerializer(campaigns, many=True).data)

    @extend_schema(
        responses={
            200: inline_serializer(
                "PublicCampaignDetail",
                {"campaign": PublicCampaignSerializer(), "books": PublicCampaignBooksSerializer()},
            ),
            404: NOT_FOUND,
        },
    )
    def retrieve(self, request, slug: str = ""):
        campaign = Campaign.objects.select_related("branch").filter(slug=slug).first()
        if campaign is None:
            raise NotFound()
        summary = campaign_summary(campaign)
        books = {field: getattr(summary, field) for field in PublicCampaignBooksSerializer().fields}
        return Response(
            {"campaign": PublicCampaignSerializer(campaign).data, "books": PublicCampaignBooksSerializer(books).data}
        )


class PublicAllocationSerializer(serializers.Serializer):
    serial = serializers.CharField()
    allocated_on = serializers.DateField()
    campaign = serializers.CharField(source="campaign.slug")
    recipient = serializers.CharField(source="recipient.name")
    recipient_kind = serializers.CharField(source="recipient.get_kind_display")
    kind = serializers.CharField()
    basis = serializers.CharField(source="get_basis_display")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    goods = serializers.SerializerMethodField()
    plan_document_number = serializers.SerializerMethodField()
    is_retroactive = serializers.BooleanField()
    recipient_signed_at = serializers.SerializerMethodField()

    def get_goods(self, allocation) -> list[dict]:
        return [
            {"item": s.item.name, "quantity": str(s.quantity), "unit": s.item.unit}
            for s in allocation.sources.all()
            if s.item_id
        ]

    def get_plan_document_number(self, allocation) -> str:
        return allocation.plan_line.plan.document_number if allocation.plan_line_id else ""

    def get_recipient_signed_at(self, allocation) -> str | None:
        confirmation = getattr(allocation, "recipient_confirmation", None)
        return confirmation.signed_at.isoformat() if confirmation else None


@extend_schema(tags=["open data"])
class PublicAllocationViewSet(PublicViewSet):
    """拨付: confirmed allocations of cash and goods, newest first."""

    @extend_schema(
        parameters=[OpenApiParameter("campaign", str, description="募捐活动 slug"), OpenApiParameter("cursor", str)],
        responses={200: page_of(PublicAllocationSerializer, "PublicAllocationPage"), 400: REFUSED},
    )
    def list(self, request):
        try:
            page = public_allocations_page(
                campaign_slug=request.query_params.get("campaign", ""),
                cursor=request.query_params.get("cursor", ""),
                size=PAGE,
            )
        except DjangoValidationError as error:
            raise _django_to_drf(error) from None
        return Response(
            {"results": PublicAllocationSerializer(page.allocations, many=True).data, "next": page.next_cursor}
        )


class PublicBulletinSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    branch = serializers.CharField(source="branch.code")
    branch_name = serializers.CharField(source="branch.name")
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    number = serializers.IntegerField()
    title = serializers.CharField()
    campaign = serializers.SerializerMethodField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    published_at = serializers.DateTimeField()
    content_hash = serializers.CharField()
    previous_hash = serializers.CharField()
    errata = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_campaign(self, bulletin) -> str:
        return bulletin.campaign.slug if bulletin.campaign_id else ""

    def get_url(self, bulletin) -> str:
        from django.urls import reverse

        return reverse("disclosure:bulletin", args=[bulletin.branch.code, bulletin.kind, bulletin.number])


@extend_schema(tags=["open data"])
class PublicBulletinViewSet(PublicViewSet):
    """公示: published receipt bulletins and usage announcements, newest first; the detail carries the
    canonical content whose SHA-256 is ``content_hash`` (recompute it to check the chain)."""

    lookup_value_regex = "[0-9]{1,12}"

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=["receipt", "usage"]),
            OpenApiParameter("campaign", str, description="募捐活动 slug"),
            OpenApiParameter("branch", str, description="发布组织代码"),
            OpenApiParameter("cursor", str),
        ],
        responses={200: page_of(PublicBulletinSerializer, "PublicBulletinPage"), 400: REFUSED},
    )
    def list(self, request):
        from donations.selectors.disclosure import archive_filters, bulletin_archive_page

        try:
            page = bulletin_archive_page(
                archive_filters(request.query_params), cursor=request.query_params.get("cursor", "")[:300]
            )
        except DjangoValidationError as error:
            raise _django_to_drf(error) from None
        return Response({"results": PublicBulletinSerializer(page.bulletins, many=True).data, "next": page.next_cursor})

    @extend_schema(
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses={
            200: inline_serializer(
                "PublicBulletinDetail", {"bulletin": PublicBulletinSerializer(), "content": serializers.JSONField()}
            ),
            404: NOT_FOUND,
        },
    )
    def retrieve(self, request, pk: str = ""):
        from donations.models import Bulletin, BulletinStatus

        if not str(pk).isdigit() or len(str(pk)) > 12:
            raise NotFound()
        bulletin = (
            Bulletin.objects.select_related("branch", "campaign")
            .filter(pk=int(pk), status=BulletinStatus.PUBLISHED)
            .first()
        )
        if bulletin is None:
            raise NotFound()
        return Response({"bulletin": PublicBulletinSerializer(bulletin).data, "content": bulletin.content})
