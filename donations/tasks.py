"""Donation tasks: thin, idempotent, take ids. PDF rendering runs on the heavy queue."""

from celery import shared_task

from donations.services.certificates import certificate_render_pdf
from donations.services.receipts import receipt_render_pdf, receipts_issue_pending
from redcross.faults import pause_once

# redelivery after a killed worker must come well before the broker's visibility timeout
_RETRY = {"autoretry_for": (Exception,), "retry_backoff": 5, "retry_backoff_max": 300, "max_retries": 5}


@shared_task(name="donations.tasks.receipt_render_pdf_task", queue="heavy", acks_late=True, **_RETRY)
def receipt_render_pdf_task(receipt_id: int) -> None:
    pause_once("receipt_render")
    receipt_render_pdf(receipt_id=receipt_id)


@shared_task(name="donations.tasks.certificate_render_pdf_task", queue="heavy", acks_late=True, **_RETRY)
def certificate_render_pdf_task(certificate_id: int) -> None:
    certificate_render_pdf(certificate_id=certificate_id)


@shared_task(name="donations.tasks.receipts_issue_pending_task", acks_late=True)
def receipts_issue_pending_task() -> int:
    return receipts_issue_pending()


@shared_task(name="donations.tasks.reconciliation_nightly_task", acks_late=True)
def reconciliation_nightly_task() -> int:
    """Check every campaign's books; returns how many are out of balance."""
    from donations.services.reconciliation import reconciliation_check_all

    return sum(1 for run in reconciliation_check_all() if not run.is_balanced)


# --- bulletins (公示) and disclosure deadlines -------------------------------------------------


@shared_task(name="donations.tasks.bulletin_render_pdf_task", queue="heavy", acks_late=True, **_RETRY)
def bulletin_render_pdf_task(bulletin_id: int) -> None:
    from donations.services.bulletins.publish import bulletin_render_pdf

    bulletin_render_pdf(bulletin_id=bulletin_id)


@shared_task(name="donations.tasks.bulletins_draft_due_task", acks_late=True)
def bulletins_draft_due_task() -> int:
    """Beat (daily): draft the bulletins due today; returns how many were drafted."""
    from donations.services.bulletins.schedule import bulletins_draft_due

    return len(bulletins_draft_due())


@shared_task(name="donations.tasks.disclosure_reminders_task", acks_late=True)
def disclosure_reminders_task() -> int:
    """Beat (daily): e-mail staff the campaigns whose disclosure is due or overdue; returns e-mails sent."""
    from donations.services.bulletins.schedule import disclosure_reminders_send

    return disclosure_reminders_send()
