"""Row counts and a SHA-256 per table, computed from Django's Python values so both engines hash alike.

Every table of a Django model (auto-created many-to-many tables and ``django_migrations`` included) is
read in primary-key order; each value is normalised to text (times in UTC ISO 8601, JSON with sorted
keys, bytes in hex, NULL distinct from the text "None") and each row is hashed as a JSON list. Tables
Django does not know (SQLite's full-text index and its shadow tables) are derived data and are rebuilt
from the model tables, so they are left out.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connections, models
from django.db.migrations.recorder import MigrationRecorder
from django.db.models.functions import Cast

from kith.core.crypto import EncryptedMixin


@dataclass(frozen=True)
class TableSum:
    rows: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "sha256": self.sha256}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return value
    if isinstance(value, int | decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value // dt.timedelta(microseconds=1))
    if isinstance(value, bytes | memoryview | bytearray):
        return bytes(value).hex()
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _models() -> list[type[models.Model]]:
    found: dict[str, type[models.Model]] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.concrete_model or meta.concrete_model is not model:
            continue
        found.setdefault(meta.db_table, model)
    found.setdefault(MigrationRecorder.Migration._meta.db_table, MigrationRecorder.Migration)
    return [found[table] for table in sorted(found)]


def table_sum(model: type[models.Model], *, using: str) -> TableSum:
    """Encrypted columns are hashed as stored (their tokens): nothing is decrypted to check a backup."""
    columns: list[str] = []
    stored: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if isinstance(field, EncryptedMixin):
            stored[f"_stored_{field.attname}"] = Cast(field.attname, output_field=models.TextField())
            columns.append(f"_stored_{field.attname}")
        else:
            columns.append(field.attname)
    digest = hashlib.sha256()
    rows = 0
    queryset = model._base_manager.using(using).order_by("pk").annotate(**stored).values_list(*columns)
    for row in queryset.iterator(chunk_size=5000):
        digest.update(json.dumps([_text(value) for value in row], ensure_ascii=False).encode())
        digest.update(b"\n")
        rows += 1
    return TableSum(rows=rows, sha256=digest.hexdigest())


def database_sums(*, using: str) -> dict[str, TableSum]:
    """Count and hash every model table that exists in the database ``using``."""
    existing = set(connections[using].introspection.table_names())
    return {
        model._meta.db_table: table_sum(model, using=using)
        for model in _models()
        if model._meta.db_table in existing
    }


def applied_migrations(*, using: str) -> dict[str, list[str]]:
    recorder = MigrationRecorder(connections[using])
    if not recorder.has_table():
        return {}
    applied: dict[str, list[str]] = {}
    for app_label, name in sorted(recorder.applied_migrations()):
        applied.setdefault(app_label, []).append(name)
    return applied


def user_tables_with_rows(*, using: str) -> list[str]:
    """Tables holding data that ``migrate`` does not make by itself (used to ask before a restore)."""
    made_by_migrate = {"django_migrations", "django_content_type", "auth_permission"}
    existing = set(connections[using].introspection.table_names())
    return [
        model._meta.db_table
        for model in _models()
        if model._meta.db_table in existing
        and model._meta.db_table not in made_by_migrate
        and model._base_manager.using(using).exists()
    ]
