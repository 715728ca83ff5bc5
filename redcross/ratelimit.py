"""A per-client attempt limit for public pages that take guesses (lookups, verification codes).

One ``RateLimiter`` per public form or page family, each with its own scope, limit and window
from settings. Used by the donor lookup and its verification pages; the later apps' public
forms and verification pages use it the same way.

The client's address is stored only as a keyed hash (an unkeyed hash of an IPv4 address is
trivially reversed), and nothing personal is logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control

logger = logging.getLogger(__name__)


class LimiterUnavailable(Exception):
    """The counter cannot be kept (the cache is down)."""


@dataclass(frozen=True)
class RateLimiter:
    """``limit`` attempts per client in a fixed window of ``window`` seconds.

    ``limit_setting`` and ``window_setting`` name the settings that override the defaults, so an
    operator can tighten a limit without a release. ``template`` is the refusal page.
    """

    scope: str
    template: str
    limit_setting: str
    window_setting: str
    default_limit: int = 10
    default_window: int = 3600

    @property
    def limit(self) -> int:
        return int(getattr(settings, self.limit_setting, self.default_limit))

    @property
    def window(self) -> int:
        return max(int(getattr(settings, self.window_setting, self.default_window)), 1)

    def bucket(self, request: HttpRequest) -> tuple[str, int, int]:
        """Cache key of the client's counter in the current window, the window, the seconds left in it.

        REMOTE_ADDR only: behind a proxy every client shares the proxy's address, which is
        strict, not lax.
        """
        window = self.window
        now = int(time.time())
        address = request.META.get("REMOTE_ADDR", "")
        digest = hmac.new(settings.SECRET_KEY.encode(), f"{self.scope}|{address}".encode(), hashlib.sha256)
        return f"ratelimit:{self.scope}:{digest.hexdigest()[:32]}:{now // window}", window, window - now % window

    def count_attempt(self, request: HttpRequest) -> bool:
        """Count one attempt; True when the client is now over the limit.

        Raises ``LimiterUnavailable`` when the counter cannot be kept (ResilientRedisCache lets
        ``incr`` raise when Redis is down).
        """
        key, window, _left = self.bucket(request)
        try:
            cache.add(key, 0, window)
            count = cache.incr(key)
            # Redis keeps the expiry on INCR; the file and database caches re-set the entry with
            # their default timeout, which would end the window early. The key names the window,
            # so refreshing the expiry never stretches a window.
            cache.touch(key, window)
        except Exception as exc:
            logger.warning("%s rate limiter unavailable: %s", self.scope, exc.__class__.__name__)
            raise LimiterUnavailable from exc
        return count > self.limit

    def is_blocked(self, request: HttpRequest) -> bool:
        """Whether the client was already refused in this window (read only, counts nothing).

        Checked before a token or code is looked up, so that a throttled client gets the same
        refusal for valid and invalid ones (otherwise the refusal itself would tell which guess
        was right). "Over", not "at", the limit: a client whose last allowed attempt succeeded
        must still be able to open the page it leads to. A cache that cannot answer blocks no
        one here: valid links keep working while Redis is down, and an unknown token then fails
        closed in ``count_attempt``.
        """
        key, _window, _left = self.bucket(request)
        try:
            count = cache.get(key)
        except Exception:
            return False
        return isinstance(count, int) and count > self.limit

    def refusal(self, request: HttpRequest, *, unavailable: bool = False) -> HttpResponse:
        if unavailable:
            # Fail closed: without a working counter, guesses would be unthrottled. Failing open
            # would serve an attacker; failing closed only delays honest visitors, who are told so.
            response = render(request, self.template, {"unavailable": True}, status=503)
            response.headers["Retry-After"] = "300"
            return response
        _key, _window, left = self.bucket(request)
        response = render(request, self.template, {"unavailable": False}, status=429)
        response.headers["Retry-After"] = str(left)
        return response

    def refused_attempt(self, request: HttpRequest) -> HttpResponse | None:
        """Count one guess; the refusal page when the client is over its limit or the limiter is down."""
        try:
            over = self.count_attempt(request)
        except LimiterUnavailable:
            return self.refusal(request, unavailable=True)
        return self.refusal(request) if over else None


def private_page(*, noindex: bool) -> Callable:
    """For responses that carry a private link or personal facts: never stored by a cache; not indexed."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_store=True)
            if response.status_code >= 400:
                # Django's request logger would write "Not Found: <path>", and the path carries a
                # private token or a verification code; these answers are expected, not errors
                response._has_been_logged = True
            if noindex:
                response.headers["X-Robots-Tag"] = "noindex"
            return response

        return wrapped

    return decorator
