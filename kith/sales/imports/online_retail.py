"""The UCI "Online Retail" invoice lines (``InvoiceNo, StockCode, Description, Quantity, InvoiceDate,
UnitPrice, CustomerID, Country``; GBP) as customers, products and consumption lines.

The rules (also in docs/sales-consumption.md, "Online Retail import", and on the statistics page):

- **Customers**: one company per ``CustomerID`` ("Online Retail customer 17850"), found again on a later run
  by the custom field ``retail_customer_id``; its country is kept in ``retail_country``; all are tagged
  "Online Retail". Lines without a ``CustomerID`` (a quarter of the file) go to one customer, "Online Retail
  guest checkout" (``retail_customer_id`` = ``guest``), so the file's totals are all in Kith.
- **Products**: one per stock code, matched ignoring case (SKUs are unique whatever their case, so
  ``85123a`` is ``85123A``); name from the first description, list price the last positive unit price of a
  sale rounded half up to pence (a price of 0.001 gives 0.00; the line keeps its exact price).
- **Not products** (kind "not a product", outside product revenue): ``POST``, ``DOT`` (postage), ``C2``
  (carriage), ``M`` (manual), ``D`` (discount), ``S`` (samples), ``BANK CHARGES``, ``AMAZONFEE``, ``CRUK``
  (commission), ``B`` (bad-debt adjustment: its negative unit price is stored as a negative quantity at
  the positive price, so the amount is the same) and gift vouchers (``gift_0001_*``).
- **Cancellations**: invoices starting with ``C`` have negative quantities and are "return or
  cancellation" lines: they subtract from revenue on their own date.
- **Stock adjustments**: a negative quantity on an ordinary invoice with no customer and a zero price
  (damaged, lost, found stock) is no customer's consumption: skipped and counted.
- **Exact duplicates**: a line identical in every column to an earlier one is skipped and counted (5,268
  in the full file); the others are numbered per invoice in file order, so importing the file again adds
  nothing (the invoice number and line number are the key).
- Zero-price lines are purchases (quantity counts, revenue 0).

A customer's revenue in Kith is then the sum of quantity × unit price of their product lines (purchases,
returns and cancellations), duplicates left out: the same sum a spreadsheet gives on the file with those
rows filtered out.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

CURRENCY = "GBP"
GUEST = "guest"
TAG = "Online Retail"
ID_FIELD = "retail_customer_id"
COUNTRY_FIELD = "retail_country"
NON_PRODUCT = frozenset({"POST", "DOT", "C2", "M", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK", "B"})
COLUMNS = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)
BATCH = 5000
CUSTOMER_BATCH = 500

Progress = Callable[[str, int, int | None], None]


@dataclass
class RetailReport:
    rows_read: int = 0
    duplicates_skipped: int = 0
    stock_adjustments_skipped: int = 0
    rejected: int = 0
    lines_added: int = 0
    lines_existing: int = 0
    customers_added: int = 0
    customers_found: int = 0
    products_added: int = 0
    orders: dict[str, Any] | None = None  # the order pass's counts, when asked for
    kinds: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (file row, reason), the first 1,000

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "duplicates_skipped": self.duplicates_skipped,
            "stock_adjustments_skipped": self.stock_adjustments_skipped,
            "rejected": self.rejected,
            "lines_added": self.lines_added,
            "lines_existing": self.lines_existing,
            "customers_added": self.customers_added,
            "customers_found": self.customers_found,
            "products_added": self.products_added,
            "kinds": dict(self.kinds),
            **({"orders": self.orders} if self.orders is not None else {}),
        }


def _open(path: Path) -> io.TextIOBase:
    raw = path.open("rb")
    head = raw.read(2)
    raw.seek(0)
    stream: Any = gzip.GzipFile(fileobj=raw) if head == b"\x1f\x8b" else raw
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def _rows(path: Path, limit: int | None) -> Iterator[tuple[int, dict[str, str]]]:
    with _open(path) as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationError({"file": [f"not an Online Retail file: no column {', '.join(missing)}"]})
        for n, row in enumerate(reader, start=2):  # the header is row 1
            if limit is not None and n - 1 > limit:
                return
            yield n, row


def customer_key(raw: str) -> str:
    """``17850.0`` (how the file writes it) -> ``17850``; empty -> the guest customer."""
    text = (raw or "").strip()
    if not text:
        return GUEST
    return text[:-2] if text.endswith(".0") else text


def sku_key(code: str) -> str:
    """A stock code as the product's SKU is kept (no spaces) and compared (ignoring case)."""
    return code.strip().replace(" ", "-").upper()


def is_non_product(code: str) -> bool:
    upper = code.strip().upper()
    return upper in NON_PRODUCT or upper.startswith("GIFT_")


