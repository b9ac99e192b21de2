"""``kith restore PATH``: replace the database and the media folder with a backup, migrate forward, print
the row counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kith.backups.errors import BackupError
from kith.backups.services import backups


class Command(BaseCommand):
    help = (
        "Restore a backup made by `kith backup`: the database and, when the backup holds it, the media folder"
        " (refuses a database with data unless --yes)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", type=Path, help="The backup file (its manifest is read from PATH.json).")
        parser.add_argument("--yes", action="store_true", help="Replace a database that has data.")

    def handle(self, *args: Any, path: Path, yes: bool, **options: Any) -> None:
        try:
            report = backups.restore_backup(path, confirm=yes)
        except BackupError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Restored {path.name}.")
        if report.migrated:
            self.stdout.write(f"Migrated forward: {', '.join(report.migrated)}")
        width = max((len(table) for table in report.counts), default=5)
        for table, rows in sorted(report.counts.items()):
            self.stdout.write(f"  {table.ljust(width)}  {rows:>10}")
        self.stdout.write(f"  {'total'.ljust(width)}  {sum(report.counts.values()):>10}")
        if report.media_files is None:
            self.stdout.write(
                "This backup holds no media files (made before Kith backed them up): the media folder was"
                " left as it is."
            )
        else:
            self.stdout.write(
                f"Media folder restored: {report.media_files} files, each matching its checksum."
            )
        if report.matches_manifest is True:
            self.stdout.write(
                self.style.SUCCESS("Every table matches the backup's manifest (rows and checksums).")
            )
        elif report.matches_manifest is False:
            raise CommandError("The restored data does not match the backup's manifest.")
