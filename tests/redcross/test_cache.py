"""Redis being down never breaks a page: the cache degrades to a miss."""

import pytest

from redcross.cache import ResilientRedisCache


@pytest.fixture
def dead_redis_cache(monkeypatch):
    # nothing listens on port 1
    backend = ResilientRedisCache(
        "redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}
    )
    monkeypatch.setattr("redcross.site.cache", backend)
    return backend


def test_cache_calls_degrade_to_misses(dead_redis_cache):
    assert dead_redis_cache.get("anything", "fallback") == "fallback"
    assert dead_redis_cache.get_many(["a", "b"]) == {}
    dead_redis_cache.set("x", 1)
    assert dead_redis_cache.add("y", 1) is False
    dead_redis_cache.delete("x")


@pytest.mark.django_db
def test_home_page_works_with_redis_down(client, branch_tree, dead_redis_cache):
    response = client.get("/")
    assert response.status_code == 200
    assert "测试市红十字会" in response.content.decode()
