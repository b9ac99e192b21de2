"""``kith import_opportunities FILE --user NAME``: deals from a CSV or XLSX file, each created through the
opportunity service; a customer's open deal of the same name is left alone; ``--dry-run`` checks without
saving (kith.sales.imports.opportunities)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from kith.sales.imports.opportunities import import_opportunities
from kith.sales.management.commands.import_prices import CatalogueCommand


class Command(CatalogueCommand):
    help = (
        "Import deals from FILE (CSV with any delimiter, UTF-8 with or without BOM, or XLSX) as USER: "
        "customer number, name, pipeline, stage, amount, currency, discount %, expected close date, owner, "
        "next step, competitors, description; a customer's open deal of the same name is left alone; rows "
        "with errors are reported (row, column, reason), not saved."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        self.add_common_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        self.run(
            lambda path, user: import_opportunities(path, actor=user, dry_run=options["dry_run"]), options
        )
