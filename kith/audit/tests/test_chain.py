"""Immutability through the app, and tamper detection of rows changed behind its back."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from kith.audit import chain
from kith.audit.models import AppendOnlyError, AuditEntry
from kith.parties.tests.factories import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(user):  # type: ignore[no-untyped-def]
    for name in ("Alpha", "Beta", "Gamma"):
        person(actor=user, family_name=name)
    return list(AuditEntry.objects.order_by("seq"))


def _verify() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("audit", "verify", "--chunk-size", "2", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def _raw(sql: str, params: list | None = None) -> None:  # type: ignore[type-arg]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_auditentry_append_only")
        cursor.execute(sql, params or [])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_auditentry_append_only")


def test_an_intact_trail_verifies(trail):
    code, out = _verify()
    assert code == 0, out
    assert "audit trail intact" in out
    assert f"{len(trail)} entries checked" in out


def test_entries_cannot_be_changed_or_deleted_through_the_orm(trail):
    entry = trail[0]
    entry.object_repr = "forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(seq=entry.seq).update(object_repr="forged")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(seq=entry.seq).object_repr != "forged"


def test_postgres_trigger_refuses_raw_updates(trail):
    """PostgreSQL refuses raw UPDATE/DELETE with a trigger; SQLite has none (Django's test flush deletes
    rows), so there only ``kith audit verify`` catches them (the tests below)."""
    from django.db import DatabaseError, transaction

    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_auditentry'"
            )
            assert cursor.fetchone()[0] == 0
        return
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET object_repr = 'x' WHERE seq = 1")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq = 1")


def test_a_changed_entry_is_named(trail):
    target = trail[1].seq
    _raw("UPDATE audit_auditentry SET object_repr = %s WHERE seq = %s", ["forged", target])
    code, out = _verify()
    assert code == 1
    assert f"entry {target}: changed" in out
    assert "broken_link" not in out


def test_a_removed_entry_shows_as_gap_and_broken_link(trail):
    target = trail[1].seq
    _raw("DELETE FROM audit_auditentry WHERE seq = %s", [target])
    code, out = _verify()
    assert code == 1
    assert f"entry {target + 1}: gap: entries {target} are missing" in out
    assert f"entry {target + 1}: broken_link" in out


def test_an_inserted_entry_is_a_broken_link(trail):
    last = trail[-1]
    _raw(
        "INSERT INTO audit_auditentry (seq, timestamp, actor_label, source, action, object_type, object_id,"
        " object_repr, changes, request_id, prev_hash, hash) VALUES"
        " (%s, %s, 'mallory', 'web', 'delete', 'parties.customer', '1', 'x', '{}', '', %s, %s)",
        [last.seq + 1, last.timestamp, "f" * 64, "e" * 64],
    )
    code, out = _verify()
    assert code == 1
    assert f"entry {last.seq + 1}: broken_link" in out


def test_a_cut_tail_is_caught_with_the_recorded_head(trail):
    head = trail[-1]
    _raw("DELETE FROM audit_auditentry WHERE seq = %s", [head.seq])
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--expect-head", f"{head.seq}:{head.hash}", stdout=out)
    assert f"entry {head.seq}: anchor: missing" in out.getvalue()


def test_hash_covers_the_content():
    import datetime as dt

    values = {
        "seq": 1,
        "timestamp": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "action": "create",
        "source": "web",
        "changes": {"a": [None, 1]},
    }
    first = chain.entry_hash(chain.GENESIS, values)
    assert first == chain.entry_hash(chain.GENESIS, dict(values))
    assert first != chain.entry_hash(chain.GENESIS, {**values, "changes": {"a": [None, 2]}})
    assert first != chain.entry_hash("1" * 64, values)
