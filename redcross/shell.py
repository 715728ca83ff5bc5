"""Page shells: a public page rendered once per process with markers where its per-request parts
go, then filled in for each request by joining strings.

Why: on the honor roll a surge sends everyone to, walking the template (the frame, the filter
form, the table head and pager) cost about 1 ms of CPU a request, a quarter of the page's time,
to produce HTML that is the same for every visitor of a language. The shell is that HTML with
the parts that differ (the rows, the next page's cursor, the path the language switch returns
to) cut out. It holds no donation data: the rows are read and built for every request.

A shell is only built and used for a visitor with nothing of their own to show: no session (so
no user and no messages stored there) and no messages cookie. Every value put into a slot must
already be what the template would have printed there (escaped); the honor roll's test
(``tests/disclosure/test_honor_roll.py``) checks its filled shell against a full render byte for byte.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

# markers are letters, digits and "_": they pass unchanged through escaping and |urlencode
_MARKER = "shellslot{token}x{name}x"


def shell_allowed(request: HttpRequest) -> bool:
    """Nothing of the visitor's own could be on the page: no session and no messages cookie."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and CookieStorage.cookie_name not in cookies


def render_in_shell(
    request: HttpRequest,
    template_name: str,
    build_context: Callable[[Mapping[str, SafeString]], dict],
    *,
    key: str,
    slots: Mapping[str, str],
) -> str:
    """The page for this request: the shell kept under ``key`` (rendered from
    ``build_context(markers)`` when missing) with each slot's value in place of its marker.

    ``key`` must name everything else the template's output depends on (language, flags that
    switch blocks on or off); ``slots`` maps each slot's name to its final HTML."""
    fragments = caches["fragments"]
    pieces = fragments.get(key)
    if pieces is None:
        token = secrets.token_hex(6)
        markers = {name: mark_safe(_MARKER.format(token=token, name=name)) for name in slots}  # noqa: S308
        html = render_to_string(template_name, build_context(markers), request)
        # even indices: the shell's text; odd: the name of the slot between them
        pieces = re.split(_MARKER.format(token=token, name="([a-z_]+)"), html)
        found = pieces[1::2]
        if sorted(found) != sorted(slots):
            raise ValueError(f"{template_name} must print each slot once: {sorted(slots)}, printed {found}")
        fragments.set(key, pieces, settings.FRAGMENT_SECONDS)
    return "".join([piece if n % 2 == 0 else slots[piece] for n, piece in enumerate(pieces)])