COUNTRIES = {
    "United Kingdom": "GB", "Germany": "DE", "France": "FR", "EIRE": "IE", "Spain": "ES", "Netherlands": "NL",
    "Belgium": "BE", "Switzerland": "CH", "Portugal": "PT", "Australia": "AU", "Norway": "NO", "Italy": "IT",
    "Finland": "FI", "Cyprus": "CY", "Sweden": "SE", "Austria": "AT", "Denmark": "DK", "Japan": "JP",
    "Poland": "PL", "Israel": "IL", "USA": "US", "Hong Kong": "HK", "Singapore": "SG", "Iceland": "IS",
    "Canada": "CA", "Greece": "GR", "Malta": "MT", "United Arab Emirates": "AE", "RSA": "ZA", "Lebanon": "LB",
    "Lithuania": "LT", "Brazil": "BR", "Czech Republic": "CZ", "Bahrain": "BH", "Saudi Arabia": "SA",
}  # fmt: skip


def _ensure_fields() -> None:
    from kith.parties.models import CustomFieldDefinition

    for key, label in ((ID_FIELD, "Online Retail customer ID"), (COUNTRY_FIELD, "Online Retail country")):
        if not CustomFieldDefinition.objects.filter(key=key).exists():
            CustomFieldDefinition.objects.create(key=key, label=label, field_type="text", applies_to="any")


def _scan(
    path: Path, limit: int | None
) -> tuple[dict[str, str], dict[str, tuple[str, str, Decimal | None]], int]:
    """First pass: each customer's country, each product code's (code, name, last sale price), rows."""
    customers: dict[str, str] = {}
    products: dict[str, tuple[str, str, Decimal | None]] = {}
    rows = 0
    for _n, row in _rows(path, limit):
        rows += 1
        key = customer_key(row["CustomerID"])
        if key != GUEST or key not in customers:
            customers[key] = row["Country"].strip() if key != GUEST else ""
        code = row["StockCode"].strip()
        if not code or is_non_product(code):
            continue
        upper = sku_key(code)
        name = row["Description"].strip()
        known = products.get(upper)
        price = _decimal(row["UnitPrice"])
        if price is not None and (price <= 0 or not row["InvoiceNo"].startswith(("5", "A"))):
            price = None if known is None else known[2]
        if known is None:
            products[upper] = (code, name or code, price)
        else:
            products[upper] = (known[0], known[1] or name or code, price if price is not None else known[2])
    return customers, products, rows


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None
    return value if value.is_finite() else None


def _customers(keys: dict[str, str], actor: Any, report: RetailReport) -> dict[str, Any]:
    from kith.parties.models import Customer
    from kith.parties.services.customers import NewCustomer, customer_prepare, customers_create

    found: dict[str, Any] = {}
    for customer in Customer.objects.filter(custom_data__has_key=ID_FIELD, merged_into__isnull=True):
        found[str(customer.custom_data.get(ID_FIELD))] = customer
    report.customers_found = sum(1 for k in keys if k in found)
    missing = [k for k in keys if k not in found]
    for start in range(0, len(missing), CUSTOMER_BATCH):
        chunk = missing[start : start + CUSTOMER_BATCH]
        prepared = []
        for key in chunk:
            name = "Online Retail guest checkout" if key == GUEST else f"Online Retail customer {key}"
            item = NewCustomer(
                kind="company",
                data={"legal_name": name, "status": "active", "source": "import"},
                custom={ID_FIELD: key, COUNTRY_FIELD: keys[key]},
                tag_names=[TAG],
            )
            prepared.append(customer_prepare(actor=actor, item=item))
        with transaction.atomic():
            for key, customer in zip(chunk, customers_create(prepared=prepared), strict=True):
                found[key] = customer
        report.customers_added += len(chunk)
    return found


