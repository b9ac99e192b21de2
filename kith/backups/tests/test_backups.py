"""Backups restore what was backed up: round trips on the suite's engine (SQLite or PostgreSQL),
encryption, tamper detection, ``--verify``, retention and the daily job."""

from __future__ import annotations

import base64
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from kith.backups.errors import BackupError
from kith.backups.selectors import backup_list
from kith.backups.services import backups, checksums, crypto, engines
from kith.backups.tasks import backup_now
from kith.core.schedule import run_due
from kith.parties.models import Customer, Interaction, Relationship
from kith.parties.tests.factories import person

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("engine_tools", "backup_folder"),
]


def _change_everything(data: dict) -> None:  # type: ignore[type-arg]
    """Edit, delete and add rows so that the restore has something to undo."""
    anna = data["people"][0]
    Customer.objects.filter(pk=anna.pk).update(notes="changed after the backup")
    Interaction.objects.filter(customer=data["people"][1]).delete()
    Relationship.objects.all().delete()
    person(None, given_name="Late", family_name="Comer")


def _sums(using: str = "default") -> dict[str, checksums.TableSum]:
    return checksums.database_sums(using=using)


def _as_manifest(sums: dict[str, checksums.TableSum]) -> dict[str, dict[str, object]]:
    return {table: value.as_dict() for table, value in sums.items()}


def _restore_target(name: str):  # type: ignore[no-untyped-def]
    """SQLite: the test database itself. PostgreSQL: a scratch database of our own, never another one."""
    if connection.vendor == "sqlite":
        from contextlib import nullcontext

        return nullcontext("default")
    return engines.pg_scratch_database(f"{connection.settings_dict['NAME']}_{name}")


def test_round_trip_restores_every_table_identically(sample_data):
    original = _sums()
    assert original["parties_customer"].rows == 4
    assert original["parties_relationship"].rows == 2
    backup = backups.create_backup()
    assert backup.path.parent == backups.backup_dir()
    assert backup.path.name.startswith(f"kith-{connection.vendor}-") and backup.path.name.endswith(
        "Z" + engines.SUFFIX[connection.vendor]
    )
    manifest = backup.manifest
    assert manifest["tables"] == _as_manifest(original)
    assert manifest["engine"] == connection.vendor
    assert "0001_initial" in manifest["migrations"]["parties"]
    assert backups.manifest_path(backup.path).exists()
    assert stat.S_IMODE(backup.path.stat().st_mode) == 0o600

    _change_everything(sample_data)
    changed = backups.create_backup()
    assert _sums() != original

    with _restore_target("restore") as target:
        if target != "default":
            backups.restore_backup(changed.path, using=target)  # an empty scratch database needs no --yes
            assert _sums(target) == _sums()
        with pytest.raises(BackupError, match="has data"):
            backups.restore_backup(backup.path, using=target)
        report = backups.restore_backup(backup.path, confirm=True, using=target)
        assert report.migrated == []
        assert report.matches_manifest is True
        assert report.counts["parties_customer"] == 4
        assert _sums(target) == original


def test_restore_command_asks_before_replacing_data_and_prints_counts(sample_data, capsys):
    call_command("backup")
    path = backup_list()[0].path
    if connection.vendor != "sqlite":
        # the command restores into the database Kith runs on; on PostgreSQL only the refusal is tried
        # here (the replacing restore is exercised on a scratch database above)
        with pytest.raises(CommandError, match="--yes"):
            call_command("restore", str(path))
        return
    Customer.objects.filter(pk=sample_data["company"].pk).update(notes="changed")
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(path))
    assert Customer.objects.get(pk=sample_data["company"].pk).notes == "changed"
    call_command("restore", str(path), yes=True)
    out = capsys.readouterr().out
    assert "parties_customer" in out and "matches the backup's manifest" in out
    assert Customer.objects.get(pk=sample_data["company"].pk).notes == ""


def test_encrypted_round_trip_with_a_key_file(sample_data, backup_folder):
    original = _sums()
    backup = backups.create_backup(encrypt=True)
    key_file = backup_folder.parent / "backup_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    raw = backup.path.read_bytes()
    assert raw.startswith(crypto.MAGIC)
    assert b"SQLite format 3" not in raw and b"PGDMP" not in raw and b"Anna" not in raw
    assert backup.manifest["encrypted"] is True
    assert backups.create_backup(encrypt=True).manifest["key_id"] == backup.manifest["key_id"]  # made once

    with _restore_target("encrypted") as target:
        report = backups.restore_backup(backup.path, confirm=True, using=target)
        assert report.matches_manifest is True
        assert _sums(target) == original


