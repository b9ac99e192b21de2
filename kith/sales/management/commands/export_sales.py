"""``kith export_sales``: export a sales list (as a user sees it) to CSV, XLSX or JSON, with a progress bar."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kith.jobs import cli
from kith.sales.services import exports


class Command(BaseCommand):
    help = (
        "Export a sales list as USER sees it (the export permission and visibility apply; the export is "
        "logged). TYPE is one of: " + ", ".join(exports.SPECS) + ". Filters are the list page's "
        "parameters: --filter status=open --filter customer=C2026000001 ..."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("type", choices=list(exports.SPECS), help="the list to export")
        parser.add_argument("output", metavar="OUT", help="the file to write")
        parser.add_argument("--user", required=True, help="the user the export is made as")
        parser.add_argument("--format", default="csv", choices=list(exports.FORMATS))
        parser.add_argument("--filter", action="append", default=[], metavar="KEY=VALUE")

    def handle(self, *args: Any, **options: Any) -> None:
        user = cli.active_user(options["user"])
        filters = cli.filters_of(options["filter"])
        job = cli.run_export(
            lambda: exports.start_sales_export(
                actor=user,
                export_type=options["type"],
                file_format=options["format"],
                filters=filters,
                source="cli",
                enqueue=False,
            ),
            label=exports.SPECS[options["type"]].file_stem,
            output=options["output"],
        )
        self.stdout.write(f"{job.result.get('rows', 0):,} rows written to {options['output']} (job {job.pk})")
