"""Two-person confirmation (双人双签): a record counts only once a second staff member, not the
one who registered it, confirms it.

``TwoPersonConfirmed`` is the abstract model with the pair of signatures (registered by / at,
confirmed by / at); ``second_signature_sign`` is the one place that refuses the registrar's own
confirmation and stamps the second signature. Donations, allocations and stock movements use
them; so will training, relief and volunteers.

A model whose registrar column has another name (a stock movement's ``recorded_by``, 经办保管员)
removes the inherited ``registered_by`` / ``registered_at`` (``= None``), declares its own and
names it in ``registrar_field``; fields can be redeclared the same way to keep their own labels.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SIGNATURE_FIELDS = ["confirmed_by", "confirmed_at"]


class DualSignatureRequired(PermissionDenied):
    """The registrar tried to confirm their own record."""


class TwoPersonConfirmed(models.Model):
    """Registered by one staff member, confirmed by another."""

    # the foreign key to the user who registered the record
    registrar_field: ClassVar[str] = "registered_by"
    # the refusal shown to a registrar confirming their own record, naming it as %(serial)s
    # (each model words it for its staff: 捐赠, 拨付, 出入库记录)
    own_confirmation_message: ClassVar[str]

    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("复核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("复核时间"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def registrar_id(self) -> int | None:
        return getattr(self, f"{self.registrar_field}_id")


def second_signature_check(record: TwoPersonConfirmed, *, by) -> None:
    """Refuse the registrar's own confirmation (双人双签) with ``DualSignatureRequired``."""
    if record.registrar_id == by.pk:
        raise DualSignatureRequired(record.own_confirmation_message % {"serial": str(record)})


def second_signature_sign(record: TwoPersonConfirmed, *, by) -> list[str]:
    """Check and stamp the second signature on ``record`` (not saved); returns the fields to save.

    The caller holds the transaction and the row lock, sets the record's own status and saves.
    """
    second_signature_check(record, by=by)
    record.confirmed_by = by
    record.confirmed_at = timezone.now()
    return list(SIGNATURE_FIELDS)
