"""Certificates recorded here: an instructor's 师资证 issued elsewhere (most are issued by the
provincial branch), so that the portal can check who may teach."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from redcross.audit import audit_context
from redcross.models import Branch, Person
from redcross.scoping import ensure_branch_access
from training.models import Certificate, CertificateKind


@transaction.atomic
def instructor_certificate_record(
    *,
    branch: Branch,
    person: Person,
    number: str,
    issued_on: datetime.date,
    expires_on: datetime.date,
    by,
) -> Certificate:
    """Record an instructor certificate issued by another body, under its own number."""
    ensure_branch_access(by, branch)
    number = number.strip()
    if Certificate.objects.filter(number=number).exists():
        raise ValidationError({"number": [_("证书编号 %(number)s 已登记") % {"number": number}]})
    if expires_on < issued_on:
        raise ValidationError({"expires_on": [_("有效期不能早于颁发日期")]})
    certificate = Certificate(
        branch=branch,
        person=person,
        kind=CertificateKind.INSTRUCTOR,
        number=number,
        level=str(CertificateKind.INSTRUCTOR.label),
        issued_on=issued_on,
        expires_on=expires_on,
        issued_by=by,
    )
    certificate.set_holder(person.name)
    certificate.full_clean()
    with audit_context(user=by):
        certificate.save()
    return certificate
