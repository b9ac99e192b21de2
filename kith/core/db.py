"""Database-engine helpers shared by every app (engine detection, SQLite connection set-up)."""

from __future__ import annotations

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def is_sqlite() -> bool:
    return connection.vendor == "sqlite"
