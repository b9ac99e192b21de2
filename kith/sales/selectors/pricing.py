"""Reads of price lists and exchange rates, the price of a product for a customer (``price_for``) and
currency conversion (``convert``).

The price rule (``price_for``), in this order:

1. A price comes from a price list when the list is active, valid on the date (``valid_from`` and
   ``valid_to`` included, an empty bound is open), in the currency asked for (default: the product's),
   for every customer (no customer group) or for a group the customer is in (the group's category or a
   category below it), and has an item for the product whose ``min_quantity`` is at most the quantity.
2. Of those prices the lowest wins (on a tie: the item with the highest ``min_quantity``, then the
   newest list), whether it is above or below the list price: a negotiated list is the customer's price.
3. Without one, the product's list price, converted with ``convert`` when another currency is asked for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.core.errors import DomainError
from kith.parties.selectors.catalogues import categories
from kith.sales import currencies
from kith.sales.choices import NO_EXCHANGE_RATE, PRICE_LIST, PRODUCT, PriceSource
from kith.sales.models import ExchangeRate, PriceList, PriceListItem, Product
from kith.security.rules import VIEW, has_permission, require_permission


class NoExchangeRate(DomainError):
    code = NO_EXCHANGE_RATE
    status = 400


@dataclass(frozen=True)
class Price:
    amount: Decimal
    currency: str
    source: str  # PriceSource
    price_list: PriceList | None = None
    min_quantity: Decimal | None = None


# --- reads for the pages and the API ------------------------------------------------------------


def price_lists_for(user: Any) -> QuerySet[PriceList]:
    require_permission(user, PRICE_LIST, VIEW)
    return PriceList.objects.select_related("customer_group", "customer_group__tree").order_by("name", "pk")


def price_list_for(user: Any, pk: int) -> PriceList:
    found = price_lists_for(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def items_of(user: Any, price_list: PriceList) -> list[PriceListItem]:
    require_permission(user, PRICE_LIST, VIEW)
    return list(
        price_list.items.select_related("product").order_by("product__sku", "product_id", "min_quantity")
    )


def item_of(user: Any, price_list: PriceList, pk: int) -> PriceListItem:
    require_permission(user, PRICE_LIST, VIEW)
    item = price_list.items.filter(pk=pk).first()
    if item is None:
        raise Http404
    return item


def prices_of_product(user: Any, product: Product) -> list[PriceListItem]:
    """The product's price-list prices (empty for a user who may not view price lists)."""
    require_permission(user, PRODUCT, VIEW)
    if not has_permission(user, PRICE_LIST, VIEW):
        return []
    return list(
        PriceListItem.objects.filter(product=product)
        .select_related("price_list", "price_list__customer_group")
        .order_by("price_list__name", "price_list_id", "min_quantity")
    )


def exchange_rates_for(user: Any, *, currency: str = "") -> QuerySet[ExchangeRate]:
    require_permission(user, PRICE_LIST, VIEW)
    rows = ExchangeRate.objects.order_by("-date", "from_currency", "to_currency", "-pk")
    if currency:
        rows = rows.filter(Q(from_currency=currency) | Q(to_currency=currency))
    return rows


def exchange_rate_for(user: Any, pk: int) -> ExchangeRate:
    found = exchange_rates_for(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


# --- conversion and pricing (pure rules, no user) ----------------------------------------------------


def rate_between(source: str, target: str, *, on: dt.date | None = None) -> Decimal:
    """How many ``target`` one ``source`` is worth on ``on``: the latest rate of the pair on or before the
    date, or the inverse of the latest opposite rate when that one is more recent (or the only one)."""
    if source == target:
        return Decimal(1)
    day = on or timezone.localdate()
    direct = (
        ExchangeRate.objects.filter(from_currency=source, to_currency=target, date__lte=day)
        .order_by("-date")
        .values_list("date", "rate")
        .first()
    )
    inverse = (
        ExchangeRate.objects.filter(from_currency=target, to_currency=source, date__lte=day)
        .order_by("-date")
        .values_list("date", "rate")
        .first()
    )
    if direct is not None and (inverse is None or direct[0] >= inverse[0]):
        return direct[1]
    if inverse is not None:
        return Decimal(1) / inverse[1]
    raise NoExchangeRate(
        _("There is no exchange rate from %(source)s to %(target)s on or before %(day)s.")
        % {"source": source, "target": target, "day": day.isoformat()}
    )


def convert(amount: Decimal, source: str, target: str, *, on: dt.date | None = None) -> Decimal:
    """``amount`` in ``source`` as ``target``, rounded half up to what the target currency allows."""
    if source == target:
        return amount
    value = Decimal(amount) * rate_between(source, target, on=on)
    return value.quantize(currencies.quantum(target), rounding=ROUND_HALF_UP)


def _group_q(customer: Any, prefix: str = "price_list__") -> Q:
    """Items (or, with ``prefix=""``, price lists) of price lists for every customer, and those for a group
    ``customer`` is in (or a category above)."""
    condition = Q(**{f"{prefix}customer_group__isnull": True})
    if customer is None:
        return condition
    paths = categories(include_retired=True).filter(customers=customer).values_list("tree_id", "path")
    for tree_id, path in paths:
        ancestors = [path]
        while "/" in path:
            path = path.rsplit("/", 1)[0]
            ancestors.append(path)
        condition |= Q(
            **{f"{prefix}customer_group__tree_id": tree_id, f"{prefix}customer_group__path__in": ancestors}
        )
    return condition


def price_list_applies(price_list: PriceList, customer: Any, *, on: dt.date | None = None) -> bool:
    """Whether ``price_list`` is one ``price_for`` could choose for ``customer`` on ``on``: active, valid
    that day, and for every customer or a group the customer is in."""
    day = on or timezone.localdate()
    return (
        PriceList.objects.filter(pk=price_list.pk, is_active=True)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .filter(_group_q(customer, prefix=""))
        .exists()
    )


def price_for(
    product: Product,
    customer: Any = None,
    *,
    on: dt.date | None = None,
    quantity: Decimal | int = 1,
    currency: str | None = None,
) -> Price:
    """The price of one unit of ``product`` for ``customer`` (None: a customer in no group) — the rule is in
    this module's docstring."""
    day = on or timezone.localdate()
    wanted = currency or product.currency
    candidates = (
        PriceListItem.objects.filter(
            product=product,
            min_quantity__lte=Decimal(quantity),
            price_list__is_active=True,
            price_list__currency=wanted,
        )
        .filter(Q(price_list__valid_from__isnull=True) | Q(price_list__valid_from__lte=day))
        .filter(Q(price_list__valid_to__isnull=True) | Q(price_list__valid_to__gte=day))
        .filter(_group_q(customer))
        .select_related("price_list")
        .order_by("unit_price", "-min_quantity", "-price_list_id")
    )
    best = candidates.first()
    if best is not None:
        return Price(best.unit_price, wanted, PriceSource.PRICE_LIST, best.price_list, best.min_quantity)
    amount = convert(product.list_price, product.currency, wanted, on=day)
    return Price(amount, wanted, PriceSource.LIST_PRICE)
