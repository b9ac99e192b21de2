"""Small builders for the sales tests; they go through the services like every other entry point."""

from __future__ import annotations

from typing import Any

from kith.sales import services
from kith.sales.models import PriceList, Product


def product(actor: Any = None, **data: Any) -> Product:
    data.setdefault("sku", "SIM-100")
    data.setdefault("name", "SIM card")
    data.setdefault("list_price", "10.00")
    data.setdefault("currency", "EUR")
    data.setdefault("tax_rate", "20")
    return services.product_create(actor=actor, data=data)


def price_list(actor: Any = None, items: list[dict[str, Any]] | None = None, **data: Any) -> PriceList:
    data.setdefault("name", "Wholesale")
    data.setdefault("currency", "EUR")
    return services.price_list_create(actor=actor, data=data, items=items)
