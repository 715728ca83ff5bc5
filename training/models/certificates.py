"""Training certificates (救护员证, 师资证): numbered, verifiable documents with an expiry and a PDF."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.documents import PdfDocument, pdf_pending_index
from redcross.models import Branch, Person
from redcross.uploads import validate_photo_file
from redcross.verification import VerifiableDocument, VerificationFacts


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

    def issued_here(self) -> CertificateQuerySet:
        """Certificates this portal issued after an exam (not those recorded from another body)."""
        return self.filter(session__isnull=False)


class Certificate(PdfDocument, VerifiableDocument):
    """A certificate the portal issued after a session's exam (``certificate_issue``), or an
    instructor certificate another body issued, recorded here (``instructor_certificate_record``,
    no session, no PDF, not on the public verification page).

    A refresher course (复训) renews a certificate with a new one: a new number, its own dates, and
    ``renews`` pointing at the one it renews, which keeps its number, dates and status.
    """

    document_kind = _("应急救护培训证书")
    number_label = _("证书编号")
    holder_label = _("持证人")

    pdf_upload_to = "training/certificates/%Y/"
    pdf_render_task = "training.tasks.certificate_render_pdf_task"

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
    renews = models.OneToOneField(
        "self",
        verbose_name=_("换发自"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewal",
        help_text=_("复训换发的新证书指向原证书"),
    )
    photo = models.FileField(
        _("持证人照片"),
        upload_to="training/photos/%Y/",
        blank=True,
        validators=[validate_photo_file],
        help_text=_("可选；JPG 或 PNG，印在证书上"),
    )
    # the number's place in its branch and year (redcross.numbering), for the auditors' count;
    # empty for a certificate recorded from another body
    sequence_number = models.PositiveIntegerField(_("年度序号"), null=True, blank=True, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发证人"), on_delete=models.PROTECT, null=True, related_name="+"
    )

    objects = CertificateQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("培训证书")
        verbose_name_plural = _("培训证书")
        ordering = ["-issued_on", "-number"]
        indexes = [
            models.Index(fields=["person", "kind"], name="training_cert_person_kind"),
            models.Index(fields=["expires_on"], name="training_cert_expires"),
            pdf_pending_index("training_cert_pdf_pending"),
        ]
        constraints = [
            # one certificate per trainee and session: the guard against a second issue, even concurrent
            models.UniqueConstraint(
                fields=["session", "person"],
                condition=models.Q(session__isnull=False),
                name="training_cert_once_per_session",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def verification_facts(self) -> VerificationFacts:
        facts = super().verification_facts()
        # the page names the certificate (救护员证, 师资证), in the reader's language
        return VerificationFacts(**{**facts.__dict__, "kind": str(self.get_kind_display())})

    def pdf_renderable(self) -> bool:
        return self.session_id is not None  # a recorded certificate has its paper from another body

    def pdf_filename(self) -> str:
        return f"{self.number}.pdf"
