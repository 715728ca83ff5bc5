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
