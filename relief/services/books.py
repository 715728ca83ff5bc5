"""The nightly check of every relief project's books, recorded as ``BooksCheck`` rows."""

from __future__ import annotations

import logging

from django.db import transaction

from relief.models import BooksCheck, Project
from relief.selectors.books import project_books, projects_to_check

logger = logging.getLogger(__name__)


@transaction.atomic
def relief_books_check(*, project: Project) -> BooksCheck:
    books = project_books(project)
    check = BooksCheck.objects.create(
        project=project, is_balanced=books.is_balanced, figures=books.figures(), discrepancies=books.discrepancies
    )
    if not books.is_balanced:
        # ids only: the discrepancies are for staff, in the admin
        logger.warning("relief books: project %s has %d discrepancies", project.pk, len(books.discrepancies))
    return check


def relief_books_check_all() -> list[BooksCheck]:
    return [relief_books_check(project=project) for project in projects_to_check()]
