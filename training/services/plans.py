"""Annual training plans: the plan, its targets and its funding lines."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from redcross.audit import audit_context
from redcross.models import Branch
from redcross.money import to_yuan
from redcross.scoping import ensure_branch_access
from training.models import PlanFunding, PlanTarget, TrainingPlan


@transaction.atomic
def training_plan_create(*, branch: Branch, year: int, title: str, note: str = "", by) -> TrainingPlan:
    ensure_branch_access(by, branch)
    plan = TrainingPlan(branch=branch, year=year, title=title, note=note, created_by=by)
    plan.full_clean()
    with audit_context(user=by):
        plan.save()
    return plan


@transaction.atomic
def plan_target_set(*, plan: TrainingPlan, kind: str, audience: str, sessions: int, people: int, by) -> PlanTarget:
    """Set (create or change) the plan's target for one course kind and audience."""
    ensure_branch_access(by, plan.branch)
    target = PlanTarget.objects.select_for_update().filter(plan=plan, kind=kind, audience=audience).first()
    target = target or PlanTarget(plan=plan, kind=kind, audience=audience)
    target.sessions, target.people = sessions, people
    target.full_clean(validate_constraints=False)
    with audit_context(user=by):
        target.save()
    return target


@transaction.atomic
def plan_funding_set(
    *, plan: TrainingPlan, line: str, budget: Decimal | str, project_name: str = "", by
) -> PlanFunding:
    """Set (create or change) the budget of one funding line of the plan."""
    ensure_branch_access(by, plan.branch)
    funding = PlanFunding.objects.select_for_update().filter(plan=plan, line=line).first()
    funding = funding or PlanFunding(plan=plan, line=line)
    funding.budget, funding.project_name = to_yuan(budget), project_name
    funding.full_clean(validate_constraints=False)
    with audit_context(user=by):
        funding.save()
    return funding
