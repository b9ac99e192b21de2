"""``kith import FILE``: import customers from a CSV, XLSX or vCard file, with a progress bar."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kith.core import console
from kith.jobs import services as jobs
from kith.jobs.models import JobStatus
from kith.parties.imports import services as imports


class Command(BaseCommand):
    help = (
        "Import customers from FILE as USER (permissions apply; every change is audited with source "
        "'import'). Columns are recognised (Google, Outlook, HubSpot, Salesforce, LinkedIn, vCard) or mapped "
        "with --map 'Column=target'. Rows matching a customer by number, phone or email follow --exact; rows "
        "with a close name follow --fuzzy."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="the user the import is made as")
        parser.add_argument("--map", action="append", default=[], metavar="COLUMN=TARGET")
        parser.add_argument("--exact", choices=imports.ACTIONS, default=imports.UPDATE)
        parser.add_argument("--fuzzy", choices=imports.ACTIONS, default=imports.SKIP)
        parser.add_argument("--threshold", type=int, default=imports.DEFAULT_THRESHOLD)
        parser.add_argument(
            "--kind",
            choices=["person", "company"],
            help="what rows that do not say are (default: from the layout)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check every row, save nothing")
        parser.add_argument("--rejected", help="write the rejected rows (with the reason) to this file")
        parser.add_argument(
            "--show-mapping", action="store_true", help="print how the columns are read and stop"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['user']!r}")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no file {path}")
        try:
            with path.open("rb") as handle:
                upload = imports.save_upload(iter(lambda: handle.read(1 << 20), b""), filename=path.name)
            first = imports.preview(actor=user, upload=upload, filename=path.name, limit=0)
            mapping = dict(first.mapping)
            for item in options["map"]:
                column, sep, target = item.partition("=")
                if not sep:
                    raise CommandError(f"--map {item!r}: expected COLUMN=TARGET")
                mapping[column] = target
            if options["show_mapping"]:
                self.stdout.write(
                    f"format {first.table.format}, encoding {first.table.encoding or '-'}, preset {first.preset or '-'}"
                )
                for column in first.table.columns:
                    self.stdout.write(f"{column}\t{mapping.get(column) or '(ignored)'}")
                return
            job = imports.start_import(
                actor=user,
                upload=upload,
                filename=path.name,
                options=imports.Options(
                    mapping=mapping,
                    rules={"exact": options["exact"], "fuzzy": options["fuzzy"]},
                    threshold=options["threshold"],
                    dry_run=options["dry_run"],
                    default_kind=options["kind"] or first.default_kind,
                ),
                source="cli",
                enqueue=False,
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" if k else " ".join(v) for k, v in errors.items())
            ) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc) or "permission denied") from exc
        started = time.monotonic()
        jobs.run(job.pk, on_change=lambda done, total: console.bar("rows", done, total, started=started))
        job.refresh_from_db()
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(job.message or job.status)
        counts = job.result.get("counts", {})
        verb = "would be" if options["dry_run"] else "were"
        self.stdout.write(
            ", ".join(
                f"{counts.get(k, 0):,} {verb} {k}"
                for k in ("created", "updated", "merged", "unchanged", "skipped")
            )
            + f"; {counts.get('rejected', 0):,} rejected (job {job.pk})"
        )
        rejected = jobs.file_path(job)
        if options["rejected"] and rejected is not None:
            shutil.copyfile(rejected, options["rejected"])
            self.stdout.write(f"rejected rows: {options['rejected']}")
