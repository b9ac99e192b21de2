"""Every change to price lists and their items, and to exchange rates (permission ``price_list``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from kith.core.errors import ConflictError
from kith.parties.selectors.catalogues import categories
from kith.sales import currencies
from kith.sales.choices import PRICE_LIST
from kith.sales.models import ExchangeRate, PriceList, PriceListItem, Product
from kith.sales.services.products import require
from kith.security.rules import CREATE, DELETE, EDIT

FIELDS = ("name", "currency", "customer_group", "valid_from", "valid_to", "is_active")
MAX_QUANTITY = Decimal("1e11")


def _date(value: Any, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        parsed = parse_date(str(value))
    except ValueError:
        parsed = None
    if parsed is None:
        errors.setdefault(field, []).append(_("Enter a date as YYYY-MM-DD."))
    return parsed


def _clean(data: dict[str, Any], *, base: PriceList | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    wanted = [f for f in FIELDS if base is None or f in data]
    if "name" in wanted:
        values["name"] = str(data.get("name") or "").strip()
        if not values["name"]:
            errors["name"] = [_("Give the price list a name.")]
        elif len(values["name"]) > 100:
            errors["name"] = [_("At most %(n)d characters.") % {"n": 100}]
    if "currency" in wanted:
        values["currency"] = currencies.clean_code(data.get("currency"), "currency", errors)
    if "customer_group" in wanted:
        group = data.get("customer_group")
        if group in (None, ""):
            values["customer_group"] = None
        else:
            raw = getattr(group, "pk", group)
            found = (
                categories(include_retired=True).filter(pk=int(raw)).first() if str(raw).isdigit() else None
            )
            if found is None:
                errors["customer_group"] = [_("Choose an existing category as the customer group.")]
            values["customer_group"] = found
    for field in ("valid_from", "valid_to"):
        if field in wanted:
            values[field] = _date(data.get(field), field, errors)
    start = values.get("valid_from", base.valid_from if base else None)
    end = values.get("valid_to", base.valid_to if base else None)
    if start and end and end < start and "valid_to" not in errors:
        errors.setdefault("valid_to", []).append(_("The end of validity is before its start."))
    if "is_active" in wanted:
        values["is_active"] = bool(data.get("is_active", True))
    if errors:
        raise ValidationError(errors)
    return values


def _quantity(value: Any, field: str, errors: dict[str, list[str]]) -> Decimal | None:
    if value in (None, ""):
        return Decimal(1)
    try:
        quantity = Decimal(str(value).strip())
        if not quantity.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        errors.setdefault(field, []).append(_("Enter a quantity such as 1 or 10."))
        return None
    if quantity <= 0:
        errors.setdefault(field, []).append(_("The quantity must be more than zero."))
    elif quantity >= MAX_QUANTITY:
        errors.setdefault(field, []).append(_("This quantity is too large."))
    elif quantity != quantity.quantize(Decimal("0.001")):
        errors.setdefault(field, []).append(_("At most three decimal places."))
    else:
        return quantity
    return None


def _clean_items(items: list[dict[str, Any]], *, currency: str) -> list[dict[str, Any]]:
    """Validated items (``product``: a Product or its id, ``unit_price``, ``min_quantity``); errors are keyed
    ``items.<n>.<field>``; the same product and quantity twice is refused."""
    errors: dict[str, list[str]] = {}
    ids = {getattr(i.get("product"), "pk", i.get("product")) for i in items}
    products = Product.objects.in_bulk([i for i in ids if isinstance(i, int) or str(i).isdigit()])
    seen: dict[tuple[int, Decimal], int] = {}
    cleaned: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        prefix = f"items.{index}"
        raw = getattr(item.get("product"), "pk", item.get("product"))
        product = products.get(int(raw)) if raw is not None and str(raw).isdigit() else None
        if product is None:
            errors.setdefault(f"{prefix}.product", []).append(_("Choose an existing product."))
        price = currencies.clean_amount(
            item.get("unit_price"), f"{prefix}.unit_price", errors, currency=currency
        )
        quantity = _quantity(item.get("min_quantity"), f"{prefix}.min_quantity", errors)
        if product is not None and quantity is not None:
            key = (product.pk, quantity)
            if key in seen:
                errors.setdefault(f"{prefix}.min_quantity", []).append(
                    _("This product already has a price from this quantity on the list.")
                )
            seen[key] = index
        cleaned.append({"product": product, "unit_price": price, "min_quantity": quantity})
    if errors:
        raise ValidationError(errors)
    return cleaned


def _replace_items(price_list: PriceList, cleaned: list[dict[str, Any]]) -> None:
    """Make the list's items ``cleaned``: unchanged rows stay, changed prices are updated, the rest go."""
    existing = {(i.product_id, i.min_quantity): i for i in price_list.items.all()}
    wanted = {(c["product"].pk, c["min_quantity"]): c for c in cleaned}
    for key, gone in existing.items():
        if key not in wanted:
            gone.delete()
    for key, values in wanted.items():
        item = existing.get(key)
        if item is None:
            PriceListItem.objects.create(price_list=price_list, **values)
        elif item.unit_price != values["unit_price"]:
            item.unit_price = values["unit_price"]
            item.save(update_fields=["unit_price"])


def _check_prices_fit(price_list: PriceList, currency: str) -> None:
    """A new currency must allow the decimals of the prices already on the list."""
    errors: dict[str, list[str]] = {}
    for item in price_list.items.all():
        currencies.clean_amount(item.unit_price, "currency", errors, currency=currency)
        if errors:
            raise ValidationError(
                {
                    "currency": [
                        _("Some prices on the list have more decimals than %(c)s allows.") % {"c": currency}
                    ]
                }
            )


