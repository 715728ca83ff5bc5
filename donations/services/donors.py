"""Donors: registration with duplicate detection."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from donations.models import Donor, DonorKind, PublicDisplay
from redcross.audit import audit_context
from redcross.encryption import blind_index
from redcross.models import Branch
from redcross.scoping import ensure_branch_access
from redcross.validators import (
    normalize_cn_id_number,
    normalize_cn_phone,
    normalize_uscc,
    validate_cn_id_number,
)


class DuplicateDonor(ValidationError):
    """Raised when a donor looks already registered; carries the candidates."""

    def __init__(self, candidates: list[Donor]) -> None:
        self.candidates = candidates
        names = "、".join(f"{d.name}（#{d.pk}）" for d in candidates[:5])
        super().__init__({"name": [_("疑似重复登记，已有捐赠人：%(names)s") % {"names": names}]}, code="duplicate")


def donor_find_duplicates(*, name: str, phone: str = "", credit_code: str = "", id_number: str = "") -> QuerySet[Donor]:
    """Same credit code, same ID number, or same name and phone."""
    condition = Q(pk__in=[])
    if credit_code:
        condition |= Q(credit_code=normalize_uscc(credit_code))
    if id_number:
        condition |= Q(id_number_index=blind_index(normalize_cn_id_number(id_number)))
    if name and phone:
        condition |= Q(name=name.strip(), phone=normalize_cn_phone(phone))
    return Donor.objects.filter(condition).order_by("id")


@transaction.atomic
def donor_register(
    *,
    by,
    branch: Branch,
    kind: str,
    name: str,
    phone: str = "",
    credit_code: str = "",
    id_number: str = "",
    contact_person: str = "",
    email: str = "",
    address: str = "",
    public_display: str | None = None,
    full_name_consent_text: str = "",
    wants_receipt: bool = True,
    note: str = "",
    allow_duplicate: bool = False,
) -> Donor:
    ensure_branch_access(by, branch)
    name = (name or "").strip()
    if kind not in DonorKind.values:
        raise ValidationError({"kind": [_("请选择个人或单位")]})
    if kind == DonorKind.PERSON and credit_code:
        raise ValidationError({"credit_code": [_("个人捐赠人没有统一社会信用代码")]})
    if kind == DonorKind.ORGANISATION and id_number:
        raise ValidationError({"id_number": [_("单位捐赠人不登记身份证号码")]})
    if id_number:
        validate_cn_id_number(id_number)  # raises with a message on the value itself
        id_number = normalize_cn_id_number(id_number)
    if public_display is None:
        public_display = PublicDisplay.FULL if kind == DonorKind.ORGANISATION else PublicDisplay.MASKED
    if public_display == PublicDisplay.FULL and kind == DonorKind.PERSON and not full_name_consent_text.strip():
        raise ValidationError({"full_name_consent_text": [_("个人公开全名须记录本人同意")]})
    donor = Donor(
        branch=branch,
        kind=kind,
        name=name,
        phone=normalize_cn_phone(phone) if phone else "",
        credit_code=normalize_uscc(credit_code) if credit_code else "",
        id_number=id_number,
        contact_person=contact_person.strip(),
        email=email.strip(),
        address=address.strip(),
        public_display=public_display,
        full_name_consent_text=full_name_consent_text.strip(),
        full_name_consent_at=timezone.now()
        if public_display == PublicDisplay.FULL and kind == DonorKind.PERSON
        else None,
        wants_receipt=wants_receipt,
        note=note,
        created_by=by,
    )
    donor.full_clean(validate_constraints=False)  # duplicates are reported below, with the candidates
    duplicates = list(
        donor_find_duplicates(name=name, phone=donor.phone, credit_code=donor.credit_code, id_number=id_number)
    )
    if duplicates and (
        not allow_duplicate or any(d.credit_code and d.credit_code == donor.credit_code for d in duplicates)
    ):
        raise DuplicateDonor(duplicates)
    with audit_context(user=by, reason="donor_register"):
        donor.save()
    return donor


@transaction.atomic
def payer_donors_register(*, by, branch: Branch, names: Iterable[str], note: str) -> list[Donor]:
    """Person donors for statement payers, in bulk: masked on public pages, no receipt wanted.

    Statement payers have only a name (often the channel's placeholder such as
    微信用户), so no duplicate check is possible; the importer reuses them by name.
    """
    ensure_branch_access(by, branch)
    donors = []
    for name in dict.fromkeys(name.strip() for name in names):
        donor = Donor(
            branch=branch,
            kind=DonorKind.PERSON,
            name=name,
            public_display=PublicDisplay.MASKED,
            wants_receipt=False,
            note=note,
            created_by=by,
        )
        donor.full_clean(validate_constraints=False)
        donors.append(donor)
    if donors:
        bulk_create_with_history(donors, Donor, batch_size=500, default_user=by, default_change_reason="donor_register")
    return donors
