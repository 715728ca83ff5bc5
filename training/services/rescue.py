"""Rescue cases (成功救人案例): recorded by staff, published only with the rescuer's consent.

Publication asks ``has_consent(rescuer, RESCUE_CASE_PURPOSE)``; the public pages ask it again on
every request (``training.selectors.rescue.public_rescue_cases``), so withdrawing the consent hides
the case at once without anyone touching the case.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redcross.audit import audit_context
from redcross.consent import consent_give, consent_text_current, has_consent
from redcross.models import Branch, ConsentRecord, Person
from redcross.scoping import ensure_branch_access
from redcross.validators import clean_text
from training.models import RESCUE_CASE_PURPOSE, Certificate, RescueCase, RescueCaseStatus, Session

# what must never reach a public story: a mobile number, an ID number, a house number
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_HOUSE_NUMBER = re.compile(r"\d+\s*(号楼|号院|单元|室|号)")


def _public_text(value: str, *, field: str, max_length: int, required: bool = True) -> str:
    text = clean_text(value, field=field, max_length=max_length, required=required, allow_markup=False)
    if _PHONE.search(text) or _ID_NUMBER.search(text):
        raise ValidationError({field: [_("公开内容不能包含电话号码或身份证号码")]})
    if _HOUSE_NUMBER.search(text):
        raise ValidationError({field: [_("公开内容不能包含门牌号等详细地址")]})
    return text


def _check_links(*, rescuer: Person, certificate: Certificate | None, session: Session | None) -> None:
    if certificate is not None and certificate.person_id != rescuer.pk:
        raise ValidationError({"certificate": [_("所选证书不属于施救人")]})
    if session is not None and not session.attendance.filter(person=rescuer).exists():
        raise ValidationError({"session": [_("施救人没有该培训班的出勤记录")]})


@transaction.atomic
def rescue_case_create(
    *,
    branch: Branch,
    rescuer: Person,
    rescued_on: datetime.date,
    place: str,
    title: str,
    story: str,
    certificate: Certificate | None = None,
    session: Session | None = None,
    by,
) -> RescueCase:
    """A rescue case, as a draft. Its place and story will be public: no phone, ID or house number."""
    ensure_branch_access(by, branch)
    if rescuer.merged_into_id is not None:
        raise ValidationError({"rescuer": [_("该自然人已合并，请选择合并后的记录")]})
    if not isinstance(rescued_on, datetime.date):
        raise ValidationError({"rescued_on": [_("请输入日期")]})
    if rescued_on > timezone.localdate():
        raise ValidationError({"rescued_on": [_("施救日期不能晚于今天")]})
    _check_links(rescuer=rescuer, certificate=certificate, session=session)
    case = RescueCase(
        branch=branch,
        rescuer=rescuer,
        certificate=certificate,
        session=session,
        rescued_on=rescued_on,
        place=_public_text(place, field="place", max_length=100),
        title=_public_text(title, field="title", max_length=100),
        story=_public_text(story, field="story", max_length=5000),
        created_by=by,
    )
    with audit_context(user=by, reason="rescue_case_create"):
        case.save()
    return case


@transaction.atomic
def rescue_case_update(*, case: RescueCase, by, **values) -> RescueCase:
    """Correct a case's date, place, title or story (checked as at creation)."""
    case = RescueCase.objects.select_for_update().get(pk=case.pk)
    ensure_branch_access(by, case.branch_id)
    allowed = {"rescued_on", "place", "title", "story", "certificate", "session"}
    if set(values) - allowed:
        raise TypeError(f"unknown fields: {sorted(set(values) - allowed)}")
    for field in ("place", "title", "story"):
        if field in values:
            limit = 5000 if field == "story" else 100
            setattr(case, field, _public_text(values[field], field=field, max_length=limit))
    if "rescued_on" in values:
        if not isinstance(values["rescued_on"], datetime.date) or values["rescued_on"] > timezone.localdate():
            raise ValidationError({"rescued_on": [_("施救日期不能晚于今天")]})
        case.rescued_on = values["rescued_on"]
    case.certificate = values.get("certificate", case.certificate)
    case.session = values.get("session", case.session)
    _check_links(rescuer=case.rescuer, certificate=case.certificate, session=case.session)
    with audit_context(user=by, reason="rescue_case_update"):
        case.save()
    return case


@transaction.atomic
def rescue_case_publish(*, case: RescueCase, by) -> RescueCase:
    """Publish a case: only while the rescuer consents to its publication."""
    case = RescueCase.objects.select_for_update().get(pk=case.pk)
    ensure_branch_access(by, case.branch_id)
    if not has_consent(case.rescuer, RESCUE_CASE_PURPOSE):
        raise ValidationError({"rescuer": [_("施救人尚未同意公开案例（或已撤回同意），不能发布")]})
    if case.status != RescueCaseStatus.PUBLISHED:
        case.status, case.published_at, case.published_by = RescueCaseStatus.PUBLISHED, timezone.now(), by
        with audit_context(user=by, reason="rescue_case_publish"):
            case.save(update_fields=["status", "published_at", "published_by"])
    return case


@transaction.atomic
def rescue_case_unpublish(*, case: RescueCase, by) -> RescueCase:
    """Take a published case off the public pages (staff's decision; a consent withdrawal needs no
    action: the pages stop showing the case by themselves)."""
    case = RescueCase.objects.select_for_update().get(pk=case.pk)
    ensure_branch_access(by, case.branch_id)
    if case.status == RescueCaseStatus.PUBLISHED:
        case.status = RescueCaseStatus.WITHDRAWN
        with audit_context(user=by, reason="rescue_case_unpublish"):
            case.save(update_fields=["status"])
    return case


@transaction.atomic
def rescue_consent_record(*, case: RescueCase, method: str, by, evidence: UploadedFile | None = None) -> ConsentRecord:
    """The rescuer's consent to publication, given at the counter or on a signed form (with its
    scan), against the current published text of ``rescue-case-publication``."""
    ensure_branch_access(by, case.branch_id)
    text = consent_text_current(RESCUE_CASE_PURPOSE)
    if text is None:
        raise ValidationError({"method": [_("尚未发布“成功救人案例公开”同意书文本，请先在同意书文本中发布")]})
    return consent_give(subject=case.rescuer, text=text, method=method, branch=case.branch, by=by, evidence=evidence)
