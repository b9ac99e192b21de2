"""``kith backup``: copy the database into a backup file with a manifest; ``--verify`` proves it restores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from kith.backups.errors import BackupError
from kith.backups.services import backups


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite: online backup API; PostgreSQL: pg_dump) and the media folder (uploaded"
        " files) into the instance's backups/ folder, with a JSON manifest of row counts and checksums."
        " --verify [PATH] restores a backup (or a fresh one) into a scratch database and compares every table"
        " and every media file."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--output", type=Path, help="File or folder to write (default: <instance>/backups/)."
        )
        parser.add_argument(
            "--encrypt",
            action="store_true",
            help="AES-256-GCM with KITH_BACKUP_KEY or <instance>/backup_key.",
        )
        parser.add_argument(
            "--verify",
            nargs="?",
            const="",
            default=None,
            metavar="PATH",
            help="Verify PATH, or make a fresh backup and verify it (also against the live database).",
        )

    def handle(
        self, *args: Any, output: Path | None, encrypt: bool, verify: str | None, **options: Any
    ) -> None:
        try:
            if verify:
                report = backups.verify_backup(Path(verify))
            else:
                backup = backups.create_backup(output=output, encrypt=encrypt)
                manifest = backup.manifest
                rows = sum(table["rows"] for table in manifest["tables"].values())
                files = len(manifest["media"]["files"])
                self.stdout.write(
                    f"Backup written: {backup.path} ({filesizeformat(manifest['size'])}, "
                    f"{len(manifest['tables'])} tables, {rows} rows"
                    f"{', encrypted' if manifest['encrypted'] else ''}); media folder: {files} files in "
                    f"{backup.media_path.name if backup.media_path else '-'}"
                    f" ({filesizeformat(manifest['media']['size'])})"
                )
                if verify is None:
                    return
                report = backups.verify_backup(backup.path, compare_live=True)
        except BackupError as exc:
            raise CommandError(exc.message) from exc
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Verified: {report.backup.path.name} restores; {report.tables} tables match their row counts"
                    " and checksums"
                    + (
                        f"; {len(report.backup.manifest['media'].get('files', {}))} media files match theirs."
                        if isinstance(report.backup.manifest.get("media"), dict)
                        else " (a backup without media files)."
                    )
                )
            )
            return
        self.stdout.write(self.style.ERROR(f"Verification of {report.backup.path.name} FAILED:"))
        self.stdout.write(_difference_table(report.differences))
        raise CommandError(f"{len(report.differences)} difference(s) found.")


def _difference_table(differences: list[backups.Difference]) -> str:
    header = ("table", "compared with", "rows expected", "rows found", "checksum", "note")
    rows = [
        (
            d.table,
            d.against,
            "-" if d.expected_rows is None else str(d.expected_rows),
            "-" if d.actual_rows is None else str(d.actual_rows),
            "differs" if d.checksum_differs else "same",
            d.note,
        )
        for d in differences
    ]
    widths = [max(len(str(line[i])) for line in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(line)).rstrip()
        for line in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
