"""The Online Retail invoices as orders: one ``Order`` per invoice with its lines, written in bulk after
the consumption lines (``import_online_retail(..., orders=True)``, ``kith import_transactions --orders``).

The rules (also in docs/sales-consumption.md, "Online Retail import"):

- An order is made from the invoice's **consumption lines as stored** (read back by the key customer,
  reference, line number), so it holds exactly what the statistics count, the same lines left out
  (exact duplicates, stock adjustments, refused rows).
- Its number is ``OR-`` and the invoice number (``OR-536365``, ``OR-C536379``); an invoice whose order
  number exists is skipped, so a second run adds nothing. The order service's own numbers (``O2026-…``)
  cannot meet these.
- An ordinary invoice is a **shipped** order: every line's shipped quantity is its quantity, but no
  shipment is written, so no consumption line with source ``order`` is made — the sale is counted once,
  by the lines from the file. A shipped order has nothing left to ship or cancel, so the order pages
  cannot add a second count later.
- A cancellation invoice (``C…``, negative quantities) is a **cancelled** order whose lines hold the
  cancelled quantities as positive numbers (``cancelled_quantity`` = ``quantity``, nothing shipped).
- A line whose sign does not fit its invoice (the bad-debt adjustments ``A563185``–``A563187``, stored as
  a negative quantity on an ordinary invoice) is left off the order and counted; an invoice left with no
  line gets no order.
- Order lines keep prices in pence: a unit price with more decimals (four lines in the file, 0.001) is
  rounded half up to pence on the order; its net is the consumption line's amount, so the order's total
  is the invoice's total as the statistics count it.
- The invoice's time (UK local time as the file writes it) is the order's confirmation time (and
  cancellation time) and the moment of its timeline entry; the customer's timeline shows each order as
  the order service's confirmations and cancellations are shown (kind ``sales.order``).
- The writes skip the per-row audit capture: each chunk of invoices is one ``import`` audit entry with
  object type ``sales.order`` (orders, lines, customers, the first 50 numbers, totals per currency, first
  and last id), as the consumption batch does.
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext as _

PREFIX = "OR-"
CHUNK = 1000  # invoices per transaction (about 20,000 order lines)
FILE_TIME_ZONE = zoneinfo.ZoneInfo("Europe/London")
PENCE = Decimal("0.01")


@dataclass
class Invoice:
    """What the consumption pass learnt of one invoice: its customer and its first row's time."""

    number: str
    customer_id: int
    owner_id: int | None
    issued: dt.datetime


@dataclass
class OrderReport:
    orders_added: int = 0
    orders_existing: int = 0
    cancelled_orders: int = 0
    order_lines_added: int = 0
    order_lines_left_out: int = 0  # lines whose sign does not fit their invoice
    invoices_without_lines: int = 0
    seconds: float = 0.0  # the order pass's wall-clock time

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "seconds": round(self.seconds, 1)}


def order_number(invoice: str) -> str:
    return f"{PREFIX}{invoice}"[:30]


def invoice_time(text: str) -> dt.datetime | None:
    """``2010-12-01 08:26:00`` or ``12/1/2010 8:26`` (UK local time) as an aware datetime."""
    raw = text.strip()
    for pattern, width in (("%Y-%m-%d %H:%M:%S", 19), ("%m/%d/%Y %H:%M", None)):
        try:
            naive = dt.datetime.strptime(raw[:width] if width else raw, pattern)
        except ValueError:
            continue
        return naive.replace(tzinfo=FILE_TIME_ZONE)
    return None


@dataclass
class _Line:
    product_id: int | None
    sku: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass
class _Draft:
    invoice: Invoice
    cancelled: bool
    lines: list[_Line] = field(default_factory=list)


def _stored_lines(invoices: Sequence[Invoice], report: OrderReport) -> dict[str, _Draft]:
    """The invoices' consumption lines, by invoice, in line order, with the sign of their invoice."""
    from kith.sales.models import ConsumptionLine

    by_key = {(i.customer_id, i.number[:64]): i for i in invoices}
    drafts: dict[str, _Draft] = {}
    rows = (
        ConsumptionLine.objects.filter(
            customer_id__in={i.customer_id for i in invoices}, reference__in=[k[1] for k in by_key]
        )
        .order_by("reference", "line_number")
        .values_list(
            "customer_id", "reference", "product_id", "sku", "description", "quantity", "unit_price", "amount"
        )
    )
    for customer_id, reference, product_id, sku, description, quantity, unit_price, amount in rows:
        invoice = by_key.get((customer_id, reference))
        if invoice is None:  # the same reference for another customer: not this file's invoice
            continue
        cancelled = invoice.number.upper().startswith("C")
        draft = drafts.setdefault(invoice.number, _Draft(invoice=invoice, cancelled=cancelled))
        if (quantity < 0) != cancelled or quantity == 0:
            report.order_lines_left_out += 1
            continue
        sign = -1 if cancelled else 1
        draft.lines.append(
            _Line(product_id, sku, description, quantity * sign, unit_price, Decimal(amount) * sign)
        )
    return drafts


