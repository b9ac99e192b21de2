"""Reads of invoices, payments and balances, scoped by who asks (the ``invoice`` object type; a payment
is seen with its invoice, a payment on account with its customer)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from kith.sales.models import Invoice, Payment
from kith.sales.order_types import INVOICE
from kith.security.rules import VIEW, require_permission
from kith.security.selectors import visible_q


def invoices_for(user: Any, *, write: bool = False) -> QuerySet[Invoice]:
    require_permission(user, INVOICE, VIEW)
    return Invoice.objects.filter(visible_q(user, INVOICE, write=write))


def invoice_list(
    *, user: Any, status: str = "", customer_number: str = "", order: int | None = None, q: str = ""
) -> QuerySet[Invoice]:
    rows = invoices_for(user).select_related("customer", "order")
    if status:
        rows = rows.filter(status=status)
    if customer_number:
        rows = rows.filter(customer__customer_number=customer_number.strip())
    if order is not None:
        rows = rows.filter(order_id=order)
    if q:
        rows = rows.filter(number__istartswith=q.strip())
    return rows.order_by("-issued_on", "-id")


def invoice_for(user: Any, pk: int, *, write: bool = False) -> Invoice:
    invoice = (
        invoices_for(user, write=write)
        .select_related("customer", "order", "owner")
        .prefetch_related("payments")
        .filter(pk=pk)
        .first()
    )
    if invoice is None:
        raise Http404
    return invoice


def payments_for(user: Any) -> QuerySet[Payment]:
    """Payments on invoices the user may see, and payments on account of customers they may see."""
    from kith.parties.selectors.customers import customers_for

    require_permission(user, INVOICE, VIEW)
    return Payment.objects.filter(
        Q(invoice__in=invoices_for(user).values("pk"))
        | Q(invoice__isnull=True, customer__in=customers_for(user).values("pk"))
    )


def customer_balance(*, user: Any, customer_number: str) -> tuple[Any, dict[str, Decimal]]:
    """A visible customer and what they owe per currency (every invoice and payment of theirs counts:
    a balance is a fact about the customer; seeing it needs invoice.view and the customer)."""
    from kith.parties.selectors.customers import customer_by_number
    from kith.sales.services.billing import outstanding_balance

    require_permission(user, INVOICE, VIEW)
    customer = customer_by_number(user=user, customer_number=customer_number)
    return customer, outstanding_balance(customer)


def open_invoices_of(user: Any, customer: Any) -> QuerySet[Invoice]:
    return (
        invoices_for(user).filter(customer=customer, status__in=("open", "partial")).order_by("due_on", "pk")
    )


def invoice_or_404(user: Any, pk: Any) -> Invoice:
    try:
        return invoice_for(user, int(pk))
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
