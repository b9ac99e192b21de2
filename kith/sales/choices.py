"""The sales vocabulary: object types of the permission matrix, where a price came from, error codes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

PRODUCT = "product"
PRICE_LIST = "price_list"  # also covers exchange rates


class PriceSource(models.TextChoices):
    PRICE_LIST = "price_list", _("price list")
    LIST_PRICE = "list_price", _("list price")


# error codes (DomainError.code)
NO_EXCHANGE_RATE = "no_exchange_rate"
