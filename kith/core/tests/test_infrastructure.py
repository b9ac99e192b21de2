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
