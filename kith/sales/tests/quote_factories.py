"""Builders for the quote tests; they go through the services like every other entry point."""

from __future__ import annotations

from typing import Any

from kith.parties.models import Customer
from kith.parties.tests import factories as party_factories
from kith.sales.models import Quote
from kith.sales.services import quotes as quote_services


def customer(owner: Any = None, **data: Any) -> Customer:
    if owner is not None:
        data.setdefault("owner", owner.pk)
    data.setdefault("legal_name", "Acme Trading Ltd")
    return party_factories.company(**data)


def quote(actor: Any = None, lines: list[dict[str, Any]] | None = None, **data: Any) -> Quote:
    if "customer" not in data and "opportunity" not in data:
        data["customer"] = customer(owner=actor)
    data.setdefault("currency", "EUR")
    return quote_services.quote_create(actor=actor, data=data, lines=lines)


def free_line(**data: Any) -> dict[str, Any]:
    data.setdefault("description", "Installation")
    data.setdefault("quantity", "1")
    data.setdefault("unit_price", "100.00")
    return data
