"""Customer reads: the visible set, one customer's page, relationships seen from either side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from kith.parties.models import Customer, Relationship
from kith.security.models import Share, ShareAccess
from kith.security.rules import EDIT, has_permission
from kith.security.selectors import holding, sees_everything, visible_q


def visible_customers_q(user: Any, *, via: str = "", write: bool = False) -> Q:
    """The condition "``user`` may see (``write``: change) the customer", for customers (``via=""``) or for
    records that follow their customer (``via="customer__"``): a join is far cheaper than ``IN (ids)``.

    The rule itself (owner, manager chain, shares, defaults, role permission) is ``kith.security``'s.
    """
    return visible_q(
        user,
        "customer",
        owner=f"{via}owner_id",
        pk=f"{via}pk" if not via else f"{via.removesuffix('__')}_id",
        write=write,
    )


def customers_for(user: Any, *, write: bool = False) -> QuerySet[Customer]:
    """Every customer ``user`` may see (``write``: change). The single place visibility is decided for
    customers; every list, page, search, timeline and API goes through it."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Customer.objects.none()
    return Customer.objects.filter(visible_customers_q(user, write=write))


def within_write_reach(user: Any, customer: Customer) -> bool:
    """Whether ``customer`` is within what ``user`` may change (owner, manager chain, a read-write share,
    an open default), whatever their role permits; no query unless only a share could allow it."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if sees_everything(user, "customer", write=True) or customer.owner_id in holding(user).reach:
        return True
    grantee = Q(user_id=user.pk) | Q(team_id__in=holding(user).teams)
    return Share.objects.filter(
        grantee,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=customer.pk,
        access=ShareAccess.WRITE,
    ).exists()


def can_change(user: Any, customer: Customer) -> bool:
    """Whether ``user`` may edit ``customer``: the role permission and the customer within reach."""
    return has_permission(user, "customer", EDIT) and within_write_reach(user, customer)


def customer_page(*, user: Any, pk: int | None = None, customer_number: str | None = None) -> Customer:
    """The customer with what its page shows, in a fixed, small number of queries."""
    qs = (
        customers_for(user)
        .select_related("owner")
        .prefetch_related(
            "phones", "emails", "addresses", "tags", "roles", "categories__tree", "special_dates"
        )
    )
    customer = (
        get_object_or_404(qs, customer_number=customer_number)
        if customer_number is not None
        else get_object_or_404(qs, pk=pk)
    )
    if customer.merged_into_id:  # a merged number keeps leading to the customer it was merged into
        return customer_page(user=user, pk=_survivor_id(customer.pk, customer.merged_into_id))
    return customer


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


def _survivor_id(pk: int, merged_into_id: int | None) -> int:
    from kith.parties.services.merge import survivor_id

    return survivor_id(pk, merged_into_id)


def customer_by_number(*, user: Any, customer_number: str) -> Customer:
    """One visible customer without its page's extras (for actions that need only the record itself);
    the number of a merged customer gives the customer it was merged into."""
    customer = get_object_or_404(customers_for(user), customer_number=customer_number)
    if customer.merged_into_id:
        return get_object_or_404(customers_for(user), pk=_survivor_id(customer.pk, customer.merged_into_id))
    return customer
