"""Persons (自然人): find or register, correct, merge, and the review of suspected duplicates.

A person is found by a keyed hash of the normalised ID number (HMAC-SHA256 with its own key,
``PERSON_MATCH_KEY``: not the encryption keys, so rotating those never breaks matching, and not
shared with any other register, so this one cannot be joined to relief or three-donations data).
Without an ID match, the same phone and name make a suspected duplicate for staff to review.

Relief beneficiaries and three-donations registrants are never registered here (DESIGN.md
section 6): their apps keep their own registers.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redcross.audit import audit_context
from redcross.encryption import keyed_hash
from redcross.models import Branch, DuplicateStatus, Person, PersonDuplicate
from redcross.scoping import ensure_branch_access
from redcross.validators import (
    cn_id_birth_date,
    cn_id_sex,
    normalize_cn_id_number,
    normalize_cn_phone,
    normalize_person_name,
    validate_birth_date,
    validate_cn_id_number,
    validate_cn_phone,
    validate_person_name,
)

PHONE_AND_NAME = "phone_and_name"


# --- the keyed hash ------------------------------------------------------------------------


def person_match_key(id_number: str) -> str:
    """The keyed hash an ID number is matched by: of its normalised form (18 characters, upper-case
    X, full-width digits folded), so every way of typing one number gives one key."""
    return keyed_hash(normalize_cn_id_number(id_number), key_setting="PERSON_MATCH_KEY")


def person_match_keys_recompute() -> int:
    """Recompute every match key with the current ``PERSON_MATCH_KEY`` (after the key changed);
    how many changed. Rows are updated with ``update()``: a new key is no change of the person."""
    changed = 0
    for pk in Person.objects.exclude(id_number="").values_list("pk", flat=True).iterator(chunk_size=500):
        with transaction.atomic():
            person = Person.objects.select_for_update().only("id_number", "id_match_key").get(pk=pk)
            key = person_match_key(person.id_number)
            if key != person.id_match_key:
                Person.objects.filter(pk=pk).update(id_match_key=key)
                changed += 1
    return changed


# --- input ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonFacts:
    """What a person is registered with, checked and normalised (``person_facts_clean``)."""

    name: str
    phone: str
    id_number: str
    birth_date: datetime.date | None
    sex: str


def person_facts_clean(
    *, name: str, phone: str = "", id_number: str = "", birth_date: datetime.date | None = None, sex: str = ""
) -> PersonFacts:
    """Check and normalise a person's facts; a ``ValidationError`` names every wrong field.

    The ID number, when given, also decides the birth date and sex it encodes: a form that asked
    for both is refused when they disagree.
    """
    errors: dict[str, list] = {}

    def check(field_name: str, validator, value) -> None:
        try:
            validator(value)
        except ValidationError as exc:
            errors.setdefault(field_name, []).extend(exc.error_list)

    check("name", validate_person_name, name)
    if phone:
        check("phone", validate_cn_phone, phone)
    if birth_date is not None:
        check("birth_date", validate_birth_date, birth_date)
    if sex and sex not in ("male", "female"):
        errors["sex"] = [ValidationError(_("请选择性别"), code="invalid")]
    number = normalize_cn_id_number(id_number) if id_number else ""
    if number:
        check("id_number", validate_cn_id_number, number)
        if "id_number" not in errors:
            encoded_birth, encoded_sex = cn_id_birth_date(number), cn_id_sex(number)
            if birth_date is not None and "birth_date" not in errors and birth_date != encoded_birth:
                errors["birth_date"] = [ValidationError(_("出生日期与身份证号码不一致"), code="id_mismatch")]
            if sex and sex != encoded_sex:
                errors["sex"] = [ValidationError(_("性别与身份证号码不一致"), code="id_mismatch")]
            birth_date = birth_date or encoded_birth
            sex = sex or encoded_sex or ""
    if errors:
        raise ValidationError(errors)
    return PersonFacts(
        name=normalize_person_name(name),
        phone=normalize_cn_phone(phone) if phone else "",
        id_number=number,
        birth_date=birth_date,
        sex=sex,
    )


# --- find or register -----------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRegistration:
    """What ``person_find_or_register`` did: the person, whether it is new, and the suspected
    duplicates it raised for review."""

    person: Person
    created: bool
    suspected_duplicates: tuple[PersonDuplicate, ...] = field(default=())


def person_by_id_number(id_number: str) -> Person | None:
    """The active person registered with this ID number (any way of typing it), or None."""
    key = person_match_key(id_number)
    if not key:
        return None
    return Person.objects.active().filter(id_match_key=key).first()


def persons_matching(*, name: str, phone: str = "", id_number: str = "") -> list[Person]:
    """The active persons these facts would be: the one with this ID number, and those with this
    phone and name. For a form that refuses a second sign-up of the same human (a duplicate
    registration), whichever way they typed themselves the second time."""
    matches: dict[int, Person] = {}
    if id_number:
        found = person_by_id_number(id_number)
        if found is not None:
            matches[found.pk] = found
    if phone:
        same = Person.objects.active().filter(phone=normalize_cn_phone(phone), name=normalize_person_name(name))
        matches.update({person.pk: person for person in same})
    return list(matches.values())


@transaction.atomic
def person_find_or_register(
    *,
    name: str,
    phone: str = "",
    id_number: str = "",
    birth_date: datetime.date | None = None,
    sex: str = "",
    branch: Branch,
    by=None,
) -> PersonRegistration:
    """The person with this ID number if one is registered (under the same name: another name is
    refused on ``id_number``); otherwise a new person.

    A new person who shares phone and name with a registered one whose ID number differs or is
    unknown is registered all the same and raises a suspected duplicate (``PersonDuplicate``) for
    staff to review: two people may share a phone (family members), one person may have typed
    the ID wrong, and only a human can tell.
    """
    facts = person_facts_clean(name=name, phone=phone, id_number=id_number, birth_date=birth_date, sex=sex)
    key = person_match_key(facts.id_number)
    if key:
        existing = Person.objects.active().filter(id_match_key=key).first()
        if existing is not None:
            _check_same_name(existing, facts.name)
            return PersonRegistration(person=existing, created=False)
    person = Person(
        name=facts.name,
        phone=facts.phone,
        id_number=facts.id_number,
        id_match_key=key,
        birth_date=facts.birth_date,
        sex=facts.sex,
        branch=branch,
    )
    with audit_context(user=by, reason="person_register"):
        try:
            with transaction.atomic():  # a savepoint: the loser of a race finds the winner
                person.save()
        except IntegrityError:
            existing = Person.objects.active().filter(id_match_key=key).first() if key else None
            if existing is None:
                raise
            _check_same_name(existing, facts.name)
            return PersonRegistration(person=existing, created=False)
        duplicates = _flag_phone_and_name(person)
    return PersonRegistration(person=person, created=True, suspected_duplicates=duplicates)


def _check_same_name(person: Person, name: str) -> None:
    """An ID number registered under another name is refused, never attached to that person: a
    mistyped (or someone else's) number must not put a sign-up on another human's record."""
    if "".join(person.name.split()).casefold() != "".join(name.split()).casefold():
        raise ValidationError({"id_number": _("身份证号码与姓名不一致，请核对；如已改名，请联系本会更正")})


def _flag_phone_and_name(person: Person) -> tuple[PersonDuplicate, ...]:
    if not person.phone:
        return ()
    candidates = (
        Person.objects.active()
        .filter(phone=person.phone, name=person.name)
        .exclude(pk=person.pk)
        # the same ID would have been an ID match: these differ or one of them has none
        .exclude(~models.Q(id_match_key=""), id_match_key=person.id_match_key)
        .order_by("pk")
    )
    return tuple(
        PersonDuplicate.objects.create(person=person, candidate=candidate, reason=PHONE_AND_NAME)
        for candidate in candidates
    )


# --- corrections ----------------------------------------------------------------------------


@transaction.atomic
def person_update(
    *,
    person: Person,
    by,
    name: str,
    phone: str = "",
    id_number: str | None = None,
    birth_date: datetime.date | None = None,
    sex: str = "",
    reason: str = "",
) -> Person:
    """Correct a person's facts. ``id_number=None`` keeps the number on record (staff never see it
    in full); a number that another active person holds is refused: that is a merge.

    ``by`` is the staff member (checked against the person's branch), or None for the person
    themself through their private management link (``redcross.public_forms``).
    """
    if by is not None:
        ensure_branch_access(by, person.branch_id)
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.merged_into_id:
        raise ValidationError(_("此记录已合并到另一自然人，不能修改"))
    keep_number = person.id_number if id_number is None else id_number
    facts = person_facts_clean(name=name, phone=phone, id_number=keep_number, birth_date=birth_date, sex=sex)
    key = person_match_key(facts.id_number)
    if key and Person.objects.active().filter(id_match_key=key).exclude(pk=person.pk).exists():
        raise ValidationError({"id_number": _("已有相同身份证号码的自然人记录；如为同一人，请合并两条记录")})
    person.name, person.phone, person.birth_date, person.sex = facts.name, facts.phone, facts.birth_date, facts.sex
    person.id_number, person.id_match_key = facts.id_number, key
    with audit_context(user=by, reason=reason or "person_update"):
        person.save()
    return person


# --- merging --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonMerge:
    """The kept person and how many rows of each model now point at it instead."""

    person: Person
    moved: dict[str, int]


def _tracked(model: type[models.Model]) -> bool:
    """Whether simple-history records the model's changes (a move must then leave history rows)."""
    return bool(getattr(model._meta, "simple_history_manager_attribute", None))


def _conflict(model: type[models.Model]) -> ValidationError:
    return ValidationError(
        {
            "merge": _("两人在“%(model)s”中有相互冲突的记录（例如同一期培训的两份报名），请先处理其中一条再合并")
            % {"model": model._meta.verbose_name}
        }
    )


def _move_relation(relation, keep: Person, merge: Person) -> int:
    """Point one kind of relation at ``keep``: a foreign key, a one-to-one or a many-to-many row."""
    model = relation.related_model
    if relation.many_to_many:
        through = relation.through
        to_person = relation.field.m2m_reverse_field_name()
        rows = through._base_manager.filter(**{to_person: merge})
        moved = 0
        for row in rows:
            try:
                with transaction.atomic():
                    through._base_manager.filter(pk=row.pk).update(**{to_person: keep})
                moved += 1
            except IntegrityError:  # both were linked to the same row: one link is enough
                through._base_manager.filter(pk=row.pk).delete()
        return moved
    name = relation.field.name
    rows = model._base_manager.filter(**{name: merge})
    if relation.one_to_one and rows.exists() and model._base_manager.filter(**{name: keep}).exists():
        raise _conflict(model)
    try:
        with transaction.atomic():
            if not _tracked(model):
                return rows.update(**{name: keep})
            moved = 0
            for row in rows.select_for_update().order_by("pk"):
                setattr(row, name, keep)
                row.save(update_fields=[name])  # through save(), so the move leaves a history row
                moved += 1
            return moved
    except IntegrityError:
        raise _conflict(model) from None


@transaction.atomic
def person_merge(*, keep: Person, merge: Person, by, reason: str) -> PersonMerge:
    """Merge ``merge`` into ``keep``: every relation that pointed at ``merge`` (found through
    ``Person._meta.related_objects``, so the relations of apps built later are covered) points at
    ``keep``; facts ``keep`` lacks are taken over; ``merge`` stays as a tombstone with who, when
    and why, and both keep their histories."""
    if not reason or not reason.strip():
        raise ValidationError({"reason": _("请说明合并原因")})
    if keep.pk == merge.pk:
        raise ValidationError({"merge": _("不能把一条记录合并到它自己")})
    locked = {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[keep.pk, merge.pk]).order_by("pk")}
    keep, merge = locked[keep.pk], locked[merge.pk]
    ensure_branch_access(by, keep.branch_id)
    ensure_branch_access(by, merge.branch_id)
    if keep.merged_into_id or merge.merged_into_id:
        raise ValidationError({"merge": _("其中一条记录已被合并过")})
    if keep.id_match_key and merge.id_match_key and keep.id_match_key != merge.id_match_key:
        raise ValidationError({"merge": _("两人的身份证号码不同，不是同一人，不能合并")})

    reason = reason.strip()[:200]
    moved: dict[str, int] = {}
    with audit_context(user=by, reason=f"person_merge #{merge.pk}→#{keep.pk}: {reason}"):
        # the tombstone gives up its ID number first, so the kept person may take it over
        taken_number, taken_key = merge.id_number, merge.id_match_key
        merge.merged_into, merge.merged_at, merge.merged_by, merge.merge_reason = keep, timezone.now(), by, reason
        merge.id_number, merge.id_match_key = "", ""
        merge.save()
        if not keep.id_match_key and taken_key:
            keep.id_number, keep.id_match_key = taken_number, taken_key
        for attribute in ("phone", "birth_date", "sex"):
            if not getattr(keep, attribute) and getattr(merge, attribute):
                setattr(keep, attribute, getattr(merge, attribute))
        keep.save()

        for relation in Person._meta.related_objects:
            if relation.related_model is PersonDuplicate:
                continue  # resolved below, not moved
            count = _move_relation(relation, keep, merge)
            if count:
                moved[relation.related_model._meta.label] = moved.get(relation.related_model._meta.label, 0) + count
        _resolve_duplicates(keep, merge, by=by, note=reason)
    return PersonMerge(person=keep, moved=moved)