def test_key_from_environment_and_wrong_key(sample_data, monkeypatch):
    monkeypatch.setenv("KITH_BACKUP_KEY", base64.b64encode(os.urandom(32)).decode())
    backup = backups.create_backup(encrypt=True)
    assert backups.verify_backup(backup.path).ok
    monkeypatch.setenv("KITH_BACKUP_KEY", base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(BackupError, match="different key"):
        backups.restore_backup(backup.path, confirm=True)
    monkeypatch.setenv("KITH_BACKUP_KEY", "too-short")
    with pytest.raises(BackupError, match="32 bytes"):
        backups.create_backup(encrypt=True)


def test_tampered_encrypted_backup_is_refused(sample_data):
    backup = backups.create_backup(encrypt=True)
    data = bytearray(backup.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    backup.path.write_bytes(bytes(data))
    before = _sums()
    with pytest.raises(BackupError, match="does not match its manifest"):
        backups.restore_backup(backup.path, confirm=True)
    # without the manifest, the cipher's own integrity check refuses it
    backups.manifest_path(backup.path).unlink()
    with pytest.raises(BackupError, match="changed or damaged"):
        backups.restore_backup(backup.path, confirm=True)
    assert _sums() == before  # nothing was restored


def test_verify_passes_on_a_good_backup_and_fails_on_a_corrupted_one(sample_data, capsys):
    call_command("backup", verify="")  # a fresh backup, compared with the manifest and the live data
    out = capsys.readouterr().out
    assert "Verified:" in out
    good = backup_list()[0]
    assert good.manifest["verification"]["ok"] is True
    call_command("backup", verify=str(good.path))

    truncated = backups.create_backup()
    with truncated.path.open("r+b") as handle:
        handle.truncate(truncated.path.stat().st_size // 2)
    with pytest.raises(CommandError, match="difference"):
        call_command("backup", verify=str(truncated.path))
    out = capsys.readouterr().out
    assert "FAILED" in out and "SHA-256 differs" in out
    assert backups.read_manifest(truncated.path)["verification"]["ok"] is False  # type: ignore[index]


@pytest.mark.engine("sqlite")  # edits the backup file itself, an SQLite database
def test_verify_names_the_table_whose_rows_changed_in_the_file(sample_data, capsys):
    backup = backups.create_backup()
    with sqlite3.connect(backup.path) as raw:
        raw.execute("UPDATE parties_customer SET notes = 'edited in the file'")
    raw.close()
    with pytest.raises(CommandError):
        call_command("backup", verify=str(backup.path))
    out = capsys.readouterr().out
    assert "parties_customer" in out and "differs" in out


def test_fresh_verify_reports_live_rows_that_differ(sample_data):
    backup = backups.create_backup()
    Customer.objects.filter(pk=sample_data["company"].pk).update(notes="after")
    report = backups.verify_backup(backup.path, compare_live=True)
    found = {(d.table, d.against) for d in report.differences}
    assert ("parties_customer", "live") in found  # (the audit trail may have recorded the change too)
    assert all(d.against == "live" for d in report.differences)


def test_daily_job_keeps_the_newest_n_and_verifies_each(sample_data, settings, backup_folder):
    settings.KITH_BACKUP_KEEP = 2
    manual = backups.create_backup()
    made = [backup_now.call("scheduled")["file"] for _ in range(3)]
    remaining = [b for b in backup_list() if b.manifest["kind"] == backups.SCHEDULED]
    assert [b.path.name for b in remaining] == list(reversed(made))[:2]
    assert all(b.manifest["verification"]["ok"] for b in remaining)
    assert not (backup_folder / made[0]).exists() and not (backup_folder / f"{made[0]}.json").exists()
    assert manual.path.exists()  # manual backups are never pruned


def test_the_scheduler_enqueues_the_daily_backup(django_capture_on_commit_callbacks, settings):
    from django_tasks_db.models import DBTaskResult

    late = timezone.now().replace(hour=23)
    with django_capture_on_commit_callbacks(execute=True):
        names = run_due(late)
    assert "backups.daily" in names
    assert DBTaskResult.objects.filter(task_path="kith.backups.tasks.backup_now").exists()


@pytest.mark.engine("sqlite")  # restores over the test database itself, which only SQLite allows here
def test_a_restore_of_an_older_backup_migrates_forward(sample_data):
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import CreateModel
    from django.db.migrations.recorder import MigrationRecorder

    # pretend the backup was made before the latest migration of kith.core (one that creates tables)
    loader = MigrationLoader(connection)
    (app, name), *_rest = loader.graph.leaf_nodes("core")
    created = [
        op.name.lower() for op in loader.get_migration(app, name).operations if isinstance(op, CreateModel)
    ]
    assert created, "the test needs core's latest migration to create a table"
    backup = backups.create_backup()
    with sqlite3.connect(backup.path) as raw:
        raw.execute("DELETE FROM django_migrations WHERE app = 'core' AND name = ?", [name])
        for model in created:
            raw.execute(f"DROP TABLE core_{model}")
    raw.close()
    backups.manifest_path(backup.path).unlink()
    report = backups.restore_backup(backup.path, confirm=True)
    assert report.migrated == [f"core.{name}"]
    assert MigrationRecorder.Migration.objects.filter(app="core", name=name).exists()


def test_restore_refuses_a_backup_from_a_newer_kith(sample_data):
    backup = backups.create_backup()
    manifest = backups.read_manifest(backup.path)
    assert manifest is not None
    manifest["migrations"]["parties"].append("9999_from_the_future")
    backups.write_manifest(backup.path, manifest)
    with pytest.raises(BackupError, match="newer Kith"):
        backups.restore_backup(backup.path, confirm=True)


def test_unknown_file_is_a_clear_error(tmp_path: Path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"nothing")
    with pytest.raises(CommandError, match="Cannot tell"):
        call_command("restore", str(junk), yes=True)
    with pytest.raises(CommandError, match="no manifest"):
        call_command("backup", verify=str(junk))
