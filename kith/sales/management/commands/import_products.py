"""``kith import_products FILE --user NAME``: products from a CSV or XLSX file, matched by SKU, each created
or updated through the product service; ``--dry-run`` checks without saving (kith.sales.imports.catalogue)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from kith.sales.imports.catalogue import import_products
from kith.sales.management.commands.import_prices import CatalogueCommand


class Command(CatalogueCommand):
    help = (
        "Import products from FILE (CSV with any delimiter, UTF-8 with or without BOM, or XLSX) as USER: "
        "SKU, name, model, unit, category, list price, currency, tax rate, active; a known SKU is updated, "
        "a new one created; rows with errors are reported (row, column, reason), not saved."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        self.add_common_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        self.run(lambda path, user: import_products(path, actor=user, dry_run=options["dry_run"]), options)
