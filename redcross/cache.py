"""A Redis cache that degrades to "no cache" when Redis is down.

Pages must keep working without Redis (DESIGN.md section 5): a failed cache
call is logged and treated as a miss, never raised into the request.
"""

from __future__ import annotations

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


class ResilientRedisCache(RedisCache):
    def _safely(self, operation: str, default, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except _DOWN as exc:
            logger.warning("cache %s failed, continuing without cache: %s", operation, exc.__class__.__name__)
            return default

    def get(self, key, default=None, version=None):
        return self._safely("get", default, super().get, key, default, version)

    def get_many(self, keys, version=None):
        return self._safely("get_many", {}, super().get_many, keys, version)

    def set(self, key, value, timeout=None, version=None):
        return self._safely("set", None, super().set, key, value, timeout, version)

    def add(self, key, value, timeout=None, version=None):
        return self._safely("add", False, super().add, key, value, timeout, version)

    def set_many(self, data, timeout=None, version=None):
        return self._safely("set_many", list(data), super().set_many, data, timeout, version)

    def delete(self, key, version=None):
        return self._safely("delete", False, super().delete, key, version)

    def delete_many(self, keys, version=None):
        return self._safely("delete_many", None, super().delete_many, keys, version)

    def incr(self, key, delta=1, version=None):
        # counters (rate limits) must not silently pass: callers decide what "down" means
        return super().incr(key, delta, version)

    def has_key(self, key, version=None):
        return self._safely("has_key", False, super().has_key, key, version)

    def touch(self, key, timeout=None, version=None):
        return self._safely("touch", False, super().touch, key, timeout, version)

    def clear(self):
        return self._safely("clear", None, super().clear)


# --- one recomputation per expired entry -------------------------------------------------------

_LOCK_SECONDS = 30  # a recomputation that takes longer (or a process killed in it) frees the lock
_WAIT_SECONDS = 5.0  # how long a request with nothing to serve waits for another's recomputation
_STALE_SECONDS = 3600  # how long an expired value is kept to serve while one process refreshes it


def cached_or_refreshed(key: str, compute, seconds: int, *, cache=None):
    """``cache.get_or_set`` without a stampede: the value is fresh for ``seconds``; once it is older,
    the first request to see it takes a lock (``cache.add``) and recomputes it while every other
    request keeps serving the previous value. With no previous value at all (a cold cache), the
    others wait up to a few seconds for the one recomputing, then compute it themselves. When the
    cache is down every request computes (the page still works)."""
    import time

    from django.core.cache import cache as default_cache

    cache = cache or default_cache
    entry = cache.get(key)
    now = time.time()
    if entry is not None and entry[0] > now:
        return entry[1]
    lock = f"{key}:refreshing"
    if not cache.add(lock, 1, _LOCK_SECONDS):
        if entry is not None:
            return entry[1]  # another process is refreshing it: the previous value meanwhile
        if cache.get(lock) is not None:  # cold: wait for the one computing it
            deadline = now + _WAIT_SECONDS
            while time.time() < deadline:
                time.sleep(0.02)
                entry = cache.get(key)
                if entry is not None:
                    return entry[1]
        # no lock visible (the cache is down) or the other took too long: compute here
        return compute()
    try:
        value = compute()
        cache.set(key, (time.time() + seconds, value), seconds + _STALE_SECONDS)
    finally:
        cache.delete(lock)
    return value
