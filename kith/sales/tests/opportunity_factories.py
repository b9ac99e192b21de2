"""Builders for the opportunity tests; they go through the services like every other entry point."""

from __future__ import annotations

from typing import Any

from kith.parties.models import Customer
from kith.parties.tests import factories as party_factories
from kith.sales.models import Opportunity, Pipeline, Stage
from kith.sales.services.opportunities import opportunity_create


def customer(owner: Any = None, **data: Any) -> Customer:
    if owner is not None:
        data.setdefault("owner", owner.pk)
    data.setdefault("legal_name", "Acme Trading Ltd")
    return party_factories.company(**data)


def pipeline() -> Pipeline:
    """The default pipeline migration 0004 creates."""
    return Pipeline.objects.get(is_default=True)


def stage(name: str, of: Pipeline | None = None) -> Stage:
    return Stage.objects.get(pipeline=of or pipeline(), name=name)


def opportunity(actor: Any = None, **data: Any) -> Opportunity:
    if "customer" not in data:
        data["customer"] = customer(owner=data.get("owner") or actor)
    data.setdefault("name", "Fibre for the head office")
    data.setdefault("amount", "1000.00")
    data.setdefault("currency", "EUR")
    return opportunity_create(actor=actor, data=data)
