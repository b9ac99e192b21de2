"""What the templates ask about sales permissions (menu links and buttons)."""

from __future__ import annotations

from typing import Any

from django import template

from kith.sales.choices import CONSUMPTION, LEAD, OPPORTUNITY, PRICE_LIST, PRODUCT, QUOTE
from kith.security.rules import has_permission

register = template.Library()
# the object types of the sales app (orders, contracts, invoices and consumption included)
SALES_TYPES = frozenset(
    {PRODUCT, PRICE_LIST, LEAD, OPPORTUNITY, QUOTE, CONSUMPTION, "order", "contract", "invoice"}
)


@register.filter
def can_sales(user: Any, permission: str) -> bool:
    """``user|can_sales:"product.edit"`` — whether ``user`` holds that sales permission."""
    object_type, _dot, action = permission.partition(".")
    if object_type not in SALES_TYPES:
        return False
    return has_permission(user, object_type, action)
