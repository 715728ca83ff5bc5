"""Verifiable documents: numbered documents anyone can check by QR code or by number + name.

Training certificates, member cards, service records, registration cards, honour certificates and
the donation certificate are all ``VerifiableDocument`` models, registered with
``register_verifiable`` in their app's ``AppConfig.ready()``. One public page
(``redcross.verification_views``) shows their key facts and nothing else: kind, number, the
holder's masked name, level, issue and expiry dates, and whether the document is valid, expired
or revoked.

Numbers are gapless per branch and year (``redcross.numbering``), so they are guessable: a number
alone finds nothing. A document is found by its verification code (10 characters of a 32-letter
alphabet, ~50 bits, printed in the QR code) or by its number together with the holder's full
name, matched through a keyed hash so the name is never stored in the clear here. Every miss gets
the same answer, and misses count against a per-client limit.
"""

from __future__ import annotations

import datetime
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from redcross.audit import audit_context
from redcross.masking import mask_person_name
from redcross.validators import fold_full_width, normalize_person_name

# readable: no 0/O/1/I; 10 characters, ~50 bits (the donation certificates' codes since 2020)
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 10
CODE_MAX_LENGTH = 16
NUMBER_MAX_LENGTH = 40
DEFAULT_TEMPLATE = "verify/document.html"


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_verification_code(code: str) -> str:
    """What a person typed or a scanner read: full-width folded, trimmed, upper-case."""
    return fold_full_width(code or "").strip().upper()


def holder_name_digest(name: str) -> str:
    """A keyed hash of a holder's full name (spaces and case ignored), for number + name lookups.

    Keyed with SECRET_KEY (through ``salted_hmac``, with this purpose as salt): if SECRET_KEY
    changes, number + name lookups of older documents miss until ``SECRET_KEY_FALLBACKS`` lists
    the old key; their codes keep working.
    """
    folded = "".join(normalize_person_name(name).split()).casefold()
    return salted_hmac("redcross.verification.holder-name", folded).hexdigest()


def _holder_name_matches(document: VerifiableDocument, name: str) -> bool:
    typed = holder_name_digest(name)
    if hmac.compare_digest(typed, document.holder_name_digest):
        return True
    # documents whose digest was taken under an older SECRET_KEY (settings.SECRET_KEY_FALLBACKS)
    folded = "".join(normalize_person_name(name).split()).casefold()
    for old_key in getattr(settings, "SECRET_KEY_FALLBACKS", []):
        digest = salted_hmac("redcross.verification.holder-name", folded, secret=old_key).hexdigest()
        if hmac.compare_digest(digest, document.holder_name_digest):
            return True
    return False


class VerificationStatus(models.TextChoices):
    VALID = "valid", gettext_lazy("有效")
    EXPIRED = "expired", gettext_lazy("已过期")
    REVOKED = "revoked", gettext_lazy("已撤销")


@dataclass(frozen=True)
class VerificationFacts:
    """All the public verification page shows of a document."""

    kind: str
    number_label: str
    number: str
    holder_label: str
    holder: str
    level: str
    issued_on: datetime.date
    expires_on: datetime.date | None
    status: str
    revoked_on: datetime.date | None = None

    @property
    def is_valid(self) -> bool:
        return self.status == VerificationStatus.VALID


class VerifiableDocument(models.Model):
    """A numbered document with an unguessable verification code.

    A concrete model sets ``document_kind`` (what the page calls it, e.g. 救护员证), and may set
    ``number_label`` and ``holder_label``; it fills ``number`` (``redcross.numbering``) and calls
    ``set_holder(full_name)`` before saving: the page shows only the masked name, and the full
    name is kept only as a keyed hash for number + name lookups.
    """

    document_kind = gettext_lazy("证书")
    number_label = gettext_lazy("证书编号")
    holder_label = gettext_lazy("持证人")

    number = models.CharField(gettext_lazy("编号"), max_length=NUMBER_MAX_LENGTH, unique=True)
    verification_code = models.CharField(
        gettext_lazy("验证码"),
        max_length=CODE_MAX_LENGTH,
        unique=True,
        default=new_verification_code,
        editable=False,
    )
    holder_display_name = models.CharField(gettext_lazy("持证人（公开显示）"), max_length=60, editable=False)
    holder_name_digest = models.CharField(gettext_lazy("持证人姓名摘要"), max_length=64, editable=False)
    level = models.CharField(gettext_lazy("等级"), max_length=40, blank=True)
    issued_on = models.DateField(gettext_lazy("颁发日期"), default=timezone.localdate)
    expires_on = models.DateField(gettext_lazy("有效期至"), null=True, blank=True)
    revoked_at = models.DateTimeField(gettext_lazy("撤销时间"), null=True, blank=True, editable=False)
    revoked_reason = models.CharField(gettext_lazy("撤销原因"), max_length=200, blank=True, editable=False)

    class Meta:
        abstract = True

    def set_holder(self, full_name: str, *, display_name: str | None = None) -> None:
        """Record the holder: masked for display (unless ``display_name`` says how the holder
        chose to appear, e.g. a donor's 爱心人士), hashed for lookups; never stored in full."""
        self.holder_display_name = (display_name if display_name is not None else mask_person_name(full_name))[:60]
        self.holder_name_digest = holder_name_digest(full_name)

    def public_holder_name(self) -> str:
        """The holder as the page shows it; a kind whose holder may change how they appear overrides it."""
        return self.holder_display_name

    def verification_status(self, today: datetime.date | None = None) -> str:
        if self.revoked_at is not None:
            return VerificationStatus.REVOKED
        today = today or timezone.localdate()
        if self.expires_on is not None and self.expires_on < today:
            return VerificationStatus.EXPIRED
        return VerificationStatus.VALID

    def verification_facts(self) -> VerificationFacts:
        return VerificationFacts(
            kind=str(self.document_kind),
            number_label=str(self.number_label),
            number=self.number,
            holder_label=str(self.holder_label),
            holder=self.public_holder_name(),
            level=self.level,
            issued_on=self.issued_on,
            expires_on=self.expires_on,
            status=self.verification_status(),
            revoked_on=timezone.localdate(self.revoked_at) if self.revoked_at else None,
        )


