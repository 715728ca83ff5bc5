"""Staff API for annual training plans: the plan with its targets and funding lines, set through
``training.services.plans``, and plan vs actual (计划完成情况) for 本级 or 全市系统."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from redcross.api import BranchScopedViewSetMixin, ScopedBranchField, parse_input, raise_as_drf
from redcross.selectors import BranchScope
from training.models import Audience, CourseKind, FundingLine, PlanFunding, PlanTarget, TrainingPlan
from training.selectors.plans import plan_vs_actual
from training.services.plans import plan_funding_set, plan_target_set, training_plan_create

_MONEY = {"max_digits": 14, "decimal_places": 2}


class PlanTargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanTarget
        fields = ["id", "kind", "audience", "sessions", "people"]
        read_only_fields = fields


class PlanFundingSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanFunding
        fields = ["id", "line", "project_name", "budget"]
        read_only_fields = fields


class TrainingPlanSerializer(serializers.ModelSerializer):
    targets = PlanTargetSerializer(many=True, read_only=True)
    funding = PlanFundingSerializer(many=True, read_only=True)

    class Meta:
        model = TrainingPlan
        fields = ["id", "branch", "year", "title", "note", "targets", "funding", "created_by", "created_at"]
        read_only_fields = fields


class TrainingPlanInput(serializers.Serializer):
    branch = ScopedBranchField(label=_("组织"))
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    title = serializers.CharField(max_length=120)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class PlanTargetInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CourseKind.choices)
    audience = serializers.ChoiceField(choices=Audience.choices)
    sessions = serializers.IntegerField(min_value=0, max_value=1_000_000)
    people = serializers.IntegerField(min_value=0, max_value=100_000_000)


class PlanFundingInput(serializers.Serializer):
    line = serializers.ChoiceField(choices=FundingLine.choices)
    budget = serializers.DecimalField(min_value=0, **_MONEY)
    project_name = serializers.CharField(required=False, allow_blank=True, max_length=120)


class PlanLineSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CourseKind.choices)
    audience = serializers.ChoiceField(choices=Audience.choices)
    planned_sessions = serializers.IntegerField()
    planned_people = serializers.IntegerField()
    held_sessions = serializers.IntegerField()
    people_trained = serializers.IntegerField()


class PlanVsActualSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=BranchScope.choices)
    planned_sessions = serializers.IntegerField()
    planned_people = serializers.IntegerField()
    held_sessions = serializers.IntegerField()
    people_trained = serializers.IntegerField()
    lines = PlanLineSerializer(many=True)
    budgets = serializers.DictField(child=serializers.DecimalField(**_MONEY))


class TrainingPlanViewSet(
    BranchScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Annual plans (年度培训计划). Targets and funding lines are set one at a time (create or change)."""

    queryset = TrainingPlan.objects.prefetch_related("targets", "funding")
    serializer_class = TrainingPlanSerializer
    filterset_fields = ["branch", "year"]
    cursor_ordering = ("-id",)

    @extend_schema(request=TrainingPlanInput, responses={201: TrainingPlanSerializer})
    def create(self, request):
        data = parse_input(TrainingPlanInput, request)
        try:
            plan = training_plan_create(by=request.user, **data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(TrainingPlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PlanTargetInput, responses={200: TrainingPlanSerializer})
    @action(detail=True, methods=["post"])
    def targets(self, request, pk=None):
        plan = self.get_object()
        try:
            plan_target_set(plan=plan, by=request.user, **parse_input(PlanTargetInput, request))
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(TrainingPlanSerializer(self.get_object()).data)

    @extend_schema(request=PlanFundingInput, responses={200: TrainingPlanSerializer})
    @action(detail=True, methods=["post"])
    def funding(self, request, pk=None):
        plan = self.get_object()
        try:
            plan_funding_set(plan=plan, by=request.user, **parse_input(PlanFundingInput, request))
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(TrainingPlanSerializer(self.get_object()).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "scope", enum=[BranchScope.OWN, BranchScope.SYSTEM], description="own 本级；system 全市系统"
            )
        ],
        responses={200: PlanVsActualSerializer},
    )
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        """Plan vs actual at this moment: planned sessions and people beside those held and trained."""
        plan = self.get_object()
        scope = request.query_params.get("scope", BranchScope.OWN)
        if scope not in BranchScope.values:
            raise serializers.ValidationError({"scope": [_("范围只能是 own（本级）或 system（全市系统）")]})
        figures = plan_vs_actual(plan.branch, plan.year, scope)
        return Response(
            PlanVsActualSerializer(
                {
                    "scope": scope,
                    "planned_sessions": figures.planned_sessions,
                    "planned_people": figures.planned_people,
                    "held_sessions": figures.held_sessions,
                    "people_trained": figures.people_trained,
                    "lines": figures.lines,
                    "budgets": figures.budgets,
                }
            ).data
        )
