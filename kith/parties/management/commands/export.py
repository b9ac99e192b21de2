"""``kith export``: export customers (as a user sees them) to CSV, XLSX, vCard or JSON, with a progress bar."""

from __future__ import annotations

import shutil
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kith.core import console
from kith.jobs import services as jobs
from kith.jobs.models import JobStatus
from kith.parties.services import exports


class Command(BaseCommand):
    help = (
        "Export customers as USER sees them (visibility, masking and the export permission apply; the export "
        "is logged). Filters are the list's parameters: --filter status=active --filter q=acme ..."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="the user the export is made as")
        parser.add_argument("--format", default="csv", choices=list(exports.FORMATS))
        parser.add_argument("--columns", default="", help="comma-separated column keys (default: the list's)")
        parser.add_argument("--filter", action="append", default=[], metavar="KEY=VALUE")
        parser.add_argument("--output", "-o", required=True, help="the file to write")
        parser.add_argument("--list-columns", action="store_true", help="print the column keys and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list_columns"]:
            for key, label in exports.export_columns():
                self.stdout.write(f"{key}\t{label}")
            return
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['user']!r}")
        filters: dict[str, list[str]] = {}
        for item in options["filter"]:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise CommandError(f"--filter {item!r}: expected KEY=VALUE")
            filters.setdefault(key.strip(), []).append(value)
        columns = [c.strip() for c in options["columns"].split(",") if c.strip()] or None
        try:
            job = exports.start_customer_export(
                actor=user,
                filters=filters,
                file_format=options["format"],
                columns=columns,
                source="cli",
                enqueue=False,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc) or "permission denied") from exc
        started = time.monotonic()
        jobs.run(job.pk, on_change=lambda done, total: console.bar("customers", done, total, started=started))
        job.refresh_from_db()
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(job.message or job.status)
        path = jobs.file_path(job)
        if path is None:
            raise CommandError("the export wrote no file")
        shutil.copyfile(path, options["output"])
        self.stdout.write(
            f"{job.result.get('rows', 0):,} customers written to {options['output']} (job {job.pk})"
        )