def _resolve_duplicates(keep: Person, merge: Person, *, by, note: str) -> None:
    """The open suspicions between the two are settled by the merge; the tombstone's others are
    carried over to the kept person (unless they would pair it with itself or repeat a pair)."""
    now = timezone.now()
    involved = PersonDuplicate.objects.select_for_update().filter(
        models.Q(person=merge) | models.Q(candidate=merge), status=DuplicateStatus.OPEN
    )
    for duplicate in involved:
        other = duplicate.candidate if duplicate.person_id == merge.pk else duplicate.person
        pair = (duplicate.person_id, duplicate.candidate_id)
        new_pair = tuple(keep.pk if pk == merge.pk else pk for pk in pair)
        repeated = PersonDuplicate.objects.filter(person_id=new_pair[0], candidate_id=new_pair[1]).exists()
        if other.pk == keep.pk or repeated:
            duplicate.status, duplicate.resolved_at, duplicate.resolved_by = DuplicateStatus.MERGED, now, by
            duplicate.resolution_note = note
        else:
            duplicate.person_id, duplicate.candidate_id = new_pair
        duplicate.save()


@transaction.atomic
def person_duplicate_dismiss(*, duplicate: PersonDuplicate, by, note: str) -> PersonDuplicate:
    """Staff checked: not the same person. The suspicion is closed; both records stay."""
    duplicate = PersonDuplicate.objects.select_for_update().select_related("person").get(pk=duplicate.pk)
    ensure_branch_access(by, duplicate.person.branch_id)
    if duplicate.status != DuplicateStatus.OPEN:
        raise ValidationError(_("此疑似重复已处理"))
    duplicate.status, duplicate.resolved_at, duplicate.resolved_by = DuplicateStatus.DISMISSED, timezone.now(), by
    duplicate.resolution_note = (note or "").strip()[:200]
    with audit_context(user=by, reason="person_duplicate_dismiss"):
        duplicate.save()
    return duplicate


@transaction.atomic
def person_duplicate_merge(*, duplicate: PersonDuplicate, keep: Person, by, reason: str) -> PersonMerge:
    """Merge the two persons of a suspected duplicate, keeping ``keep`` (one of the two)."""
    if keep.pk not in (duplicate.person_id, duplicate.candidate_id):
        raise ValidationError({"keep": _("请选择这两条记录中的一条保留")})
    if duplicate.status != DuplicateStatus.OPEN:
        raise ValidationError(_("此疑似重复已处理"))
    merge_id = duplicate.candidate_id if keep.pk == duplicate.person_id else duplicate.person_id
    return person_merge(keep=keep, merge=Person.objects.get(pk=merge_id), by=by, reason=reason)
