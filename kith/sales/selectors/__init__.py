"""Reads of the sales app, always scoped by who asks (``convert`` and ``price_for`` are pure rules)."""

from kith.sales.currencies import CODES
from kith.sales.selectors.pricing import (
    NoExchangeRate,
    Price,
    convert,
    exchange_rate_for,
    exchange_rates_for,
    item_of,
    items_of,
    price_for,
    price_list_for,
    price_lists_for,
    prices_of_product,
    rate_between,
)
from kith.sales.selectors.products import (
    ORDERINGS,
    product_categories,
    product_for,
    product_list,
    products_for,
)


def known_currencies() -> frozenset[str]:
    return CODES


__all__ = [
    "ORDERINGS",
    "NoExchangeRate",
    "Price",
    "convert",
    "exchange_rate_for",
    "exchange_rates_for",
    "item_of",
    "items_of",
    "known_currencies",
    "price_for",
    "price_list_for",
    "price_lists_for",
    "prices_of_product",
    "product_categories",
    "product_for",
    "product_list",
    "products_for",
    "rate_between",
]
