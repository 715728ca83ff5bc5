"""Evidence files on donations and on what happened to them (the staff API's uploads).

A donation takes any number of attachments (letters often arrive after the money). The plan
document, payment voucher, signed sheet and stock-in photos are one file each, set once: they are
part of the record, so a second upload is refused rather than replacing the first.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from donations.models import Attachment, Donation
from redcross.audit import audit_context
from redcross.scoping import ensure_branch_access
from redcross.uploads import validate_evidence_file


def _ensure(by, permission: str, branch_id: int | None) -> None:
    if not by.has_perm(permission):
        raise PermissionDenied(_("您没有上传该文件的权限"))
    ensure_branch_access(by, branch_id)


def _check_file(file) -> None:
    try:
        validate_evidence_file(file)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None


@transaction.atomic
def donation_attachment_add(*, donation: Donation, kind: str, file, by) -> Attachment:
    """A letter, agreement, bank slip or invoice for a donation, in any state."""
    _ensure(by, "donations.add_attachment", donation.branch_id)
    if kind not in Attachment.Kind.values:
        raise ValidationError({"kind": [_("附件类型无效")]})
    _check_file(file)
    attachment = Attachment(donation=donation, kind=kind, file=file)
    with audit_context(user=by, reason="donation_attachment_add"):
        attachment.save()
    return attachment


@transaction.atomic
def evidence_attach(*, record: models.Model, field: str, file, by, permission: str, branch_id: int) -> models.Model:
    """Set a record's one evidence file (``field``), once."""
    _ensure(by, permission, branch_id)
    _check_file(file)
    locked = type(record).objects.select_for_update().get(pk=record.pk)  # two uploads at once: one wins
    if getattr(locked, field):
        raise ValidationError({"file": [_("已有文件，作为记录的一部分不能替换")]})
    getattr(locked, field).save(file.name, file, save=False)
    with audit_context(user=by, reason=f"evidence_attach:{field}"):
        locked.save(update_fields=[field])
    return locked
