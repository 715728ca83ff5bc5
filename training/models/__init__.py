"""Training models: plans and targets, sessions and attendance, registrations, certificates,
equipment, AEDs, rescue cases."""

from training.models.aeds import Aed, AedAccess, AedCheck, AedCheckResult, AedStatus
from training.models.certificates import Certificate, CertificateKind
from training.models.equipment import EquipmentBatch, EquipmentDistribution, EquipmentKind, EquipmentSite, SiteKind
from training.models.plans import Audience, CourseKind, FundingLine, PlanFunding, PlanTarget, TrainingPlan
from training.models.registration import Registration, RegistrationStatus
from training.models.rescue import RESCUE_CASE_PURPOSE, RescueCase, RescueCaseStatus
from training.models.sessions import Attendance, Session, SessionInstructor, SessionStatus

__all__ = [
    "RESCUE_CASE_PURPOSE",
    "Aed",
    "AedAccess",
    "AedCheck",
    "AedCheckResult",
    "AedStatus",
    "Attendance",
    "Audience",
    "Certificate",
    "CertificateKind",
    "CourseKind",
    "EquipmentBatch",
    "EquipmentDistribution",
    "EquipmentKind",
    "EquipmentSite",
    "FundingLine",
    "PlanFunding",
    "PlanTarget",
    "Registration",
    "RegistrationStatus",
    "RescueCase",
    "RescueCaseStatus",
    "Session",
    "SessionInstructor",
    "SessionStatus",
    "SiteKind",
    "TrainingPlan",
]
