"""Consent (同意): texts, giving, withdrawing, and the one question every app asks (``has_consent``).

A consent text is versioned per purpose and immutable once a record uses it: that record is the
proof of what the person agreed to. A withdrawal takes effect at once: ``has_consent`` reads only
records not withdrawn, so a publication that checks it stops the moment the person withdraws.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from redcross.audit import audit_context
from redcross.models import Branch, ConsentMethod, ConsentRecord, ConsentText, Person
from redcross.uploads import validate_evidence_file

# --- texts ----------------------------------------------------------------------------------


def consent_text_is_used(text: ConsentText) -> bool:
    """The one rule of immutability: a text that a record uses is what someone agreed to."""
    return text.pk is not None and ConsentRecord.objects.filter(text_id=text.pk).exists()


@transaction.atomic
def consent_text_draft(*, purpose: str, title: str, text: str, by=None) -> ConsentText:
    """A new version of a purpose's text (the next number), not yet published."""
    if not title.strip() or not text.strip():
        raise ValidationError({"text": _("请填写同意书标题和正文")})
    last = ConsentText.objects.select_for_update().filter(purpose=purpose).aggregate(last=Max("version"))["last"]
    with audit_context(user=by, reason="consent_text_draft"):
        return ConsentText.objects.create(purpose=purpose, version=(last or 0) + 1, title=title, text=text)


@transaction.atomic
def consent_text_change(*, text: ConsentText, by=None, title: str, body: str) -> ConsentText:
    """Correct a text no one has consented to yet; a used text is refused (publish a new version)."""
    text = ConsentText.objects.select_for_update().get(pk=text.pk)
    if consent_text_is_used(text):
        raise ValidationError(_("该版本已有人同意，不能修改；请起草新版本"), code="consent_text_used")
    text.title, text.text = title, body
    with audit_context(user=by, reason="consent_text_change"):
        text.save(update_fields=["title", "text"])
    return text


@transaction.atomic
def consent_text_publish(*, text: ConsentText, by=None) -> ConsentText:
    """From now on the public forms of its purpose ask for this version."""
    text = ConsentText.objects.select_for_update().get(pk=text.pk)
    if text.published_at is None:
        text.published_at = timezone.now()
        with audit_context(user=by, reason="consent_text_publish"):
            text.save(update_fields=["published_at"])
    return text


def consent_text_current(purpose: str) -> ConsentText | None:
    """The newest published version of a purpose's text, which a form asks consent to."""
    return (
        ConsentText.objects.filter(purpose=purpose, published_at__isnull=False, published_at__lte=timezone.now())
        .order_by("-version")
        .first()
    )


# --- records --------------------------------------------------------------------------------


def _subject_filter(subject: models.Model) -> models.Q:
    if isinstance(subject, Person):
        return models.Q(person_id=subject.pk)
    return models.Q(subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk)


@transaction.atomic
def consent_give(
    *,
    subject: models.Model,
    text: ConsentText,
    method: str,
    branch: Branch,
    by=None,
    evidence: UploadedFile | None = None,
) -> ConsentRecord:
    """Record that ``subject`` (a person, or any saved record) consents to ``text`` (its purpose).

    Online consent is what a public form's checkbox records; at the counter staff record it (``by``);
    a written form needs its scan as evidence.
    """
    if method not in ConsentMethod.values:
        raise ValidationError({"method": _("请选择同意方式")})
    if text.published_at is None:
        raise ValidationError({"text": _("同意书尚未发布")})
    if method == ConsentMethod.WRITTEN:
        if not evidence:
            raise ValidationError({"evidence": _("书面同意须上传签字表格的扫描件")})
        validate_evidence_file(evidence)
    if method != ConsentMethod.ONLINE and by is None:
        raise ValidationError({"method": _("现场或书面同意须由工作人员登记")})
    if subject.pk is None:
        raise ValueError("consent is given by a saved record")
    record = ConsentRecord(
        text=text,
        purpose=text.purpose,
        given_at=timezone.now(),
        method=method,
        branch=branch,
        recorded_by=by,
    )
    if isinstance(subject, Person):
        record.person = subject
    else:
        record.subject_type, record.subject_id = ContentType.objects.get_for_model(subject), subject.pk
    if evidence:
        record.evidence = evidence
    with audit_context(user=by, reason="consent_give"):
        record.save()
    return record


@transaction.atomic
def consent_withdraw(*, record: ConsentRecord, method: str, by=None) -> ConsentRecord:
    """Withdraw a consent, effective at once; withdrawing twice keeps the first withdrawal."""
    if method not in ConsentMethod.values:
        raise ValidationError({"method": _("请选择撤回方式")})
    record = ConsentRecord.objects.select_for_update().get(pk=record.pk)
    if record.withdrawn_at is None:
        record.withdrawn_at, record.withdrawal_method, record.withdrawn_by = timezone.now(), method, by
        with audit_context(user=by, reason="consent_withdraw"):
            record.save(update_fields=["withdrawn_at", "withdrawal_method", "withdrawn_by"])
    return record


@transaction.atomic
def consent_withdraw_all(*, subject: models.Model, purpose: str, method: str, by=None) -> int:
    """Withdraw every standing consent of ``subject`` for ``purpose``; how many were withdrawn."""
    standing = ConsentRecord.objects.filter(_subject_filter(subject), purpose=purpose, withdrawn_at__isnull=True)
    records = list(standing.select_for_update())
    for record in records:
        consent_withdraw(record=record, method=method, by=by)
    return len(records)


def standing_consents(purpose: str) -> models.QuerySet[ConsentRecord]:
    """The records for ``purpose`` given and not withdrawn: what ``has_consent`` asks of one subject,
    and what a public list filters on (``Exists(standing_consents(p).filter(person=OuterRef(...)))``)."""
    return ConsentRecord.objects.filter(purpose=purpose, withdrawn_at__isnull=True)


def has_consent(subject: models.Model, purpose: str) -> bool:
    """Whether ``subject`` has a standing (given, not withdrawn) consent for ``purpose``."""
    if subject.pk is None:
        return False
    return standing_consents(purpose).filter(_subject_filter(subject)).exists()


def consent_by_token(token: str) -> ConsentRecord | None:
    """The consent record a private management link carries; None for anything else."""
    if not token or len(token) > 64:
        return None
    return ConsentRecord.objects.select_related("text", "person").filter(management_token=token).first()
