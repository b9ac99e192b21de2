"""Products and price-list entries from a CSV or XLSX file, each change through the product and price-list
services (so permissions, validation, optimistic locking and the audit trail apply), with a per-row error
report (row, column, reason) and a dry run. Rules in docs/sales-import.md.

- Products are matched by SKU (ignoring case): a new SKU is created, a known one updated with the cells
  that differ; an empty cell leaves the stored value. A row that changes nothing calls no service, so
  importing the same file again changes nothing.
- Price-list entries (SKU, price, from quantity) go on the list named by ``price_list`` or by the row's
  price-list column, matched by name (and currency when the file gives one); a list that does not exist is
  created with the file's currency and validity. The validity dates are the list's: its rows must agree.
- A SKU (or a SKU and quantity on one list) twice in a file is refused on the later row: applying both
  would change the product back and forth on every run.
- ``dry_run``: everything is done and checked as for real, then rolled back.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from kith.core.errors import ConflictError
from kith.core.readers import ERROR_KEY, EXTRA_KEY, ReadError, Table, open_table
from kith.sales import currencies
from kith.sales.choices import PRICE_LIST, PRODUCT
from kith.sales.models import PriceList, Product
from kith.sales.services.price_lists import price_list_create, price_list_update
from kith.sales.services.products import product_create, product_update
from kith.security.rules import IMPORT, require_permission

__all__ = ["ImportResult", "ReadError", "RowError", "import_prices", "import_products"]


def _key(column: str) -> str:
    return re.sub(r"[\s\-./]+", "_", column.strip().lower().lstrip("\ufeff"))


# column names as people write them -> fields (compared lower-case, spaces, dashes and dots as "_")
PRODUCT_COLUMNS = {
    "sku": "sku",
    "code": "sku",
    "product_code": "sku",
    "item_code": "sku",
    "article": "sku",
    "article_number": "sku",
    "stock_code": "sku",
    "stockcode": "sku",
    "name": "name",
    "product": "name",
    "product_name": "name",
    "item": "name",
    "model": "model",
    "type": "model",
    "unit": "unit",
    "uom": "unit",
    "unit_of_measure": "unit",
    "category": "category",
    "product_category": "category",
    "group": "category",
    "description": "description",
    "list_price": "list_price",
    "price": "list_price",
    "unit_price": "list_price",
    "currency": "currency",
    "tax_rate": "tax_rate",
    "tax": "tax_rate",
    "vat": "tax_rate",
    "vat_rate": "tax_rate",
    "tax_rate_%": "tax_rate",
    "active": "is_active",
    "is_active": "is_active",
    "status": "is_active",
}
PRICE_COLUMNS = {
    "sku": "sku",
    "code": "sku",
    "product_code": "sku",
    "item_code": "sku",
    "stock_code": "sku",
    "price": "unit_price",
    "unit_price": "unit_price",
    "list_price": "unit_price",
    "currency": "currency",
    "valid_from": "valid_from",
    "from": "valid_from",
    "start": "valid_from",
    "start_date": "valid_from",
    "valid_to": "valid_to",
    "to": "valid_to",
    "until": "valid_to",
    "valid_until": "valid_to",
    "end": "valid_to",
    "end_date": "valid_to",
    "min_quantity": "min_quantity",
    "from_quantity": "min_quantity",
    "quantity": "min_quantity",
    "qty": "min_quantity",
    "price_list": "price_list",
    "pricelist": "price_list",
    "list": "price_list",
}
TRUE = frozenset({"1", "yes", "y", "true", "t", "active", "on", "x"})
FALSE = frozenset({"0", "no", "n", "false", "f", "inactive", "off"})
MAX_ERRORS = 10000


@dataclass(frozen=True)
class RowError:
    row: int  # the file's row (the header is row 1)
    column: str  # the column as named in the file; "" for the whole row
    reason: str


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    lists_created: int = 0
    lists_updated: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    refused_rows: set[int] = field(default_factory=set)

    def refuse(self, row: int, column: str, reason: str) -> None:
        self.refused_rows.add(row)
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, reason))

    @property
    def refused(self) -> int:
        return len(self.refused_rows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "lists_created": self.lists_created,
            "lists_updated": self.lists_updated,
            "refused": self.refused,
            "dry_run": self.dry_run,
        }


class _DryRun(Exception):
    """Raised at the end of a dry run to roll everything back."""


def table_columns(table: Table, aliases: dict[str, str]) -> dict[str, str]:
    """field -> the first column of the file that names it."""
    found: dict[str, str] = {}
    for column in table.columns:
        target = aliases.get(_key(column))
        if target and target not in found:
            found[target] = column
    return found


def table_rows(
    table: Table, columns: dict[str, str], result: ImportResult
) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, field -> stripped text) of the non-empty rows; malformed rows are refused."""
    for number, row in enumerate(table.rows(), start=2):  # row 1 is the header
        values = {target: (row.get(column) or "").strip() for target, column in columns.items()}
        if not any(values.values()) and not row.get(EXTRA_KEY):
            continue
        result.rows += 1
        if row.get(ERROR_KEY) or row.get(EXTRA_KEY):
            result.refuse(number, "", _("This row has more cells than the header has columns."))
            continue
        yield number, values


