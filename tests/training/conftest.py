import datetime
import itertools

import pytest
from django.conf import settings
from django.utils import timezone

from redcross.models import Person
from training.models import Certificate, CertificateKind

_numbers = itertools.count(1)

# each test process's own caches: with Redis shared between xdist workers, another worker's cache
# clearing would reset a rate-limit counter or the warm portal facts in the middle of a test
PROCESS_CACHES = {
    name: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"training-tests-{name}"}
    for name in settings.CACHES
}


def make_person(branch, name="李明", phone=None) -> Person:
    n = next(_numbers)
    return Person.objects.create(name=name, phone=phone or f"139{n:08d}", branch=branch)


def make_certificate(person, *, kind=CertificateKind.INSTRUCTOR, expires_on=None, revoked=False) -> Certificate:
    certificate = Certificate(
        branch=person.branch,
        person=person,
        kind=kind,
        number=f"TEST-{next(_numbers):06d}",
        expires_on=expires_on or timezone.localdate() + datetime.timedelta(days=365),
        level=CertificateKind(kind).label,
    )
    certificate.set_holder(person.name)
    if revoked:
        certificate.revoked_at = timezone.now()
        certificate.revoked_reason = "测试"
    certificate.save()
    return certificate


@pytest.fixture
def instructor(branch_tree):
    person = make_person(branch_tree["city"], name="张老师")
    make_certificate(person)
    return person


def at(days: int, hour: int = 9) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
