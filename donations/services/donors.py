"""Donors: registration, and the one rule that tells whether an input is a donor already registered.

Every way a donor comes in uses this module: the admin's donor form and ``donor_register`` ask
``donor_check_duplicates`` (suspects: same credit code, same ID number, or same name and phone);
the statement and template importers ask ``donor_find_or_register``, which attaches to the donor
``donor_match`` names (by the strongest key given) or registers one marked ``created_by_import``.
"""

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

_CHUNK = 500  # names per IN (...) query


class DuplicateDonor(ValidationError):
    """Raised when a donor looks already registered; carries the candidates."""

    def __init__(self, candidates: list[Donor]) -> None:
        self.candidates = candidates
        names = "、".join(f"{d.name}（#{d.pk}）" for d in candidates[:5])
        super().__init__({"name": [_("疑似重复登记，已有捐赠人：%(names)s") % {"names": names}]}, code="duplicate")


# --- the keys that identify a donor ---------------------------------------------------------------


def _same_credit_code(credit_code: str) -> Q:
    return Q(credit_code=normalize_uscc(credit_code))


def _same_id_number(id_number: str) -> Q:
    return Q(id_number_index=blind_index(normalize_cn_id_number(id_number)))


def _same_name_and_phone(name: str, phone: str) -> Q:
    return Q(name=name.strip(), phone=normalize_cn_phone(phone))


def _known_by_name(*, branch: Branch, kind: str) -> QuerySet[Donor]:
    """Donors found again by a name alone, oldest first: those of the branch with no phone or code
    to tell namesakes apart; among persons only those an import created, so a payment is never
    attached to a hand-registered person who shares the name (an organisation's registered name
    identifies it)."""
    donors = Donor.objects.filter(branch=branch, kind=kind, phone="", credit_code="")
    if kind == DonorKind.PERSON:
        donors = donors.filter(created_by_import=True)
    return donors.order_by("id")


def donor_find_duplicates(*, name: str, phone: str = "", credit_code: str = "", id_number: str = "") -> QuerySet[Donor]:
    """Suspected duplicates of a registration: same credit code, same ID number, or same name and phone."""
    condition = Q(pk__in=[])
    if credit_code:
        condition |= _same_credit_code(credit_code)
    if id_number:
        condition |= _same_id_number(id_number)
    if name and phone:
        condition |= _same_name_and_phone(name, phone)
    return Donor.objects.filter(condition).order_by("id")


def donor_check_duplicates(
    *, name: str, phone: str = "", credit_code: str = "", id_number: str = "", allow_duplicate: bool = False
) -> None:
    """Raise ``DuplicateDonor`` when this registration looks like a donor already registered,
    unless the clerk confirmed it is another one (``allow_duplicate``); a registered credit code is
    refused even then (codes are unique)."""
    duplicates = list(donor_find_duplicates(name=name, phone=phone, credit_code=credit_code, id_number=id_number))
    code = normalize_uscc(credit_code) if credit_code else ""
    if duplicates and (not allow_duplicate or any(code and d.credit_code == code for d in duplicates)):
        raise DuplicateDonor(duplicates)


def donor_match(
    *, branch: Branch, kind: str, name: str, phone: str = "", credit_code: str = "", id_number: str = ""
) -> Donor | None:
    """The registered donor this input is, by the strongest key it gives; None when there is none.

    - a credit code: the donor with that code;
    - else an ID number: the oldest donor with that number;
    - else a phone: the oldest donor of the same kind with that name and phone;
    - else the name alone: the oldest donor of the branch known by that name (``_known_by_name``).
    """
    name = (name or "").strip()
    if credit_code:
        return Donor.objects.filter(_same_credit_code(credit_code)).first()
    if id_number:
        return Donor.objects.filter(_same_id_number(id_number)).order_by("id").first()
    if phone:
        return Donor.objects.filter(_same_name_and_phone(name, phone), kind=kind).order_by("id").first()
    return _known_by_name(branch=branch, kind=kind).filter(name=name).first()


def donors_match_names(*, branch: Branch, kind: str, names: Iterable[str]) -> dict[str, Donor]:
    """``donor_match`` for many inputs that give a name alone (statement payers), a few queries."""
    wanted = sorted({name.strip() for name in names if name and name.strip()})
    found: dict[str, Donor] = {}
    for start in range(0, len(wanted), _CHUNK):
        for donor in _known_by_name(branch=branch, kind=kind).filter(name__in=wanted[start : start + _CHUNK]):
            found.setdefault(donor.name, donor)  # oldest first: the oldest wins, as in donor_match
    return found


@transaction.atomic
def donor_find_or_register(
    *,
    by,
    branch: Branch,
    kind: str,
    name: str,
    phone: str = "",
    credit_code: str = "",
    public_display: str | None = None,
    wants_receipt: bool = True,
    note: str = "",
) -> tuple[Donor, bool]:
    """The importers' donor: (the donor ``donor_match`` names, False), or (a new donor marked
    ``created_by_import``, True) when there is none."""
    ensure_branch_access(by, branch)
    donor = donor_match(branch=branch, kind=kind, name=name, phone=phone, credit_code=credit_code)
    if donor is not None:
        return donor, False
    donor = donor_register(
        by=by,
        branch=branch,
        kind=kind,
        name=name,
        phone=phone,
        credit_code=credit_code,
        public_display=public_display,
        wants_receipt=wants_receipt,
        note=note,
        allow_duplicate=True,
        created_by_import=True,
    )
    return donor, True


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
    created_by_import: bool = False,
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
        created_by_import=created_by_import,
        created_by=by,
    )
    donor.full_clean(validate_constraints=False)  # duplicates are reported below, with the candidates
    donor_check_duplicates(
        name=name,
        phone=donor.phone,
        credit_code=donor.credit_code,
        id_number=id_number,
        allow_duplicate=allow_duplicate,
    )
    with audit_context(user=by, reason="donor_register"):
        donor.save()
    return donor


@transaction.atomic
def payer_donors_register(*, by, branch: Branch, names: Iterable[str], note: str) -> list[Donor]:
    """Person donors for statement payers, in bulk: masked on public pages, no receipt wanted.

    Statement payers have only a name (often the channel's placeholder such as
    微信用户), so no duplicate check is possible; the importer finds them again by name
    (``donors_match_names``), which is why they are marked ``created_by_import``.
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
            created_by_import=True,
            created_by=by,
        )
        donor.full_clean(validate_constraints=False)
        donors.append(donor)
    if donors:
        bulk_create_with_history(donors, Donor, batch_size=500, default_user=by, default_change_reason="donor_register")
    return donors
