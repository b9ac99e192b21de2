"""Every change to consumption lines: add one, add a batch (all or nothing, idempotent by invoice and line
number), delete one.

Auditing: a line added on its own (by hand, one API line) is recorded field by field like every sales
record. A batch (an import, an API push of many lines) is written with one ``bulk_create`` while the per-row
capture is suppressed, and recorded as one ``import`` entry naming the batch (lines, customers, references,
amounts per currency, first and last id): ten million lines would otherwise be ten million entries that
repeat what the table holds. Deleting a line is recorded field by field.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.parties.choices import CustomerStatus
from kith.parties.models import Customer
from kith.parties.selectors.customers import customers_for
from kith.parties.services.access import require_change
from kith.sales import currencies
from kith.sales.choices import CONSUMPTION
from kith.sales.models import ConsumptionKind, ConsumptionLine, ConsumptionSource, Product
from kith.sales.models.consumption import UNIT_PRICE_PLACES
from kith.security.rules import CREATE, DELETE, require_permission

# consumption lines are records about a customer, seen (and changed) with their customer
OBJECT_TYPE = CONSUMPTION
MAX_BATCH = 5000
MAX_QUANTITY = Decimal("1e11")  # Decimal(14, 3)
MAX_UNIT_PRICE = Decimal("1e10")  # Decimal(14, 4)
MAX_AMOUNT = Decimal("1e14")  # Decimal(16, 2)
MAX_FUTURE = dt.timedelta(days=366)
_TEXT = {"sku": 64, "description": 300, "reference": 64}
FIELDS = (
    "customer",
    "occurred_on",
    "period_start",
    "period_end",
    "product",
    "sku",
    "description",
    "quantity",
    "unit_price",
    "currency",
    "kind",
    "reference",
    "line_number",
)


@dataclass
class BatchResult:
    created: list[ConsumptionLine] = field(default_factory=list)
    # lines whose (customer, reference, line number) was already stored with the same values
    existing: list[ConsumptionLine] = field(default_factory=list)


def _require(actor: Any, action: str) -> None:
    if actor is not None:  # None: the system itself (demo data, commands)
        require_permission(actor, OBJECT_TYPE, action)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _date(value: Any, key: str, errors: dict[str, list[str]], *, required: bool) -> dt.date | None:
    if _blank(value):
        if required:
            errors.setdefault(key, []).append(_("Give the date (YYYY-MM-DD)."))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.setdefault(key, []).append(_("Enter a valid date (YYYY-MM-DD)."))
        return None


def _decimal(
    value: Any, key: str, errors: dict[str, list[str]], *, example: str, missing: str
) -> Decimal | None:
    if _blank(value):
        errors.setdefault(key, []).append(missing)
        return None
    if isinstance(value, float):  # a float has already lost the exact value: refuse rather than guess
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        errors.setdefault(key, []).append(_("Enter a number such as %(example)s.") % {"example": example})
        return None
    return number


def _places_ok(number: Decimal, places: int) -> bool:
    return number == number.quantize(Decimal(1).scaleb(-places))


@dataclass
class _Row:
    """A row whose own fields are clean; customer and product are resolved for the whole batch."""

    index: int
    prefix: str
    customer_ref: Any  # a Customer or a customer number
    product_ref: Any  # a Product, a product id or None
    values: dict[str, Any]


def _clean_row(
    index: int, prefix: str, data: Any, errors: dict[str, list[str]], batch_reference: str
) -> _Row:
    def key(name: str) -> str:
        return f"{prefix}{name}"

    values: dict[str, Any] = {}
    if not isinstance(data, dict):
        errors.setdefault(prefix.rstrip(".") or "non_field_errors", []).append(
            _("Each line is an object with its fields.")
        )
        return _Row(index, prefix, None, None, values)
    customer_ref = data.get("customer")
    if isinstance(customer_ref, str):
        customer_ref = customer_ref.strip()
    if _blank(customer_ref):
        errors.setdefault(key("customer"), []).append(_("Give the customer number."))
    values["occurred_on"] = _date(data.get("occurred_on"), key("occurred_on"), errors, required=True)
    if values["occurred_on"] and values["occurred_on"] > timezone.localdate() + MAX_FUTURE:
        errors.setdefault(key("occurred_on"), []).append(_("This is more than a year in the future."))
    values["period_start"] = _date(data.get("period_start"), key("period_start"), errors, required=False)
    values["period_end"] = _date(data.get("period_end"), key("period_end"), errors, required=False)
    if values["period_start"] and values["period_end"] and values["period_start"] > values["period_end"]:
        errors.setdefault(key("period_end"), []).append(_("The period ends before it starts."))
    for name, limit in _TEXT.items():
        text = "" if data.get(name) is None else str(data.get(name)).strip()
        if len(text) > limit:
            errors.setdefault(key(name), []).append(_("At most %(n)d characters.") % {"n": limit})
        values[name] = text[:limit]
    if not values["reference"]:
        values["reference"] = batch_reference
    line_number = data.get("line_number")
    values["line_number"] = None
    if not _blank(line_number):
        text = str(line_number).strip()
        if (
            isinstance(line_number, bool)
            or not (text.isascii() and text.isdigit())
            or not 0 < int(text) < 10**9
        ):
            errors.setdefault(key("line_number"), []).append(_("Enter a whole number from 1."))
        else:
            values["line_number"] = int(text)
    quantity = _decimal(
        data.get("quantity"), key("quantity"), errors, example="3 or -1.5", missing=_("Give the quantity.")
    )
    if quantity is not None:
        if abs(quantity) >= MAX_QUANTITY:
            errors.setdefault(key("quantity"), []).append(_("This quantity is too large."))
        elif not _places_ok(quantity, 3):
            errors.setdefault(key("quantity"), []).append(_("At most 3 decimal places."))
        else:
            values["quantity"] = quantity.quantize(Decimal("0.001")) + 0
    price = _decimal(
        data.get("unit_price"), key("unit_price"), errors, example="12.50", missing=_("Give the unit price.")
    )
    if price is not None:
        if price < 0:
            errors.setdefault(key("unit_price"), []).append(
                _("A unit price cannot be negative: record a return or a credit with a negative quantity.")
            )
        elif price >= MAX_UNIT_PRICE:
            errors.setdefault(key("unit_price"), []).append(_("This price is too large."))
        elif not _places_ok(price, UNIT_PRICE_PLACES):
            errors.setdefault(key("unit_price"), []).append(
                _("At most %(places)d decimal places in a unit price.") % {"places": UNIT_PRICE_PLACES}
            )
        else:
            values["unit_price"] = price.quantize(Decimal(1).scaleb(-UNIT_PRICE_PLACES)) + 0
    kind = str(data.get("kind") or "").strip()
    if kind and kind not in ConsumptionKind.values:
        errors.setdefault(key("kind"), []).append(
            _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(ConsumptionKind.values)}
        )
    elif not kind and "quantity" in values:
        kind = ConsumptionKind.RETURN if values["quantity"] < 0 else ConsumptionKind.PURCHASE
    values["kind"] = kind
    if "quantity" in values and kind:
        q = values["quantity"]
        if kind == ConsumptionKind.PURCHASE and q <= 0:
            errors.setdefault(key("quantity"), []).append(
                _("A purchase has a quantity above zero (a return or cancellation has a negative one).")
            )
        elif kind == ConsumptionKind.RETURN and q >= 0:
            errors.setdefault(key("quantity"), []).append(
                _("A return or cancellation has a negative quantity.")
            )
        elif kind == ConsumptionKind.USAGE and q < 0:
            errors.setdefault(key("quantity"), []).append(
                _("Usage cannot be negative: record a credit as a line that is not a product.")
            )
        elif kind == ConsumptionKind.NON_PRODUCT and q == 0:
            errors.setdefault(key("quantity"), []).append(_("Give a quantity other than zero."))
    values["currency_given"] = str(data.get("currency") or "").strip().upper()
    return _Row(index, prefix, customer_ref, data.get("product"), values)


def _customers(actor: Any, rows: list[_Row], errors: dict[str, list[str]]) -> dict[int, Customer]:
    """Each row's customer (by number, or as given), checked: exists for the actor, may be changed by
    them, not archived. Two queries for the whole batch."""
    numbers = {
        str(r.customer_ref) for r in rows if r.customer_ref and not isinstance(r.customer_ref, Customer)
    }
    found: dict[str, Customer] = {}
    if numbers:
        visible = Customer.objects.all() if actor is None else customers_for(actor)
        found = {
            c.customer_number: c
            for c in visible.filter(customer_number__in=numbers).only(
                "id", "customer_number", "status", "owner_id", "display_name"
            )
        }
    candidates = {c.pk: c for c in found.values()}
    candidates.update(
        {r.customer_ref.pk: r.customer_ref for r in rows if isinstance(r.customer_ref, Customer)}
    )
    writable: set[int] = set(candidates)
    if actor is not None and candidates:
        writable = set(
            customers_for(actor, write=True).filter(pk__in=list(candidates)).values_list("pk", flat=True)
        )
    resolved: dict[int, Customer] = {}
    for row in rows:
        if not row.customer_ref:
            continue
        key = f"{row.prefix}customer"
        customer = (
            row.customer_ref if isinstance(row.customer_ref, Customer) else found.get(str(row.customer_ref))
        )
        if customer is None:
            errors.setdefault(key, []).append(
                _("No customer you may see has the number “%(number)s”.")
                % {"number": str(row.customer_ref)[:40]}
            )
        elif customer.pk not in writable:
            errors.setdefault(key, []).append(
                _(
                    "You may see %(name)s but not change it: ask its owner or their manager to share it with you."
                )
                % {"name": customer.display_name}
            )
        elif customer.status == CustomerStatus.ARCHIVED:
            errors.setdefault(key, []).append(
                _("%(name)s is archived. Reactivate it before recording new business.")
                % {"name": customer.display_name}
            )
        else:
            resolved[row.index] = customer
    return resolved


def _products(rows: list[_Row], errors: dict[str, list[str]]) -> dict[int, Product]:
    """Each row's product: the one it names (id), else the product whose SKU is the row's code (case
    ignored), else none. Two queries for the whole batch."""
    ids: set[int] = set()
    for row in rows:
        ref = row.product_ref
        if isinstance(ref, Product) or _blank(ref):
            continue
        text = str(ref).strip()
        if isinstance(ref, bool) or not (text.isascii() and text.isdigit()) or len(text) > 18:
            errors.setdefault(f"{row.prefix}product", []).append(_("Give the product's id (a whole number)."))
            row.product_ref = None
        else:
            ids.add(int(text))
    by_id = {p.pk: p for p in Product.objects.filter(pk__in=ids)} if ids else {}
    skus = {r.values["sku"].upper() for r in rows if _blank(r.product_ref) and r.values.get("sku")}
    by_sku: dict[str, Product] = {}
    if skus:
        by_sku = {p.sku.upper(): p for p in Product.objects.annotate(code=Upper("sku")).filter(code__in=skus)}
    resolved: dict[int, Product] = {}
    for row in rows:
        ref = row.product_ref
        if isinstance(ref, Product):
            resolved[row.index] = ref
        elif not _blank(ref):
            product = by_id.get(int(str(ref).strip()))
            if product is None:
                errors.setdefault(f"{row.prefix}product", []).append(_("There is no product with this id."))
            else:
                resolved[row.index] = product
        elif row.values.get("sku") and row.values["sku"].upper() in by_sku:
            resolved[row.index] = by_sku[row.values["sku"].upper()]
    return resolved


def _finish(row: _Row, product: Product | None, errors: dict[str, list[str]]) -> None:
    """Currency, code and description from the product when not given; the amount."""
    values, prefix = row.values, row.prefix
    values["product"] = product
    if product is not None:
        values["sku"] = values["sku"] or product.sku
        values["description"] = values["description"] or product.name[:300]
    if not values["sku"] and not values["description"]:
        errors.setdefault(f"{prefix}sku", []).append(_("Give the product, its code or a description."))
    given = values.pop("currency_given")
    code = given or (product.currency if product is not None else "") or currencies.default_code()
    values["currency"] = currencies.clean_code(code, f"{prefix}currency", errors)
    if "quantity" in values and "unit_price" in values and currencies.is_known(values["currency"]):
        exact = values["quantity"] * values["unit_price"]
        amount = exact.quantize(currencies.quantum(values["currency"]), rounding=ROUND_HALF_UP)
        if abs(amount) >= MAX_AMOUNT:
            errors.setdefault(f"{prefix}quantity", []).append(_("Quantity × price is too large."))
        values["amount"] = amount.quantize(Decimal("0.01")) + 0


_COMPARED = (
    "occurred_on",
    "period_start",
    "period_end",
    "product_id",
    "sku",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "currency",
    "kind",
)


def _same(line: ConsumptionLine, values: dict[str, Any]) -> bool:
    product = values.get("product")
    wanted = {**values, "product_id": product.pk if product is not None else None}
    return all(getattr(line, name) == wanted.get(name) for name in _COMPARED)


def _prepare(
    actor: Any, raw_rows: Sequence[Any], *, reference: str, prefixed: bool
) -> tuple[list[_Row], dict[int, Customer]]:
    errors: dict[str, list[str]] = {}
    reference = str(reference or "").strip()
    if len(reference) > _TEXT["reference"]:
        errors["reference"] = [_("At most %(n)d characters.") % {"n": _TEXT["reference"]}]
    rows = [
        _clean_row(i, f"lines.{i}." if prefixed else "", data, errors, reference[:64])
        for i, data in enumerate(raw_rows)
    ]
    customers = _customers(actor, rows, errors)
    products = _products(rows, errors)
    for row in rows:
        if row.values:
            _finish(row, products.get(row.index), errors)
    # the line number within its reference: as given, else the row's place among the batch's rows of
    # that reference (so pushing the same invoice again gives the same keys)
    place: Counter[tuple[int, str]] = Counter()
    seen: dict[tuple[int, str, int], int] = {}
    for row in rows:
        customer = customers.get(row.index)
        ref = row.values.get("reference") if row.values else ""
        if customer is None or not ref:
            continue
        place[(customer.pk, ref)] += 1
        if row.values["line_number"] is None:
            row.values["line_number"] = place[(customer.pk, ref)]
        key = (customer.pk, ref, row.values["line_number"])
        if key in seen:
            errors.setdefault(f"{row.prefix}line_number", []).append(
                _("Line %(line)d of %(ref)s is twice in this batch.") % {"line": key[2], "ref": ref}
            )
        seen[key] = row.index
    if errors:
        raise ValidationError(errors)
    return rows, customers


def _stored(rows: list[_Row], customers: dict[int, Customer]) -> dict[tuple[int, str, int], ConsumptionLine]:
    """The lines already stored under the batch's keys (one query)."""
    keys = {
        (customers[r.index].pk, r.values["reference"], r.values["line_number"])
        for r in rows
        if r.values["reference"]
    }
    if not keys:
        return {}
    lines = ConsumptionLine.objects.filter(
        customer_id__in={k[0] for k in keys}, reference__in={k[1] for k in keys}
    )
    return {
        (line.customer_id, line.reference, line.line_number): line  # type: ignore[misc]
        for line in lines
        if (line.customer_id, line.reference, line.line_number) in keys
    }


