"""The beneficiary register: find or register a person or household, and the review of suspected
duplicates.

Matching uses keyed hashes (HMAC-SHA256 with ``RELIEF_MATCH_KEY``, never ``PERSON_MATCH_KEY``):
the ID number first (the same number is the same beneficiary), then the phone, then name + birth
date. A phone or name + birth date match with another (or no) ID number registers the new
beneficiary all the same and opens a ``BeneficiaryDuplicate``: its applications wait until a
reviewer (``relief.review_beneficiaryduplicate``) merges the two or clears them, with a reason.
One lookup per key, each on an index: no ID number is ever decrypted to match.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from redcross.audit import audit_context
from redcross.encryption import keyed_hash
from redcross.models import Branch
from redcross.people import person_facts_clean
from redcross.scoping import can_access_branch, ensure_branch_access
from redcross.validators import normalize_cn_id_number, normalize_cn_phone, normalize_person_name
from relief.models import (
    Beneficiary,
    BeneficiaryDuplicate,
    BeneficiaryKind,
    DuplicateReason,
    DuplicateStatus,
    HouseholdMember,
)
from relief.services.inputs import date_input, require_permission, text_input

SENSITIVE_PERMISSION = "relief.see_beneficiary_details"


# --- the keyed hashes -----------------------------------------------------------------------


def relief_match_key(kind: str, value: str) -> str:
    """HMAC-SHA256 of ``kind:value`` with the relief register's own key; "" for no value."""
    return keyed_hash(value, key_setting="RELIEF_MATCH_KEY", kind=kind)


def id_key(id_number: str) -> str:
    return relief_match_key("id", normalize_cn_id_number(id_number) if id_number else "")


def phone_key(phone: str) -> str:
    return relief_match_key("phone", normalize_cn_phone(phone) if phone else "")


def name_birth_key(name: str, birth_date: datetime.date | None) -> str:
    if not name or birth_date is None:
        return ""
    folded = "".join(normalize_person_name(name).split()).casefold()
    return relief_match_key("name-birth", f"{folded}|{birth_date.isoformat()}")


def can_see_details(user) -> bool:
    """Whether ``user`` may read a beneficiary's ID number, phone, address and sensitive details
    in full (relief roles); everyone else sees them masked or not at all."""
    return bool(user is not None and user.is_authenticated and user.has_perm(SENSITIVE_PERMISSION))


# --- find or register -----------------------------------------------------------------------


@dataclass(frozen=True)
class BeneficiaryRegistration:
    beneficiary: Beneficiary
    created: bool
    suspected_duplicates: tuple[BeneficiaryDuplicate, ...] = field(default=())


def _members_clean(members: Iterable[Mapping[str, Any]], head_key: str) -> list[HouseholdMember]:
    rows: list[HouseholdMember] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(members):
        prefix = f"members[{index}]"
        birth = raw.get("birth_date") or None
        try:
            if isinstance(birth, str):
                birth = date_input(birth, "birth_date")
            facts = person_facts_clean(
                name=str(raw.get("name") or ""), id_number=str(raw.get("id_number") or ""), birth_date=birth
            )
        except ValidationError as exc:
            raise ValidationError({f"{prefix}.{name}": errors for name, errors in exc.message_dict.items()}) from None
        key = id_key(facts.id_number)
        if key and (key == head_key or key in seen):
            raise ValidationError({f"{prefix}.id_number": [_("家庭成员重复：同一身份证号码只能登记一次")]})
        if key:
            seen[key] = index
        rows.append(
            HouseholdMember(
                name=facts.name,
                relation=text_input(raw.get("relation"), f"{prefix}.relation", 20, required=True),
                id_number=facts.id_number,
                id_key=key,
                birth_date=facts.birth_date,
            )
        )
    return rows


