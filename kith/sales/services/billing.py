"""Every change to invoices and payments: an invoice from an order or by hand, void, and payments on an
invoice or on account; and what a customer still owes.

Rules (also in docs/sales-orders.md):

* An invoice is for a customer that is not archived; its amount is above zero with no more decimals than
  its currency allows. An invoice of an order is in the order's currency for what of the order is not yet
  invoiced (draft and cancelled orders are not invoiced). Numbers: counter ``invoice``,
  ``KITH_INVOICE_NUMBER_PATTERN`` (default ``INV{year}-{seq:05}``); due ``KITH_INVOICE_DUE_DAYS`` (30)
  after the issue date unless given.
* A payment is above zero, in the invoice's currency, not in the future. It may not be more than the
  invoice still owes unless ``allow_overpayment`` is given: the excess is then a credit that lowers the
  customer's balance. A payment without an invoice is on account (a credit in its currency).
* The invoice's status follows its payments: open, partially paid, paid. A void invoice takes no payment
  and counts for nothing; an invoice with payments cannot be voided.
* The outstanding balance of a customer, per currency: the totals of their invoices that are not void,
  less every payment they made.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.core import timeline
from kith.core.errors import ConflictError, DomainError
from kith.sales import currencies
from kith.sales.cleaning import Errors, add_error, blank, clean_date, clean_text
from kith.sales.models import Invoice, InvoiceStatus, Order, OrderStatus, Payment, PaymentMethod
from kith.sales.order_types import INVOICE, ORDER, TIMELINE_INVOICE, TIMELINE_PAYMENT
from kith.sales.services.orders import clean_customer, money, next_number, sync
from kith.security.rules import CREATE, EDIT, VIEW, require_permission
from kith.security.selectors import visible_q

DEFAULT_NUMBER_PATTERN = "INV{year}-{seq:05}"
DEFAULT_DUE_DAYS = 30
INVOICEABLE = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED)


def _require(actor: Any, action: str) -> None:
    if actor is not None:
        require_permission(actor, INVOICE, action)


def _within_reach(actor: Any, invoice: Invoice, *, write: bool) -> None:
    if (
        actor is not None
        and not Invoice.objects.filter(visible_q(actor, INVOICE, write=write), pk=invoice.pk).exists()
    ):
        raise PermissionDenied(_("You may not change this invoice."))


def _due_days() -> int:
    try:
        return max(0, int(getattr(settings, "KITH_INVOICE_DUE_DAYS", DEFAULT_DUE_DAYS)))
    except (TypeError, ValueError):
        return DEFAULT_DUE_DAYS


def _dates(data: dict[str, Any], errors: Errors) -> tuple[dt.date | None, dt.date | None]:
    issued = clean_date(data.get("issued_on"), "issued_on", errors) or timezone.localdate()
    due = clean_date(data.get("due_on"), "due_on", errors)
    if due is None and "due_on" not in errors:
        due = issued + dt.timedelta(days=_due_days())
    elif due is not None and due < issued:
        add_error(errors, "due_on", _("The due date is before the issue date."))
    return issued, due


def _status(invoice: Invoice) -> str:
    if invoice.status == InvoiceStatus.VOID:
        return InvoiceStatus.VOID
    if invoice.paid >= invoice.total:
        return InvoiceStatus.PAID
    return InvoiceStatus.PARTIALLY_PAID if invoice.paid > 0 else InvoiceStatus.OPEN


def _publish_invoice(invoice: Invoice, actor: Any) -> None:
    timeline.publish(
        subject=invoice.customer,
        kind=TIMELINE_INVOICE,
        occurred_at=timezone.now(),
        title=_("Invoice %(number)s issued") % {"number": invoice.number},
        summary=_("%(amount)s, due %(due)s")
        % {"amount": money(invoice.total, invoice.currency), "due": invoice.due_on.isoformat()},
        actor=actor,
        source=invoice,
    )


def _new_invoice(**fields: Any) -> Invoice:
    fields["number"] = next_number(
        "invoice",
        setting="KITH_INVOICE_NUMBER_PATTERN",
        default=DEFAULT_NUMBER_PATTERN,
        today=timezone.localdate(),
    )
    return Invoice.objects.create(**fields)


@transaction.atomic
def invoice_create(*, actor: Any, data: dict[str, Any]) -> Invoice:
    """An invoice by hand: ``customer``, ``total``, ``currency``, ``issued_on`` (default today), ``due_on``,
    ``description``, ``order`` (optional: then of its customer and currency)."""
    _require(actor, CREATE)
    errors: Errors = {}
    customer = clean_customer(data.get("customer"), actor, errors, verb=_("invoicing it"))
    currency = currencies.clean_code(data.get("currency") or currencies.default_code(), "currency", errors)
    total = currencies.clean_amount(
        data.get("total"), "total", errors, currency=currency if "currency" not in errors else None
    )
    if total is not None and total <= 0:
        add_error(errors, "total", _("An invoice is for an amount above zero."))
    issued, due = _dates(data, errors)
    description = clean_text(data.get("description"), "description", 300, errors)
    order = None
    if not blank(data.get("order")):
        value = data["order"]
        pk = value.pk if isinstance(value, Order) else value
        visible = Order.objects.all() if actor is None else Order.objects.filter(visible_q(actor, ORDER))
        order = visible.filter(pk=pk).first() if str(pk).isdigit() else None
        if order is None:
            add_error(errors, "order", _("No such order."))
        else:
            if customer is not None and order.customer_id != customer.pk:
                add_error(errors, "order", _("This order is of another customer."))
            if order.currency != currency:
                add_error(
                    errors,
                    "currency",
                    _("Currency mismatch: the order is in %(order)s.") % {"order": order.currency},
                )
    if errors:
        raise ValidationError(errors)
    invoice = _new_invoice(
        customer=customer,
        owner=(order.owner if order is not None and order.owner_id else None)
        or (actor if getattr(actor, "pk", None) else customer.owner),
        order=order,
        issued_on=issued,
        due_on=due,
        total=total,
        currency=currency,
        description=description,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _publish_invoice(invoice, actor)
    return invoice


def invoiced_of(order: Order) -> Decimal:
    """What of the order is invoiced already (invoices that are not void)."""
    return order.invoices.exclude(status=InvoiceStatus.VOID).aggregate(s=Sum("total"))["s"] or Decimal("0.00")


@transaction.atomic
def invoice_from_order(*, actor: Any, order: Order, issued_on: Any = None, due_on: Any = None) -> Invoice:
    """An invoice for what of a confirmed (or shipped) order is not yet invoiced."""
    _require(actor, CREATE)
    if actor is not None:
        require_permission(actor, ORDER, VIEW)
        if not Order.objects.filter(visible_q(actor, ORDER), pk=order.pk).exists():
            raise PermissionDenied(_("You may not see this order."))
    fresh = Order.objects.select_for_update().select_related("customer").filter(pk=order.pk).first()
    if fresh is None:
        raise ConflictError()
    if fresh.status not in INVOICEABLE:
        raise DomainError(
            _("A %(status)s order is not invoiced.") % {"status": fresh.get_status_display()},
            code="order_not_invoiceable",
        )
    rest = fresh.total - invoiced_of(fresh)
    if rest <= 0:
        raise DomainError(_("This order is invoiced in full already."), code="order_invoiced")
    errors: Errors = {}
    issued, due = _dates({"issued_on": issued_on, "due_on": due_on}, errors)
    from kith.parties.choices import CustomerStatus

    if fresh.customer.status == CustomerStatus.ARCHIVED:
        add_error(errors, "customer", _("This customer is archived: restore it before invoicing it."))
    if errors:
        raise ValidationError(errors)
    invoice = _new_invoice(
        customer=fresh.customer,
        owner=fresh.owner or (actor if getattr(actor, "pk", None) else None),
        order=fresh,
        issued_on=issued,
        due_on=due,
        total=rest,
        currency=fresh.currency,
        description=_("Order %(number)s") % {"number": fresh.number},
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _publish_invoice(invoice, actor)
    return invoice


def _locked(invoice: Invoice, expected_version: int | None) -> Invoice:
    fresh = Invoice.objects.select_for_update().filter(pk=invoice.pk).first()
    if fresh is None:
        raise ConflictError()
    if expected_version is not None and fresh.version != int(expected_version):
        raise ConflictError()
    return fresh


@transaction.atomic
def invoice_void(*, actor: Any, invoice: Invoice, expected_version: int | None = None) -> Invoice:
    """Void an invoice issued in error (it then counts for nothing); one with payments is refused."""
    _require(actor, EDIT)
    _within_reach(actor, invoice, write=True)
    fresh = _locked(invoice, invoice.version if expected_version is None else expected_version)
    if fresh.status == InvoiceStatus.VOID:
        raise DomainError(_("This invoice is void already."), code="invoice_void")
    if fresh.payments.exists():
        raise DomainError(_("This invoice has payments: it cannot be voided."), code="invoice_paid")
    now = timezone.now()
    fresh.status = InvoiceStatus.VOID
    fresh.version += 1
    fresh.updated_at = now
    fresh.save(update_fields=["status", "version", "updated_at"])
    timeline.update_for_source(fresh, title=_("Invoice %(number)s (void)") % {"number": fresh.number})
    sync(invoice, fresh)
    return invoice


@transaction.atomic
def payment_create(*, actor: Any, data: dict[str, Any], allow_overpayment: bool = False) -> Payment:
    """A payment: ``invoice`` (or ``customer`` for a payment on account), ``amount``, ``currency``
    (default the invoice's), ``method``, ``paid_on`` (default today), ``reference``. More than the invoice
    still owes is refused unless ``allow_overpayment``. The invoice's status follows."""
    _require(actor, CREATE)
    errors: Errors = {}
    invoice = None
    customer = None
    raw_invoice = data.get("invoice")
    if not blank(raw_invoice):
        pk = raw_invoice.pk if isinstance(raw_invoice, Invoice) else raw_invoice
        visible = (
            Invoice.objects.all()
            if actor is None
            else Invoice.objects.filter(visible_q(actor, INVOICE, write=True))
        )
        found = (
            visible.filter(pk=int(str(pk))).first()
            if str(pk).isascii() and str(pk).isdigit() and len(str(pk)) < 19
            else None
        )
        if found is None:
            add_error(errors, "invoice", _("No such invoice."))
        else:
            invoice = Invoice.objects.select_for_update().select_related("customer").get(pk=found.pk)
            customer = invoice.customer
            if invoice.status == InvoiceStatus.VOID:
                add_error(errors, "invoice", _("This invoice is void: it takes no payment."))
    else:
        customer = clean_customer(data.get("customer"), actor, errors, verb=_("recording a payment"))
    default_currency = invoice.currency if invoice is not None else currencies.default_code()
    currency = currencies.clean_code(data.get("currency") or default_currency, "currency", errors)
    if invoice is not None and "currency" not in errors and currency != invoice.currency:
        add_error(
            errors,
            "currency",
            _("Currency mismatch: the invoice is in %(invoice)s.") % {"invoice": invoice.currency},
        )
    amount = currencies.clean_amount(
        data.get("amount"), "amount", errors, currency=currency if "currency" not in errors else None
    )
    if amount is not None and amount <= 0:
        add_error(errors, "amount", _("A payment is above zero."))
    elif amount is not None and invoice is not None and "invoice" not in errors and not allow_overpayment:
        owed = invoice.total - invoice.paid
        if amount > owed:
            add_error(
                errors,
                "amount",
                _("The invoice still owes %(owed)s: a payment of more needs “allow overpayment”.")
                % {"owed": money(max(owed, Decimal("0.00")), invoice.currency)},
            )
    method = str(data.get("method") or "").strip()
    if method not in PaymentMethod.values:
        add_error(errors, "method", _("Choose how it was paid."))
    paid_on = clean_date(data.get("paid_on"), "paid_on", errors) or timezone.localdate()
    if paid_on > timezone.localdate():
        add_error(errors, "paid_on", _("A payment is recorded once it is made: not in the future."))
    reference = clean_text(data.get("reference"), "reference", 100, errors)
    if errors:
        raise ValidationError(errors)
    assert customer is not None and amount is not None
    payment = Payment.objects.create(
        customer=customer,
        invoice=invoice,
        amount=amount,
        currency=currency,
        method=method,
        paid_on=paid_on,
        reference=reference,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    now = timezone.now()
    if invoice is not None:
        invoice.paid += amount
        invoice.status = _status(invoice)
        invoice.version += 1
        invoice.updated_at = now
        invoice.save(update_fields=["paid", "status", "version", "updated_at"])
    if invoice is not None:
        title = _("Payment of %(amount)s on invoice %(number)s") % {
            "amount": money(amount, currency),
            "number": invoice.number,
        }
    else:
        title = _("Payment of %(amount)s on account") % {"amount": money(amount, currency)}
    timeline.publish(
        subject=customer,
        kind=TIMELINE_PAYMENT,
        occurred_at=now,
        title=title,
        summary=" · ".join(p for p in (str(PaymentMethod(method).label), reference) if p),
        actor=actor,
        source=payment,
    )
    return payment


def outstanding_balance(customer: Any) -> dict[str, Decimal]:
    """What ``customer`` still owes per currency: invoices not void, less every payment (a negative
    figure is a credit). Currencies with nothing invoiced or paid are left out; settled ones show 0."""
    owed: dict[str, Decimal] = {}
    for row in (
        Invoice.objects.filter(customer=customer)
        .exclude(status=InvoiceStatus.VOID)
        .values("currency")
        .annotate(s=Sum("total"))
        .order_by()
    ):
        owed[row["currency"]] = owed.get(row["currency"], Decimal("0.00")) + row["s"]
    for row in (
        Payment.objects.filter(customer=customer).values("currency").annotate(s=Sum("amount")).order_by()
    ):
        owed[row["currency"]] = owed.get(row["currency"], Decimal("0.00")) - row["s"]
    return dict(sorted(owed.items()))