def _read(
    path: Path, filename: str, aliases: dict[str, str], required: tuple[str, ...]
) -> tuple[Table, dict[str, str]]:
    table = open_table(path, filename=filename)
    if table.format == "vcard":
        raise ReadError(_("A vCard file holds contacts, not products or prices."))
    columns = table_columns(table, aliases)
    missing = [name for name in required if name not in columns]
    if missing:
        raise ReadError(
            _("The file has no column for: %(fields)s (found: %(columns)s).")
            % {"fields": ", ".join(missing), "columns": ", ".join(table.columns)}
        )
    return table, columns


def validation_errors(exc: ValidationError) -> list[tuple[str, str]]:
    if hasattr(exc, "error_dict"):
        return [(key, " ".join(messages)) for key, messages in exc.message_dict.items()]
    return [("", " ".join(exc.messages))]


def run_import(result: ImportResult, dry_run: bool, work: Any) -> ImportResult:
    result.dry_run = dry_run
    if not dry_run:
        work()
        return result
    try:
        with transaction.atomic():
            work()
            raise _DryRun
    except _DryRun:
        pass
    return result


# --- products -------------------------------------------------------------------------------------


def _active(text: str) -> bool | None:
    lowered = text.strip().lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    return None


def number_text(text: str) -> str:
    """``1,234.50`` -> ``1234.50`` (thousands separators); anything else as given, for the service to judge."""
    if text.count(".") == 1 and re.fullmatch(r"-?\d{1,3}(,\d{3})+\.\d*", text):
        return text.replace(",", "")
    return text


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(number_text(text))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _product_data(
    values: dict[str, str], number: int, columns: dict[str, str], result: ImportResult
) -> dict[str, Any] | None:
    """The product fields of a row's filled cells, or None when a cell cannot be read."""
    data: dict[str, Any] = {}
    ok = True
    for target, text in values.items():
        if not text:
            continue
        if target == "is_active":
            active = _active(text)
            if active is None:
                result.refuse(number, columns[target], _("Write yes or no (or 1 or 0, active or inactive)."))
                ok = False
            data[target] = active
        elif target == "tax_rate":
            data[target] = text.rstrip("%").strip()
        elif target == "currency":
            data[target] = text.upper()
        elif target == "list_price":
            data[target] = number_text(text)
        else:
            data[target] = text
    return data if ok else None


def _differs(product: Product, field_name: str, value: Any) -> bool:
    stored = getattr(product, field_name)
    if isinstance(stored, Decimal):
        given = _decimal(str(value))
        return given is None or given != stored
    return bool(stored != value)