@transaction.atomic
def price_list_create(
    *, actor: Any, data: dict[str, Any], items: list[dict[str, Any]] | None = None
) -> PriceList:
    require(actor, PRICE_LIST, CREATE)
    errors: dict[str, list[str]] = {}
    try:
        values = _clean(data, base=None)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        values = {}
    cleaned: list[dict[str, Any]] = []
    if items:
        try:
            cleaned = _clean_items(items, currency=values.get("currency") or str(data.get("currency") or ""))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    price_list = PriceList.objects.create(**values)
    _replace_items(price_list, cleaned)
    return price_list


@transaction.atomic
def price_list_update(
    *,
    actor: Any,
    price_list: PriceList,
    data: dict[str, Any],
    items: list[dict[str, Any]] | None = None,
    expected_version: int | None = None,
) -> PriceList:
    """Change the list's fields ``data`` names and, when ``items`` is given, replace its items."""
    require(actor, PRICE_LIST, EDIT)
    errors: dict[str, list[str]] = {}
    try:
        values = _clean(data, base=price_list)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        values = {}
    currency = values.get("currency") or price_list.currency
    cleaned: list[dict[str, Any]] | None = None
    if items is not None:
        try:
            cleaned = _clean_items(items, currency=currency)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    elif "currency" in values and currency != price_list.currency:
        try:
            _check_prices_fit(price_list, currency)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    version = price_list.version if expected_version is None else int(expected_version)
    now = timezone.now()
    updated = PriceList.objects.filter(pk=price_list.pk, version=version).update(
        **values, updated_at=now, version=F("version") + 1
    )
    if not updated:
        raise ConflictError()
    for field, value in values.items():
        setattr(price_list, field, value)
    price_list.version = version + 1
    price_list.updated_at = now
    if cleaned is not None:
        _replace_items(price_list, cleaned)
    return price_list


@transaction.atomic
def price_list_delete(*, actor: Any, price_list: PriceList) -> None:
    """Delete a price list and its items."""
    require(actor, PRICE_LIST, DELETE)
    price_list.delete()


@transaction.atomic
def price_list_item_add(*, actor: Any, price_list: PriceList, data: dict[str, Any]) -> PriceListItem:
    """Add one price to the list (field errors keyed ``product``, ``unit_price``, ``min_quantity``)."""
    require(actor, PRICE_LIST, EDIT)
    try:
        (cleaned,) = _clean_items([data], currency=price_list.currency)
    except ValidationError as exc:
        raise ValidationError(
            {key.split(".", 2)[2]: messages for key, messages in exc.message_dict.items()}
        ) from exc
    taken = PriceListItem.objects.filter(
        price_list=price_list, product=cleaned["product"], min_quantity=cleaned["min_quantity"]
    ).exists()
    if taken:
        raise ValidationError(
            {"min_quantity": [_("This product already has a price from this quantity on the list.")]}
        )
    try:
        with transaction.atomic():
            return PriceListItem.objects.create(price_list=price_list, **cleaned)
    except IntegrityError as exc:
        raise ValidationError(
            {"min_quantity": [_("This product already has a price from this quantity on the list.")]}
        ) from exc


@transaction.atomic
def price_list_item_remove(*, actor: Any, item: PriceListItem) -> None:
    require(actor, PRICE_LIST, EDIT)
    item.delete()


# --- exchange rates --------------------------------------------------------------------------------

MAX_RATE = Decimal("1e10")


@transaction.atomic
def exchange_rate_create(*, actor: Any, data: dict[str, Any]) -> ExchangeRate:
    """A rate for a pair and a date: 1 ``from_currency`` = ``rate`` ``to_currency``."""
    require(actor, PRICE_LIST, CREATE)
    errors: dict[str, list[str]] = {}
    source = currencies.clean_code(data.get("from_currency"), "from_currency", errors)
    target = currencies.clean_code(data.get("to_currency"), "to_currency", errors)
    if source and source == target and "to_currency" not in errors:
        errors.setdefault("to_currency", []).append(_("Choose two different currencies."))
    rate: Decimal | None = None
    try:
        rate = Decimal(str(data.get("rate") or "").strip())
        if not rate.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        errors.setdefault("rate", []).append(_("Enter a rate such as 7.1234."))
        rate = None
    if rate is not None:
        if rate <= 0:
            errors.setdefault("rate", []).append(_("The rate must be more than zero."))
        elif rate >= MAX_RATE:
            errors.setdefault("rate", []).append(_("This rate is too large."))
        elif rate != rate.quantize(Decimal("1e-8")):
            errors.setdefault("rate", []).append(_("At most eight decimal places."))
    day = _date(data.get("date"), "date", errors)
    if day is None and "date" not in errors:
        errors["date"] = [_("Give the date from which the rate applies.")]
    if (
        not errors
        and day is not None
        and ExchangeRate.objects.filter(from_currency=source, to_currency=target, date=day).exists()
    ):
        errors["date"] = [_("There is already a rate for this pair on this date; delete it first.")]
    if errors:
        raise ValidationError(errors)
    assert rate is not None and day is not None
    try:
        with transaction.atomic():
            return ExchangeRate.objects.create(from_currency=source, to_currency=target, rate=rate, date=day)
    except IntegrityError as exc:
        raise ValidationError({"date": [_("There is already a rate for this pair on this date.")]}) from exc


@transaction.atomic
def exchange_rate_delete(*, actor: Any, rate: ExchangeRate) -> None:
    require(actor, PRICE_LIST, DELETE)
    rate.delete()