def _build(
    drafts: Iterable[_Draft], *, actor: Any, units: dict[int, tuple[str, str]]
) -> list[tuple[Any, list[Any]]]:
    from kith.sales.models import Order, OrderLine, OrderStatus

    built = []
    created_by = actor if getattr(actor, "pk", None) else None
    for draft in drafts:
        invoice = draft.invoice
        lines = []
        for position, line in enumerate(draft.lines, start=1):
            unit, model = units.get(line.product_id or 0, ("", ""))
            lines.append(
                OrderLine(
                    position=position,
                    product_id=line.product_id,
                    description=(line.description or line.sku or "-")[:300],
                    product_model=model,
                    quantity=line.quantity,
                    unit=unit,
                    unit_price=line.unit_price.quantize(PENCE, rounding=ROUND_HALF_UP),
                    currency="GBP",
                    net=line.amount,
                    tax=Decimal(0),
                    total=line.amount,
                    shipped_quantity=Decimal(0) if draft.cancelled else line.quantity,
                    cancelled_quantity=line.quantity if draft.cancelled else Decimal(0),
                )
            )
        total = sum((line.total for line in lines), Decimal(0))
        order = Order(
            number=order_number(invoice.number),
            customer_id=invoice.customer_id,
            owner_id=invoice.owner_id,
            status=OrderStatus.CANCELLED if draft.cancelled else OrderStatus.SHIPPED,
            currency="GBP",
            subtotal=total,
            discount_total=Decimal(0),
            tax_total=Decimal(0),
            total=total,
            notes=_("Online Retail invoice %(number)s") % {"number": invoice.number},
            confirmed_at=invoice.issued,
            cancelled_at=invoice.issued if draft.cancelled else None,
            created_by=created_by,
        )
        built.append((order, lines))
    return built


def _timeline(orders: Sequence[Any], *, actor: Any, cancelled: set[str]) -> list[Any]:
    from kith.core.models import TimelineEntry
    from kith.parties.models import Customer
    from kith.sales.models import Order
    from kith.sales.order_types import TIMELINE_ORDER

    customer_type = ContentType.objects.get_for_model(Customer)
    order_type = ContentType.objects.get_for_model(Order)
    actor = actor if getattr(actor, "pk", None) else None
    entries = []
    for order in orders:
        if order.number in cancelled:
            title = _("Order %(number)s cancelled") % {"number": order.number}
        else:
            title = _("Order %(number)s shipped") % {"number": order.number}
        entries.append(
            TimelineEntry(
                subject_type=customer_type,
                subject_id=order.customer_id,
                kind=TIMELINE_ORDER,
                occurred_at=order.confirmed_at,
                title=title[:300],
                summary=_("Total %(total)s") % {"total": f"{order.total} {order.currency}"},
                actor=actor,
                source_type=order_type,
                source_id=order.pk,
            )
        )
    return entries


def _write_chunk(invoices: Sequence[Invoice], *, actor: Any, report: OrderReport) -> None:
    from kith.audit import capture
    from kith.audit.choices import Action
    from kith.audit.services import record_event
    from kith.core.models import TimelineEntry
    from kith.sales.models import Order, OrderLine, Product

    numbers = {order_number(i.number): i for i in invoices}
    existing = set(Order.objects.filter(number__in=list(numbers)).values_list("number", flat=True))
    report.orders_existing += len(existing)
    wanted = [i for n, i in numbers.items() if n not in existing]
    if not wanted:
        return
    drafts = _stored_lines(wanted, report)
    report.invoices_without_lines += sum(
        1 for i in wanted if i.number not in drafts or not drafts[i.number].lines
    )
    chosen = [d for d in drafts.values() if d.lines]
    if not chosen:
        return
    product_ids = {line.product_id for d in chosen for line in d.lines if line.product_id}
    units = {
        pk: (unit, model)
        for pk, unit, model in Product.objects.filter(pk__in=product_ids).values_list("pk", "unit", "model")
    }
    built = _build(chosen, actor=actor, units=units)
    cancelled = {order_number(d.invoice.number) for d in chosen if d.cancelled}
    with transaction.atomic(), capture.suppressed():
        orders = Order.objects.bulk_create([order for order, _lines in built])
        lines = []
        for order, order_lines in built:
            for line in order_lines:
                line.order_id = order.pk
                lines.append(line)
        OrderLine.objects.bulk_create(lines, batch_size=2000)
        TimelineEntry.objects.bulk_create(
            _timeline(orders, actor=actor, cancelled=cancelled), batch_size=2000
        )
        totals: dict[str, Decimal] = {}
        for order in orders:
            sign = -1 if order.number in cancelled else 1
            totals[order.currency] = totals.get(order.currency, Decimal(0)) + sign * order.total
        customer_ids = {order.customer_id for order in orders}
        ids = [order.pk for order in orders if order.pk is not None]
        record_event(
            Action.IMPORT,
            object_type=Order._meta.label_lower,
            object_repr=_("%(n)d orders from Online Retail invoices") % {"n": len(orders)},
            customer_id=next(iter(customer_ids)) if len(customer_ids) == 1 else None,
            details={
                "orders": len(orders),
                "cancelled": len(cancelled),
                "lines": len(lines),
                "customers": len(customer_ids),
                "numbers": sorted(order.number for order in orders)[:50],
                "amounts": {code: str(total) for code, total in sorted(totals.items())},
                "first_id": min(ids) if ids else None,
                "last_id": max(ids) if ids else None,
                "source": "import",
            },
            actor=actor,
        )
    report.orders_added += len(orders)
    report.cancelled_orders += len(cancelled)
    report.order_lines_added += len(lines)


def import_orders(
    invoices: Sequence[Invoice],
    *,
    actor: Any = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> OrderReport:
    """One order per invoice whose order is not there yet, ``CHUNK`` invoices per transaction; the actor
    (``None``: the system) needs the permission to import orders."""
    from kith.sales.order_types import ORDER
    from kith.security.rules import IMPORT, require_permission

    if actor is not None:
        require_permission(actor, ORDER, IMPORT)
    report = OrderReport()
    started = time.monotonic()
    for start in range(0, len(invoices), CHUNK):
        _write_chunk(invoices[start : start + CHUNK], actor=actor, report=report)
        if progress:
            progress("orders", min(start + CHUNK, len(invoices)), len(invoices))
    report.seconds = time.monotonic() - started
    return report