def import_products(path: Path, *, actor: Any, dry_run: bool = False, filename: str = "") -> ImportResult:
    """Create or update products from the file (raises ``ReadError`` when it cannot be read as a table,
    ``PermissionDenied`` without the permission to import products)."""
    if actor is not None:
        require_permission(actor, PRODUCT, IMPORT)
    table, columns = _read(path, filename, PRODUCT_COLUMNS, ("sku",))
    result = ImportResult()

    def work() -> None:
        first_row: dict[str, int] = {}
        for number, values in table_rows(table, columns, result):
            data = _product_data(values, number, columns, result)
            sku = values.get("sku", "")
            if not sku:
                result.refuse(number, columns["sku"], _("Give the SKU (the product's code)."))
                continue
            if sku.upper() in first_row:
                result.refuse(
                    number,
                    columns["sku"],
                    _("This SKU is already on row %(row)d.") % {"row": first_row[sku.upper()]},
                )
                continue
            first_row[sku.upper()] = number
            if data is None:
                continue
            _product_row(number, sku, data, actor, columns, result)

    return run_import(result, dry_run, work)


def _product_row(
    number: int, sku: str, data: dict[str, Any], actor: Any, columns: dict[str, str], result: ImportResult
) -> None:
    product = Product.objects.filter(sku__iexact=sku).first()
    try:
        with transaction.atomic():
            if product is None:
                data.setdefault("currency", currencies.default_code())
                product_create(actor=actor, data=data)
                result.created += 1
                return
            data.pop("sku", None)  # matched ignoring case: the stored spelling stays
            changed = {k: v for k, v in data.items() if _differs(product, k, v)}
            if not changed:
                result.unchanged += 1
                return
            product_update(actor=actor, product=product, data=changed, expected_version=product.version)
            result.updated += 1
    except ValidationError as exc:
        for key, reason in validation_errors(exc):
            result.refuse(number, columns.get(key, ""), reason)
    except ConflictError:
        result.refuse(number, "", _("Someone else changed this product during the import; import it again."))
    except PermissionDenied:
        action = _("create") if product is None else _("change")
        result.refuse(number, "", _("You may not %(action)s products.") % {"action": action})


# --- price-list entries ---------------------------------------------------------------------------


@dataclass
class _Entry:
    number: int
    product: Product
    unit_price: str
    min_quantity: Decimal


@dataclass
class _ListRows:
    name: str
    currency: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    dates_row: int = 0  # the first row that gave the dates
    entries: list[_Entry] = field(default_factory=list)


def _date(text: str) -> dt.date | str | None:
    """A date, None for an empty cell, "" when unreadable."""
    if not text:
        return None
    try:
        parsed = parse_date(text[:10])
    except ValueError:
        parsed = None
    return parsed if parsed is not None else ""


def _quantity(text: str) -> Decimal | None:
    if not text:
        return Decimal(1)
    value = _decimal(text)
    if value is None or value <= 0 or value != value.quantize(Decimal("0.001")):
        return None
    return value.quantize(Decimal("0.001"))


def _find_list(name: str, currency: str) -> PriceList | str | None:
    """The list of that name (and currency when given), None when there is none, "" when several fit."""
    lists = PriceList.objects.filter(name__iexact=name)
    if currency:
        lists = lists.filter(currency=currency)
    found = list(lists[:2])
    if len(found) > 1:
        return ""
    return found[0] if found else None


