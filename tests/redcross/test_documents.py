"""Documents rendered as PDF (``redcross.documents``), the kernel's pieces on their own: the abstract
model, the render helper, the enqueue that survives a broker outage, and the sweeper."""

import logging
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError

from redcross.celery import app as celery_app
from redcross.documents import (
    PdfDocument,
    PdfStatus,
    document_pdf_enqueue,
    document_pdf_request,
    document_render_pdf,
    documents_pdf_sweep,
    pdf_document_models,
    pdf_upload_to,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def certificate(branch_tree):
    from donations.models import Certificate
    from tests.donations.factories import DonationFactory

    return Certificate.objects.create(donation=DonationFactory(branch=branch_tree["city"]))


@pytest.fixture
def sent(monkeypatch):
    """Render tasks sent to the broker, as (task name, pk); nothing runs."""
    messages = []
    for model in pdf_document_models():
        task = import_string(model.pdf_render_task)
        monkeypatch.setattr(task, "delay", lambda pk, _name=task.name: messages.append((_name, pk)))
    return messages


def _requested(document, minutes_ago: float) -> None:
    type(document).objects.filter(pk=document.pk).update(
        pdf_requested_at=timezone.now() - timedelta(minutes=minutes_ago)
    )


# --- the abstract model ---------------------------------------------------------------------------


def test_every_pdf_document_model_names_its_task_folder_file_and_sweeper_index():
    models = pdf_document_models()
    assert {model._meta.label for model in models} >= {
        "donations.Receipt",
        "donations.Certificate",
        "donations.Bulletin",
    }
    for model in models:
        assert issubclass(model, PdfDocument) and not model._meta.abstract
        task = import_string(model.pdf_render_task)
        assert task.name in celery_app.tasks and task.queue == "heavy", model  # PDFs render on the heavy queue
        assert isinstance(model.pdf_upload_to, str) and model.pdf_upload_to.endswith("/"), model
        assert model.pdf_filename is not PdfDocument.pdf_filename, model
        pending = [
            index
            for index in model._meta.indexes
            if index.fields == ["pdf_requested_at"] and index.condition == Q(pdf_status=PdfStatus.PENDING)
        ]
        assert pending, f"{model._meta.label} has no pdf_pending_index(...) for the sweeper"


def test_the_pdf_goes_to_the_models_dated_folder():
    from donations.models import Certificate, Receipt

    year = date.today().year
    assert pdf_upload_to(Receipt(), "CS2026-00000001.pdf") == f"donations/receipts/{year}/CS2026-00000001.pdf"
    assert pdf_upload_to(Certificate(), "ABC.pdf") == f"donations/certificates/{year}/ABC.pdf"


# --- rendering ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rendering_stores_the_file_once_and_marks_it_ready(certificate):
    from donations.models import Certificate

    renders = []

    def render(document):
        renders.append(document.pk)
        return b"%PDF-1.4 test"

    rendered = document_render_pdf(model=Certificate, pk=certificate.pk, render=render, related=("donation",))
    stored = Certificate.objects.get(pk=certificate.pk)
    assert (stored.pdf_status, stored.pdf_ready, rendered.pdf_ready) == (PdfStatus.READY, True, True)
    assert stored.pdf.name.startswith(f"donations/certificates/{date.today().year}/{certificate.verification_code}")
    assert Path(stored.pdf.path).read_bytes() == b"%PDF-1.4 test"
    # a second delivery of the task renders and stores nothing more
    again = document_render_pdf(model=Certificate, pk=certificate.pk, render=render)
    assert (renders, again.pdf.name) == ([certificate.pk], stored.pdf.name)
    with pytest.raises(Certificate.DoesNotExist):  # the task retries
        document_render_pdf(model=Certificate, pk=certificate.pk + 1000, render=render)
    assert renders == [certificate.pk]


@pytest.mark.django_db
def test_a_document_not_renderable_yet_is_left_alone(branch_tree):
    from donations.models import Bulletin

    draft = Bulletin(
        branch=branch_tree["city"],
        kind="receipt",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 1),
        title="草稿",
    )
    draft.save()
    result = document_render_pdf(model=Bulletin, pk=draft.pk, render=lambda _document: pytest.fail("rendered a draft"))
    assert result.pk == draft.pk
    draft.refresh_from_db()
    assert (draft.pdf_status, draft.pdf.name) == (PdfStatus.PENDING, "")


# --- asking for a PDF, and a broker that is down --------------------------------------------------


