"""The configured real parts answer: database engine, cache (Redis when REDIS_URL is set), SQLite WAL."""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection


def test_cache_backend_follows_redis_url():
    backend = settings.CACHES["default"]["BACKEND"]
    if os.environ.get("REDIS_URL"):
        assert backend.endswith("RedisCache")
    else:
        assert backend.endswith("LocMemCache")
    key = f"kith-test-{uuid.uuid4()}"
    cache.set(key, {"n": 1}, 30)
    assert cache.get(key) == {"n": 1}
    cache.delete(key)
    assert cache.get(key) is None


@pytest.mark.django_db
def test_database_engine_follows_database_url():
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected


@pytest.mark.django_db
def test_sqlite_connections_run_in_wal_mode(tmp_path):
    """Whatever engine this run uses, the embedded default must open SQLite in WAL mode."""
    from django.db.backends.sqlite3.base import DatabaseWrapper

    from config.settings import SQLITE_OPTIONS

    params = {**connection.settings_dict, "ENGINE": "django.db.backends.sqlite3"}
    params.update(NAME=str(tmp_path / "wal.sqlite3"), OPTIONS=dict(SQLITE_OPTIONS), CONN_MAX_AGE=0)
    wrapper = DatabaseWrapper(params, alias="wal-check")
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] == 10000
    finally:
        wrapper.close()


@pytest.mark.django_db
def test_nightly_statistics_job_is_registered_and_runs():
    from django.db import connection

    from kith.core.schedule import daily_jobs
    from kith.core.tasks import refresh_search_statistics

    assert "core.search_statistics" in {job.name for job in daily_jobs()}
    refresh_search_statistics.call()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            assert cursor.fetchone()[0] == 1


def test_redis_cache_clear_leaves_other_key_spaces():
    """Two Kith processes (or test workers) share one Redis: clearing one's cache must not empty the
    other's counters, nor another program's keys (Django's own clear() runs FLUSHDB)."""
    import redis

    from kith.core.cache import PrefixedRedisCache

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    raw = redis.Redis.from_url(url)
    try:
        raw.ping()
    except redis.RedisError as error:
        message = f"no Redis at {url} ({error}): start redis-server to run this test"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    run = uuid.uuid4().hex
    mine = PrefixedRedisCache(url, {"KEY_PREFIX": f"mine-{run}"})
    theirs = PrefixedRedisCache(url, {"KEY_PREFIX": f"theirs-{run}"})
    foreign = f"other-program-{run}"
    raw.set(foreign, b"1", ex=60)
    try:
        mine.set_many({f"k{n}": n for n in range(2500)}, 60)  # more than one scan batch
        theirs.set("k1", "kept", 60)
        assert mine.get("k2499") == 2499
        assert mine.clear() is True
        assert mine.get_many(["k0", "k1", "k2499"]) == {}
        assert theirs.get("k1") == "kept"
        assert raw.get(foreign) == b"1"
        assert mine.clear() is False  # nothing left to remove
    finally:
        theirs.clear()
        raw.delete(foreign)
