"""Every change to quotes: create (numbered), header edits, lines (add, change, remove, reorder) while a
draft, revise, send (approval gate, PDF by email), accept (the deal is won) and reject, expire, delete a
draft.

Rules (also in docs/sales-quotes.md):

* A quote of an opportunity takes the opportunity's customer and owner; an archived customer gets none.
* The number comes from one locked counter row (``QuoteNumberSequence``), formatted with
  ``KITH_QUOTE_NUMBER_PATTERN`` (default ``Q{year}-{seq:05}``); a number is never given twice, even when
  its quote is deleted. Every revision of a quote keeps its number; (number, revision) is unique.
* Every line is in the quote's currency. A product line without a price in that currency (no price-list
  price in it) takes the product's list price converted with the exchange rate of the day
  (``kith.sales.selectors.pricing.convert``); without a rate the line is refused with the reason. A line
  that names another currency is refused ("currency mismatch"), and the quote's currency cannot change
  once it has lines.
* Only a draft is edited. A sent, rejected or expired quote is revised: a new draft with the same number
  and the next revision, the old one marked superseded.
* A sent quote whose valid-until date has passed is marked expired by the daily job (``quotes_expire``);
  an expired quote (or a sent one past its date) is not accepted.
* Accepting a quote sets its deal's amount to the quote's total (converted into the deal's currency at
  the day's rate; left as it was, and said, without one).
* The approval gate weighs ``gate_discount``: the line discounts, the overall discount and each product
  line's effective discount against its reference price (a typed low price counts as a discount).
* Totals: ``kith.sales.services.quote_totals`` (exact decimals, half up per line to the currency).
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import ROUND_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.core import timeline
from kith.core.errors import ConflictError, DeleteRefused, DomainError
from kith.parties.choices import CustomerStatus
from kith.sales import currencies
from kith.sales.choices import APPROVAL_REQUIRED, OPPORTUNITY, PRODUCT, QUOTE, QuoteStatus, StageKind
from kith.sales.cleaning import clean_date, clean_percent
from kith.sales.models import (
    Opportunity,
    PriceList,
    PriceListItem,
    Product,
    Quote,
    QuoteLine,
    QuoteNumberSequence,
    Stage,
)
from kith.sales.selectors.pricing import NoExchangeRate, price_for, price_list_applies
from kith.sales.services import quote_totals
from kith.security.rules import CREATE, DELETE, EDIT, VIEW, has_permission, require_permission
from kith.security.selectors import visible_q

logger = logging.getLogger(__name__)

TIMELINE_KIND = "sales.quote"
EXPIRY_JOB = "sales.quote_expiry"  # the daily job that marks sent quotes past their date expired
EXPIRY_HOUR = 1  # local hour from which it runs: the first hour of the day after the last valid day
DEFAULT_VALID_DAYS = 30
DEFAULT_NUMBER_PATTERN = "Q{year}-{seq:05}"
MAX_QUANTITY = Decimal("1e11")
MAX_LINES = 500
_HEADER_FIELDS = ("currency", "price_list", "valid_until", "terms")
_LINE_FIELDS = ("product", "description", "quantity", "unit", "unit_price", "discount_percent", "tax_rate")


class ApprovalRequired(DomainError):
    """The quote needs a granted approval of its deal (a discount or an amount above the limits) before it
    may be sent. ``reasons`` say why; ``opportunity`` is where to ask for it (None: attach one)."""

    code = APPROVAL_REQUIRED
    status = 409

    def __init__(self, message: str, *, reasons: list[str], opportunity: Opportunity | None) -> None:
        super().__init__(message)
        self.reasons = reasons
        self.opportunity = opportunity


# --- small checks --------------------------------------------------------------------------------


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _require(actor: Any, action: str) -> None:
    if actor is not None:
        require_permission(actor, QUOTE, action)


def _within_reach(actor: Any, quote: Quote, *, write: bool) -> bool:
    if actor is None:
        return True
    return Quote.objects.filter(visible_q(actor, QUOTE, write=write), pk=quote.pk).exists()


def _quantity(value: Any, errors: dict[str, list[str]]) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        _add(errors, "quantity", _("Give the quantity."))
        return None
    try:
        number = Decimal(str(value).strip())
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        _add(errors, "quantity", _("Enter a number such as 3 or 2.5."))
        return None
    if number <= 0:
        _add(errors, "quantity", _("The quantity must be more than zero."))
        return None
    if number >= MAX_QUANTITY:
        _add(errors, "quantity", _("This quantity is too large."))
        return None
    if number != number.quantize(Decimal("0.001")):
        _add(errors, "quantity", _("At most three decimal places."))
        return None
    return number.quantize(Decimal("0.001"))


def _text(value: Any, field: str, limit: int | None, errors: dict[str, list[str]]) -> str:
    text = str(value or "").strip()
    if limit and len(text) > limit:
        _add(errors, field, _("At most %(n)d characters.") % {"n": limit})
    return text


def _instance(model: Any, value: Any, field: str, message: str, errors: dict[str, list[str]]) -> Any:
    if value in (None, ""):
        return None
    if isinstance(value, model):
        return value
    try:
        return model.objects.get(pk=int(value))
    except (TypeError, ValueError, model.DoesNotExist):
        _add(errors, field, message)
        return None


# --- numbers -------------------------------------------------------------------------------------


def _next_number(today: dt.date) -> str:
    """The next quote number, from the one counter row, locked until the transaction ends."""
    counter = QuoteNumberSequence.objects.select_for_update().order_by("pk").first()
    if counter is None:
        try:
            with transaction.atomic():
                counter = QuoteNumberSequence.objects.create(pk=1, last=0)
        except IntegrityError:  # someone else created it just now
            counter = QuoteNumberSequence.objects.select_for_update().get(pk=1)
    counter.last += 1
    counter.save(update_fields=["last"])
    pattern = str(getattr(settings, "KITH_QUOTE_NUMBER_PATTERN", "") or DEFAULT_NUMBER_PATTERN)
    try:
        number = pattern.format(year=today.year, month=today.month, seq=counter.last)
    except (KeyError, IndexError, ValueError):
        number = DEFAULT_NUMBER_PATTERN.format(year=today.year, seq=counter.last)
    return number[:30]


# --- totals --------------------------------------------------------------------------------------


def _amounts(line: QuoteLine, currency: str) -> quote_totals.LineAmounts:
    return quote_totals.line_amounts(
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount_percent=line.discount_percent,
        tax_rate=line.tax_rate,
        currency=currency,
    )


def _apply_amounts(line: QuoteLine, currency: str) -> quote_totals.LineAmounts:
    amounts = _amounts(line, currency)
    line.net, line.tax, line.total = amounts.net, amounts.tax, amounts.total
    return amounts


def totals_of(quote: Quote) -> quote_totals.Totals:
    return quote_totals.quote_totals(_amounts(line, quote.currency) for line in quote.lines.all())


def gate_discount(quote: Quote) -> Decimal:
    """The discount the approval gate weighs: the largest of the line discounts, the overall discount
    (discount / subtotal) and the lines' effective discounts against their reference prices
    (``effective_discount``: a unit price typed far below the product's price counts as a discount)."""
    largest = quote.lines.aggregate(m=Max("discount_percent"))["m"] or Decimal("0.00")
    overall = quote_totals.Totals(
        quote.subtotal, quote.discount_total, quote.tax_total, quote.total
    ).discount_percent
    return max(Decimal(largest), overall, largest_effective_discount(quote))


def reference_price(
    product: Product, quote: Quote, quantity: Decimal, *, on: dt.date | None = None
) -> Decimal | None:
    """What ``product`` costs on ``quote`` without negotiation: the quote's price-list price, else the
    customer's price (``price_for``: price lists, else the list price converted); None without an
    exchange rate to convert it."""
    ignored: dict[str, list[str]] = {}
    return _product_price(product, quote, quantity, ignored, on=on)


def effective_discount(
    *, quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, reference: Decimal | None
) -> Decimal:
    """1 − net / (reference × quantity), in percent with two places rounded up (0 when the line is at or
    above its reference, or has none). The net is taken before rounding to the currency, so a line at
    its reference price with a typed 10 % is weighed as exactly 10 %, not 10.01 %."""
    if reference is None or reference <= 0 or quantity <= 0:
        return Decimal("0.00")
    net = Decimal(quantity) * Decimal(unit_price) * (quote_totals.HUNDRED - Decimal(discount_percent))
    share = net / (Decimal(reference) * Decimal(quantity))  # the net in percent of the reference
    discount = quote_totals.HUNDRED - share
    if discount <= 0:
        return Decimal("0.00")
    return discount.quantize(Decimal("0.01"), rounding=ROUND_UP)


def largest_effective_discount(quote: Quote) -> Decimal:
    """The largest effective discount of the quote's product lines. The reference is read as of the day
    the quote was sent (today for a draft), so an approved quote stays covered when prices change later.
    Lines without a product, or whose product has no price in the quote's currency and no exchange rate,
    have no reference: their typed discount is what counts."""
    if not quote.pk:
        return Decimal("0.00")
    on = timezone.localdate(quote.sent_at) if quote.sent_at else None
    found: dict[tuple[int, Decimal], Decimal | None] = {}
    largest = Decimal("0.00")
    for line in quote.lines.filter(product__isnull=False).select_related("product"):
        assert line.product is not None
        key = (line.product.pk, line.quantity)
        if key not in found:
            found[key] = reference_price(line.product, quote, line.quantity, on=on)
        largest = max(
            largest,
            effective_discount(
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                reference=found[key],
            ),
        )
    return largest


def _save_totals(quote: Quote, *, now: dt.datetime) -> None:
    """Recompute the totals from the lines and save the quote one version on."""
    totals = totals_of(quote)
    quote.subtotal = totals.subtotal
    quote.discount_total = totals.discount_total
    quote.tax_total = totals.tax_total
    quote.total = totals.total
    quote.version += 1
    quote.updated_at = now
    quote.save(update_fields=["subtotal", "discount_total", "tax_total", "total", "version", "updated_at"])


def _locked(quote: Quote, expected_version: int | None, *, draft: bool = True) -> Quote:
    """The quote's row, locked, at the version the user loaded; a draft unless ``draft`` is False."""
    fresh = Quote.objects.select_for_update().filter(pk=quote.pk).first()
    if fresh is None:
        raise ConflictError()
    version = quote.version if expected_version is None else int(expected_version)
    if fresh.version != version:
        raise ConflictError()
    if draft and fresh.status != QuoteStatus.DRAFT:
        raise DomainError(
            _("This quote is %(status)s and cannot be changed: make a new revision instead.")
            % {"status": fresh.get_status_display()},
            code="quote_not_draft",
        )
    return fresh


def _sync(target: Quote, source: Quote) -> None:
    """Copy what the service saved back onto the caller's instance."""
    for field in Quote._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


# --- header --------------------------------------------------------------------------------------


def _price_list(value: Any, currency: str, customer: Any, errors: dict[str, list[str]]) -> PriceList | None:
    """The quote's price list: active, valid today, in the quote's currency and for this customer (a list of
    another customer group would set the prices, and the approval gate's reference, below what the
    customer is offered)."""
    price_list = _instance(PriceList, value, "price_list", _("No such price list."), errors)
    if price_list is None:
        return None
    if not price_list.is_active:
        _add(errors, "price_list", _("This price list is not active."))
    elif customer is not None and not price_list_applies(price_list, customer):
        _add(
            errors,
            "price_list",
            _("This price list is not valid today or is for another customer group than this customer's."),
        )
    elif currency and price_list.currency != currency:
        _add(
            errors,
            "price_list",
            _("This price list is in %(list)s; the quote is in %(quote)s.")
            % {"list": price_list.currency, "quote": currency},
        )
    return price_list


def _customer(value: Any, actor: Any, errors: dict[str, list[str]]) -> Any:
    from kith.parties.models import Customer
    from kith.parties.selectors.customers import customers_for

    customer = _instance(Customer, value, "customer", _("No such customer."), errors)
    if customer is None:
        if "customer" not in errors:
            _add(errors, "customer", _("Choose the customer."))
        return None
    if actor is not None and not customers_for(actor).filter(pk=customer.pk).exists():
        _add(errors, "customer", _("No such customer."))
        return None
    if customer.status == CustomerStatus.ARCHIVED:
        _add(errors, "customer", _("This customer is archived: restore it before making a quote."))
        return None
    return customer


def _opportunity(value: Any, actor: Any, errors: dict[str, list[str]]) -> Opportunity | None:
    opportunity = _instance(Opportunity, value, "opportunity", _("No such opportunity."), errors)
    if opportunity is None:
        return None
    if (
        actor is not None
        and not Opportunity.objects.filter(visible_q(actor, "opportunity"), pk=opportunity.pk).exists()
    ):
        _add(errors, "opportunity", _("No such opportunity."))
        return None
    return opportunity


@transaction.atomic
def quote_create(*, actor: Any, data: dict[str, Any], lines: list[dict[str, Any]] | None = None) -> Quote:
    """A new draft quote. ``data``: ``customer`` (or ``opportunity``: then its customer and owner),
    ``currency`` (default: the opportunity's, the price list's, else ``KITH_DEFAULT_CURRENCY``),
    ``price_list`` (optional: the customer's best price-list price per line otherwise), ``valid_until``
    (default today + 30 days), ``terms``; ``lines`` as for ``quote_line_add``, all checked at once."""
    _require(actor, CREATE)
    errors: dict[str, list[str]] = {}
    opportunity = _opportunity(data.get("opportunity"), actor, errors)
    customer = None
    if opportunity is not None:
        customer = opportunity.customer
        if customer.status == CustomerStatus.ARCHIVED:
            _add(errors, "customer", _("This customer is archived: restore it before making a quote."))
    elif "opportunity" not in errors:
        customer = _customer(data.get("customer"), actor, errors)
    raw_currency = data.get("currency")
    if raw_currency in (None, ""):
        raw_currency = (
            (opportunity.currency if opportunity is not None else "")
            or (data["price_list"].currency if isinstance(data.get("price_list"), PriceList) else "")
            or currencies.default_code()
        )
    currency = currencies.clean_code(raw_currency, "currency", errors)
    price_list = _price_list(
        data.get("price_list"), currency if "currency" not in errors else "", customer, errors
    )
    today = timezone.localdate()
    valid_until = clean_date(data.get("valid_until"), "valid_until", errors)
    if valid_until is None and "valid_until" not in errors:
        valid_until = today + dt.timedelta(days=DEFAULT_VALID_DAYS)
    elif valid_until is not None and valid_until < today:
        _add(errors, "valid_until", _("The quote cannot be valid only until a day that has passed."))
    terms = _text(data.get("terms"), "terms", 10000, errors)
    if lines and len(lines) > MAX_LINES:
        _add(errors, "lines", _("At most %(n)d lines.") % {"n": MAX_LINES})
    owner = opportunity.owner if opportunity is not None else (actor if getattr(actor, "pk", None) else None)
    built: list[QuoteLine] = []
    if customer is not None and "currency" not in errors and "price_list" not in errors:
        probe = Quote(customer=customer, currency=currency, price_list=price_list)
        for index, line in enumerate(lines or []):
            line_errors: dict[str, list[str]] = {}
            built_line = _clean_line(line, actor=actor, quote=probe, base=None, errors=line_errors)
            for field, messages in line_errors.items():
                errors.setdefault(f"lines.{index}.{field}", []).extend(messages)
            if built_line is not None:
                built.append(built_line)
    if errors:
        raise ValidationError(errors)
    assert customer is not None
    totals = quote_totals.quote_totals(_apply_amounts(line, currency) for line in built)
    quote = Quote.objects.create(
        number=_next_number(today),
        revision=1,
        customer=customer,
        opportunity=opportunity,
        owner=owner,
        currency=currency,
        price_list=price_list,
        valid_until=valid_until,
        terms=terms,
        subtotal=totals.subtotal,
        discount_total=totals.discount_total,
        tax_total=totals.tax_total,
        total=totals.total,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    for position, made in enumerate(built, start=1):
        made.quote = quote
        made.position = position
    QuoteLine.objects.bulk_create(built)
    if not _within_reach(actor, quote, write=False):
        raise ValidationError(
            {"opportunity": [_("You would not see this quote afterwards: its owner is outside your reach.")]}
        )
    return quote


@transaction.atomic
def quote_update(
    *, actor: Any, quote: Quote, data: dict[str, Any], expected_version: int | None = None
) -> Quote:
    """Change the header of a draft: ``currency`` (only while it has no lines), ``price_list``,
    ``valid_until``, ``terms`` — the fields ``data`` names."""
    _require(actor, EDIT)
    if not _within_reach(actor, quote, write=True):
        raise PermissionDenied
    fresh = _locked(quote, expected_version)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if "currency" in data:
        values["currency"] = currencies.clean_code(data.get("currency"), "currency", errors)
        if "currency" not in errors and values["currency"] != fresh.currency and fresh.lines.exists():
            _add(
                errors,
                "currency",
                _(
                    "The quote has lines in %(currency)s: every line of a quote is in one currency. "
                    "Remove the lines first, or make a new quote."
                )
                % {"currency": fresh.currency},
            )
    currency = values.get("currency", fresh.currency)
    if "price_list" in data:
        values["price_list"] = _price_list(data.get("price_list"), currency, fresh.customer, errors)
    elif "currency" in values and fresh.price_list and fresh.price_list.currency != currency:
        values["price_list"] = None
    if "valid_until" in data:
        values["valid_until"] = clean_date(data.get("valid_until"), "valid_until", errors)
        if values["valid_until"] is not None and values["valid_until"] < timezone.localdate():
            _add(errors, "valid_until", _("The quote cannot be valid only until a day that has passed."))
    if "terms" in data:
        values["terms"] = _text(data.get("terms"), "terms", 10000, errors)
    if errors:
        raise ValidationError(errors)
    for field, value in values.items():
        setattr(fresh, field, value)
    fresh.version += 1
    fresh.updated_at = timezone.now()
    fresh.save(update_fields=[*values, "version", "updated_at"])
    _sync(quote, fresh)
    return quote


@transaction.atomic
def quote_delete(*, actor: Any, quote: Quote) -> None:
    """Delete a draft (its number is not given again). A sent quote stays: revise or reject it."""
    _require(actor, DELETE)
    if not _within_reach(actor, quote, write=True):
        raise PermissionDenied
    if quote.status != QuoteStatus.DRAFT:
        raise DeleteRefused(_("Only a draft can be deleted; a sent quote stays on record."))
    timeline.retract(quote)
    quote.delete()


# --- lines ---------------------------------------------------------------------------------------


def _product_price(
    product: Product,
    quote: Quote,
    quantity: Decimal,
    errors: dict[str, list[str]],
    *,
    on: dt.date | None = None,
) -> Decimal | None:
    """The unit price of ``product`` on ``quote``: its price list's (the item for the largest minimum
    quantity reached), else ``price_for`` in the quote's currency (converted list price as last resort)
    on ``on`` (default today)."""
    if quote.price_list_id is not None:
        item = (
            PriceListItem.objects.filter(
                price_list_id=quote.price_list_id, product=product, min_quantity__lte=quantity
            )
            .order_by("-min_quantity", "-pk")
            .first()
        )
        if item is not None:
            return item.unit_price
    try:
        return price_for(product, quote.customer, on=on, quantity=quantity, currency=quote.currency).amount
    except NoExchangeRate as exc:
        _add(
            errors,
            "product",
            _(
                "%(sku)s has no price in %(currency)s and cannot be converted: %(reason)s "
                "Add an exchange rate or a price list in %(currency)s, or type the price."
            )
            % {"sku": product.sku, "currency": quote.currency, "reason": exc.message},
        )
        return None


def _priced_by_product(line: QuoteLine, quote: Quote, before: tuple[Decimal, Decimal] | None) -> bool:
    """Whether a new quantity should re-read the line's price: a new line or product, or a price that is
    still the one the product gave for the old quantity (a price typed by the user stays)."""
    if before is None or line.product is None:
        return True
    old_quantity, old_price = before
    ignored: dict[str, list[str]] = {}
    return _product_price(line.product, quote, old_quantity, ignored) == old_price


def _clean_line(
    data: dict[str, Any], *, actor: Any, quote: Quote, base: QuoteLine | None, errors: dict[str, list[str]]
) -> QuoteLine | None:
    """A line checked against ``quote`` (``base``: the line being changed; only the fields ``data`` names
    change). A product gives the description, unit, tax rate and price unless they are given."""
    line = base if base is not None else QuoteLine(quote=quote, currency=quote.currency)
    given = (lambda f: f in data) if base is not None else (lambda f: data.get(f) not in (None, ""))
    if "currency" in data and data.get("currency") not in (None, ""):
        code = str(data["currency"]).strip().upper()
        if code != quote.currency:
            _add(
                errors,
                "currency",
                _(
                    "Currency mismatch: every line of this quote is in %(quote)s, this line is in %(line)s. "
                    "Make a quote in %(line)s, or give the price in %(quote)s."
                )
                % {"quote": quote.currency, "line": code[:10]},
            )
    product_changed = False
    if given("product") or (base is None):
        product = _instance(Product, data.get("product"), "product", _("No such product."), errors)
        if product is not None and actor is not None and not has_permission(actor, PRODUCT, VIEW):
            _add(errors, "product", _("You may not see the products: enter the line without one."))
            product = None
        if product is not None and not product.is_active and (base is None or base.product_id != product.pk):
            _add(errors, "product", _("This product is no longer sold (inactive)."))
        product_changed = base is None or (product.pk if product else None) != base.product_id
        line.product = product
    before = (base.quantity, base.unit_price) if base is not None else None
    if given("quantity") or base is None:
        quantity = _quantity(data.get("quantity"), errors)
        if quantity is not None:
            line.quantity = quantity
    if given("discount_percent") or base is None:
        discount = clean_percent(data.get("discount_percent"), "discount_percent", errors)
        if discount is not None:
            line.discount_percent = discount
        elif "discount_percent" in errors:
            errors["discount_percent"] = [
                _("A discount is a percentage from 0 to 100 with at most two decimals.")
            ]
    if given("tax_rate"):
        rate = clean_percent(data.get("tax_rate"), "tax_rate", errors)
        if rate is not None:
            line.tax_rate = rate
    elif product_changed:
        line.tax_rate = line.product.tax_rate if line.product else Decimal("0.00")
    if given("description"):
        line.description = _text(data.get("description"), "description", 300, errors)
    elif product_changed and line.product is not None:
        line.description = line.product.name[:300]
    if not line.description and "description" not in errors:
        _add(errors, "description", _("Describe the line, or choose a product."))
    if given("unit"):
        line.unit = _text(data.get("unit"), "unit", 30, errors)
    elif product_changed and line.product is not None:
        line.unit = line.product.unit
    if given("unit_price"):
        price = currencies.clean_amount(data.get("unit_price"), "unit_price", errors, currency=quote.currency)
        if price is not None:
            line.unit_price = price
    elif line.product is not None and (product_changed or (before is not None and "quantity" in data)):
        if "quantity" not in errors and "product" not in errors and _priced_by_product(line, quote, before):
            found = _product_price(line.product, quote, line.quantity, errors)
            if found is not None:
                line.unit_price = found
    elif line.product is None and base is None:
        _add(errors, "unit_price", _("Give the unit price of a line without a product."))
    line.currency = quote.currency
    return None if errors else line


@transaction.atomic
def quote_line_add(
    *, actor: Any, quote: Quote, data: dict[str, Any], expected_version: int | None = None
) -> QuoteLine:
    """Add a line to a draft: ``product`` (its name, unit, tax rate and the customer's price unless given),
    or a free-text ``description`` with ``unit_price``; ``quantity`` (> 0), ``discount_percent`` (0–100),
    ``tax_rate``, ``unit``. The quote's totals follow."""
    _require(actor, EDIT)
    if not _within_reach(actor, quote, write=True):
        raise PermissionDenied
    fresh = _locked(quote, expected_version)
    if fresh.lines.count() >= MAX_LINES:
        raise ValidationError({"product": [_("At most %(n)d lines.") % {"n": MAX_LINES}]})
    errors: dict[str, list[str]] = {}
    line = _clean_line(data, actor=actor, quote=fresh, base=None, errors=errors)
    if errors or line is None:
        raise ValidationError(errors)
    line.position = (fresh.lines.aggregate(m=Max("position"))["m"] or 0) + 1
    _apply_amounts(line, fresh.currency)
    line.save()
    _save_totals(fresh, now=timezone.now())
    _sync(quote, fresh)
    return line


@transaction.atomic
def quote_line_update(
    *, actor: Any, line: QuoteLine, data: dict[str, Any], expected_version: int | None = None
) -> QuoteLine:
    """Change the fields ``data`` names on a line of a draft. A new quantity re-reads the product's price
    (a quantity break) unless a price is given too or the price was typed by the user; a new product
    takes its details and price."""
    _require(actor, EDIT)
    quote = line.quote
    if not _within_reach(actor, quote, write=True):
        raise PermissionDenied
    fresh = _locked(quote, expected_version)
    current = QuoteLine.objects.filter(pk=line.pk, quote=fresh).first()
    if current is None:
        raise ConflictError()
    errors: dict[str, list[str]] = {}
    changed = _clean_line(data, actor=actor, quote=fresh, base=current, errors=errors)
    if errors or changed is None:
        raise ValidationError(errors)
    _apply_amounts(changed, fresh.currency)
    changed.save()
    _save_totals(fresh, now=timezone.now())
    _sync(quote, fresh)
    return changed


@transaction.atomic
def quote_line_remove(*, actor: Any, line: QuoteLine, expected_version: int | None = None) -> Quote:
    _require(actor, EDIT)
    quote = line.quote
    if not _within_reach(actor, quote, write=True):
        raise PermissionDenied
    fresh = _locked(quote, expected_version)
    QuoteLine.objects.filter(pk=line.pk, quote=fresh).delete()
    _save_totals(fresh, now=timezone.now())
    _sync(quote, fresh)
    return quote


@transaction.atomic
def quote_lines_reorder(
    *, actor: Any, quote: Quote, order: list[int], expected_version: int | None = None
) -> Quote:
    """Put the lines of a draft in ``order`` (line ids; every line exactly once)."""
    _require(actor, EDIT)
    if not _within_reach(actor, quote, write=True):
        raise PermissionDenied
    fresh = _locked(quote, expected_version)
    lines = {line.pk: line for line in fresh.lines.all()}
    try:
        wanted = [int(pk) for pk in order]
    except (TypeError, ValueError):
        wanted = []
    if sorted(wanted) != sorted(lines) or len(set(wanted)) != len(wanted):
        raise ValidationError({"order": [_("Give every line of the quote once, in the new order.")]})
    for position, pk in enumerate(wanted, start=1):
        if lines[pk].position != position:
            lines[pk].position = position
            lines[pk].save(update_fields=["position"])
    _save_totals(fresh, now=timezone.now())
    _sync(quote, fresh)
    return quote


# --- revisions -----------------------------------------------------------------------------------

REVISABLE = (QuoteStatus.SENT, QuoteStatus.REJECTED, QuoteStatus.EXPIRED)


@transaction.atomic
def quote_revise(*, actor: Any, quote: Quote, expected_version: int | None = None) -> Quote:
    """A new draft with the same number, the next revision and a copy of the lines; the quote revised is
    marked superseded. Only a sent, rejected or expired quote is revised (a draft is edited)."""
    _require(actor, CREATE)
    if not _within_reach(actor, quote, write=True):
        raise PermissionDenied
    old = _locked(quote, expected_version, draft=False)
    if old.status not in REVISABLE:
        raise DomainError(
            _("Only a sent, rejected or expired quote is revised; this one is %(status)s.")
            % {"status": old.get_status_display()},
            code="quote_not_revisable",
        )
    now = timezone.now()
    revision = (Quote.objects.filter(number=old.number).aggregate(m=Max("revision"))["m"] or 0) + 1
    new = Quote.objects.create(
        number=old.number,
        revision=revision,
        customer=old.customer,
        opportunity=old.opportunity,
        owner=old.owner,
        currency=old.currency,
        price_list=old.price_list,
        valid_until=max(
            old.valid_until or now.date(), timezone.localdate() + dt.timedelta(days=DEFAULT_VALID_DAYS)
        ),
        terms=old.terms,
        subtotal=old.subtotal,
        discount_total=old.discount_total,
        tax_total=old.tax_total,
        total=old.total,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    for line in old.lines.all():
        line.pk = None
        line.quote = new
        line.save()
    old.status = QuoteStatus.SUPERSEDED
    old.version += 1
    old.updated_at = now
    old.save(update_fields=["status", "version", "updated_at"])
    _sync(quote, old)
    return new


# --- approval gate -------------------------------------------------------------------------------


def approval_needed(quote: Quote) -> tuple[list[str], bool]:
    """Why the quote needs an approval before it is sent (empty: it does not) and whether a granted one
    covers it (always False without an opportunity)."""
    try:
        from kith.sales.services.approvals import approval_covering, approval_reasons
    except ImportError:  # the approvals part of sales is not installed: nothing to gate
        return [], True
    discount = gate_discount(quote)
    reasons = [
        str(r)
        for r in approval_reasons(amount=quote.total, currency=quote.currency, discount_percent=discount)
    ]
    if not reasons:
        return [], True
    if quote.opportunity_id is None:
        return reasons, False
    assert quote.opportunity is not None
    covering = approval_covering(
        quote.opportunity, amount=quote.total, currency=quote.currency, discount_percent=discount
    )
    return reasons, covering is not None


def check_approval(quote: Quote) -> None:
    """Refuse (``ApprovalRequired``) a quote that needs an approval none covers."""
    reasons, covered = approval_needed(quote)
    if not reasons or covered:
        return
    if quote.opportunity_id is None:
        raise ApprovalRequired(
            _(
                "This quote needs an approval before it is sent (%(reasons)s). Approvals are given on "
                "opportunities: attach it to an opportunity to ask for approval."
            )
            % {"reasons": "; ".join(reasons)},
            reasons=reasons,
            opportunity=None,
        )
    raise ApprovalRequired(
        _(
            "This quote needs an approval of its opportunity before it is sent (%(reasons)s). "
            "Request one on the opportunity's page."
        )
        % {"reasons": "; ".join(reasons)},
        reasons=reasons,
        opportunity=quote.opportunity,
    )


# --- send, accept, reject ------------------------------------------------------------------------


def default_recipient(quote: Quote) -> str:
    """The customer's primary email address (else its first), or ""."""
    email = quote.customer.emails.order_by("-is_primary", "pk").values_list("address", flat=True).first()
    return email or ""


def quote_label(quote: Quote) -> str:
    return f"{quote.number}/{quote.revision}" if quote.revision > 1 else quote.number


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount} {currency}"


@transaction.atomic
def quote_send(
    *,
    actor: Any,
    quote: Quote,
    to: str = "",
    message: str = "",
    expected_version: int | None = None,
) -> Quote:
    """Send a draft: checked (lines, approval gate), rendered as a PDF and emailed after commit to ``to``
    (default: the customer's primary email) with ``message``; the quote becomes sent and the customer's
    timeline shows it."""
    _require(actor, EDIT)
    if not _within_reach(actor, quote, write=True):
        raise PermissionDenied
    fresh = _locked(quote, expected_version)
    errors: dict[str, list[str]] = {}
    recipient = str(to or "").strip() or default_recipient(fresh)
    if not recipient:
        _add(errors, "to", _("The customer has no email address: type the address to send the quote to."))
    else:
        try:
            validate_email(recipient)
        except ValidationError:
            _add(errors, "to", _("Enter a valid email address."))
        if len(recipient) > 254:
            _add(errors, "to", _("At most %(n)d characters.") % {"n": 254})
    text = str(message or "").strip()
    if len(text) > 5000:
        _add(errors, "message", _("At most %(n)d characters.") % {"n": 5000})
    if not fresh.lines.exists():
        _add(errors, "__all__", _("Add at least one line before sending the quote."))
    if errors:
        raise ValidationError(errors)
    check_approval(fresh)
    from kith.sales.services.quote_pdf import render_quote_pdf

    pdf = render_quote_pdf(fresh)
    now = timezone.now()
    fresh.status = QuoteStatus.SENT
    fresh.sent_at = now
    fresh.sent_to = recipient
    fresh.version += 1
    fresh.updated_at = now
    fresh.save(update_fields=["status", "sent_at", "sent_to", "version", "updated_at"])
    timeline.publish(
        subject=fresh.customer,
        kind=TIMELINE_KIND,
        occurred_at=now,
        title=_("Quote %(number)s sent to %(to)s") % {"number": quote_label(fresh), "to": recipient},
        summary=_("Total %(total)s") % {"total": _money(fresh.total, fresh.currency)},
        actor=actor,
        source=fresh,
    )
    email = _email(fresh, recipient=recipient, text=text, pdf=pdf, actor=actor)
    transaction.on_commit(lambda: _deliver(email, fresh.pk))
    _sync(quote, fresh)
    return quote


def pdf_filename(quote: Quote) -> str:
    name = f"{quote.number}-{quote.revision}" if quote.revision > 1 else quote.number
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name) + ".pdf"


def _email(quote: Quote, *, recipient: str, text: str, pdf: bytes, actor: Any) -> Any:
    from django.core.mail import EmailMessage

    company = str(getattr(settings, "KITH_COMPANY_NAME", "") or "").strip()
    subject = _("Quote %(number)s") % {"number": quote_label(quote)}
    if company:
        subject = f"{subject} – {company}"
    body = text or _(
        "Dear customer,\n\nplease find our quote %(number)s attached (total %(total)s, valid until "
        "%(valid)s).\n\nKind regards"
    ) % {
        "number": quote_label(quote),
        "total": _money(quote.total, quote.currency),
        "valid": quote.valid_until.isoformat() if quote.valid_until else "—",
    }
    reply_to = [actor.email] if getattr(actor, "email", "") else []
    message = EmailMessage(subject=subject, body=body, to=[recipient], reply_to=reply_to)
    message.attach(pdf_filename(quote), pdf, "application/pdf")
    return message


def _deliver(message: Any, quote_id: int) -> None:
    """Send after commit; a mail server that refuses is logged (the quote stays sent: send it again by
    revising, or forward the PDF)."""
    try:
        message.send(fail_silently=False)
    except Exception:  # any transport failure: the quote is saved already
        logger.exception("quote %s: the email could not be sent", quote_id)


QUOTE_EXPIRED = "quote_expired"


def is_past_validity(quote: Quote, *, today: dt.date | None = None) -> bool:
    """Expired, or sent and past its valid-until date (before the daily job has marked it)."""
    if quote.status == QuoteStatus.EXPIRED:
        return True
    day = today or timezone.localdate()
    return quote.status == QuoteStatus.SENT and quote.valid_until is not None and quote.valid_until < day


def _valid_until(quote: Quote) -> str:
    return quote.valid_until.isoformat() if quote.valid_until else "—"


def _decide(actor: Any, quote: Quote, status: str, expected_version: int | None) -> Quote:
    _require(actor, EDIT)
    if not _within_reach(actor, quote, write=True):
        raise PermissionDenied
    fresh = _locked(quote, expected_version, draft=False)
    if status == QuoteStatus.ACCEPTED and is_past_validity(fresh):
        # expired, or sent and past its date before the daily job has marked it
        raise DomainError(
            _(
                "Quote %(number)s was valid until %(date)s and has expired: it can no longer be accepted. "
                "Make a new revision to offer it again."
            )
            % {"number": quote_label(fresh), "date": _valid_until(fresh)},
            code=QUOTE_EXPIRED,
        )
    if fresh.status != QuoteStatus.SENT:
        raise DomainError(
            _("Only a sent quote is accepted or rejected; this one is %(status)s.")
            % {"status": fresh.get_status_display()},
            code="quote_not_sent",
        )
    now = timezone.now()
    fresh.status = status
    fresh.decided_at = now
    fresh.version += 1
    fresh.updated_at = now
    fresh.save(update_fields=["status", "decided_at", "version", "updated_at"])
    title = (
        _("Quote %(number)s accepted") if status == QuoteStatus.ACCEPTED else _("Quote %(number)s rejected")
    ) % {"number": quote_label(fresh)}
    timeline.publish(
        subject=fresh.customer,
        kind=TIMELINE_KIND,
        occurred_at=now,
        title=title,
        summary=_("Total %(total)s") % {"total": _money(fresh.total, fresh.currency)},
        actor=actor,
        source=fresh,
    )
    return fresh


def _deal_amount_follows(actor: Any, opportunity: Opportunity, quote: Quote) -> str:
    """Set the deal's amount to the accepted quote's total (through ``opportunity_update``: audited, the
    timeline and webhooks follow). A quote in another currency is converted at the day's exchange rate
    (``pricing.convert``, rounded half up to the deal's currency); without a rate the amount stays.
    Returns why the amount was not changed ("" when it was, or already was that)."""
    from kith.sales.selectors.pricing import convert

    if quote.currency == opportunity.currency:
        amount = quote.total
    else:
        try:
            amount = convert(quote.total, quote.currency, opportunity.currency)
        except NoExchangeRate:
            return _(
                "The deal's amount stays %(amount)s: there is no exchange rate from %(quote)s to %(deal)s "
                "to convert the quote's total of %(total)s. Add a rate, or change the amount by hand."
            ) % {
                "amount": _money(opportunity.amount, opportunity.currency),
                "quote": quote.currency,
                "deal": opportunity.currency,
                "total": _money(quote.total, quote.currency),
            }
    if amount == opportunity.amount:
        return ""
    try:
        from kith.sales.services.opportunities import opportunity_update

        with transaction.atomic():
            opportunity_update(actor=actor, opportunity=opportunity, data={"amount": str(amount)})
    except ValidationError as exc:
        opportunity.refresh_from_db()
        return " ".join(exc.messages)
    except PermissionDenied:
        opportunity.refresh_from_db()
        return _("You may not change the opportunity: its amount stays as it was.")
    except DomainError as exc:
        opportunity.refresh_from_db()
        return str(exc.message)
    return ""


@transaction.atomic
def quote_accept(
    *, actor: Any, quote: Quote, expected_version: int | None = None, close_reason: Any = None
) -> Quote:
    """The customer accepted a sent quote: it becomes accepted and its open opportunity is won (moved to
    the pipeline's won stage with ``close_reason``). When the deal cannot be moved (a reason is required,
    an approval is missing, the actor may not edit deals) the quote is accepted anyway and
    ``quote.deal_not_won`` says why. The order is made at once (``order_for_accepted_quote``: one order
    per accepted quote; ``quote.order_not_made`` says why when it cannot be, the acceptance stands).
    The deal's other draft and sent quotes are superseded (``quote.superseded`` lists them).
    The deal's amount becomes the quote's total, converted into the deal's currency when they differ
    (unless the deal is lost; ``quote.deal_amount_not_updated`` says why when it cannot be). An expired
    quote (or a sent one past its valid-until date) is refused (``quote_expired``)."""
    fresh = _decide(actor, quote, QuoteStatus.ACCEPTED, expected_version)
    _sync(quote, fresh)
    quote.superseded = _supersede_siblings(actor, fresh)  # type: ignore[attr-defined]
    from kith.sales.services.orders import order_for_accepted_quote

    # the accepted quote becomes an order (None, with quote.order_not_made saying why, when it cannot)
    quote.order = order_for_accepted_quote(actor=actor, quote=fresh)  # type: ignore[attr-defined]
    quote.deal_not_won = ""  # type: ignore[attr-defined]
    quote.deal_amount_not_updated = ""  # type: ignore[attr-defined]
    opportunity = fresh.opportunity
    if opportunity is not None and not _deal_writable(actor, opportunity):
        # the deal is someone else's: it is left as it is (its owner wins it), and said so
        refused = _("You may not change the opportunity: its owner closes it.")
        quote.deal_not_won = quote.deal_amount_not_updated = refused  # type: ignore[attr-defined]
        return quote
    if opportunity is not None and opportunity.status != StageKind.LOST:
        quote.deal_amount_not_updated = _deal_amount_follows(actor, opportunity, fresh)  # type: ignore[attr-defined]
    if opportunity is None or opportunity.status != StageKind.OPEN:
        return quote
    won = (
        Stage.objects.filter(pipeline_id=opportunity.pipeline_id, kind=StageKind.WON)
        .order_by("position", "pk")
        .first()
    )
    if won is None:
        quote.deal_not_won = _("The opportunity's pipeline has no won stage.")  # type: ignore[attr-defined]
        return quote
    try:
        from kith.sales.services.opportunities import opportunity_move
    except ImportError:
        quote.deal_not_won = _("Opportunities cannot be moved here.")  # type: ignore[attr-defined]
        return quote
    try:
        with transaction.atomic():
            opportunity_move(
                actor=actor,
                opportunity=opportunity,
                stage=won,
                close_reason=close_reason,
                close_note=_("Quote %(number)s accepted") % {"number": quote_label(fresh)},
            )
    except ValidationError as exc:
        quote.deal_not_won = " ".join(exc.messages)  # type: ignore[attr-defined]
    except (DomainError, PermissionDenied) as exc:
        quote.deal_not_won = str(getattr(exc, "message", "") or _("You may not change the opportunity."))  # type: ignore[attr-defined]
    return quote


def _deal_writable(actor: Any, opportunity: Opportunity) -> bool:
    if actor is None:
        return True
    return Opportunity.objects.filter(visible_q(actor, OPPORTUNITY, write=True), pk=opportunity.pk).exists()


def _supersede_siblings(actor: Any, accepted: Quote) -> list[str]:
    """The customer chose ``accepted``: the deal's other quotes still to be sent or answered that the
    actor may change are superseded (audited like every change of a quote), so an unsent draft no longer
    weighs on the deal's approval when it is won; someone else's quotes are left to their owner. Returns
    the numbers superseded."""
    if accepted.opportunity_id is None:
        return []
    now = timezone.now()
    numbers = []
    others = Quote.objects.select_for_update().filter(
        opportunity_id=accepted.opportunity_id, status__in=[QuoteStatus.DRAFT, QuoteStatus.SENT]
    )
    if actor is not None:
        others = others.filter(pk__in=Quote.objects.filter(visible_q(actor, QUOTE, write=True)).values("pk"))
    others = others.exclude(pk=accepted.pk).order_by("pk")
    for other in others:
        other.status = QuoteStatus.SUPERSEDED
        other.version += 1
        other.updated_at = now
        other.save(update_fields=["status", "version", "updated_at"])
        numbers.append(quote_label(other))
    return numbers


@transaction.atomic
def quote_reject(*, actor: Any, quote: Quote, expected_version: int | None = None) -> Quote:
    """The customer declined a sent quote (a new revision may follow)."""
    fresh = _decide(actor, quote, QuoteStatus.REJECTED, expected_version)
    _sync(quote, fresh)
    return quote


# --- expiry --------------------------------------------------------------------------------------


@transaction.atomic
def quote_expire(*, actor: Any, quote: Quote, today: dt.date | None = None) -> Quote:
    """Mark a sent quote whose valid-until date has passed as expired (``actor`` None: the daily job).
    Audited like every change of the quote (so ``quote.updated`` goes to webhooks), and the customer's
    timeline shows it. It can then be revised, no longer accepted."""
    _require(actor, EDIT)
    if not _within_reach(actor, quote, write=True):
        raise PermissionDenied
    fresh = _locked(quote, None, draft=False)
    day = today or timezone.localdate()
    if fresh.status != QuoteStatus.SENT or fresh.valid_until is None or fresh.valid_until >= day:
        raise DomainError(
            _("Only a sent quote past its valid-until date expires; this one is %(status)s until %(date)s.")
            % {"status": fresh.get_status_display(), "date": _valid_until(fresh)},
            code="quote_not_expirable",
        )
    now = timezone.now()
    fresh.status = QuoteStatus.EXPIRED
    fresh.version += 1
    fresh.updated_at = now
    fresh.save(update_fields=["status", "version", "updated_at"])
    timeline.publish(
        subject=fresh.customer,
        kind=TIMELINE_KIND,
        occurred_at=now,
        title=_("Quote %(number)s expired") % {"number": quote_label(fresh)},
        summary=_("Valid until %(date)s; total %(total)s")
        % {"date": _valid_until(fresh), "total": _money(fresh.total, fresh.currency)},
        actor=actor,
        source=fresh,
    )
    _sync(quote, fresh)
    return quote


def quotes_expire(*, today: dt.date | None = None) -> list[str]:
    """The daily job: every sent quote whose valid-until date is before ``today`` becomes expired, each in
    its own transaction (a quote changed meanwhile is left for the next run). Returns the numbers."""
    day = today or timezone.localdate()
    due = list(
        Quote.objects.filter(status=QuoteStatus.SENT, valid_until__lt=day)
        .order_by("valid_until", "pk")
        .values_list("pk", flat=True)
    )
    expired: list[str] = []
    for pk in due:
        quote = Quote.objects.select_related("customer").filter(pk=pk).first()
        if quote is None:
            continue
        try:
            quote_expire(actor=None, quote=quote, today=day)
        except (ConflictError, DomainError):
            logger.info("quote %s changed while it expired: left for the next run", quote.pk)
            continue
        expired.append(quote_label(quote))
    return expired
