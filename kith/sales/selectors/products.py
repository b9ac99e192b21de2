"""Reads of products, for those who may view them (every read checks it)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from kith.sales.choices import PRODUCT
from kith.sales.models import Product
from kith.security.rules import VIEW, require_permission

# ordering keys the list and the API accept (a leading "-" reverses)
ORDERINGS = ("sku", "name", "category", "list_price", "created_at", "updated_at")


def products_for(user: Any) -> QuerySet[Product]:
    require_permission(user, PRODUCT, VIEW)
    return Product.objects.all()


def product_for(user: Any, pk: int) -> Product:
    product = products_for(user).filter(pk=pk).first()
    if product is None:
        raise Http404
    return product


def product_list(
    *, user: Any, q: str = "", active: bool | None = None, category: str = "", ordering: str = "sku"
) -> QuerySet[Product]:
    """Products whose SKU or name starts with ``q`` (case ignored), filtered by active flag and category."""
    rows = products_for(user)
    q = q.strip()
    if q:
        rows = rows.filter(Q(sku__istartswith=q) | Q(name__istartswith=q))
    if active is not None:
        rows = rows.filter(is_active=active)
    if category:
        rows = rows.filter(category=category)
    key = ordering.lstrip("-")
    if key not in ORDERINGS:
        key = "sku"
    descending = ordering.startswith("-")
    return rows.order_by(f"-{key}" if descending else key, "-id" if descending else "id")


def product_categories(user: Any) -> list[str]:
    """The categories products use, for the filter."""
    return list(
        products_for(user)
        .exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )
