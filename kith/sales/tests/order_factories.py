"""Builders for the order, shipment, contract and billing tests; they go through the services like every
other entry point."""

from __future__ import annotations

from typing import Any

from kith.parties.models import Customer
from kith.parties.tests import factories as party_factories
from kith.sales.choices import QuoteStatus
from kith.sales.models import Order, Quote
from kith.sales.services import orders as order_services
from kith.sales.services import quotes as quote_services
from kith.security.testing import make_user


def rep(username: str = "rep", *, manager: Any = None) -> Any:
    """A sales representative (the built-in role holds orders, contracts and invoices)."""
    return make_user(username, "sales_rep", manager=manager)


def manager(username: str = "boss") -> Any:
    return make_user(username, "sales_manager")


def viewer(username: str = "viewer") -> Any:
    return make_user(username, "viewer")


def customer(owner: Any = None, **data: Any) -> Customer:
    if owner is not None:
        data.setdefault("owner", owner.pk)
    data.setdefault("legal_name", "Acme Trading Ltd")
    return party_factories.company(**data)


def line(**data: Any) -> dict[str, Any]:
    data.setdefault("description", "Router X200")
    data.setdefault("quantity", "10")
    data.setdefault("unit_price", "100.00")
    return data


def order(actor: Any = None, lines: list[dict[str, Any]] | None = None, **data: Any) -> Order:
    if "customer" not in data:
        data["customer"] = customer(owner=actor)
    data.setdefault("currency", "EUR")
    return order_services.order_create(actor=actor, data=data, lines=lines if lines is not None else [line()])


def confirmed_order(actor: Any = None, lines: list[dict[str, Any]] | None = None, **data: Any) -> Order:
    made = order(actor, lines, **data)
    return order_services.order_confirm(actor=actor, order=made)


def accepted_quote(actor: Any = None, lines: list[dict[str, Any]] | None = None, **data: Any) -> Quote:
    """A quote the customer accepted (the status is set directly: sending, the approval gate and the PDF
    are the quote tests' business)."""
    if "customer" not in data:
        data["customer"] = customer(owner=actor)
    data.setdefault("currency", "EUR")
    made = quote_services.quote_create(
        actor=actor,
        data=data,
        lines=lines
        if lines is not None
        else [
            {
                "description": "Router X200",
                "quantity": "3",
                "unit_price": "99.99",
                "discount_percent": "10",
                "tax_rate": "19",
            },
            {"description": "Installation", "quantity": "1.5", "unit_price": "80.00", "tax_rate": "19"},
        ],
    )
    Quote.objects.filter(pk=made.pk).update(status=QuoteStatus.ACCEPTED, version=made.version + 1)
    made.refresh_from_db()
    return made
