"""Documents rendered as PDF and stored with their row: receipts, certificates, bulletins, and the
later apps' certificates and cards.

- ``PdfDocument``: the abstract model (the stored ``pdf``, its ``pdf_status``, and
  ``pdf_requested_at``, when its rendering was last asked for).
- ``document_pdf_request``: inside the service's transaction, marks the PDF as wanted and
  enqueues its render task once the transaction commits. An enqueue that fails (the broker is
  down) is logged and never raised: the confirmation, issue or publication the user made is
  committed and stays so.
- ``document_render_pdf``: what a render task runs; idempotent (a PDF that is ready is left alone).
- ``documents_pdf_sweep``: the beat's sweeper; re-enqueues every document, of every model built
  on ``PdfDocument``, whose PDF has been pending longer than ``PDF_PENDING_SWEEP_MINUTES``.

A concrete model names the folder its PDFs go to (``pdf_upload_to``, strftime codes allowed), the
Celery task that renders one (``pdf_render_task``, dotted path, taking the primary key), the
file name (``pdf_filename()``), and declares ``pdf_pending_index(...)`` in its ``Meta.indexes``.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import ClassVar, TypeVar

from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# what publishing a message raises when the broker cannot be reached (kombu wraps the
# transport's connection errors in OperationalError; a bare socket error may slip through)
BROKER_ERRORS = (OperationalError, OSError)


class PdfStatus(models.TextChoices):
    PENDING = "pending", _("生成中")
    READY = "ready", _("已生成")
    FAILED = "failed", _("生成失败")


def pdf_upload_to(instance: PdfDocument, filename: str) -> str:
    """The model's ``pdf_upload_to`` folder, dated like a FileField's own ``upload_to`` string."""
    return posixpath.join(datetime.now().strftime(instance.pdf_upload_to), filename)


def pdf_pending_index(name: str) -> models.Index:
    """The sweeper's index: only the (few) pending rows, by when they were asked for."""
    return models.Index(fields=["pdf_requested_at"], condition=models.Q(pdf_status=PdfStatus.PENDING), name=name)


class PdfDocument(models.Model):
    """A row whose PDF is rendered once, after commit, by a task on the heavy queue, and stored."""

    pdf_upload_to: ClassVar[str]  # e.g. "donations/receipts/%Y/"
    pdf_render_task: ClassVar[str]  # e.g. "donations.tasks.receipt_render_pdf_task"

    pdf = models.FileField(_("PDF"), upload_to=pdf_upload_to, blank=True)
    pdf_status = models.CharField(_("PDF 状态"), max_length=10, choices=PdfStatus.choices, default=PdfStatus.PENDING)
    # set when rendering is asked for (and again by each sweep); empty while none is wanted,
    # e.g. for a bulletin still in draft
    pdf_requested_at = models.DateTimeField(_("PDF 请求时间"), null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def pdf_ready(self) -> bool:
        return self.pdf_status == PdfStatus.READY and bool(self.pdf)

    def pdf_renderable(self) -> bool:
        """Whether the document may be rendered now (a bulletin only once published)."""
        return True

    def pdf_filename(self) -> str:
        """The stored file's name, without folder."""
        raise NotImplementedError(f"{type(self).__name__} must name its PDF file")


D = TypeVar("D", bound=PdfDocument)


def pdf_document_models() -> list[type[PdfDocument]]:
    """Every installed concrete model built on ``PdfDocument``."""
    return [model for model in apps.get_models() if issubclass(model, PdfDocument)]


def document_pdf_enqueue(*, model: type[PdfDocument], pk: int) -> bool:
    """Send the render task of one document; False (logged) when the broker cannot take it.

    The log names the model and primary key only: never a donor, an address or the broker's text.
    """
    task = import_string(model.pdf_render_task)
    try:
        task.delay(pk)
    except BROKER_ERRORS as exc:
        logger.warning(
            "PDF render of %s %s not enqueued (%s); the sweeper will enqueue it again",
            model._meta.label,
            pk,
            type(exc).__name__,
        )
        return False
    return True


def document_pdf_request(*, document: PdfDocument) -> None:
    """Mark the document's PDF as wanted now and enqueue its render after commit.

    Called inside the service's transaction; nothing is sent if it rolls back. A failed enqueue
    is not the user's error: the sweeper sends it again once the broker is back.
    """
    model = type(document)
    now = timezone.now()
    # update(): asking for the PDF is not a change of an issued receipt or a published bulletin
    model._default_manager.filter(pk=document.pk).update(pdf_status=PdfStatus.PENDING, pdf_requested_at=now)
    document.pdf_status = PdfStatus.PENDING
    document.pdf_requested_at = now
    transaction.on_commit(partial(document_pdf_enqueue, model=model, pk=document.pk))


def document_render_pdf(*, model: type[D], pk: int, render: Callable[[D], bytes], related: Sequence[str] = ()) -> D:
    """Render and store one document's PDF, then mark it ready; idempotent.

    Rendering takes up to seconds, so it runs outside the row lock; storing re-checks under the
    lock, so two deliveries of the same task store one file. A missing row raises ``DoesNotExist``
    (the task was sent after its row committed, so the task's retries are the right answer).
    """
    document = model._default_manager.select_related(*related).get(pk=pk)
    if not document.pdf_renderable() or document.pdf_ready:
        return document
    content = render(document)
    with transaction.atomic():
        locked = model._default_manager.select_for_update().get(pk=pk)
        if locked.pdf_ready:
            return locked
        locked.pdf.save(document.pdf_filename(), ContentFile(content), save=False)
        # update(): attaching the rendered file is not a change of the frozen document
        model._default_manager.filter(pk=pk).update(pdf=locked.pdf.name, pdf_status=PdfStatus.READY)
        locked.pdf_status = PdfStatus.READY
    return locked


def documents_pdf_sweep(*, older_than: timedelta | None = None, limit: int | None = None) -> int:
    """Enqueue again every document whose PDF has been pending longer than ``older_than``
    (``PDF_PENDING_SWEEP_MINUTES``); returns how many were sent.

    Each one's ``pdf_requested_at`` is moved to now before it is sent (only by the sweep that
    moved it), so a second sweep, or one running beside it, sends nothing more until the render
    has had its minutes again.
    """
    if older_than is None:
        older_than = timedelta(minutes=settings.PDF_PENDING_SWEEP_MINUTES)
    limit = limit if limit is not None else settings.PDF_PENDING_SWEEP_LIMIT
    cutoff = timezone.now() - older_than
    sent = 0
    for model in pdf_document_models():
        pending = model._default_manager.filter(pdf_status=PdfStatus.PENDING, pdf_requested_at__lt=cutoff)
        for pk, requested_at in pending.order_by("pdf_requested_at").values_list("pk", "pdf_requested_at")[:limit]:
            claimed = model._default_manager.filter(
                pk=pk, pdf_status=PdfStatus.PENDING, pdf_requested_at=requested_at
            ).update(pdf_requested_at=timezone.now())
            if claimed and document_pdf_enqueue(model=model, pk=pk):
                sent += 1
    if sent:
        logger.info("PDF sweep: %d pending documents enqueued again", sent)
    return sent
