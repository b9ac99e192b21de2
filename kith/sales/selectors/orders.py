"""Reads of orders and shipments, scoped by who asks (owner hierarchy, shares, org default, role
permission of the ``order`` object type)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from kith.sales.models import Order, OrderLine, Shipment, ShipmentLine
from kith.sales.order_types import ORDER
from kith.security.rules import VIEW, require_permission
from kith.security.selectors import visible_q


def orders_for(user: Any, *, write: bool = False) -> QuerySet[Order]:
    """Every order ``user`` may see (``write``: change); PermissionDenied without order.view."""
    require_permission(user, ORDER, VIEW)
    return Order.objects.filter(visible_q(user, ORDER, write=write))


def order_list(
    *, user: Any, status: str = "", customer_number: str = "", owner: int | None = None, q: str = ""
) -> QuerySet[Order]:
    """Visible orders, newest first, filtered by status, customer number, owner and number prefix."""
    rows = orders_for(user).select_related("customer", "owner")
    if status:
        rows = rows.filter(status=status)
    if customer_number:
        rows = rows.filter(customer__customer_number=customer_number.strip())
    if owner is not None:
        rows = rows.filter(owner_id=owner)
    if q:
        rows = rows.filter(number__istartswith=q.strip())
    return rows.order_by("-created_at", "-id")


def order_for(user: Any, pk: int, *, write: bool = False) -> Order:
    order = orders_for(user, write=write).select_related("customer", "owner").filter(pk=pk).first()
    if order is None:
        raise Http404
    return order


def order_detail(user: Any, pk: int) -> Order:
    """A visible order with its lines, shipments (and their lines) and invoices, in a fixed number of
    queries."""
    order = (
        orders_for(user)
        .select_related("customer", "owner", "quote", "opportunity")
        .prefetch_related(
            Prefetch(
                "lines", queryset=OrderLine.objects.select_related("product").order_by("position", "pk")
            ),
            Prefetch(
                "shipments",
                queryset=Shipment.objects.order_by("shipped_on", "pk").prefetch_related(
                    Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line"))
                ),
            ),
            "invoices",
        )
        .filter(pk=pk)
        .first()
    )
    if order is None:
        raise Http404
    return order


def line_of(order: Order, pk: int) -> OrderLine:
    line = OrderLine.objects.filter(order=order, pk=pk).select_related("order").first()
    if line is None:
        raise Http404
    return line


def order_of_quote(user: Any, quote_id: int) -> Order | None:
    """The visible order made from a quote, if any."""
    return orders_for(user).filter(quote_id=quote_id).first()
