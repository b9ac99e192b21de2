from kith.sales.models.pricing import ExchangeRate, PriceList, PriceListItem
from kith.sales.models.products import Product

__all__ = ["ExchangeRate", "PriceList", "PriceListItem", "Product"]
