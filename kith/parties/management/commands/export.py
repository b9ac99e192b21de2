"""``kith export``: export customers (as a user sees them) to CSV, XLSX, vCard or JSON, with a progress bar."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kith.jobs import cli
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
        user = cli.active_user(options["user"])
        filters = cli.filters_of(options["filter"])
        columns = [c.strip() for c in options["columns"].split(",") if c.strip()] or None
        job = cli.run_export(
            lambda: exports.start_customer_export(
                actor=user,
                filters=filters,
                file_format=options["format"],
                columns=columns,
                source="cli",
                enqueue=False,
            ),
            label="customers",
            output=options["output"],
        )
        self.stdout.write(
            f"{job.result.get('rows', 0):,} customers written to {options['output']} (job {job.pk})"
        )
