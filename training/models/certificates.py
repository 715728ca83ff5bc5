"""Training certificates (救护员证, 师资证): numbered, verifiable documents with an expiry."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.models import Branch, Person
from redcross.verification import VerifiableDocument


class CertificateKind(models.TextChoices):
    FIRST_AIDER = "first_aider", _("救护员证")
    INSTRUCTOR = "instructor", _("师资证")


class CertificateQuerySet(models.QuerySet):
    def valid_on(self, day) -> CertificateQuerySet:
        """Not revoked and not expired on ``day``: what qualifies an instructor."""
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_on__isnull=True) | models.Q(expires_on__gte=day)
        )

    def valid_today(self) -> CertificateQuerySet:
        return self.valid_on(timezone.localdate())


class Certificate(VerifiableDocument):
    document_kind = _("应急救护培训证书")
    number_label = _("证书编号")
    holder_label = _("持证人")

    branch = models.ForeignKey(
        Branch, verbose_name=_("发证组织"), on_delete=models.PROTECT, related_name="training_certificates"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("持证人"), on_delete=models.PROTECT, related_name="training_certificates"
    )
    kind = models.CharField(_("证书类别"), max_length=16, choices=CertificateKind.choices)
    session = models.ForeignKey(
        "training.Session",
        verbose_name=_("培训班"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificates",
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发证人"), on_delete=models.PROTECT, null=True, related_name="+"
    )

    objects = CertificateQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("培训证书")
        verbose_name_plural = _("培训证书")
        ordering = ["-issued_on", "-number"]
        indexes = [models.Index(fields=["person", "kind"], name="training_cert_person_kind")]

    def __str__(self) -> str:
        return self.number
