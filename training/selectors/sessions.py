"""Reads about sessions and instructors."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from redcross.models import Person
from training.models import Certificate, CertificateKind


def qualified_instructors(*, on: datetime.date | None = None) -> QuerySet[Person]:
    """Persons holding an instructor certificate valid on ``on`` (today by default)."""
    day = on or timezone.localdate()
    holders = Certificate.objects.valid_on(day).filter(kind=CertificateKind.INSTRUCTOR).values("person_id")
    return Person.objects.active().filter(pk__in=holders)
