"""Relief models: projects and their funding, beneficiaries, applications, disbursements."""

from relief.models.aid import Aid, AidGoodsLine, AidMethod, AidPurpose, AidStatus, BooksCheck, LivelihoodShare
from relief.models.applications import (
    Application,
    ApplicationChannel,
    ApplicationDocument,
    ApplicationStatus,
    DocumentKind,
    ReferralOutcome,
    Visit,
    VisitKind,
)
from relief.models.beneficiaries import (
    Beneficiary,
    BeneficiaryDuplicate,
    BeneficiaryKind,
    DuplicateReason,
    DuplicateStatus,
    HouseholdMember,
)
from relief.models.bulletins import BulletinAid
from relief.models.projects import (
    VISIT_REQUIRED_KINDS,
    AidUnit,
    Project,
    ProjectFunding,
    ProjectKind,
    ProjectStatus,
)

__all__ = [
    "VISIT_REQUIRED_KINDS",
    "Aid",
    "AidGoodsLine",
    "AidMethod",
    "AidPurpose",
    "AidStatus",
    "AidUnit",
    "Application",
    "ApplicationChannel",
    "ApplicationDocument",
    "ApplicationStatus",
    "Beneficiary",
    "BeneficiaryDuplicate",
    "BeneficiaryKind",
    "BooksCheck",
    "BulletinAid",
    "DocumentKind",
    "DuplicateReason",
    "DuplicateStatus",
    "HouseholdMember",
    "LivelihoodShare",
    "Project",
    "ProjectFunding",
    "ProjectKind",
    "ProjectStatus",
    "ReferralOutcome",
    "Visit",
    "VisitKind",
]
