"""CSV of audit entries for auditors: every column, cells that a spreadsheet would run as a formula defused.

The entries hold encrypted values as tokens (``kith.core.crypto``); the CSV shows them opened. The web
export opens and masks them for its user (``kith.security.masking.mask_audit_entries``); the command line,
run by the operator who holds the keyring, opens them all (``opened_entries``). Both write rows here."""

from __future__ import annotations

import copy
import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from kith.audit.models import AuditEntry
from kith.core.crypto import reveal_changes
from kith.core.exports import safe_cell

HEADER = (
    "seq",
    "timestamp_utc",
    "actor",
    "actor_id",
    "address",
    "source",
    "action",
    "object_type",
    "object_id",
    "object",
    "customer_id",
    "changes",
    "request_id",
    "prev_hash",
    "hash",
)


def row_of(entry: AuditEntry) -> list[str]:
    values = (
        entry.seq,
        entry.timestamp.isoformat(timespec="microseconds"),
        entry.actor_label,
        entry.actor_id,
        entry.remote_addr,
        entry.source,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.object_repr,
        entry.customer_id,
        json.dumps(entry.changes, ensure_ascii=False, sort_keys=True),
        entry.request_id,
        entry.prev_hash,
        entry.hash,
    )
    return [safe_cell(v) for v in values]


def opened_entries(entries: Iterable[AuditEntry]) -> Iterator[AuditEntry]:
    """``entries`` with the encrypted before/after values of their changes opened, one at a time (the
    stream stays a stream). A value no key opens shows as ``crypto.UNREADABLE``. The entries given are
    copied, never changed: the stored ones are hash-chained."""
    for entry in entries:
        changes = reveal_changes(entry.object_type, entry.changes)
        if changes is not entry.changes:
            entry = copy.copy(entry)
            entry.changes = changes
        yield entry


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """The CSV a line at a time (for a streamed HTTP response)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(HEADER)  # BOM: spreadsheets then read UTF-8 correctly
    for entry in entries:
        yield writer.writerow(row_of(entry))


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...


def write_csv(handle: Writer, entries: Iterable[AuditEntry]) -> None:
    for line in csv_lines(entries):
        handle.write(line)
