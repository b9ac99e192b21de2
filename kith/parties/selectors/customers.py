"""Customer reads: the visible set, one customer's page, relationships seen from either side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from kith.parties.models import Customer, Relationship


def visible_customers_q(user: Any, *, via: str = "") -> Q:
    """The condition "``user`` may see the customer", for customers (``via=""``) or for records that point
    at one (``via="customer__"``): filtering through a join is far cheaper than ``IN (visible ids)``.

    Today every active signed-in user sees every customer; the access-control issue narrows this here.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(**{f"{via}pk__in": []})
    return Q()


def customers_for(user: Any) -> QuerySet[Customer]:
    """Every customer ``user`` may see. The single place visibility is decided for customers.

    Today every active signed-in user sees every customer; the access-control issue narrows this
    (ownership, hierarchy, sharing) here and every list, page, search and API follows.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Customer.objects.none()
    return Customer.objects.filter(visible_customers_q(user))


def customer_page(*, user: Any, pk: int | None = None, customer_number: str | None = None) -> Customer:
    """The customer with what its page shows, in a fixed, small number of queries."""
    qs = (
        customers_for(user)
        .select_related("owner")
        .prefetch_related(
            "phones", "emails", "addresses", "tags", "roles", "categories__tree", "special_dates"
        )
    )
    if customer_number is not None:
        return get_object_or_404(qs, customer_number=customer_number)
    return get_object_or_404(qs, pk=pk)


@dataclass
class RelationshipView:
    """A relationship as seen from one customer: the wording and the other party."""

    relationship: Relationship
    label: str
    other: Customer
    outgoing: bool


def relationships_of(customer: Customer) -> list[RelationshipView]:
    out = Relationship.objects.filter(from_customer=customer).select_related("type", "to_customer")
    inc = Relationship.objects.filter(to_customer=customer).select_related("type", "from_customer")
    views = [RelationshipView(r, r.type.name, r.to_customer, True) for r in out]
    views += [RelationshipView(r, r.type.inverse_name, r.from_customer, False) for r in inc]
    views.sort(key=lambda v: (v.label.casefold(), v.other.display_name.casefold()))
    return views


def customer_by_number(*, user: Any, customer_number: str) -> Customer:
    """One visible customer without its page's extras (for actions that need only the record itself)."""
    return get_object_or_404(customers_for(user), customer_number=customer_number)
