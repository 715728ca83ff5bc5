"""Keyset (cursor) pagination for every list: no COUNT(*), stable under inserts."""

import binascii
import json
from datetime import datetime

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from rest_framework.pagination import CursorPagination


class KeysetPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_ordering(self, request, queryset, view):
        # a view states its keyset order as ``cursor_ordering`` (unique, indexed columns)
        ordering = getattr(view, "cursor_ordering", None)
        if ordering:
            return (ordering,) if isinstance(ordering, str) else tuple(ordering)
        return super().get_ordering(request, queryset, view)


# --- keyset cursors for pages built by selectors (public pages, the open data API) -------------


def keyset_before(value, pk: int, *, field: str) -> Q:
    """Rows after a cursor in newest-first order: (field, id) < (value, pk).

    Written as ``field <= value AND NOT (field = value AND id >= pk)`` rather than
    ``field < value OR (...)``: PostgreSQL starts the index scan at ``value`` with this form, so a
    page deep in a million rows costs what the first page costs; with the OR it walks the index
    from the top.
    """
    return Q(**{f"{field}__lte": value}) & ~Q(**{field: value, "pk__gte": pk})


def encode_cursor(when: datetime, pk: int, *, salt: str) -> str:
    """An opaque, signed cursor: a page's last (time, id). The salt keeps lists' cursors apart."""
    return signing.dumps([when.isoformat(), pk], salt=salt, compress=False)


def decode_cursor(cursor: str, *, salt: str) -> tuple[datetime, int]:
    """A cursor we issued, or ValidationError: a forged or damaged cursor is refused, not trusted."""
    try:
        when, pk = signing.loads(cursor[:200], salt=salt)
        return datetime.fromisoformat(when), int(pk)
    except (signing.BadSignature, ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise ValidationError({"cursor": [_("翻页参数无效")]}) from None
