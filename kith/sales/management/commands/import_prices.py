"""``kith import_prices FILE --user NAME [--price-list NAME]``: price-list entries (SKU, price, currency,
validity, from quantity) from a CSV or XLSX file through the price-list service; ``--dry-run`` checks
without saving (kith.sales.imports.catalogue)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kith.core.exports import CsvWriter
from kith.sales.imports.catalogue import ImportResult, ReadError, import_prices


class CatalogueCommand(BaseCommand):
    """What the product and price imports share: the user, the file, the error report, the summary."""

    def add_common_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="the user the import is made as")
        parser.add_argument("--dry-run", action="store_true", help="check every row, save nothing")
        parser.add_argument("--errors", type=Path, help="write the errors (row, column, reason) to this CSV")

    def run(self, work: Callable[[Path, Any], ImportResult], options: dict[str, Any]) -> None:
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(_("No active user %(name)r.") % {"name": options["user"]})
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("No file %(path)s.") % {"path": path})
        try:
            result = work(path, user)
        except ReadError as exc:
            raise CommandError(exc.message) from exc
        except PermissionDenied as exc:
            raise CommandError(
                _("%(name)s may not import these records.") % {"name": user.get_username()}
            ) from exc
        for error in result.errors:
            self.stderr.write(
                _("row %(row)d, %(column)s: %(reason)s")
                % {"row": error.row, "column": error.column or "-", "reason": error.reason}
            )
        if options.get("errors"):
            # reasons quote the file's text: written formula-safe, like every CSV Kith writes
            writer = CsvWriter(
                Path(options["errors"]), [("row", "row"), ("column", "column"), ("reason", "reason")]
            )
            writer.write_rows((e.row, e.column, e.reason) for e in result.errors)
            writer.close()
        self.stdout.write(json.dumps(result.as_dict(), indent=2))


class Command(CatalogueCommand):
    help = (
        "Import price-list entries from FILE (CSV or XLSX) as USER: SKU, price, currency, valid from, valid "
        "to, from quantity, price list; the list is --price-list or the row's price list column (created "
        "when missing); rows with errors are reported (row, column, reason), not saved."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        self.add_common_arguments(parser)
        parser.add_argument("--price-list", default="", help="the price list of every row (by name)")

    def handle(self, *args: Any, **options: Any) -> None:
        self.run(
            lambda path, user: import_prices(
                path, actor=user, price_list=options["price_list"], dry_run=options["dry_run"]
            ),
            options,
        )
