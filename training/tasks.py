"""Training tasks: thin, idempotent, take ids. PDF rendering runs on the heavy queue."""

from celery import shared_task

from training.services.certificates import certificate_render_pdf

# redelivery after a killed worker must come well before the broker's visibility timeout
_RETRY = {"autoretry_for": (Exception,), "retry_backoff": 5, "retry_backoff_max": 300, "max_retries": 5}


@shared_task(name="training.tasks.certificate_render_pdf_task", queue="heavy", acks_late=True, **_RETRY)
def certificate_render_pdf_task(certificate_id: int) -> None:
    certificate_render_pdf(certificate_id=certificate_id)


@shared_task(name="training.tasks.training_reminders_task", acks_late=True)
def training_reminders_task() -> dict[str, int]:
    """Beat (daily): record the reminders due (certificates expiring soon) and deliver them."""
    from training.services.reminders import training_reminders_send

    return training_reminders_send()
