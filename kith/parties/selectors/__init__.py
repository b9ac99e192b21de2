"""Reads of the parties domain, always scoped by who asks."""

from kith.parties.selectors.anniversaries import Anniversary, anniversaries_on, anniversaries_upcoming
from kith.parties.selectors.customers import (
    RelationshipView,
    customer_page,
    customers_for,
    relationships_of,
)

__all__ = [
    "Anniversary",
    "RelationshipView",
    "anniversaries_on",
    "anniversaries_upcoming",
    "customer_page",
    "customers_for",
    "relationships_of",
]
