"""``kith import_transactions FILE``: invoice lines of a shop (the UCI Online Retail layout) as customers,
products and consumption lines, with a progress bar and a report of every row not imported."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from kith.core.console import bar


class Command(BaseCommand):
    help = (
        "Import invoice lines (Online Retail layout, CSV or .csv.gz) as customers, products and consumption "
        "(and, with --orders, one order per invoice)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--limit", type=int, default=None, help="Only the first N rows.")
        parser.add_argument("--errors", type=Path, default=None, help="Write rows not imported to this CSV.")
        parser.add_argument(
            "--orders",
            action="store_true",
            help="Also make one order per invoice (shipped, or cancelled for C... invoices), in bulk.",
        )

    def handle(
        self,
        *args: Any,
        file: Path,
        limit: int | None,
        errors: Path | None,
        orders: bool = False,
        **options: Any,
    ) -> None:
        from kith.audit.choices import Source
        from kith.audit.context import audit_context
        from kith.sales.imports.online_retail import import_online_retail

        if not file.is_file():
            raise CommandError(f"no such file: {file}")
        started = time.monotonic()

        def progress(label: str, done: int, total: int | None) -> None:
            bar(label, done, total, started=started)

        try:
            with audit_context(source=Source.IMPORT):
                report = import_online_retail(file, limit=limit, progress=progress, orders=orders)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        if errors is not None:
            with errors.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["row", "reason"])
                writer.writerows(report.errors)
        seconds = time.monotonic() - started
        self.stdout.write(json.dumps({**report.as_dict(), "seconds": round(seconds, 1)}, indent=2))