def _split(
    rows: list[_Row], customers: dict[int, Customer]
) -> tuple[list[ConsumptionLine], list[ConsumptionLine]]:
    """New lines to write, and the stored lines the batch repeats; a key stored with other values is an
    error on that row."""
    stored = _stored(rows, customers)
    errors: dict[str, list[str]] = {}
    new: list[ConsumptionLine] = []
    existing: list[ConsumptionLine] = []
    for row in rows:
        values = row.values
        key = (customers[row.index].pk, values["reference"], values["line_number"])
        line = stored.get(key) if values["reference"] else None  # type: ignore[arg-type]
        if line is not None:
            if _same(line, values):
                existing.append(line)
            else:
                errors.setdefault(f"{row.prefix}reference", []).append(
                    _(
                        "Line %(line)d of %(ref)s is already recorded with other values: delete it first "
                        "to record it again."
                    )
                    % {"line": key[2], "ref": key[1]}
                )
            continue
        new.append(ConsumptionLine(customer=customers[row.index], **values))
    if errors:
        raise ValidationError(errors)
    return new, existing


def _conflict() -> ValidationError:
    return ValidationError(
        {"reference": [_("Someone recorded the same invoice lines at the same moment; send them again.")]}
    )


def _source(value: str) -> str:
    if value not in ConsumptionSource.values:
        raise ValueError(f"unknown consumption source {value!r}")
    return value


