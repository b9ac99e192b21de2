"""Every change to products: create, update (optimistic locking), delete."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.core.errors import ConflictError, DeleteRefused
from kith.sales import currencies
from kith.sales.choices import PRODUCT
from kith.sales.models import Product
from kith.security.rules import CREATE, DELETE, EDIT, require_permission

_TEXT = {"sku": 64, "name": 200, "model": 100, "unit": 30, "category": 100}
FIELDS = (
    "sku",
    "name",
    "model",
    "unit",
    "category",
    "description",
    "list_price",
    "currency",
    "tax_rate",
    "is_active",
)


def require(actor: Any, object_type: str, action: str) -> None:
    """``actor`` holds (object type, action); ``None`` is the system itself (demo data, commands)."""
    if actor is not None:
        require_permission(actor, object_type, action)


def _text(data: dict[str, Any], field: str, errors: dict[str, list[str]]) -> str:
    value = str(data.get(field) or "").strip()
    limit = _TEXT.get(field)
    if limit and len(value) > limit:
        errors.setdefault(field, []).append(_("At most %(n)d characters.") % {"n": limit})
    return value


def _tax_rate(value: Any, errors: dict[str, list[str]]) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return Decimal("0.00")
    try:
        rate = Decimal(str(value).strip())
        if not rate.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        errors.setdefault("tax_rate", []).append(_("Enter a percentage such as 13 or 7.5."))
        return None
    if not Decimal(0) <= rate <= Decimal(100):
        errors.setdefault("tax_rate", []).append(_("The tax rate is a percentage from 0 to 100."))
        return None
    if rate != rate.quantize(Decimal("0.01")):
        errors.setdefault("tax_rate", []).append(_("At most two decimal places."))
        return None
    return rate.quantize(Decimal("0.01")) + 0  # + 0: "-0" is 0


def _sku_taken(sku: str, *, exclude: int | None) -> bool:
    rows = Product.objects.filter(sku__iexact=sku)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return rows.exists()


def _clean(data: dict[str, Any], *, base: Product | None) -> dict[str, Any]:
    """Validated values of the fields ``data`` names (all of them when creating); every error at once."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    wanted = [f for f in FIELDS if base is None or f in data]
    for field in ("sku", "name", "model", "unit", "category", "description"):
        if field in wanted:
            values[field] = _text(data, field, errors)
    if "sku" in values and not values["sku"]:
        errors.setdefault("sku", []).append(_("Give the SKU (the product's code)."))
    elif "sku" in values and any(c.isspace() for c in values["sku"]):
        errors.setdefault("sku", []).append(_("A SKU has no spaces."))
    if "name" in values and not values["name"]:
        errors.setdefault("name", []).append(_("Give the product a name."))
    if "unit" in values and not values["unit"]:
        values["unit"] = "pcs" if base is None else base.unit
    if "currency" in wanted:
        values["currency"] = currencies.clean_code(data.get("currency"), "currency", errors)
    currency = values.get("currency", base.currency if base else None)
    if "list_price" in wanted or ("currency" in values and base is not None):
        raw = data.get("list_price") if "list_price" in wanted else base.list_price  # type: ignore[union-attr]
        values["list_price"] = currencies.clean_amount(raw, "list_price", errors, currency=currency)
    if "tax_rate" in wanted:
        values["tax_rate"] = _tax_rate(data.get("tax_rate"), errors)
    if "is_active" in wanted:
        values["is_active"] = bool(data.get("is_active", True))
    if (
        values.get("sku")
        and "sku" not in errors
        and _sku_taken(values["sku"], exclude=base.pk if base else None)
    ):
        errors.setdefault("sku", []).append(_("Another product has this SKU (SKUs ignore case)."))
    if errors:
        raise ValidationError(errors)
    return values


def _sku_conflict() -> ValidationError:
    return ValidationError({"sku": [_("Another product has this SKU (SKUs ignore case).")]})


@transaction.atomic
def product_create(*, actor: Any, data: dict[str, Any]) -> Product:
    require(actor, PRODUCT, CREATE)
    values = _clean(data, base=None)
    try:
        with transaction.atomic():  # a concurrent create of the same SKU loses at the unique index
            return Product.objects.create(**values)
    except IntegrityError as exc:
        raise _sku_conflict() from exc


@transaction.atomic
def product_update(
    *, actor: Any, product: Product, data: dict[str, Any], expected_version: int | None = None
) -> Product:
    """Change the fields ``data`` names. ``expected_version`` is the version the user loaded (None: the
    one ``product`` holds); someone else's save in between is a ``ConflictError``."""
    require(actor, PRODUCT, EDIT)
    values = _clean(data, base=product)
    version = product.version if expected_version is None else int(expected_version)
    now = timezone.now()
    try:
        with transaction.atomic():
            updated = Product.objects.filter(pk=product.pk, version=version).update(
                **values, updated_at=now, version=F("version") + 1
            )
    except IntegrityError as exc:
        raise _sku_conflict() from exc
    if not updated:
        raise ConflictError()
    for field, value in values.items():
        setattr(product, field, value)
    product.version = version + 1
    product.updated_at = now
    return product


@transaction.atomic
def product_delete(*, actor: Any, product: Product) -> None:
    """Delete a product no price list names (deactivate one that is in use)."""
    require(actor, PRODUCT, DELETE)
    try:
        with transaction.atomic():
            product.delete()
    except ProtectedError as exc:
        raise DeleteRefused(
            _("This product is on a price list: remove it from the lists first, or mark it inactive.")
        ) from exc