def _not_elsewhere(head_key: str, rows: list[HouseholdMember]) -> list[Beneficiary]:
    """The head in no household as a member, each member in no other household (as member or
    head): two indexed lookups for the whole household, however many members, on the keyed hashes.
    Returns the registered persons (not households) whose ID number a member has: suspects."""
    member_keys = [row.id_key for row in rows if row.id_key]
    keys = [key for key in (head_key, *member_keys) if key]
    if not keys:
        return []
    taken = set(HouseholdMember.objects.filter(id_key__in=keys).values_list("id_key", flat=True))
    if head_key in taken:
        raise ValidationError({"id_number": [_("此人已是另一受助家庭的成员，请以该家庭申请")]})
    registered = list(Beneficiary.objects.active().filter(id_key__in=member_keys)) if member_keys else []
    heads = {b.id_key for b in registered if b.kind == BeneficiaryKind.HOUSEHOLD}
    for index, row in enumerate(rows):
        if row.id_key and row.id_key in taken:
            raise ValidationError({f"members[{index}].id_number": [_("此人已是另一受助家庭的成员")]})
        if row.id_key and row.id_key in heads:
            raise ValidationError({f"members[{index}].id_number": [_("此人已是另一受助家庭的户主")]})
    return sorted(registered, key=lambda b: b.pk)


def _in_reach(by, beneficiary: Beneficiary) -> None:
    """A staff member gets back a registered beneficiary of their own branches only: one of another
    district is refused on the ID number (the same person cannot be registered twice, and its
    record is not theirs to read); the city, which sees every district, gets it."""
    if by is not None and not can_access_branch(by, beneficiary.branch_id):
        raise ValidationError({"id_number": [_("此身份证号码已在其他区县登记为受助人，请联系市红十字会救助工作人员")]})


def _same_name(beneficiary: Beneficiary, name: str) -> None:
    if "".join(beneficiary.name.split()).casefold() != "".join(name.split()).casefold():
        raise ValidationError({"id_number": [_("身份证号码已登记在另一姓名下，请核对")]})


@transaction.atomic
def beneficiary_find_or_register(
    *,
    by,
    branch: Branch,
    kind: str,
    name: str,
    id_number: str = "",
    phone: str = "",
    birth_date: datetime.date | None = None,
    sex: str = "",
    address: str = "",
    illness: str = "",
    income: str = "",
    disability: str = "",
    members: Iterable[Mapping[str, Any]] = (),
) -> BeneficiaryRegistration:
    """The beneficiary with this ID number if registered (under the same name), otherwise a new
    one; a phone or name + birth date shared with another opens a suspected duplicate.

    ``by`` is the staff member, or None for an applicant through the public form (the view has
    checked the form's limits and consent)."""
    if by is not None:
        ensure_branch_access(by, branch)
        require_permission(by, "relief.add_beneficiary", _("您没有登记受助人的权限"))
    if kind not in BeneficiaryKind.values:
        raise ValidationError({"kind": [_("请选择个人或家庭")]})
    facts = person_facts_clean(name=name, phone=phone, id_number=id_number, birth_date=birth_date, sex=sex)
    details = {
        "address": text_input(address, "address", 200),
        "illness": text_input(illness, "illness", 2000),
        "income": text_input(income, "income", 500),
        "disability": text_input(disability, "disability", 500),
    }
    key = id_key(facts.id_number)
    members = list(members)
    if members and kind != BeneficiaryKind.HOUSEHOLD:
        raise ValidationError({"members": [_("个人受助人不登记家庭成员")]})
    if key:
        existing = Beneficiary.objects.active().filter(id_key=key).first()
        if existing is not None:
            _same_name(existing, facts.name)
            _in_reach(by, existing)
            return BeneficiaryRegistration(beneficiary=existing, created=False)
    member_rows = _members_clean(members, key)
    member_suspects = _not_elsewhere(key, member_rows)
    beneficiary = Beneficiary(
        kind=kind,
        branch=branch,
        name=facts.name,
        id_number=facts.id_number,
        phone=facts.phone,
        birth_date=facts.birth_date,
        sex=facts.sex,
        id_key=key,
        phone_key=phone_key(facts.phone),
        name_birth_key=name_birth_key(facts.name, facts.birth_date),
        registered_by=by,
        **details,
    )
    with audit_context(user=by, reason="relief_beneficiary_register"):
        try:
            with transaction.atomic():
                beneficiary.save()
                for member in member_rows:
                    member.household = beneficiary
                    member.save()
        except IntegrityError:
            existing = Beneficiary.objects.active().filter(id_key=key).first() if key else None
            if existing is None:
                raise ValidationError({"members": [_("家庭成员已登记在另一受助家庭")]}) from None
            _same_name(existing, facts.name)
            _in_reach(by, existing)
            return BeneficiaryRegistration(beneficiary=existing, created=False)
        duplicates = _flag_duplicates(beneficiary, member_suspects)
    return BeneficiaryRegistration(beneficiary=beneficiary, created=True, suspected_duplicates=duplicates)


