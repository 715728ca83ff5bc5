"""What a staff member may choose on the relief admin's forms: the projects taking applications,
the goods lots a project may give out, the households of a 博爱家园 project. The services check
every choice again; these only keep the lists to what the user may use."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from donations.models import AllocationSource, AllocationStatus
from redcross.models import Branch
from redcross.scoping import visible_branch_ids
from relief.models import Application, ApplicationStatus, LivelihoodShare, Project, ProjectKind, ProjectStatus


def _ancestor_ids(user) -> list[int]:
    """The user's branch and the branches above it."""
    branch = getattr(user, "branch", None)
    return Branch.lineage_ids(branch.path) if branch is not None else []


def projects_serving(user) -> QuerySet[Project]:
    """The projects a user's applications, disbursements and shares may name: those of the user's
    branches and of the branches above them (a city's 博爱送温暖 takes households from every
    district). The project pages and endpoints themselves list the user's branches only."""
    ids = visible_branch_ids(user)
    if ids is None:
        return Project.objects.all()
    return Project.objects.filter(Q(branch_id__in=list(ids)) | Q(branch_id__in=_ancestor_ids(user)))


def projects_taking_applications(user) -> QuerySet[Project]:
    """Open projects of ``projects_serving``: those a user may register applications to."""
    return (
        projects_serving(user).filter(status=ProjectStatus.OPEN).select_related("branch").order_by("-starts_on", "pk")
    )


def livelihood_projects(user) -> QuerySet[Project]:
    """Open 博爱家园 projects whose shares and dividends the user may record."""
    return projects_taking_applications(user).filter(kind=ProjectKind.LIVELIHOOD, is_referral=False)


def project_goods_lots(project: Project) -> QuerySet[AllocationSource]:
    """The goods lots the project's confirmed transfer orders (物资调拨令) brought in."""
    return (
        AllocationSource.objects.filter(
            allocation__relief_funding__project=project,
            allocation__status=AllocationStatus.CONFIRMED,
            item__isnull=False,
        )
        .select_related("item", "allocation")
        .order_by("pk")
    )


def livelihood_households(project: Project, user, year: int) -> list[tuple[Application, LivelihoodShare | None]]:
    """The households with an approved application to a 博爱家园 project, within the user's
    branches, each with its shares of ``year`` (None when not yet recorded): two queries."""
    applications = Application.objects.filter(project=project, status=ApplicationStatus.APPROVED)
    ids = visible_branch_ids(user)
    if ids is not None:
        applications = applications.filter(branch_id__in=list(ids))
    applications = list(applications.select_related("beneficiary").order_by("number"))
    shares = {
        share.beneficiary_id: share
        for share in LivelihoodShare.objects.filter(
            project=project, year=year, beneficiary_id__in=[a.beneficiary_id for a in applications]
        )
    }
    return [(application, shares.get(application.beneficiary_id)) for application in applications]
