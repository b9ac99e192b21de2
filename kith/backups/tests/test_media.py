"""Backups hold the media folder (contract documents): restored byte for byte, checked by ``--verify``;
backups made before media were backed up still restore, leaving the media folder as it is."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from kith.backups.errors import BackupError
from kith.backups.selectors import backup_list
from kith.backups.services import backups, checksums, engines, media
from kith.parties.models import Customer
from kith.parties.tests.factories import company
from kith.sales.models import Contract
from kith.sales.services import contracts

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("engine_tools", "backup_folder"),
]

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"  # every byte value, so nothing is re-encoded


def _restore_target(name: str) -> Any:
    """SQLite: the test database itself. PostgreSQL: a scratch database of our own."""
    if connection.vendor == "sqlite":
        return nullcontext("default")
    return engines.pg_scratch_database(f"{connection.settings_dict['NAME']}_{name}")


@pytest.fixture
def media_root(settings: Any) -> Path:
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def contract(admin_user: Any) -> Contract:
    customer = company(admin_user, legal_name="Acme Trading Ltd")
    today = timezone.localdate()
    return contracts.contract_create(
        actor=admin_user,
        data={
            "customer": customer,
            "title": "Support 2027",
            "start_date": today.isoformat(),
            "end_date": (today + dt.timedelta(days=365)).isoformat(),
            "value": "12000.00",
            "currency": "EUR",
        },
        document=SimpleUploadedFile("Signed contract.pdf", PDF, content_type="application/pdf"),
    )


def _document(media_root: Path, contract: Contract) -> Path:
    return media_root / "contracts" / contract.document.name


def test_backup_with_a_contract_document_restores_it_byte_for_byte(contract, media_root):
    document = _document(media_root, contract)
    assert document.read_bytes() == PDF
    backup = backups.create_backup()
    entry = backup.manifest["media"]
    assert backup.manifest["format"] == 2
    name = f"contracts/{contract.document.name}"
    assert entry["files"] == {name: {"size": len(PDF), "sha256": contract.document_sha256}}
    assert backup.media_path is not None and backup.media_path.exists()

    document.unlink()  # lost after the backup, and a stray file appears
    (media_root / "contracts" / "stray.pdf").write_bytes(b"not in the backup")
    with _restore_target("media") as target:
        report = backups.restore_backup(backup.path, confirm=True, using=target)
        assert report.media_files == 1 and report.matches_manifest is True
        assert checksums.database_sums(using=target)["sales_contract"].rows == 1
    assert document.read_bytes() == PDF
    assert not (media_root / "contracts" / "stray.pdf").exists()
    assert media.live_sums() == {name: media.FileSum(size=len(PDF), sha256=contract.document_sha256)}


def test_encrypted_backup_encrypts_the_media_too(contract, media_root):
    backup = backups.create_backup(encrypt=True)
    assert backup.media_path is not None
    raw = backup.media_path.read_bytes()
    assert b"%PDF" not in raw and backup.manifest["media"]["encrypted"] is True
    _document(media_root, contract).write_bytes(b"overwritten")
    with _restore_target("media_enc") as target:
        backups.restore_backup(backup.path, confirm=True, using=target)
    assert _document(media_root, contract).read_bytes() == PDF


def test_verify_checks_every_media_file(contract, media_root):
    backup = backups.create_backup()
    assert backups.verify_backup(backup.path, compare_live=True).ok
    _document(media_root, contract).write_bytes(b"changed since")
    live = backups.verify_backup(backup.path, compare_live=True)
    assert [(d.table, d.against) for d in live.differences] == [
        (f"media:contracts/{contract.document.name}", "live")
    ]
    assert backup.media_path is not None
    damaged = bytearray(backup.media_path.read_bytes())
    damaged[600] ^= 0xFF
    backup.media_path.write_bytes(bytes(damaged))
    report = backups.verify_backup(backup.path)
    assert not report.ok and report.differences[0].table == "media"


def test_a_damaged_media_archive_stops_the_restore_before_the_database_changes(contract, media_root):
    backup = backups.create_backup()
    assert backup.media_path is not None
    backup.media_path.write_bytes(backup.media_path.read_bytes()[:-10])
    Customer.objects.update(notes="after the backup")
    with _restore_target("media_damaged") as target, pytest.raises(BackupError, match="media archive"):
        backups.restore_backup(backup.path, confirm=True, using=target)
    if connection.vendor == "sqlite":
        assert set(Customer.objects.values_list("notes", flat=True)) == {"after the backup"}
    backup.media_path.unlink()
    with pytest.raises(BackupError, match="missing"):
        backups.restore_backup(backup.path, confirm=True)


def test_an_old_backup_without_media_still_restores_and_leaves_the_media_folder(contract, media_root):
    backup = backups.create_backup()
    # what a backup made before media were backed up looks like: format 1, no media entry, no archive
    manifest = dict(backup.manifest)
    del manifest["media"]
    manifest["format"] = 1
    backups.write_manifest(backup.path, manifest)
    assert backup.media_path is not None
    backup.media_path.unlink()
    later = media_root / "contracts" / "later.pdf"
    later.write_bytes(b"uploaded after")
    Customer.objects.update(notes="after the backup")

    assert backups.verify_backup(backup.path).ok
    with _restore_target("media_old") as target:
        report = backups.restore_backup(backup.path, confirm=True, using=target)
        assert report.media_files is None and report.matches_manifest is True
        notes = set(Customer.objects.using(target).values_list("notes", flat=True))
        assert notes == {""}
    assert later.read_bytes() == b"uploaded after"
    assert _document(media_root, contract).read_bytes() == PDF
    assert [b.path for b in backup_list()] == [backup.path]


def test_retention_deletes_the_media_archive_with_its_backup(contract):
    backup = backups.create_backup(kind=backups.SCHEDULED)
    newer = backups.create_backup(kind=backups.SCHEDULED)
    assert backup.media_path is not None and backup.media_path.exists()
    removed = backups.prune_backups(keep=1)
    assert removed == [backup.path]
    assert not backup.media_path.exists() and newer.media_path is not None and newer.media_path.exists()


def test_commands_report_the_media(contract, capsys):
    call_command("backup", verify="")
    out = capsys.readouterr().out
    assert "media folder: 1 files" in out and "1 media files match" in out
    path = backup_list()[0].path
    assert json.loads(backups.manifest_path(path).read_text())["media"]["files"]
    if connection.vendor != "sqlite":
        return  # the command restores into the database Kith runs on: exercised on SQLite only
    call_command("restore", str(path), yes=True)
    assert "Media folder restored: 1 files" in capsys.readouterr().out