def beneficiary_candidates(*, phone_key_value: str, name_birth_key_value: str, id_key_value: str, exclude: int | None):
    """The active beneficiaries sharing the phone or name + birth date but not the ID number:
    two indexed lookups on the keyed hashes."""
    match = Q()
    if phone_key_value:
        match |= Q(phone_key=phone_key_value)
    if name_birth_key_value:
        match |= Q(name_birth_key=name_birth_key_value)
    if not match:
        return Beneficiary.objects.none()
    found = Beneficiary.objects.active().filter(match)
    if exclude is not None:
        found = found.exclude(pk=exclude)
    if id_key_value:
        found = found.exclude(id_key=id_key_value)
    return found.order_by("pk")


def _flag_duplicates(beneficiary: Beneficiary, member_suspects: list[Beneficiary]) -> tuple[BeneficiaryDuplicate, ...]:
    flagged = []
    for candidate in beneficiary_candidates(
        phone_key_value=beneficiary.phone_key,
        name_birth_key_value=beneficiary.name_birth_key,
        id_key_value=beneficiary.id_key,
        exclude=beneficiary.pk,
    ):
        # an ID number on both sides that differs: two people (a family sharing a phone) are
        # still suspects, a human decides; the reason says which key matched
        reason = DuplicateReason.PHONE if candidate.phone_key == beneficiary.phone_key else DuplicateReason.NAME_BIRTH
        flagged.append(BeneficiaryDuplicate(beneficiary=beneficiary, candidate=candidate, reason=reason))
    for candidate in member_suspects:  # a registered person whose ID number a new member has
        flagged.append(
            BeneficiaryDuplicate(beneficiary=beneficiary, candidate=candidate, reason=DuplicateReason.MEMBER)
        )
    for duplicate in flagged:
        duplicate.save()
    return tuple(flagged)


def open_duplicates(beneficiary: Beneficiary | int):
    return open_duplicates_of([beneficiary.pk if isinstance(beneficiary, Beneficiary) else beneficiary])


def open_duplicates_of(beneficiary_ids: Collection[int]):
    """The open suspicions (either side) of these beneficiaries: one query for a whole batch."""
    return BeneficiaryDuplicate.objects.filter(
        Q(beneficiary_id__in=beneficiary_ids) | Q(candidate_id__in=beneficiary_ids), status=DuplicateStatus.OPEN
    )


@transaction.atomic
def beneficiary_update_details(
    *,
    by,
    beneficiary: Beneficiary,
    phone: str = "",
    address: str = "",
    illness: str = "",
    income: str = "",
    disability: str = "",
) -> Beneficiary:
    """Correct the contact and sensitive details (relief roles only: they alone see them)."""
    beneficiary = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    ensure_branch_access(by, beneficiary.branch_id)
    if not can_see_details(by):
        raise PermissionDenied(_("只有救助工作人员可以修改受助人敏感信息"))
    facts = person_facts_clean(name=beneficiary.name, phone=phone)
    beneficiary.phone, beneficiary.phone_key = facts.phone, phone_key(facts.phone)
    beneficiary.address = text_input(address, "address", 200)
    beneficiary.illness = text_input(illness, "illness", 2000)
    beneficiary.income = text_input(income, "income", 500)
    beneficiary.disability = text_input(disability, "disability", 500)
    with audit_context(user=by, reason="relief_beneficiary_update"):
        beneficiary.save()
    return beneficiary


# --- the duplicate review --------------------------------------------------------------------


