"""The hash chain: writing an entry at the end of it, and walking it to find what was tampered with.

``hash = SHA-256(prev_hash + "\\n" + canonical JSON of the entry's content)``. The canonical form is built
from the values as stored (times in UTC with microseconds, JSON with sorted keys), so ``verify`` recomputes
it from the rows alone. Appending takes the chain lock for the rest of the transaction: an advisory
transaction lock on PostgreSQL; on SQLite every write transaction already holds the database's write lock
(``transaction_mode = IMMEDIATE``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, transaction
from django.utils import timezone

from kith.audit.models import AuditEntry

GENESIS = "0" * 64
# pg_advisory_xact_lock key: "kith-audit" as a signed 64-bit number (any constant that no one else uses)
_LOCK_KEY = int.from_bytes(hashlib.sha256(b"kith.audit.chain").digest()[:8], "big", signed=True)

CONTENT_FIELDS = (
    "seq",
    "timestamp",
    "actor_id",
    "actor_label",
    "remote_addr",
    "source",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "customer_id",
    "changes",
    "request_id",
)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data that survives a round trip through either database unchanged."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")  # PostgreSQL's jsonb refuses NUL
    if isinstance(value, float):
        return repr(value)  # jsonb would turn 1e16 into 10000000000000000
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = value.astimezone(dt.UTC)
    return jsonable(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def normalise_address(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).compressed
    except ValueError:
        return None


def _timestamp_text(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical(values: dict[str, Any]) -> bytes:
    data = {name: values.get(name) for name in CONTENT_FIELDS}
    data["timestamp"] = _timestamp_text(values["timestamp"])
    for name in ("actor_label", "object_type", "object_id", "object_repr", "request_id"):
        data[name] = data[name] or ""
    data["changes"] = data["changes"] or {}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev_hash: str, values: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(values)).hexdigest()


def _lock_chain(using: str) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def append(*, using: str = "default", **values: Any) -> AuditEntry:
    """Write one entry at the end of the chain, inside the caller's transaction when there is one."""
    return append_many([values], using=using)[0]


def append_many(rows: list[dict[str, Any]], *, using: str = "default") -> list[AuditEntry]:
    """Write entries at the end of the chain in one statement (a bulk write records its rows so), in
    order, inside the caller's transaction when there is one."""
    if not rows:
        return []
    now = timezone.now()
    for values in rows:
        values["timestamp"] = now
        values["changes"] = jsonable(values.get("changes") or {})
        values["remote_addr"] = normalise_address(values.get("remote_addr"))
        for name, limit in (
            ("actor_label", 150),
            ("object_repr", 200),
            ("object_id", 64),
            ("object_type", 100),
        ):
            values[name] = str(values.get(name) or "")[:limit]
    connection = connections[using]
    entries = []
    with transaction.atomic(using=using, savepoint=not connection.in_atomic_block):
        _lock_chain(using)
        table = connection.ops.quote_name(AuditEntry._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT seq, hash FROM {table} ORDER BY seq DESC LIMIT 1")  # noqa: S608
            last = cursor.fetchone()
            seq, prev_hash = (last[0], last[1]) if last else (0, GENESIS)
            for values in rows:
                seq += 1
                values["seq"] = seq
                entry = AuditEntry(prev_hash=prev_hash, hash=entry_hash(prev_hash, values), **values)
                prev_hash = entry.hash
                entries.append(entry)
            # plain INSERTs: this runs for every audited write, and the ORM's save cost as much again
            # (an entry has no signal receivers; the table's triggers still refuse updates and deletes)
            fields = AuditEntry._meta.concrete_fields
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(connection.ops.quote_name(f.column) for f in fields)}) "  # noqa: S608
                f"VALUES ({', '.join(['%s'] * len(fields))})",
                [[f.get_db_prep_save(getattr(e, f.attname), connection) for f in fields] for e in entries],
            )
    for entry in entries:
        entry._state.adding, entry._state.db = False, using
    return entries


# --- verification -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str  # "changed", "broken_link", "gap"
    message: str


@dataclass
class VerifyResult:
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS

    problems: list[Problem] | None = None


def _row_values(row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(("prev_hash", "hash", *CONTENT_FIELDS), row, strict=True))


def walk(*, using: str = "default", chunk_size: int = 2000) -> Iterator[tuple[int, str, Problem | None]]:
    """Every entry in chain order as (seq, hash, problem or None); a removed run of entries is a ``gap``."""
    expected_seq = 1
    expected_prev = GENESIS
    rows = (
        AuditEntry.objects.using(using)
        .order_by("seq")
        .values_list("prev_hash", "hash", *CONTENT_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    for row in rows:
        values = _row_values(row)
        seq = values["seq"]
        if seq != expected_seq:
            missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}–{seq - 1}"
            yield (
                seq,
                values["hash"],
                Problem(seq, "gap", f"entries {missing} are missing (removed from the database)"),
            )
        if entry_hash(values["prev_hash"], values) != values["hash"]:
            yield (
                seq,
                values["hash"],
                Problem(seq, "changed", "content does not match its hash (changed in the database)"),
            )
        if values["prev_hash"] != expected_prev:
            yield (
                seq,
                values["hash"],
                Problem(
                    seq,
                    "broken_link",
                    "does not link to the entry before it (an entry was inserted or removed before it)",
                ),
            )
        else:
            yield seq, values["hash"], None
        expected_seq = seq + 1
        expected_prev = values["hash"]


def verify(*, using: str = "default", chunk_size: int = 2000) -> VerifyResult:
    result = VerifyResult(problems=[])
    assert result.problems is not None
    last_seq = 0
    for seq, digest, problem in walk(using=using, chunk_size=chunk_size):
        if problem is not None:
            result.problems.append(problem)
        if seq != last_seq:
            result.checked += 1
            last_seq = seq
        result.head_seq, result.head_hash = seq, digest
    return result
