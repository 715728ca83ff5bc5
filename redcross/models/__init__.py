"""The shared kernel's data: the branch tree, staff users, number sequences, and the people-facing
pieces every app reuses (persons, consent). Everything is importable from ``redcross.models``."""

from redcross.models.consent import ConsentMethod, ConsentRecord, ConsentText
from redcross.models.core import (
    Branch,
    BranchLevel,
    GrassrootsKind,
    NumberSequence,
    User,
    WorkerHeartbeat,
)
from redcross.models.people import DuplicateStatus, MaskedIdentity, Person, PersonDuplicate, Sex

__all__ = [
    "Branch",
    "BranchLevel",
    "ConsentMethod",
    "ConsentRecord",
    "ConsentText",
    "DuplicateStatus",
    "GrassrootsKind",
    "MaskedIdentity",
    "NumberSequence",
    "Person",
    "PersonDuplicate",
    "Sex",
    "User",
    "WorkerHeartbeat",
]
