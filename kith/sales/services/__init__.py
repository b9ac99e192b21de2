"""Writes of the sales app: one door for the web UI, the API and later imports."""

from kith.sales.services.price_lists import (
    exchange_rate_create,
    exchange_rate_delete,
    price_list_create,
    price_list_delete,
    price_list_item_add,
    price_list_item_remove,
    price_list_update,
)
from kith.sales.services.products import product_create, product_delete, product_update

__all__ = [
    "exchange_rate_create",
    "exchange_rate_delete",
    "price_list_create",
    "price_list_delete",
    "price_list_item_add",
    "price_list_item_remove",
    "price_list_update",
    "product_create",
    "product_delete",
    "product_update",
]