def import_prices(
    path: Path, *, actor: Any, price_list: str = "", dry_run: bool = False, filename: str = ""
) -> ImportResult:
    """Create or update price-list entries from the file; ``price_list`` names the list of every row
    (else the file's price-list column does)."""
    if actor is not None:
        require_permission(actor, PRICE_LIST, IMPORT)
    table, columns = _read(path, filename, PRICE_COLUMNS, ("sku", "unit_price"))
    if not price_list.strip() and "price_list" not in columns:
        raise ReadError(_("Name the price list (--price-list) or give a price list column."))
    result = ImportResult()

    def work() -> None:
        lists = _gather(table, columns, price_list.strip(), result)
        for rows in lists.values():
            _apply_list(rows, actor, columns, result)

    return run_import(result, dry_run, work)


def _gather(
    table: Table, columns: dict[str, str], fixed: str, result: ImportResult
) -> dict[tuple[str, str], _ListRows]:
    """The readable rows grouped by list (name lower-cased, currency); row errors refused."""
    lists: dict[tuple[str, str], _ListRows] = {}
    seen: dict[tuple[str, int, Decimal], int] = {}
    for number, values in table_rows(table, columns, result):
        name = fixed or values.get("price_list", "")
        currency = values.get("currency", "").upper()
        bad = False
        if not name:
            result.refuse(number, columns.get("price_list", ""), _("Name the price list of this row."))
            bad = True
        if currency and not currencies.is_known(currency):
            result.refuse(
                number, columns["currency"], _("Unknown currency code %(code)s.") % {"code": currency}
            )
            bad = True
        product = (
            Product.objects.filter(sku__iexact=values.get("sku", "")).first() if values.get("sku") else None
        )
        if product is None:
            reason = (
                _("No product has this SKU.")
                if values.get("sku")
                else _("Give the SKU (the product's code).")
            )
            result.refuse(number, columns["sku"], reason)
            bad = True
        quantity = _quantity(values.get("min_quantity", ""))
        if quantity is None:
            result.refuse(
                number, columns["min_quantity"], _("Give a quantity above zero with at most three decimals.")
            )
            bad = True
        dates = {key: _date(values.get(key, "")) for key in ("valid_from", "valid_to")}
        for key, value in dates.items():
            if value == "":
                result.refuse(number, columns[key], _("Enter a date as YYYY-MM-DD."))
                bad = True
        if not values.get("unit_price"):
            result.refuse(number, columns["unit_price"], _("Give the price."))
            bad = True
        if bad or product is None or quantity is None:
            continue
        rows = lists.setdefault((name.lower(), currency), _ListRows(name=name, currency=currency))
        entry_key = (rows.name.lower() + "\x00" + currency, product.pk, quantity)
        if entry_key in seen:
            result.refuse(
                number,
                columns["sku"],
                _("This product and quantity are already on row %(row)d for this list.")
                % {"row": seen[entry_key]},
            )
            continue
        given = (dates["valid_from"], dates["valid_to"])
        if any(given):
            if rows.dates_row and (rows.valid_from, rows.valid_to) != given:
                result.refuse(
                    number,
                    columns.get("valid_from") or columns.get("valid_to", ""),
                    _("Row %(row)d gives this list other validity dates; a list has one validity.")
                    % {"row": rows.dates_row},
                )
                continue
            rows.valid_from, rows.valid_to = given  # type: ignore[assignment]
            rows.dates_row = rows.dates_row or number
        seen[entry_key] = number
        rows.entries.append(_Entry(number, product, number_text(values["unit_price"]), quantity))
    return lists


def _apply_list(rows: _ListRows, actor: Any, columns: dict[str, str], result: ImportResult) -> None:
    if not rows.entries:
        return
    found = _find_list(rows.name, rows.currency)
    first = rows.entries[0].number
    if isinstance(found, str):
        for entry in rows.entries:
            result.refuse(
                entry.number,
                columns.get("price_list", ""),
                _("Several price lists are named %(name)s: give the currency too.") % {"name": rows.name},
            )
        return
    entries = list(rows.entries)
    for _attempt in range(len(entries) + 1):  # each failed attempt drops the rows at fault
        if not entries:
            return
        items = [
            {"product": e.product, "unit_price": e.unit_price, "min_quantity": e.min_quantity}
            for e in entries
        ]
        try:
            with transaction.atomic():
                if found is None:
                    _create_list(rows, items, actor, result)
                else:
                    _update_list(found, rows, entries, items, actor, result)
            return
        except ValidationError as exc:
            entries = _drop_faulty(exc, entries, first, columns, result)
        except ConflictError:
            for entry in entries:
                result.refuse(entry.number, "", _("Someone else changed this price list during the import."))
            return
        except PermissionDenied:
            for entry in entries:
                result.refuse(entry.number, "", _("You may not create or change price lists."))
            return


