"""Make, verify, restore and prune backups; each backup is a file plus a JSON manifest beside it.

The manifest (``<backup file>.json``) records the engine, the applied migrations, when and by which Kith
version it was made, the file's size and SHA-256, and per table the row count and a SHA-256 of the rows
(``checksums``), so a restore can be proven identical to what was backed up.

Since manifest format 2 a backup also holds the media folder (uploaded files: contract documents) as
``<backup file>.media`` with a size and SHA-256 per file in the manifest's ``media`` entry
(``services/media.py``). A backup without that entry (older, or without a manifest) restores the
database only and leaves the media folder as it is.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.backups.errors import BackupError
from kith.backups.services import checksums, crypto, engines, media

MANIFEST_FORMAT = 2  # 2: the media folder is backed up too
MANUAL, SCHEDULED = "manual", "scheduled"
ENCRYPTED_SUFFIX = ".enc"
# rows that change on their own while Kith runs: left out when a backup is compared with the live data
VOLATILE_TABLES = frozenset({"django_session", "django_tasks_database_dbtaskresult"})


@dataclass
class Backup:
    path: Path
    manifest: dict[str, Any]

    @property
    def manifest_path(self) -> Path:
        return manifest_path(self.path)

    @property
    def media_path(self) -> Path | None:
        entry = self.manifest.get("media")
        return self.path.with_name(str(entry["file"])) if isinstance(entry, dict) else None

    @property
    def created_at(self) -> dt.datetime | None:
        try:
            return dt.datetime.fromisoformat(str(self.manifest.get("created_at")))
        except ValueError:
            return None


@dataclass(frozen=True)
class Difference:
    table: str
    against: str  # "backup" (the manifest) or "live" (the running database)
    expected_rows: int | None
    actual_rows: int | None
    checksum_differs: bool
    note: str = ""


@dataclass
class VerifyReport:
    backup: Backup
    tables: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


@dataclass
class RestoreReport:
    backup_path: Path
    counts: dict[str, int]
    migrated: list[str]
    matches_manifest: bool | None
    # media files restored (every one checked against the manifest); None: the backup holds no media
    # (made before Kith backed them up), so the media folder was left as it is
    media_files: int | None = None


# --- files ------------------------------------------------------------------------------------------


def backup_dir() -> Path:
    return Path(settings.KITH_BACKUP_DIR)


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def kith_version() -> str:
    try:
        return metadata.version("kith")
    except metadata.PackageNotFoundError:
        return "unknown"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(path: Path) -> dict[str, Any] | None:
    target = manifest_path(path)
    if not target.exists():
        return None
    try:
        data = json.loads(target.read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(
            _("The manifest %(path)s cannot be read: %(error)s") % {"path": target, "error": exc}
        ) from exc
    if not isinstance(data, dict):
        raise BackupError(_("The manifest %(path)s is not a Kith backup manifest.") % {"path": target})
    return data


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    target = manifest_path(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    partial.chmod(0o600)
    os.replace(partial, target)


def _default_name(engine: str, now: dt.datetime, encrypt: bool) -> str:
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"kith-{engine}-{stamp}{engines.SUFFIX[engine]}{ENCRYPTED_SUFFIX if encrypt else ''}"


def _target_path(output: Path | None, engine: str, now: dt.datetime, encrypt: bool) -> Path:
    if output is None or output.is_dir() or str(output).endswith(os.sep):
        folder = output or backup_dir()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / _default_name(engine, now, encrypt)
        counter = 2
        while path.exists() or manifest_path(path).exists() or media.archive_path(path).exists():
            stem = _default_name(engine, now, encrypt).split(".", 1)
            path = folder / f"{stem[0]}-{counter}.{stem[1]}"
            counter += 1
        return path
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists() or media.archive_path(output).exists():
        raise BackupError(_("%(path)s exists already; choose another file name.") % {"path": output})
    return output


# --- make -----------------------------------------------------------------------------------------


def create_backup(
    *, output: Path | None = None, encrypt: bool = False, kind: str = MANUAL, using: str = "default"
) -> Backup:
    """Copy the database ``using`` consistently into a backup file and write its manifest beside it."""
    engine = engines.engine_of(using)
    now = timezone.now()
    path = _target_path(output, engine, now, encrypt)
    key = crypto.load_key(create=True) if encrypt else None
    plain = path.with_name(path.name + ".partial")
    try:
        if engine == engines.SQLITE:
            engines.sqlite_backup(plain, using=using)
            with engines.sqlite_file_alias(plain) as alias:
                sums = checksums.database_sums(using=alias)
                migrations = checksums.applied_migrations(using=alias)
        else:
            with engines.pg_snapshot(using=using) as (alias, snapshot):
                engines.pg_dump(plain, using=using, snapshot=snapshot)
                sums = checksums.database_sums(using=alias)
                migrations = checksums.applied_migrations(using=alias)
        if key is not None:
            crypto.encrypt_file(plain, path, key)
            plain.unlink()
        else:
            os.replace(plain, path)
        path.chmod(0o600)  # a backup holds every customer's data
        # after the database: a file uploaded meanwhile is in the archive without its row (harmless)
        media_entry = media.write_archive(media.archive_path(path), key=key, skip=(path.parent,))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        plain.unlink(missing_ok=True)
    manifest = {
        "format": MANIFEST_FORMAT,
        "kind": kind,
        "engine": engine,
        "created_at": now.astimezone(dt.UTC).isoformat(),
        "kith_version": kith_version(),
        "file": path.name,
        "size": path.stat().st_size,
        "sha256": file_sha256(path),
        "encrypted": key is not None,
        "key_id": crypto.key_id(key).hex() if key is not None else None,
        "migrations": migrations,
        "tables": {table: value.as_dict() for table, value in sums.items()},
        "media": media_entry,
        "verification": None,
    }
    write_manifest(path, manifest)
    return Backup(path=path, manifest=manifest)


# --- read back --------------------------------------------------------------------------------------


@contextlib.contextmanager
def _plain_copy(path: Path) -> Iterator[Path]:
    """The backup as a plain database file (decrypted into a private temporary folder when encrypted)."""
    if not path.exists():
        raise BackupError(_("%(path)s does not exist.") % {"path": path})
    with tempfile.TemporaryDirectory(prefix="kith-restore-", dir=path.parent) as folder:
        if crypto.is_encrypted(path):
            target = Path(folder) / "backup"
            crypto.decrypt_file(path, target, crypto.load_key())
            yield target
        elif path.suffix == engines.SUFFIX[engines.SQLITE]:
            # the online backup API reads the file; work on a copy so the backup itself is never touched
            target = Path(folder) / "backup.sqlite3"
            shutil.copyfile(path, target)
            yield target
        else:
            yield path


def _engine_of_file(path: Path, manifest: dict[str, Any] | None) -> str:
    if manifest and manifest.get("engine") in engines.SUFFIX:
        return str(manifest["engine"])
    name = path.name.removesuffix(ENCRYPTED_SUFFIX)
    for engine, suffix in engines.SUFFIX.items():
        if name.endswith(suffix):
            return engine
    raise BackupError(
        _("Cannot tell which database %(path)s comes from (no manifest beside it, unknown file name).")
        % {"path": path}
    )


def _check_migrations_known(manifest: dict[str, Any] | None, using: str) -> None:
    if not manifest:
        return
    known = set(MigrationLoader(connections[using], ignore_no_migrations=True).disk_migrations)
    newer = [
        f"{app}.{name}"
        for app, names in manifest.get("migrations", {}).items()
        for name in names
        if (app, name) not in known
    ]
    if newer:
        raise BackupError(
            _("This backup comes from a newer Kith (migrations unknown here: %(names)s); upgrade Kith first.")
            % {"names": ", ".join(sorted(newer)[:5])}
        )


def _restore_into(plain: Path, engine: str, using: str) -> None:
    if engine == engines.SQLITE:
        engines.sqlite_restore(plain, using=using)
    else:
        engines.pg_restore(plain, using=using)


def compare(
    expected: dict[str, Any],
    actual: dict[str, checksums.TableSum],
    *,
    against: str,
    skip: frozenset[str] = frozenset(),
) -> list[Difference]:
    differences = []
    for table in sorted(set(expected) | set(actual)):
        if table in skip:
            continue
        want = expected.get(table)
        have = actual.get(table)
        if want is None:
            differences.append(
                Difference(
                    table, against, None, have.rows if have else None, True, _("table not in the backup")
                )
            )
        elif have is None:
            differences.append(Difference(table, against, want["rows"], None, True, _("table missing")))
        elif want["rows"] != have.rows or want["sha256"] != have.sha256:
            differences.append(
                Difference(table, against, want["rows"], have.rows, want["sha256"] != have.sha256)
            )
    return differences


# --- restore ----------------------------------------------------------------------------------------


def restore_backup(path: Path, *, confirm: bool = False, using: str = "default") -> RestoreReport:
    """Replace the database ``using`` with the backup, then migrate forward if the backup is older."""
    manifest = read_manifest(path)
    engine = _engine_of_file(path, manifest)
    if engine != engines.engine_of(using):
        raise BackupError(
            _("This is a %(backup)s backup; the database is %(target)s.")
            % {"backup": engine, "target": engines.engine_of(using)}
        )
    if manifest and manifest.get("sha256") and file_sha256(path) != manifest["sha256"]:
        raise BackupError(
            _("The backup file does not match its manifest (SHA-256 differs): it is damaged or was changed.")
        )
    _check_migrations_known(manifest, using)
    if not confirm:
        busy = checksums.user_tables_with_rows(using=using)
        if busy:
            raise BackupError(
                _(
                    "The database has data (%(tables)s); restoring replaces all of it."
                    " Run again with --yes to go ahead."
                )
                % {"tables": ", ".join(busy[:5]) + (" …" if len(busy) > 5 else "")}
            )
    media_entry = manifest.get("media") if manifest else None
    with contextlib.ExitStack() as stack:
        # the media files are extracted and checked before the database is touched: a damaged archive
        # stops the restore while nothing has changed yet
        media_folder = stack.enter_context(media.extracted(path, media_entry)) if media_entry else None
        with _plain_copy(path) as plain:
            _restore_into(plain, engine, using)
        if media_folder is not None:
            media.put_in_place(media_folder)
    connection = connections[using]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    migrated = [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
    if plan:
        call_command("migrate", database=using, interactive=False, verbosity=0)
    sums = checksums.database_sums(using=using)
    matches = None
    if manifest and not migrated:
        matches = not compare(manifest.get("tables", {}), sums, against="backup")
    return RestoreReport(
        backup_path=path,
        counts={t: s.rows for t, s in sums.items()},
        migrated=migrated,
        matches_manifest=matches,
        media_files=len(media_entry.get("files", {})) if media_entry else None,
    )


# --- verify -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _scratch_restore(path: Path, engine: str, using: str) -> Iterator[str]:
    """Restore the backup into a throwaway database and yield a Django alias on it."""
    with _plain_copy(path) as plain:
        if engine == engines.SQLITE:
            with engines.sqlite_file_alias(plain) as alias:
                with connections[alias].cursor() as cursor:
                    cursor.execute("PRAGMA integrity_check")
                    check = cursor.fetchone()
                if not check or check[0] != "ok":
                    raise BackupError(
                        _("The backup's SQLite file is damaged: %(result)s") % {"result": check}
                    )
                yield alias
        else:
            with engines.pg_scratch_database(f"kith_verify_{os.getpid()}", using=using) as alias:
                engines.pg_restore(plain, using=alias)
                yield alias


def verify_backup(path: Path, *, compare_live: bool = False, using: str = "default") -> VerifyReport:
    """Restore ``path`` into a scratch database and compare every table with the manifest (and the live data)."""
    manifest = read_manifest(path)
    if manifest is None:
        raise BackupError(_("%(path)s has no manifest beside it, so it cannot be verified.") % {"path": path})
    report = VerifyReport(backup=Backup(path=path, manifest=manifest), tables=len(manifest.get("tables", {})))
    engine = _engine_of_file(path, manifest)
    if engine != engines.engine_of(using):
        raise BackupError(
            _("This is a %(backup)s backup; it is verified on a %(backup)s database.") % {"backup": engine}
        )
    if not path.exists():
        report.differences.append(
            Difference("*", "backup", None, None, True, _("the backup file is missing"))
        )
    else:
        if manifest.get("sha256") and file_sha256(path) != manifest["sha256"]:
            report.differences.append(
                Difference("*", "backup", None, None, True, _("the file's SHA-256 differs from the manifest"))
            )
        try:
            with _scratch_restore(path, engine, using) as alias:
                restored = checksums.database_sums(using=alias)
        except BackupError as exc:
            report.differences.append(Difference("*", "backup", None, None, True, exc.message))
        except DatabaseError as exc:
            note = _("the restored database cannot be read: %(error)s") % {"error": exc}
            report.differences.append(Difference("*", "backup", None, None, True, note))
        else:
            report.differences += compare(manifest.get("tables", {}), restored, against="backup")
        report.differences += _verify_media(path, manifest)
    if compare_live:
        live = checksums.database_sums(using=using)
        report.differences += compare(manifest.get("tables", {}), live, against="live", skip=VOLATILE_TABLES)
        if isinstance(manifest.get("media"), dict):
            live_media = media.live_sums(skip=(path.parent,))
            report.differences += [
                Difference(f"media:{name}", "live", None, None, True, why)
                for name, why in media.differences(manifest["media"].get("files", {}), live_media)
            ]
    manifest["verification"] = {
        "verified_at": timezone.now().astimezone(dt.UTC).isoformat(),
        "ok": report.ok,
        "differences": len(report.differences),
    }
    if manifest_path(path).exists():
        write_manifest(path, manifest)
    return report


def _verify_media(path: Path, manifest: dict[str, Any]) -> list[Difference]:
    """Every media file of the backup read back from its archive and compared with the manifest."""
    entry = manifest.get("media")
    if not isinstance(entry, dict):
        return []  # a backup made before media were backed up: nothing to compare
    try:
        archive = media.check_archive_file(path, entry)
        found = media.read_sums(archive)
    except BackupError as exc:
        return [Difference("media", "backup", None, None, True, exc.message)]
    except (OSError, tarfile.TarError) as exc:
        note = _("the media archive cannot be read: %(error)s") % {"error": exc}
        return [Difference("media", "backup", None, None, True, note)]
    return [
        Difference(f"media:{name}", "backup", None, None, True, why)
        for name, why in media.differences(entry.get("files", {}), found)
    ]


# --- retention ----------------------------------------------------------------------------------------


def delete_backup(backup: Backup) -> None:
    backup.path.unlink(missing_ok=True)
    media.archive_path(backup.path).unlink(missing_ok=True)
    backup.manifest_path.unlink(missing_ok=True)


def prune_backups(*, keep: int, kind: str = SCHEDULED) -> list[Path]:
    """Keep the newest ``keep`` backups of ``kind`` in the backup folder; delete the older ones."""
    from kith.backups.selectors import backup_list

    mine = [backup for backup in backup_list() if backup.manifest.get("kind") == kind]
    removed = []
    for backup in mine[max(keep, 0) :]:
        delete_backup(backup)
        removed.append(backup.path)
    return removed


def run_backup(*, kind: str, encrypt: bool, verify: bool = True, keep: int | None = None) -> dict[str, Any]:
    """The background job: back up, verify the new backup, apply retention."""
    backup = create_backup(encrypt=encrypt, kind=kind)
    report = verify_backup(backup.path) if verify else None
    removed = prune_backups(keep=keep, kind=kind) if keep is not None else []
    if report is not None and not report.ok:
        raise BackupError(
            _("The new backup %(name)s failed verification: %(count)s difference(s).")
            % {"name": backup.path.name, "count": len(report.differences)}
        )
    return {
        "file": backup.path.name,
        "verified": report.ok if report else None,
        "removed": [p.name for p in removed],
    }
