"""Managing the keys of encryption at rest (``kith keys status | rotate | reencrypt``).

``rotate`` puts a new key first in the instance keyring file and re-encrypts every encrypted column under
it, batch by batch, each batch in a transaction with its rows locked (PostgreSQL: ``FOR UPDATE``; SQLite
writes one at a time), so an edit made meanwhile is neither lost nor left under the old key. Old keys stay
in the ring: audit entries are never rewritten (their hashes chain them), backups hold old tokens, and a
process that has not yet re-read the ring may still write under the previous key (``reencrypt`` later
moves such values on). ``rotate --index`` also replaces the blind-index key and recomputes every index;
exact lookups of phones and ID numbers may miss rows while that runs.
"""

from __future__ import annotations

import base64
import fcntl
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from kith.core import crypto

BATCH = 1000
Progress = Callable[[str, int, int], None]  # (table, rows done, rows in all)
ENVIRONMENT = "environment"  # ``Keyring.source`` when the keys come from KITH_ENCRYPTION_KEYS


@dataclass
class Status:
    source: str  # "environment", or the instance keyring file's path
    primary: str
    key_ids: list[str]
    # column label -> key id -> values under it (empty when not counted)
    columns: dict[str, dict[str, int]] = field(default_factory=dict)
    index_key_id: str = ""  # the blind-index key's id (a hash, like the others: never the key)

    @property
    def from_environment(self) -> bool:
        return self.source == ENVIRONMENT

    @property
    def stale(self) -> int:
        """Values not yet under the primary key."""
        return sum(self.stale_in(label) for label in self.columns)

    def stale_in(self, label: str) -> int:
        return sum(n for kid, n in self.columns.get(label, {}).items() if kid != self.primary)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON: key ids and counts only (what a job keeps and the API returns)."""
        return {
            "source": ENVIRONMENT if self.from_environment else "file",
            # the file's name only: the server's folders are not for everyone who may read this
            "keyring_file": "" if self.from_environment else Path(self.source).name,
            "primary": self.primary,
            "key_ids": list(self.key_ids),
            "index_key_id": self.index_key_id,
            "columns": {label: dict(per_key) for label, per_key in self.columns.items()},
            "stale": self.stale,
        }


def status(*, count: bool = True, progress: Progress | None = None) -> Status:
    """The keyring (where it comes from, the key ids, the primary one) and, with ``count``, the values
    under each key per encrypted column: one scan of every table with encrypted columns (about 35 ms at
    20,000 customers on SQLite, seconds at a million: the web page counts in a background job).
    ``progress(label, columns done, columns in all)`` after each column."""
    ring = crypto.keyring(reload=True)
    quote = connection.ops.quote_name
    result = Status(
        ring.source,
        ring.primary_id,
        [crypto.key_id(k) for k in ring.keys],
        index_key_id=crypto.key_id(ring.index_key),
    )
    if not count:
        return result
    start = len(crypto.PREFIX) + 1
    columns = list(crypto.encrypted_columns())
    with connection.cursor() as cursor:
        for done, column in enumerate(columns, start=1):
            name = quote(column.field.column)
            cursor.execute(
                f"SELECT substr({name}, {start}, 8), COUNT(*) FROM {quote(column.table)} "  # noqa: S608
                f"WHERE {name} IS NOT NULL AND {name} <> '' GROUP BY 1"
            )
            result.columns[column.label] = {str(kid): int(n) for kid, n in cursor.fetchall()}
            if progress is not None:
                progress(column.label, done, len(columns))
    return result


def check_rotatable() -> None:
    """Raise ``ImproperlyConfigured`` when a rotation cannot write the keyring: the keys come from the
    environment, where only whoever runs Kith can put a new key."""
    if crypto.keyring(reload=True).source == ENVIRONMENT:
        raise ImproperlyConfigured(
            _(
                "The keys come from the environment variable %(env)s, so Kith cannot rotate them: put a new "
                "key first in %(env)s (keep the old ones after it), restart Kith, then re-encrypt "
                "(“Re-encrypt under the primary key” on Settings → Encryption keys, or "
                "`kith keys reencrypt`)."
            )
            % {"env": crypto.KEYS_ENV}
        )


def encrypted_rows() -> int:
    """The rows ``reencrypt`` walks (every row of each table with encrypted columns): its progress total."""
    return sum(_row_count(model) for model in _tables())


def _row_count(model: type[models.Model]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
        return int(cursor.fetchone()[0])


def _tables() -> dict[type[models.Model], list[crypto.Column]]:
    tables: dict[type[models.Model], list[crypto.Column]] = defaultdict(list)
    for column in crypto.encrypted_columns():
        tables[column.model].append(column)
    return tables


def reencrypt(*, indexes: bool = False, progress: Progress | None = None) -> dict[str, int]:
    """Bring every encrypted value under the primary key (and, with ``indexes``, recompute every blind
    index); returns the values rewritten per column label."""
    ring = crypto.keyring(reload=True)
    primary = ring.primary_id
    quote = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    counts: Counter[str] = Counter()
    for model, columns in _tables().items():
        table = quote(model._meta.db_table)
        by_column = {c.field.column: c for c in columns}
        blind = [f for f in crypto.blind_indexes(model) if indexes]
        sources = {f.source: str(cast(models.Field, model._meta.get_field(f.source)).column) for f in blind}
        names = list(by_column)
        total = _row_count(model)
        done, last = 0, 0
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, {', '.join(quote(n) for n in names)} FROM {table} "  # noqa: S608
                    f"WHERE id > %s ORDER BY id LIMIT {BATCH}{lock}",
                    [last],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                updates: list[list[Any]] = []
                for pk, *values in rows:
                    stored = dict(zip(names, values, strict=True))
                    changes: dict[str, Any] = {}
                    for name, value in stored.items():
                        label = by_column[name].label
                        if crypto.is_token(value) and crypto.token_key_id(value) != primary:
                            changes[name] = crypto.seal(crypto.open_token(value, label), label)
                            counts[label] += 1
                        elif value not in (None, "") and not crypto.is_token(value):
                            # a value left in clear (written before encryption, or around a change)
                            changes[name] = crypto.seal(str(value), label)
                            counts[label] += 1
                    for index in blind:
                        value = stored[sources[index.source]]
                        plain = crypto.reveal(value, by_column[sources[index.source]].label) if value else ""
                        changes[str(index.column)] = index.index_of(plain)
                    if changes:
                        updates.append([*changes.values(), pk, list(changes)])
                _write(cursor, table, updates)
            done += len(rows)
            if progress is not None:
                progress(model._meta.db_table, done, total)
    for json_model, json_field in _json_columns():
        _reencrypt_json(json_model, json_field, primary, counts, progress)
        for key in sorted(json_field.sealed_keys()):  # values of sealed keys still in clear
            resealed = reseal_json_key(json_model, json_field.name, key)
            if resealed:
                counts[f"{json_model._meta.label_lower}.{json_field.name}.{key}"] += resealed
    from kith.audit.choices import Action
    from kith.audit.services import record_event

    record_event(
        Action.KEY_ROTATION,
        object_type="core.keys",
        object_repr=primary,
        details={"primary": primary, "indexes_recomputed": indexes, "reencrypted": dict(counts)},
    )
    return dict(counts)


def _json_columns() -> list[tuple[type[models.Model], crypto.SealedKeysJSONField]]:
    from django.apps import apps

    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, crypto.SealedKeysJSONField)
    ]


def _reencrypt_json(
    model: type[models.Model],
    field: crypto.SealedKeysJSONField,
    primary: str,
    counts: Counter[str],
    progress: Progress | None,
) -> None:
    """The sealed values inside a JSON column, brought under the primary key."""
    quote = connection.ops.quote_name
    table, column = quote(model._meta.db_table), quote(field.column)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    label = f"{model._meta.label_lower}.{field.name}"
    last = done = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, {column} FROM {table} WHERE id > %s AND CAST({column} AS TEXT) LIKE %s "  # noqa: S608
                f"ORDER BY id LIMIT {BATCH}{lock}",
                [last, f"%{crypto.PREFIX}%"],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            last = rows[-1][0]
            updates = []
            for pk, raw in rows:
                data = json.loads(raw) if isinstance(raw, str) else raw
                changed = False
                for key, value in list(data.items()):
                    if crypto.is_token(value) and crypto.token_key_id(value) != primary:
                        name = field.key_label(key)
                        data[key] = crypto.seal(crypto.open_token(value, name), name)
                        counts[f"{label}.*"] += 1
                        changed = True
                if changed:
                    updates.append([field.get_db_prep_value(data, connection, prepared=True), pk])
            if updates:
                cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE id = %s", updates)  # noqa: S608
        done += len(rows)
        if progress is not None:
            progress(model._meta.db_table + " (sealed JSON)", done, done)


def _write(cursor: Any, table: str, updates: list[list[Any]]) -> None:
    quote = connection.ops.quote_name
    grouped: dict[tuple[str, ...], list[list[Any]]] = defaultdict(list)
    for *params, columns in updates:
        grouped[tuple(columns)].append(params)
    for columns, params in grouped.items():
        assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", params)  # noqa: S608


def rotate(
    *,
    index: bool = False,
    progress: Progress | None = None,
    on_new_key: Callable[[str], None] | None = None,
) -> tuple[str, dict[str, int]]:
    """A new primary key (and with ``index`` a new blind-index key) in the instance keyring, then every
    value re-encrypted; returns the new key id and the counts (the re-encryption is audited).
    ``on_new_key(key id)`` is called once the ring is written, before re-encrypting (a job notes it, so a
    run again after a lost worker re-encrypts under that key instead of adding one more)."""
    with _keyring_lock():
        ring = crypto.keyring(reload=True)  # read again under the lock: another rotation may have run
        new_id = _add_key(ring, index=index)
    if on_new_key is not None:
        on_new_key(new_id)
    counts = reencrypt(indexes=index, progress=progress)
    return new_id, counts


@contextmanager
def _keyring_lock() -> Iterator[None]:
    """One rotation at a time on this machine (two would each drop the other's new key)."""
    path = crypto.keyring_path().with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _add_key(ring: crypto.Keyring, *, index: bool) -> str:
    if ring.source == ENVIRONMENT:
        check_rotatable()
    new = crypto.new_key()
    keys = [new, *(base64.b64encode(k).decode() for k in ring.keys)]
    index_key = crypto.new_key() if index else base64.b64encode(ring.index_key).decode()
    crypto.write_keyring_file(crypto.keyring_path(), keys, index_key)
    crypto.forget_keyring()
    return crypto.keyring().primary_id


def reseal_json_key(
    model: type[models.Model], field_name: str, key: str, *, progress: Progress | None = None
) -> int:
    """Write again every value under ``key`` of a ``SealedKeysJSONField``: encrypted when the key is now
    sealed, in clear when it no longer is (after an administrator marks a custom field sensitive or not).
    Rows in locked batches, raw SQL (not a change of the record: no version, no audit entry each).
    Returns the rows rewritten."""
    field = cast(crypto.SealedKeysJSONField, model._meta.get_field(field_name))
    keys = field.sealed_keys()
    sealed = key in keys
    quote = connection.ops.quote_name
    table, column = quote(model._meta.db_table), quote(field.column)
    base = model._base_manager.filter(**{f"{field_name}__has_key": key})
    total = base.count()
    done = rewritten = 0
    last = 0
    while True:
        with transaction.atomic():
            batch = base.filter(pk__gt=last).order_by("pk")
            if connection.features.has_select_for_update:
                batch = batch.select_for_update()
            rows = list(batch.values_list("pk", field_name)[:BATCH])
            if not rows:
                break
            last = rows[-1][0]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, {column} FROM {table} WHERE id IN ({', '.join(['%s'] * len(rows))})",  # noqa: S608
                    [pk for pk, _value in rows],
                )
                stored = dict(cursor.fetchall())
                updates = []
                for pk, value in rows:
                    raw = stored.get(pk)
                    if crypto.is_token(_raw_value(raw, key)) == sealed:
                        continue
                    new = field.seal_values(dict(value), keys)  # the other sealed keys stay sealed
                    updates.append([field.get_db_prep_value(new, connection, prepared=True), pk])
                if updates:
                    cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE id = %s", updates)  # noqa: S608
                rewritten += len(updates)
        done += len(rows)
        if progress is not None:
            progress(model._meta.db_table, done, total)
    return rewritten


def _raw_value(raw: Any, key: str) -> Any:
    data = json.loads(raw) if isinstance(raw, str) else raw
    return data.get(key) if isinstance(data, dict) else None
