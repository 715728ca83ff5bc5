"""Training models: plans and targets, sessions and attendance, registrations, certificates."""

from training.models.certificates import Certificate, CertificateKind
from training.models.plans import Audience, CourseKind, FundingLine, PlanFunding, PlanTarget, TrainingPlan
from training.models.registration import Registration, RegistrationStatus
from training.models.sessions import Attendance, Session, SessionInstructor, SessionStatus

__all__ = [
    "Attendance",
    "Audience",
    "Certificate",
    "CertificateKind",
    "CourseKind",
    "FundingLine",
    "PlanFunding",
    "PlanTarget",
    "Registration",
    "RegistrationStatus",
    "Session",
    "SessionInstructor",
    "SessionStatus",
    "TrainingPlan",
]