def _locked_open(duplicate: BeneficiaryDuplicate, by, reason: str) -> tuple[BeneficiaryDuplicate, str]:
    require_permission(by, "relief.review_beneficiaryduplicate", _("只有救助复核员可以处理疑似重复"))
    duplicate = (
        BeneficiaryDuplicate.objects.select_for_update().select_related("beneficiary", "candidate").get(pk=duplicate.pk)
    )
    ensure_branch_access(by, duplicate.beneficiary.branch_id)
    if duplicate.status != DuplicateStatus.OPEN:
        raise ValidationError({"status": [_("此疑似重复已处理")]})
    return duplicate, text_input(reason, "reason", 300, required=True)


@transaction.atomic
def beneficiary_duplicate_clear(*, by, duplicate: BeneficiaryDuplicate, reason: str) -> BeneficiaryDuplicate:
    """The reviewer checked: not the same beneficiary. The applications may go on."""
    duplicate, reason = _locked_open(duplicate, by, reason)
    duplicate.status, duplicate.resolved_at, duplicate.resolved_by = DuplicateStatus.CLEARED, timezone.now(), by
    duplicate.resolution_reason = reason
    with audit_context(user=by, reason=f"relief_duplicate_clear: {reason[:80]}"):
        duplicate.save()
    return duplicate


@transaction.atomic
def beneficiary_duplicate_merge(*, by, duplicate: BeneficiaryDuplicate, reason: str) -> Beneficiary:
    """The reviewer checked: the same beneficiary. The new registration's applications, aid and
    shares move to the one registered first; the new one stays as a tombstone with its history."""
    duplicate, reason = _locked_open(duplicate, by, reason)
    keep = Beneficiary.objects.select_for_update().get(pk=duplicate.candidate_id)
    merge = Beneficiary.objects.select_for_update().get(pk=duplicate.beneficiary_id)
    if keep.id_key and merge.id_key and keep.id_key != merge.id_key:
        raise ValidationError({"reason": [_("两条记录的身份证号码不同，不是同一人，不能合并")]})
    with audit_context(user=by, reason=f"relief_duplicate_merge #{merge.pk}→#{keep.pk}: {reason[:60]}"):
        taken_number, taken_key = merge.id_number, merge.id_key
        merge.merged_into, merge.id_key = keep, ""
        merge.save()
        if not keep.id_key and taken_key:
            keep.id_number, keep.id_key = taken_number, taken_key
            keep.save()
        for relation in ("applications", "aids", "shares", "members"):
            for row in getattr(merge, relation).select_for_update().order_by("pk"):
                field_name = "household" if relation == "members" else "beneficiary"
                setattr(row, field_name, keep)
                try:
                    with transaction.atomic():
                        row.save(update_fields=[field_name])
                except IntegrityError:
                    raise ValidationError(
                        {"reason": [_("两条记录在同一项目中都有申请或发放，请先撤回其中一份再合并")]}
                    ) from None
        now = timezone.now()
        duplicate.status, duplicate.resolved_at, duplicate.resolved_by = DuplicateStatus.MERGED, now, by
        duplicate.resolution_reason = reason
        duplicate.save()
        # the tombstone's other open suspicions are settled with it
        for other in open_duplicates(merge).exclude(pk=duplicate.pk):
            other.status, other.resolved_at, other.resolved_by = DuplicateStatus.MERGED, now, by
            other.resolution_reason = reason
            other.save()
    return keep


def beneficiary_keys_recompute() -> int:
    """Recompute every keyed hash with the current ``RELIEF_MATCH_KEY`` (after it changed)."""
    changed = 0
    for pk in Beneficiary.objects.values_list("pk", flat=True).iterator(chunk_size=500):
        with transaction.atomic():
            row = Beneficiary.objects.select_for_update().get(pk=pk)
            keys = {
                "id_key": id_key(row.id_number) if row.merged_into_id is None else "",
                "phone_key": phone_key(row.phone),
                "name_birth_key": name_birth_key(row.name, row.birth_date),
            }
            if any(getattr(row, k) != v for k, v in keys.items()):
                Beneficiary.objects.filter(pk=pk).update(**keys)
                changed += 1
    for member in HouseholdMember.objects.all().iterator(chunk_size=500):
        key = id_key(member.id_number)
        if key != member.id_key:
            HouseholdMember.objects.filter(pk=member.pk).update(id_key=key)
            changed += 1
    return changed