def _products(
    codes: dict[str, tuple[str, str, Decimal | None]], actor: Any, report: RetailReport
) -> dict[str, Any]:
    from django.db.models.functions import Upper

    from kith.sales.models import Product
    from kith.sales.services.products import product_create

    found: dict[str, Any] = {p.sku_upper: p for p in Product.objects.annotate(sku_upper=Upper("sku"))}
    with transaction.atomic():
        for upper, (code, name, price) in codes.items():
            if upper in found:
                continue
            list_price = (price or Decimal(0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            found[upper] = product_create(
                actor=actor,
                data={
                    "sku": sku_key(code) if code.upper() == sku_key(code) else code.strip().replace(" ", "-"),
                    "name": name[:200],
                    "category": TAG,
                    "list_price": str(list_price),
                    "currency": CURRENCY,
                    "tax_rate": "0",
                },
            )
            report.products_added += 1
    return found


def line_of(row: dict[str, str]) -> tuple[str, dict[str, Any]] | str:
    """(kind, the consumption line's values) of one file row, or why it is not one."""
    code = row["StockCode"].strip()
    quantity = _decimal(row["Quantity"])
    price = _decimal(row["UnitPrice"])
    if quantity is None or price is None:
        return "quantity or unit price is not a number"
    invoice = row["InvoiceNo"].strip()
    try:
        when = dt.datetime.strptime(row["InvoiceDate"].strip()[:19], "%Y-%m-%d %H:%M:%S").date()
    except ValueError:
        try:
            when = dt.datetime.strptime(row["InvoiceDate"].strip(), "%m/%d/%Y %H:%M").date()
        except ValueError:
            return "InvoiceDate is not a date"
    if quantity == 0:
        return "quantity 0"
    if is_non_product(code):
        kind = "non_product"
        if price < 0:  # a bad-debt adjustment: the same amount as a negative quantity at a positive price
            quantity, price = -quantity, -price
    elif price < 0:
        return "negative unit price on a product line"
    elif invoice.upper().startswith("C"):
        if quantity > 0:
            return "a cancellation invoice (C...) with a positive quantity"
        kind = "return"
    elif quantity < 0:
        if customer_key(row["CustomerID"]) == GUEST and price == 0:
            return "stock adjustment"
        kind = "return"
    else:
        kind = "purchase"
    return kind, {
        "occurred_on": when.isoformat(),
        "sku": code[:64],
        "description": row["Description"].strip()[:300],
        "quantity": str(quantity),
        "unit_price": str(price),
        "currency": CURRENCY,
        "kind": kind,
        "reference": invoice[:64],
    }


def import_online_retail(
    path: Path,
    *,
    actor: Any = None,
    limit: int | None = None,
    progress: Progress | None = None,
    orders: bool = False,
) -> RetailReport:
    """Import the file (plain or gzipped CSV; the first ``limit`` rows when given); see the module's rules.
    ``orders``: also one order per invoice, from its stored lines (``online_retail_orders``)."""
    from kith.sales.imports.online_retail_orders import Invoice, import_orders, invoice_time
    from kith.sales.services.consumption import consumption_add_many

    if orders and actor is not None:  # refuse before the long consumption pass, not after it
        from kith.sales.order_types import ORDER
        from kith.security.rules import IMPORT, require_permission

        require_permission(actor, ORDER, IMPORT)

    report = RetailReport()
    customer_keys, product_codes, total = _scan(path, limit)
    _ensure_fields()
    customers = _customers(customer_keys, actor, report)
    products = _products(product_codes, actor, report)
    seen: set[int] = set()
    numbers: dict[str, int] = {}
    batch: list[dict[str, Any]] = []
    places: list[int] = []
    invoices: dict[str, Invoice] = {}
    last_invoice = ""

    def flush() -> None:
        if not batch:
            return
        try:
            result = consumption_add_many(actor=actor, rows=batch, source="import")
            report.lines_added += len(result.created)
            report.lines_existing += len(result.existing)
        except ValidationError:  # find the rows at fault one by one; the others go in
            for place, row in zip(places, batch, strict=True):
                try:
                    result = consumption_add_many(actor=actor, rows=[row], source="import")
                    report.lines_added += len(result.created)
                    report.lines_existing += len(result.existing)
                except ValidationError as error:
                    report.rejected += 1
                    if len(report.errors) < 1000:
                        report.errors.append((place, "; ".join(str(m) for m in error.messages)))
        batch.clear()
        places.clear()

    for n, row in _rows(path, limit):
        report.rows_read += 1
        fingerprint = hash(tuple(row.get(c, "") for c in COLUMNS))
        if fingerprint in seen:
            report.duplicates_skipped += 1
            continue
        seen.add(fingerprint)
        made = line_of(row)
        if isinstance(made, str):
            if made == "stock adjustment":
                report.stock_adjustments_skipped += 1
            else:
                report.rejected += 1
                if len(report.errors) < 1000:
                    report.errors.append((n, made))
            continue
        kind, values = made
        invoice = values["reference"]
        numbers[invoice] = numbers.get(invoice, 0) + 1
        values["line_number"] = numbers[invoice]
        customer = values["customer"] = customers[customer_key(row["CustomerID"])]
        last_invoice = invoice
        if orders and invoice not in invoices:
            issued = invoice_time(row["InvoiceDate"])
            if issued is not None:
                invoices[invoice] = Invoice(invoice, customer.pk, customer.owner_id, issued)
        product = None if kind == "non_product" else products.get(sku_key(values["sku"]))
        values["product"] = product
        report.kinds[kind] += 1
        batch.append(values)
        places.append(n)
        if len(batch) >= BATCH:
            flush()
            if progress:
                progress("lines", report.rows_read, total)
    flush()
    if progress:
        progress("lines", report.rows_read, total)
    if orders:
        if limit is not None and report.rows_read >= limit:
            # the rows may stop inside the last invoice: its order waits for a run that reads it whole
            invoices.pop(last_invoice, None)
        made_orders = import_orders(list(invoices.values()), actor=actor, progress=progress)
        report.orders = made_orders.as_dict()
    return report