_ITEM_COLUMNS = {"product": "sku", "unit_price": "unit_price", "min_quantity": "min_quantity"}
_LIST_COLUMNS = {
    "currency": "currency",
    "valid_from": "valid_from",
    "valid_to": "valid_to",
    "name": "price_list",
}


def _drop_faulty(
    exc: ValidationError, entries: list[_Entry], first: int, columns: dict[str, str], result: ImportResult
) -> list[_Entry]:
    """Refuse the rows the service's errors name (``items.<n>.<field>``: the n-th new item); an error of
    the list itself refuses every row of the list."""
    faulty: set[int] = set()
    for key, reason in validation_errors(exc):
        match = re.fullmatch(r"items\.(\d+)\.(\w+)", key)
        if match and int(match.group(1)) < len(entries):
            entry = entries[int(match.group(1))]
            result.refuse(entry.number, columns.get(_ITEM_COLUMNS.get(match.group(2), ""), ""), reason)
            faulty.add(int(match.group(1)))
        else:
            column = columns.get(_LIST_COLUMNS.get(key, ""), "")
            for entry in entries:
                result.refuse(entry.number, column, reason)
            return []
    if not faulty:  # an error this code cannot place: refuse the list's rows rather than loop
        for entry in entries:
            result.refuse(entry.number, "", " ".join(exc.messages))
        return []
    return [e for i, e in enumerate(entries) if i not in faulty]


def _create_list(rows: _ListRows, items: list[dict[str, Any]], actor: Any, result: ImportResult) -> None:
    price_list_create(
        actor=actor,
        data={
            "name": rows.name,
            "currency": rows.currency or currencies.default_code(),
            "valid_from": rows.valid_from,
            "valid_to": rows.valid_to,
        },
        items=items,
    )
    result.lists_created += 1
    result.created += len(items)


def _update_list(
    price_list: PriceList,
    rows: _ListRows,
    entries: list[_Entry],
    items: list[dict[str, Any]],
    actor: Any,
    result: ImportResult,
) -> None:
    """Add the new entries and change the prices that differ; the list's other items stay."""
    stored = {(i.product_id, i.min_quantity): i for i in price_list.items.all()}
    created = updated = unchanged = 0
    for entry in entries:
        item = stored.get((entry.product.pk, entry.min_quantity))
        price = _decimal(entry.unit_price)
        if item is None:
            created += 1
        elif price is None or price != item.unit_price:
            updated += 1
        else:
            unchanged += 1
    data: dict[str, Any] = {}
    if rows.dates_row and (rows.valid_from, rows.valid_to) != (price_list.valid_from, price_list.valid_to):
        data = {"valid_from": rows.valid_from, "valid_to": rows.valid_to}
    if created or updated or data:
        wanted = {(e.product.pk, e.min_quantity) for e in entries}
        kept = [
            {"product": i.product_id, "unit_price": i.unit_price, "min_quantity": i.min_quantity}
            for key, i in stored.items()
            if key not in wanted
        ]
        # the file's entries first, so the service's error index n is the n-th entry
        price_list_update(
            actor=actor,
            price_list=price_list,
            data=data,
            items=items + kept,
            expected_version=price_list.version,
        )
        result.lists_updated += 1
    result.created += created
    result.updated += updated
    result.unchanged += unchanged
