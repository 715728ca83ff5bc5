"""Relief tasks: thin, idempotent, take ids."""

from celery import shared_task


@shared_task(name="relief.tasks.relief_books_nightly_task", acks_late=True)
def relief_books_nightly_task() -> int:
    """Check every relief project's books (funds in = paid out + goods out + balance); returns how
    many are out of balance."""
    from relief.services.books import relief_books_check_all

    return sum(1 for check in relief_books_check_all() if not check.is_balanced)