# --- the registry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiableKind:
    """A registered kind of document: which rows the public may verify, and how its page looks.

    ``queryset`` (default: every row) narrows what is public, e.g. only certificates of confirmed
    donations; ``template`` extends ``verify/document.html``; ``context`` adds what that template
    shows beyond the key facts (only public facts).
    """

    model: type[VerifiableDocument]
    template: str = DEFAULT_TEMPLATE
    queryset: Callable[[], models.QuerySet] | None = None
    context: Callable[[VerifiableDocument], dict] | None = field(default=None)

    def rows(self) -> models.QuerySet:
        return self.queryset() if self.queryset is not None else self.model._default_manager.all()

    def extra_context(self, document: VerifiableDocument) -> dict:
        return self.context(document) if self.context is not None else {}


_KINDS: dict[str, VerifiableKind] = {}


def register_verifiable(
    model: type[VerifiableDocument],
    *,
    template: str = DEFAULT_TEMPLATE,
    queryset: Callable[[], models.QuerySet] | None = None,
    context: Callable[[VerifiableDocument], dict] | None = None,
) -> VerifiableKind:
    """Make ``model``'s documents verifiable on the public page (idempotent per model)."""
    if not issubclass(model, VerifiableDocument):
        raise TypeError(f"{model.__name__} is not a VerifiableDocument")
    kind = VerifiableKind(model=model, template=template, queryset=queryset, context=context)
    _KINDS[model._meta.label] = kind
    return kind


def unregister_verifiable(model: type[VerifiableDocument]) -> None:
    """For tests that register a kind of their own."""
    _KINDS.pop(model._meta.label, None)


def verifiable_kinds(models_: Iterable[type[VerifiableDocument]] | None = None) -> list[VerifiableKind]:
    if models_ is None:
        return list(_KINDS.values())
    labels = [model._meta.label for model in models_]
    return [_KINDS[label] for label in labels if label in _KINDS]


def kind_of(document: VerifiableDocument) -> VerifiableKind | None:
    return _KINDS.get(document._meta.label)


# --- finding a document ---------------------------------------------------------------------


def document_by_code(
    code: str, *, kinds: Iterable[type[VerifiableDocument]] | None = None
) -> tuple[VerifiableKind, VerifiableDocument] | None:
    """The public document with this verification code (any case, full-width folded), or None."""
    code = normalize_verification_code(code)
    if not 0 < len(code) <= CODE_MAX_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    for kind in verifiable_kinds(kinds):
        # a plain probe of each kind's table first (cheap to build and run); the kind's public
        # queryset, with its joins, only for the table that holds the code
        found = kind.model._base_manager.filter(verification_code=code).values_list("pk", flat=True)[:1]
        for pk in found:
            document = next(iter(kind.rows().filter(pk=pk).order_by()[:1]), None)
            return (kind, document) if document is not None else None
    return None


def document_by_number_and_name(
    number: str, name: str, *, kinds: Iterable[type[VerifiableDocument]] | None = None
) -> tuple[VerifiableKind, VerifiableDocument] | None:
    """The public document with this number whose holder has this full name, or None: a number
    alone, or a number with the wrong name, finds nothing."""
    number = normalize_verification_code(number)
    if not 0 < len(number) <= NUMBER_MAX_LENGTH or not normalize_person_name(name):
        return None
    for kind in verifiable_kinds(kinds):
        document = kind.rows().filter(number=number).first()
        if document is not None and _holder_name_matches(document, name):
            return kind, document
    return None


def verification_url(document: VerifiableDocument) -> str:
    """The absolute address a document's QR code carries (``PUBLIC_BASE_URL``)."""
    path = reverse("verify_document", kwargs={"code": document.verification_code})
    return f"{settings.PUBLIC_BASE_URL}{path}"


# --- revocation -----------------------------------------------------------------------------


@transaction.atomic
def document_revoke(*, document: VerifiableDocument, by, reason: str) -> VerifiableDocument:
    """Revoke a document, effective at once on the verification page; the reason is kept (not shown)."""
    if not reason or not reason.strip():
        raise ValidationError({"reason": _("请说明撤销原因")})
    model = type(document)
    document = model._base_manager.select_for_update().get(pk=document.pk)
    if document.revoked_at is not None:
        raise ValidationError(_("该证书已撤销"))
    document.revoked_at, document.revoked_reason = timezone.now(), reason.strip()[:200]
    with audit_context(user=by, reason="document_revoke"):
        document.save(update_fields=["revoked_at", "revoked_reason"])
    return document
