"""Training models: plans and targets, sessions and attendance, certificates."""

from training.models.certificates import Certificate, CertificateKind
from training.models.plans import Audience, CourseKind, FundingLine, PlanFunding, PlanTarget, TrainingPlan
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
    "Session",
    "SessionInstructor",
    "SessionStatus",
    "TrainingPlan",
]
