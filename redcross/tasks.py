"""Kernel tasks. Tasks only call a service; they take ids, never model instances."""

from celery import shared_task

from redcross.documents import documents_pdf_sweep
from redcross.services import worker_heartbeat_record


@shared_task(name="redcross.tasks.worker_heartbeat_task", ignore_result=True)
def worker_heartbeat_task() -> None:
    worker_heartbeat_record(name="worker")


@shared_task(name="redcross.tasks.documents_pdf_sweep_task", ignore_result=True)
def documents_pdf_sweep_task() -> int:
    """Beat (every 5 minutes): enqueue again the PDFs pending too long; returns how many."""
    return documents_pdf_sweep()
