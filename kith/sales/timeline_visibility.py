"""Which sales entries of a customer's timeline a user sees: those whose deal, quote, order (shipment),
contract, invoice (payment) they may see themselves — a customer's page must not show the amounts of a
deal its reader may not open (``kith.core.timeline`` asks these when it reads a timeline)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet


def _ids(records: Callable[[Any], QuerySet[Any]]) -> Callable[[Any], Q]:
    def visible(user: Any) -> Q:
        try:
            return Q(source_id__in=records(user).order_by().values("pk"))
        except PermissionDenied:  # no view permission on the type: none of its entries
            return Q(pk__in=[])

    return visible


def _opportunities(user: Any) -> QuerySet[Any]:
    from kith.sales.selectors.opportunities import opportunities_for

    return opportunities_for(user)


def _quotes(user: Any) -> QuerySet[Any]:
    from kith.sales.selectors.quotes import quotes_for

    return quotes_for(user)


def _orders(user: Any) -> QuerySet[Any]:
    from kith.sales.selectors.orders import orders_for

    return orders_for(user)


def _shipments(user: Any) -> QuerySet[Any]:
    from kith.sales.models import Shipment

    return Shipment.objects.filter(order__in=_orders(user).values("pk"))


def _contracts(user: Any) -> QuerySet[Any]:
    from kith.sales.selectors.contracts import contracts_for

    return contracts_for(user)


def _invoices(user: Any) -> QuerySet[Any]:
    from kith.sales.selectors.billing import invoices_for

    return invoices_for(user)


def _payments(user: Any) -> QuerySet[Any]:
    from kith.sales.selectors.billing import payments_for

    return payments_for(user)


opportunities = _ids(_opportunities)
quotes = _ids(_quotes)
orders = _ids(_orders)
shipments = _ids(_shipments)
contracts = _ids(_contracts)
invoices = _ids(_invoices)
payments = _ids(_payments)