@pytest.mark.django_db
def test_a_request_marks_the_pdf_wanted_and_enqueues_only_after_commit(
    certificate, sent, django_capture_on_commit_callbacks
):
    assert certificate.pdf_requested_at is None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        document_pdf_request(document=certificate)
        assert sent == []  # nothing is sent before the transaction commits
    assert len(callbacks) == 1
    assert sent == [("donations.tasks.certificate_render_pdf_task", certificate.pk)]
    certificate.refresh_from_db()
    assert certificate.pdf_status == PdfStatus.PENDING
    assert timezone.now() - certificate.pdf_requested_at < timedelta(seconds=30)


@pytest.mark.django_db
def test_a_failed_enqueue_is_logged_without_personal_data_and_never_raised(certificate, monkeypatch, caplog):
    from donations import tasks
    from donations.models import Certificate

    def broker_down(_pk):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379 for 张三 13800138000")

    monkeypatch.setattr(tasks.certificate_render_pdf_task, "delay", broker_down)
    with caplog.at_level(logging.WARNING, logger="redcross.documents"):
        assert document_pdf_enqueue(model=Certificate, pk=certificate.pk) is False
    [record] = caplog.records
    message = record.getMessage()
    assert "donations.Certificate" in message and str(certificate.pk) in message and "OperationalError" in message
    assert "张三" not in message and "13800138000" not in message and "6379" not in message
    assert record.exc_info is None  # no traceback, which would carry the broker's text


# --- the sweeper ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweeper_sends_again_only_pdfs_pending_too_long_and_only_once(branch_tree, sent, settings):
    from donations.models import Bulletin, Certificate
    from tests.donations.factories import DonationFactory

    settings.PDF_PENDING_SWEEP_MINUTES = 5
    city = branch_tree["city"]
    lost, fresh, ready = (Certificate.objects.create(donation=DonationFactory(branch=city)) for _ in range(3))
    _requested(lost, 12)
    _requested(fresh, 2)  # its task may still be on its way
    _requested(ready, 12)
    Certificate.objects.filter(pk=ready.pk).update(pdf_status=PdfStatus.READY, pdf="donations/certificates/x.pdf")
    Bulletin(
        branch=city, kind="receipt", period_start=date(2026, 1, 1), period_end=date(2026, 1, 1), title="草稿"
    ).save()

    assert documents_pdf_sweep() == 1
    assert sent == [("donations.tasks.certificate_render_pdf_task", lost.pk)]
    # the sweep restarted the clock: running it again (or beside it) sends nothing more
    assert documents_pdf_sweep() == 0
    assert documents_pdf_sweep() == 0
    assert sent == [("donations.tasks.certificate_render_pdf_task", lost.pk)]
    _requested(lost, 6)  # still not rendered minutes later: sent again
    assert documents_pdf_sweep() == 1
    assert len(sent) == 2


@pytest.mark.django_db
def test_the_sweeper_keeps_a_pdf_whose_enqueue_fails_for_the_next_sweep(certificate, monkeypatch):
    from donations import tasks

    def broker_down(_pk):
        raise OperationalError("connection refused")

    _requested(certificate, 10)
    monkeypatch.setattr(tasks.certificate_render_pdf_task, "delay", broker_down)
    assert documents_pdf_sweep() == 0
    certificate.refresh_from_db()
    assert certificate.pdf_status == PdfStatus.PENDING
    assert certificate.pdf_requested_at is not None  # still wanted: a later sweep sends it


def test_the_sweeper_is_declared_in_the_one_beat_schedule():
    from redcross.tasks import documents_pdf_sweep_task

    entry = settings.CELERY_BEAT_SCHEDULE["documents-pdf-sweep"]
    assert entry["task"] == documents_pdf_sweep_task.name == "redcross.tasks.documents_pdf_sweep_task"
    assert settings.PDF_PENDING_SWEEP_MINUTES >= 1


def test_no_second_copy_of_enqueueing_or_storing_a_pdf_in_the_project():
    """Render tasks are sent, and PDFs marked ready, only by ``redcross.documents``: a service that
    enqueued with ``delay_on_commit`` again would bring back the broker error raised to the user."""
    enqueue = re.compile(r"render_pdf_task\s*\.\s*(delay|apply_async|delay_on_commit|s|si)\s*\(")
    store = re.compile(r"pdf_status\s*=\s*PdfStatus\.READY")
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {".venv", "tests", "var", "bench"} or "migrations" in relative.parts:
            continue
        if relative == Path("redcross/documents.py"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if enqueue.search(line) or store.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