@transaction.atomic
def consumption_add(
    *, actor: Any, data: dict[str, Any], source: str = ConsumptionSource.MANUAL
) -> ConsumptionLine:
    """Record one line (``customer``: a customer number or a ``Customer``). A line with a reference whose
    key (customer, reference, line number — 1 when not given) is stored with the same values is returned
    as stored; with other values it is refused."""
    return consumption_record(actor=actor, data=data, source=source)[0]


@transaction.atomic
def consumption_record(
    *, actor: Any, data: dict[str, Any], source: str = ConsumptionSource.MANUAL
) -> tuple[ConsumptionLine, bool]:
    """``consumption_add``, also saying whether the line is new (False: it was stored already)."""
    _require(actor, CREATE)
    rows, customers = _prepare(actor, [data], reference="", prefixed=False)
    new, existing = _split(rows, customers)
    if existing:
        return existing[0], False
    line = new[0]
    line.source = _source(source)
    try:
        with transaction.atomic():
            line.save()
    except IntegrityError as exc:
        raise _conflict() from exc
    return line, True


@transaction.atomic
def consumption_add_many(
    *,
    actor: Any,
    rows: Sequence[dict[str, Any]],
    reference: str = "",
    source: str = ConsumptionSource.IMPORT,
) -> BatchResult:
    """Record a batch of lines, all or none: every row's errors at once under ``lines.<n>.<field>``.

    ``reference`` is the invoice (statement) number of rows that name none; a row's line number is its
    place among the batch's rows of the same reference unless given, so pushing the same invoice again
    records nothing new (the repeated lines come back in ``existing``)."""
    _require(actor, CREATE)
    if not rows:
        raise ValidationError({"lines": [_("Give at least one line.")]})
    if len(rows) > MAX_BATCH:
        raise ValidationError({"lines": [_("At most %(n)d lines at a time.") % {"n": MAX_BATCH}]})
    source = _source(source)
    prepared, customers = _prepare(actor, rows, reference=reference, prefixed=True)
    new, existing = _split(prepared, customers)
    for line in new:
        line.source = source
    if new:
        from kith.audit import capture
        from kith.audit.choices import Action
        from kith.audit.services import record_event

        try:
            with transaction.atomic(), capture.suppressed():
                new = ConsumptionLine.objects.bulk_create(new)
        except IntegrityError as exc:
            raise _conflict() from exc
        totals: dict[str, Decimal] = {}
        for line in new:
            totals[line.currency] = totals.get(line.currency, Decimal(0)) + line.amount
        customer_ids = {line.customer_id for line in new}
        ids = [line.pk for line in new if line.pk is not None]
        record_event(
            Action.IMPORT,
            object_type=ConsumptionLine._meta.label_lower,
            object_repr=_("%(n)d consumption lines") % {"n": len(new)},
            customer_id=next(iter(customer_ids)) if len(customer_ids) == 1 else None,
            details={
                "lines": len(new),
                "customers": len(customer_ids),
                "references": sorted({line.reference for line in new if line.reference})[:50],
                "amounts": {code: str(total) for code, total in sorted(totals.items())},
                "first_id": min(ids) if ids else None,
                "last_id": max(ids) if ids else None,
                "source": source,
            },
            actor=actor,
        )
    return BatchResult(created=new, existing=existing)


@transaction.atomic
def consumption_delete(*, actor: Any, line: ConsumptionLine) -> None:
    """Delete one line (a wrong entry): the role's delete permission and the customer within reach."""
    _require(actor, DELETE)
    require_change(actor, line.customer, OBJECT_TYPE, DELETE)
    line.delete()
