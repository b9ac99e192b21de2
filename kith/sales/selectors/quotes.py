"""Reads of quotes, scoped by who asks (owner hierarchy, shares, org default, role permission)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from kith.sales.choices import QUOTE
from kith.sales.models import Opportunity, Quote, QuoteLine
from kith.security.rules import VIEW, require_permission
from kith.security.selectors import visible_q


def quotes_for(user: Any, *, write: bool = False) -> QuerySet[Quote]:
    """Every quote ``user`` may see (``write``: change); PermissionDenied without quote.view."""
    require_permission(user, QUOTE, VIEW)
    return Quote.objects.filter(visible_q(user, QUOTE, write=write))


def quote_list(
    *,
    user: Any,
    status: str = "",
    customer_number: str = "",
    opportunity: int | None = None,
    owner: int | None = None,
) -> QuerySet[Quote]:
    """Visible quotes, newest first, filtered by status, customer number, opportunity and owner."""
    rows = quotes_for(user).select_related("customer", "owner", "opportunity")
    if status:
        rows = rows.filter(status=status)
    if customer_number:
        rows = rows.filter(customer__customer_number=customer_number.strip())
    if opportunity is not None:
        rows = rows.filter(opportunity_id=opportunity)
    if owner is not None:
        rows = rows.filter(owner_id=owner)
    return rows.order_by("-created_at", "-id")


def quote_owners(user: Any) -> list[tuple[int, str]]:
    """The owners of the quotes ``user`` may see (for the list's filter), by name."""
    from django.contrib.auth import get_user_model

    owners = get_user_model().objects.filter(pk__in=quotes_for(user).values("owner_id")).order_by("username")
    return [(u.pk, u.get_full_name() or u.get_username()) for u in owners[:200]]


def quote_for(user: Any, pk: int, *, write: bool = False) -> Quote:
    """One visible quote (404 otherwise) with its customer, owner and opportunity."""
    quote = (
        quotes_for(user, write=write).select_related("customer", "owner", "opportunity").filter(pk=pk).first()
    )
    if quote is None:
        raise Http404
    return quote


def quote_detail(user: Any, pk: int) -> Quote:
    """A visible quote with its lines (and their products) in order, in a fixed number of queries."""
    quote = (
        quotes_for(user)
        .select_related("customer", "owner", "opportunity", "price_list")
        .prefetch_related(
            Prefetch("lines", queryset=QuoteLine.objects.select_related("product").order_by("position", "pk"))
        )
        .filter(pk=pk)
        .first()
    )
    if quote is None:
        raise Http404
    return quote


def line_of(user: Any, quote: Quote, pk: int) -> QuoteLine:
    require_permission(user, QUOTE, VIEW)
    line = QuoteLine.objects.filter(quote=quote, pk=pk).select_related("quote").first()
    if line is None:
        raise Http404
    return line


def revisions_of(user: Any, quote: Quote) -> list[Quote]:
    """Every visible revision of the quote's number, newest first."""
    return list(quotes_for(user).filter(number=quote.number).order_by("-revision"))


def opportunity_for_quote(user: Any, pk: int) -> Opportunity:
    """An opportunity ``user`` may see, to make a quote of (404 otherwise)."""
    found = (
        Opportunity.objects.filter(visible_q(user, "opportunity"), pk=pk).select_related("customer").first()
    )
    if found is None:
        raise Http404
    return found
