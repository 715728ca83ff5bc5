"""Staff API for relief projects: registration and correction (``project_create``,
``project_update``), the life cycle (``project_open``, ``project_close`` with the final account),
the allocations that fund a project (``project_funding_add``, ``project_fundings_collect``), the
books check (funds in = paid out + goods out + balance, ``project_books``) and 博爱家园 dividends
(``livelihood_dividends_pay``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from redcross.api import (
    BranchScopedViewSetMixin,
    ScopedBranchField,
    ServiceChecksPermissions,
    parse_input,
    raise_as_drf,
)
from relief.api.aid import AidSerializer
from relief.api.base import MAX_ID, MONEY, MONEY_OUT, requires
from relief.models import AidUnit, Project, ProjectFunding, ProjectKind
from relief.selectors.books import project_books
from relief.services.aid import livelihood_dividends_pay
from relief.services.projects import (
    project_close,
    project_create,
    project_funding_add,
    project_fundings_collect,
    project_open,
    project_update,
)


class ProjectSerializer(serializers.ModelSerializer):
    branch_name = serializers.CharField(source="branch.name", read_only=True)
    balance = serializers.DecimalField(read_only=True, help_text=_("结余（资金＋物资）"), **MONEY_OUT)

    class Meta:
        model = Project
        fields = [
            "id", "code", "name", "kind", "branch", "branch_name", "purpose", "eligibility", "starts_on", "ends_on",
            "budget", "unit", "cap_per_project", "cap_per_year", "visit_required", "is_referral", "referral_body",
            "recipient", "status", "funds_in_cash", "funds_in_goods", "paid_out", "goods_out", "balance",
            "opened_at", "closed_at", "closed_by", "final_account", "final_account_note", "created_by", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class _ProjectEditable(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    purpose = serializers.CharField(max_length=4000)
    eligibility = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    budget = serializers.DecimalField(required=False, allow_null=True, default=None, **MONEY)
    cap_per_project = serializers.DecimalField(required=False, allow_null=True, default=None, **MONEY)
    cap_per_year = serializers.DecimalField(required=False, allow_null=True, default=None, **MONEY)
    visit_required = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text=_("不填则按项目类型（助医、助学、生计须走访）")
    )
    referral_body = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")


class ProjectInput(_ProjectEditable):
    branch = ScopedBranchField(label=_("组织"))
    kind = serializers.ChoiceField(choices=ProjectKind.choices)
    unit = serializers.ChoiceField(choices=AidUnit.choices, required=False, default=AidUnit.HOUSEHOLD)
    is_referral = serializers.BooleanField(required=False, default=False)


class ProjectUpdateInput(_ProjectEditable):
    """Kind, unit, branch and referral are fixed at registration."""


class ProjectCloseInput(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=4000, default="", help_text=_("结项说明；有结余时须说明结余去向")
    )


class ProjectFundingSerializer(serializers.ModelSerializer):
    allocation_serial = serializers.CharField(source="allocation.serial", read_only=True)

    class Meta:
        model = ProjectFunding
        fields = ["id", "project", "allocation", "allocation_serial", "kind", "value", "linked_by", "linked_at"]
        read_only_fields = fields


class ProjectFundingInput(serializers.Serializer):
    allocation = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text=_("拨付给本项目受赠单位并已复核的拨付")
    )


class ProjectBooksSerializer(serializers.Serializer):
    funds_in = serializers.DecimalField(**MONEY_OUT)
    funds_in_cash = serializers.DecimalField(**MONEY_OUT)
    funds_in_goods = serializers.DecimalField(**MONEY_OUT)
    paid_out = serializers.DecimalField(**MONEY_OUT, help_text=_("含待第二人签字的现金"))
    goods_out = serializers.DecimalField(**MONEY_OUT)
    cash_balance = serializers.DecimalField(**MONEY_OUT)
    goods_balance = serializers.DecimalField(**MONEY_OUT)
    balance = serializers.DecimalField(**MONEY_OUT)
    is_balanced = serializers.BooleanField()
    discrepancies = serializers.ListField(child=serializers.CharField())


class DividendsPayInput(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    total = serializers.DecimalField(**MONEY)
    voucher_number = serializers.CharField(max_length=60)
    disbursed_on = serializers.DateField(required=False, allow_null=True, default=None)


class DividendsSerializer(serializers.Serializer):
    households = serializers.IntegerField()
    aids = AidSerializer(many=True)


class ProjectFilter(filters.FilterSet):
    year = filters.NumberFilter(method="in_year", label=_("年度（项目期间跨此年）"))

    class Meta:
        model = Project
        fields = ["kind", "status", "branch", "is_referral"]

    def in_year(self, queryset, name, value):
        return queryset.filter(starts_on__year__lte=value, ends_on__year__gte=value)


class ProjectViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Relief projects (救助项目) of the user's branches, planned → open → closed, with their books."""

    queryset = Project.objects.select_related("branch")
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    cursor_ordering = ("-id",)
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    @extend_schema(request=ProjectInput, responses={201: ProjectSerializer})
    def create(self, request):
        data = parse_input(ProjectInput, request)
        try:
            project = project_create(by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProjectUpdateInput, responses={200: ProjectSerializer})
    def update(self, request, pk=None, partial=False):
        project = self.get_object()
        data = request.data
        if partial:  # PATCH: what is not sent stays as it is
            current = ProjectUpdateInput(project).data
            data = {**current, **{key: value for key, value in request.data.items() if key in current}}
        serializer = ProjectUpdateInput(data=data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        try:
            project = project_update(by=request.user, project=project, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(ProjectSerializer(project).data)

    @extend_schema(request=ProjectUpdateInput, responses={200: ProjectSerializer})
    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    @extend_schema(request=None, responses={200: ProjectSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def open(self, request, pk=None):
        """启动: planned → open; applications are taken and aid disbursed."""
        try:
            project = project_open(by=request.user, project=self.get_object())
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(ProjectSerializer(project).data)

    @extend_schema(request=ProjectCloseInput, responses={200: ProjectSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def close(self, request, pk=None):
        """结项: refused while applications or cash signatures wait or the books disagree; a balance
        left over is explained in the note. The final account is frozen on the project."""
        project = self.get_object()  # scoped first: another district's row is a 404
        data = parse_input(ProjectCloseInput, request)
        try:
            project = project_close(by=request.user, project=project, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(ProjectSerializer(project).data)

    @extend_schema(methods=["GET"], responses={200: ProjectFundingSerializer(many=True)})
    @extend_schema(methods=["POST"], request=ProjectFundingInput, responses={201: ProjectFundingSerializer})
    @action(detail=True, methods=["get", "post"], permission_classes=[ServiceChecksPermissions], pagination_class=None)
    def fundings(self, request, pk=None):
        """The allocations counted as the project's funds; POST counts one more (its id)."""
        project = self.get_object()
        if request.method == "GET":
            rows = project.fundings.select_related("allocation").order_by("id")
            return Response(ProjectFundingSerializer(rows, many=True).data)
        data = parse_input(ProjectFundingInput, request)
        try:
            funding = project_funding_add(by=request.user, project=project, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(ProjectFundingSerializer(funding).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ProjectFundingSerializer(many=True)})
    @action(
        detail=True, methods=["post"], permission_classes=[requires("relief.add_projectfunding")],
        url_path="fundings/collect",
    )  # fmt: skip
    def collect(self, request, pk=None):
        """Count every confirmed allocation to the project's recipient not counted yet."""
        try:
            counted = project_fundings_collect(by=request.user, project=self.get_object())
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(ProjectFundingSerializer(counted, many=True).data)

    @extend_schema(responses={200: ProjectBooksSerializer})
    @action(detail=True, methods=["get"])
    def books(self, request, pk=None):
        """The books now, recomputed from the rows: funds in = paid out + goods out + balance, with
        every disagreement (the nightly check records the same)."""
        books = project_books(self.get_object())
        figures = {name: getattr(books, name) for name in ProjectBooksSerializer().fields}
        return Response(ProjectBooksSerializer(figures).data)

    @extend_schema(request=DividendsPayInput, responses={201: DividendsSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ServiceChecksPermissions])
    def dividends(self, request, pk=None):
        """博爱家园: the year's dividends shared by the households in proportion to their shares."""
        project = self.get_object()  # scoped first: another district's row is a 404
        data = parse_input(DividendsPayInput, request)
        try:
            aids = livelihood_dividends_pay(by=request.user, project=project, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        body = {"households": len(aids), "aids": AidSerializer(aids, many=True, context={"request": request}).data}
        return Response(body, status=status.HTTP_201_CREATED)
