"""Every change to orders and shipments: create (by hand or from an accepted quote), edit while a draft
(header and lines), confirm, cancel, and ship in part or in whole.

Rules (also in docs/sales-orders.md):

* An order is for a customer that is not archived; a quote's order takes the quote's customer, owner,
  opportunity, currency and lines. An accepted quote gives one order, never two.
* The number comes from one locked counter row (``DocumentSequence`` key ``order``), formatted with
  ``KITH_ORDER_NUMBER_PATTERN`` (default ``O{year}-{seq:05}``); a number is never given twice.
* Every line is in the order's currency: a line naming another currency is refused ("currency mismatch").
  A price has no more decimals than the currency allows (EUR: cents, JPY: none); a quantity is above zero
  with at most three decimals. A product line without a price takes the product's list price when the
  product is priced in the order's currency; otherwise the price must be given.
* Totals: ``kith.sales.services.quote_totals`` (exact decimals, half up per line) — the same arithmetic as
  quotes, so an order from a quote has the quote's totals to the cent.
* Only a draft is edited. A draft is confirmed (it needs a line); a confirmed or partially shipped order is
  shipped, in parts; the status follows (partially shipped, shipped). Cancelling takes off only what is not
  shipped: a draft or confirmed order becomes cancelled; a partially shipped one keeps its shipments and
  the rest of each line is recorded as cancelled. A shipped order cannot be cancelled.
* A shipment never ships more than is left on a line. Each shipment line records a consumption line
  (kind purchase, source order, reference = the order number, line number = the shipment line's place
  among all shipped lines of the order, date = the shipment date, unit price net of the line discount at
  four decimals), so the consumption statistics show what was delivered; the key (customer, order
  number, line number) makes recording it twice impossible.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.core import timeline
from kith.core.errors import ConflictError, DomainError
from kith.parties.choices import CustomerStatus
from kith.sales import currencies
from kith.sales.cleaning import Errors, add_error, blank, clean_date, clean_percent, clean_text
from kith.sales.models import (
    DocumentSequence,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Quote,
    Shipment,
    ShipmentLine,
)
from kith.sales.order_types import ORDER, TIMELINE_ORDER, TIMELINE_SHIPMENT
from kith.sales.services import quote_totals
from kith.security.rules import CREATE, EDIT, VIEW, require_permission
from kith.security.selectors import visible_q

DEFAULT_NUMBER_PATTERN = "O{year}-{seq:05}"
MAX_QUANTITY = Decimal("1e11")
MAX_LINES = 500
NET_PRICE_PLACES = 4  # the consumption line's unit price (kith.sales.models.consumption.UNIT_PRICE_PLACES)
SHIPPABLE = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED)
CANCELLABLE = (OrderStatus.DRAFT, OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED)
_LINE_FIELDS = (
    "product",
    "description",
    "model",
    "quantity",
    "unit",
    "unit_price",
    "currency",
    "discount_percent",
    "tax_rate",
    "requested_delivery_date",
)


def clean_quantity(value: Any, field: str, errors: Errors) -> Decimal | None:
    """A quantity above zero with at most three decimals."""
    if blank(value):
        add_error(errors, field, _("Give the quantity."))
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        add_error(errors, field, _("Enter a number such as 3 or 2.5."))
        return None
    if number <= 0:
        add_error(errors, field, _("The quantity must be more than zero."))
        return None
    if number >= MAX_QUANTITY:
        add_error(errors, field, _("This quantity is too large."))
        return None
    if number != number.quantize(Decimal("0.001")):
        add_error(errors, field, _("At most three decimal places."))
        return None
    return number.quantize(Decimal("0.001"))


def clean_customer(value: Any, actor: Any, errors: Errors, *, verb: str) -> Any:
    """A customer the actor may see and that is not archived (``value``: a Customer, an id or a number)."""
    from kith.parties.models import Customer
    from kith.parties.selectors.customers import customers_for

    if blank(value):
        add_error(errors, "customer", _("Choose the customer."))
        return None
    visible = Customer.objects.all() if actor is None else customers_for(actor)
    if isinstance(value, Customer):
        customer = visible.filter(pk=value.pk).first()
    else:
        text = str(value).strip()
        customer = visible.filter(customer_number=text).first()
        if customer is None and text.isascii() and text.isdigit() and len(text) < 19:
            customer = visible.filter(pk=int(text)).first()
    if customer is None:
        add_error(errors, "customer", _("No such customer."))
        return None
    if customer.status == CustomerStatus.ARCHIVED:
        add_error(
            errors,
            "customer",
            _("This customer is archived: restore it before %(verb)s.") % {"verb": verb},
        )
        return None
    return customer


def next_number(key: str, *, setting: str, default: str, today: dt.date) -> str:
    """The next number of ``key`` documents, from its counter row, locked until the transaction ends."""
    counter = DocumentSequence.objects.select_for_update().filter(key=key).first()
    if counter is None:
        try:
            with transaction.atomic():
                counter = DocumentSequence.objects.create(key=key, last=0)
        except IntegrityError:  # someone else created it just now
            counter = DocumentSequence.objects.select_for_update().get(key=key)
    counter.last += 1
    counter.save(update_fields=["last"])
    pattern = str(getattr(settings, setting, "") or default)
    try:
        number = pattern.format(year=today.year, month=today.month, seq=counter.last)
    except (KeyError, IndexError, ValueError):
        number = default.format(year=today.year, month=today.month, seq=counter.last)
    return number[:30]


def money(amount: Decimal, currency: str) -> str:
    return f"{amount} {currency}"


def sync(target: Any, source: Any) -> None:
    """Copy what the service saved back onto the caller's instance."""
    for field in type(source)._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


# --- orders: access and locking ----------------------------------------------------------------------


def _require(actor: Any, action: str) -> None:
    if actor is not None:  # None: the system itself (demo data, commands)
        require_permission(actor, ORDER, action)


def _within_reach(actor: Any, order: Order, *, write: bool) -> None:
    if actor is None:
        return
    if not Order.objects.filter(visible_q(actor, ORDER, write=write), pk=order.pk).exists():
        raise PermissionDenied(_("You may not change this order."))


def _locked(order: Order, expected_version: int | None, *, statuses: tuple[str, ...] = ()) -> Order:
    """The order's row, locked, at the version the user loaded (and in one of ``statuses``)."""
    fresh = Order.objects.select_for_update().filter(pk=order.pk).first()
    if fresh is None:
        raise ConflictError()
    version = order.version if expected_version is None else int(expected_version)
    if fresh.version != version:
        raise ConflictError()
    if statuses and fresh.status not in statuses:
        if statuses == (OrderStatus.DRAFT,):
            message = _("This order is %(status)s: only a draft is changed.")
        else:
            message = _("This order is %(status)s: that cannot be done now.")
        raise DomainError(message % {"status": fresh.get_status_display()}, code="order_status")
    return fresh


def _bump(order: Order, now: dt.datetime, *fields: str) -> None:
    order.version += 1
    order.updated_at = now
    order.save(update_fields=[*fields, "version", "updated_at"])


# --- lines and totals ------------------------------------------------------------------------------


def _product(value: Any, field: str, errors: Errors) -> Product | None:
    if blank(value):
        return None
    if isinstance(value, Product):
        return value
    text = str(value).strip()
    product = (
        Product.objects.filter(pk=int(text)).first()
        if text.isascii() and text.isdigit() and len(text) < 19
        else None
    )
    if product is None:
        add_error(errors, field, _("No such product."))
    return product


def clean_line(
    data: Any, *, currency: str, prefix: str, errors: Errors, base: OrderLine | None = None
) -> OrderLine | None:
    """An unsaved line from ``data`` (over ``base`` for an edit); messages under ``<prefix><field>``."""
    if not isinstance(data, dict):
        add_error(errors, prefix.rstrip(".") or "lines", _("Each line is an object with its fields."))
        return None
    unknown = sorted(set(data) - set(_LINE_FIELDS))
    for name in unknown:
        add_error(errors, f"{prefix}{name}", _("Unknown field."))
    line = base if base is not None else OrderLine()
    before = len(errors)

    def key(name: str) -> str:
        return f"{prefix}{name}"

    product = _product(data["product"], key("product"), errors) if "product" in data else line.product
    if "product" in data:
        line.product = product
        if product is not None and not product.is_active and (base is None or base.product_id != product.pk):
            add_error(errors, key("product"), _("This product is no longer sold."))
    given_currency = str(data.get("currency") or "").strip().upper()
    if given_currency and given_currency != currency:
        add_error(
            errors,
            key("currency"),
            _("Currency mismatch: this line is in %(line)s, the order is in %(order)s.")
            % {"line": given_currency[:10], "order": currency},
        )
    line.currency = currency
    if "description" in data or base is None:
        description = clean_text(data.get("description"), key("description"), 300, errors)
        line.description = description or (product.name if product is not None else "")
        if not line.description:
            add_error(errors, key("description"), _("Describe the line (or choose a product)."))
    if "model" in data or base is None:
        model = clean_text(data.get("model"), key("model"), 100, errors)
        line.product_model = model or (product.model if product is not None else "")
    if "unit" in data or base is None:
        unit = clean_text(data.get("unit"), key("unit"), 30, errors)
        line.unit = unit or (product.unit if product is not None else "")
    if "quantity" in data or base is None:
        quantity = clean_quantity(data.get("quantity"), key("quantity"), errors)
        if quantity is not None:
            line.quantity = quantity
    if "unit_price" in data or base is None:
        raw_price = data.get("unit_price")
        if blank(raw_price) and product is not None:
            if product.currency == currency:
                line.unit_price = product.list_price
            else:
                add_error(
                    errors,
                    key("unit_price"),
                    _("The product is priced in %(product)s: give the price in %(order)s.")
                    % {"product": product.currency, "order": currency},
                )
        else:
            price = currencies.clean_amount(raw_price, key("unit_price"), errors, currency=currency)
            if price is not None:
                line.unit_price = price
    if "discount_percent" in data or base is None:
        discount = clean_percent(data.get("discount_percent"), key("discount_percent"), errors)
        if discount is not None:
            line.discount_percent = discount
    if "tax_rate" in data or base is None:
        if blank(data.get("tax_rate")) and product is not None:
            line.tax_rate = product.tax_rate
        else:
            rate = clean_percent(data.get("tax_rate"), key("tax_rate"), errors)
            if rate is not None:
                line.tax_rate = rate
    if "requested_delivery_date" in data:
        line.requested_delivery_date = clean_date(
            data.get("requested_delivery_date"), key("requested_delivery_date"), errors
        )
    if len(errors) > before:
        return None
    return line


def _amounts(line: OrderLine, currency: str) -> quote_totals.LineAmounts:
    return quote_totals.line_amounts(
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount_percent=line.discount_percent,
        tax_rate=line.tax_rate,
        currency=currency,
    )


def _apply_amounts(line: OrderLine, currency: str) -> None:
    amounts = _amounts(line, currency)
    line.net, line.tax, line.total = amounts.net, amounts.tax, amounts.total


def _set_totals(order: Order) -> None:
    totals = quote_totals.quote_totals(_amounts(line, order.currency) for line in order.lines.all())
    order.subtotal = totals.subtotal
    order.discount_total = totals.discount_total
    order.tax_total = totals.tax_total
    order.total = totals.total


_TOTALS = ("subtotal", "discount_total", "tax_total", "total")


def _clean_lines(raw: Any, currency: str, errors: Errors) -> list[OrderLine]:
    if not isinstance(raw, list | tuple):
        add_error(errors, "lines", _("Give the lines as a list."))
        return []
    if len(raw) > MAX_LINES:
        add_error(errors, "lines", _("At most %(n)d lines.") % {"n": MAX_LINES})
        return []
    built = []
    for index, data in enumerate(raw):
        line = clean_line(data, currency=currency, prefix=f"lines.{index}.", errors=errors)
        if line is not None:
            built.append(line)
    return built


def _save_lines(order: Order, lines: list[OrderLine]) -> None:
    for position, line in enumerate(lines, start=1):
        line.order = order
        line.position = position
        _apply_amounts(line, order.currency)
        line.save()


# --- create and edit -------------------------------------------------------------------------------


def _owner(value: Any, actor: Any, errors: Errors) -> Any:
    from django.contrib.auth import get_user_model

    if blank(value):
        return actor if getattr(actor, "pk", None) else None
    model = get_user_model()
    if isinstance(value, model):
        return value
    text = str(value).strip()
    user = (
        model.objects.filter(pk=int(text), is_active=True).first()
        if text.isascii() and text.isdigit() and len(text) < 19
        else None
    )
    if user is None:
        add_error(errors, "owner", _("No such user."))
    return user


@transaction.atomic
def order_create(*, actor: Any, data: dict[str, Any], lines: list[dict[str, Any]] | None = None) -> Order:
    """A new draft order. ``data``: ``customer`` (a Customer, id or number), ``currency`` (default
    ``KITH_DEFAULT_CURRENCY``), ``requested_delivery_date``, ``notes``, ``owner`` (default the actor),
    ``opportunity``; ``lines`` as for ``order_line_add``; every error at once."""
    _require(actor, CREATE)
    errors: Errors = {}
    customer = clean_customer(data.get("customer"), actor, errors, verb=_("ordering for it"))
    currency = currencies.clean_code(data.get("currency") or currencies.default_code(), "currency", errors)
    delivery = clean_date(data.get("requested_delivery_date"), "requested_delivery_date", errors)
    notes = clean_text(data.get("notes"), "notes", 10000, errors)
    owner = _owner(data.get("owner"), actor, errors)
    opportunity = None
    if not blank(data.get("opportunity")):
        from kith.sales.models import Opportunity

        value = data["opportunity"]
        pk = value.pk if isinstance(value, Opportunity) else value
        visible = (
            Opportunity.objects.all()
            if actor is None
            else Opportunity.objects.filter(visible_q(actor, "opportunity"))
        )
        opportunity = visible.filter(pk=pk).first() if str(pk).isdigit() else None
        if opportunity is None:
            add_error(errors, "opportunity", _("No such opportunity."))
        elif customer is not None and opportunity.customer_id != customer.pk:
            add_error(errors, "opportunity", _("This opportunity is of another customer."))
    built = _clean_lines(lines or [], currency, errors) if "currency" not in errors else []
    if errors:
        raise ValidationError(errors)
    order = Order.objects.create(
        number=next_number(
            "order",
            setting="KITH_ORDER_NUMBER_PATTERN",
            default=DEFAULT_NUMBER_PATTERN,
            today=timezone.localdate(),
        ),
        customer=customer,
        owner=owner,
        opportunity=opportunity,
        currency=currency,
        requested_delivery_date=delivery,
        notes=notes,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _save_lines(order, built)
    _set_totals(order)
    order.save(update_fields=list(_TOTALS))
    _check_scope(actor, order)
    return order


def _check_scope(actor: Any, order: Order) -> None:
    """After a write: the order is still one the actor may see (an owner given away is refused)."""
    if actor is not None and not Order.objects.filter(visible_q(actor, ORDER), pk=order.pk).exists():
        raise ValidationError(
            {
                "owner": [
                    _("You would no longer see this order: keep yourself or one of your team as its owner.")
                ]
            }
        )


@transaction.atomic
def order_update(
    *,
    actor: Any,
    order: Order,
    data: dict[str, Any],
    lines: list[dict[str, Any]] | None = None,
    expected_version: int | None = None,
) -> Order:
    """Change a draft's header (``currency`` only while it has no lines, or with new ``lines``,
    ``requested_delivery_date``, ``notes``, ``owner``); ``lines`` (when given) replace every line."""
    _require(actor, EDIT)
    _within_reach(actor, order, write=True)
    fresh = _locked(order, expected_version, statuses=(OrderStatus.DRAFT,))
    errors: Errors = {}
    fields: list[str] = []
    if "currency" in data:
        currency = currencies.clean_code(data.get("currency"), "currency", errors)
        if currency != fresh.currency and "currency" not in errors:
            if lines is None and fresh.lines.exists():
                add_error(errors, "currency", _("The order has lines: the currency cannot change."))
            fresh.currency = currency
            fields.append("currency")
    if "requested_delivery_date" in data:
        fresh.requested_delivery_date = clean_date(
            data.get("requested_delivery_date"), "requested_delivery_date", errors
        )
        fields.append("requested_delivery_date")
    if "notes" in data:
        fresh.notes = clean_text(data.get("notes"), "notes", 10000, errors)
        fields.append("notes")
    if "owner" in data:
        fresh.owner = _owner(data.get("owner"), actor, errors)
        fields.append("owner")
    built = (
        _clean_lines(lines, fresh.currency, errors) if lines is not None and "currency" not in errors else []
    )
    if errors:
        raise ValidationError(errors)
    if lines is not None:
        fresh.lines.all().delete()
        _save_lines(fresh, built)
    _set_totals(fresh)
    _bump(fresh, timezone.now(), *fields, *_TOTALS)
    _check_scope(actor, fresh)
    sync(order, fresh)
    return order


@transaction.atomic
def order_line_add(
    *, actor: Any, order: Order, data: dict[str, Any], expected_version: int | None = None
) -> OrderLine:
    _require(actor, EDIT)
    _within_reach(actor, order, write=True)
    fresh = _locked(order, expected_version, statuses=(OrderStatus.DRAFT,))
    if fresh.lines.count() >= MAX_LINES:
        raise ValidationError({"description": [_("At most %(n)d lines.") % {"n": MAX_LINES}]})
    errors: Errors = {}
    line = clean_line(data, currency=fresh.currency, prefix="", errors=errors)
    if errors or line is None:
        raise ValidationError(errors)
    line.order = fresh
    line.position = (fresh.lines.aggregate(m=Max("position"))["m"] or 0) + 1
    _apply_amounts(line, fresh.currency)
    line.save()
    _set_totals(fresh)
    _bump(fresh, timezone.now(), *_TOTALS)
    sync(order, fresh)
    return line


@transaction.atomic
def order_line_remove(*, actor: Any, line: OrderLine, expected_version: int | None = None) -> Order:
    order = line.order
    _require(actor, EDIT)
    _within_reach(actor, order, write=True)
    fresh = _locked(order, expected_version, statuses=(OrderStatus.DRAFT,))
    OrderLine.objects.filter(pk=line.pk, order=fresh).delete()
    _set_totals(fresh)
    _bump(fresh, timezone.now(), *_TOTALS)
    sync(order, fresh)
    return order


# --- from a quote ----------------------------------------------------------------------------------


@transaction.atomic
def order_from_quote(*, actor: Any, quote: Quote, confirm: bool = False) -> Order:
    """The order of an accepted quote: its customer, owner, opportunity, currency and lines (totals to the
    cent the same). One order per quote; a quote that is not accepted, or whose customer is archived, is
    refused. A draft unless ``confirm``."""
    from kith.sales.choices import QUOTE, QuoteStatus

    _require(actor, CREATE)
    if actor is not None:
        require_permission(actor, QUOTE, VIEW)
        if not Quote.objects.filter(visible_q(actor, QUOTE), pk=quote.pk).exists():
            raise PermissionDenied(_("You may not see this quote."))
    fresh = Quote.objects.select_for_update().select_related("customer").filter(pk=quote.pk).first()
    if fresh is None:
        raise ConflictError()
    if fresh.status != QuoteStatus.ACCEPTED:
        raise DomainError(
            _("Only an accepted quote becomes an order; this one is %(status)s.")
            % {"status": fresh.get_status_display()},
            code="quote_not_accepted",
        )
    if Order.objects.filter(quote=fresh).exists():
        raise DomainError(_("This quote has an order already."), code="quote_has_order")
    if fresh.customer.status == CustomerStatus.ARCHIVED:
        raise ValidationError(
            {"customer": [_("This customer is archived: restore it before ordering for it.")]}
        )
    order = Order.objects.create(
        number=next_number(
            "order",
            setting="KITH_ORDER_NUMBER_PATTERN",
            default=DEFAULT_NUMBER_PATTERN,
            today=timezone.localdate(),
        ),
        customer=fresh.customer,
        owner=fresh.owner or (actor if getattr(actor, "pk", None) else None),
        quote=fresh,
        opportunity=fresh.opportunity,
        currency=fresh.currency,
        notes=fresh.terms,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    lines = []
    for quote_line in fresh.lines.select_related("product").order_by("position", "pk"):
        lines.append(
            OrderLine(
                product=quote_line.product,
                description=quote_line.description,
                product_model=quote_line.product.model if quote_line.product is not None else "",
                quantity=quote_line.quantity,
                unit=quote_line.unit,
                unit_price=quote_line.unit_price,
                currency=fresh.currency,
                discount_percent=quote_line.discount_percent,
                tax_rate=quote_line.tax_rate,
            )
        )
    _save_lines(order, lines)
    _set_totals(order)
    order.save(update_fields=list(_TOTALS))
    if confirm:
        return order_confirm(actor=actor, order=order)
    return order


def order_for_accepted_quote(*, actor: Any, quote: Quote) -> Order | None:
    """For ``quote_accept``: the order of the quote just accepted, or None (and ``quote.order_not_made``
    says why) when it cannot be made — the actor may not create orders, the customer is archived, it has
    one already. The acceptance stands either way; the order can be made later from the quote's page."""
    try:
        with transaction.atomic():
            return order_from_quote(actor=actor, quote=quote)
    except ValidationError as exc:
        quote.order_not_made = " ".join(exc.messages)  # type: ignore[attr-defined]
    except DomainError as exc:
        quote.order_not_made = exc.message  # type: ignore[attr-defined]
    except PermissionDenied as exc:
        quote.order_not_made = str(exc) or _("You may not create orders.")  # type: ignore[attr-defined]
    return None


# --- confirm and cancel ----------------------------------------------------------------------------


@transaction.atomic
def order_confirm(*, actor: Any, order: Order, expected_version: int | None = None) -> Order:
    """A draft with lines becomes confirmed (and may be shipped); the customer's timeline shows it."""
    _require(actor, EDIT)
    _within_reach(actor, order, write=True)
    fresh = _locked(order, expected_version, statuses=(OrderStatus.DRAFT,))
    if not fresh.lines.exists():
        raise ValidationError({"__all__": [_("Add at least one line before confirming the order.")]})
    if fresh.customer.status == CustomerStatus.ARCHIVED:
        raise ValidationError(
            {"customer": [_("This customer is archived: restore it before ordering for it.")]}
        )
    now = timezone.now()
    fresh.status = OrderStatus.CONFIRMED
    fresh.confirmed_at = now
    _bump(fresh, now, "status", "confirmed_at")
    timeline.publish(
        subject=fresh.customer,
        kind=TIMELINE_ORDER,
        occurred_at=now,
        title=_("Order %(number)s confirmed") % {"number": fresh.number},
        summary=_("Total %(total)s") % {"total": money(fresh.total, fresh.currency)},
        actor=actor,
        source=fresh,
    )
    sync(order, fresh)
    return order


@transaction.atomic
def order_cancel(*, actor: Any, order: Order, expected_version: int | None = None) -> Order:
    """Cancel what is not shipped: a draft or confirmed order is cancelled; a partially shipped one keeps
    what was shipped and the rest of each line is recorded as cancelled. A shipped order is refused."""
    _require(actor, EDIT)
    _within_reach(actor, order, write=True)
    fresh = _locked(order, expected_version, statuses=CANCELLABLE)
    now = timezone.now()
    shipped_any = False
    for line in fresh.lines.all():
        rest = line.quantity - line.shipped_quantity - line.cancelled_quantity
        if line.shipped_quantity:
            shipped_any = True
        if rest > 0 and fresh.status != OrderStatus.DRAFT:
            line.cancelled_quantity += rest
            line.save(update_fields=["cancelled_quantity"])
    was_draft = fresh.status == OrderStatus.DRAFT
    fresh.status = OrderStatus.CANCELLED
    fresh.cancelled_at = now
    _bump(fresh, now, "status", "cancelled_at")
    if not was_draft:
        timeline.publish(
            subject=fresh.customer,
            kind=TIMELINE_ORDER,
            occurred_at=now,
            title=_("Order %(number)s cancelled") % {"number": fresh.number},
            summary=_("What was shipped stays delivered.") if shipped_any else "",
            actor=actor,
            source=fresh,
        )
    sync(order, fresh)
    return order


# --- shipments -------------------------------------------------------------------------------------


def net_unit_price(line: OrderLine) -> Decimal:
    """The line's unit price less its discount, half up to four decimals (the consumption line's price)."""
    exact = Decimal(line.unit_price) * (Decimal(100) - Decimal(line.discount_percent)) / Decimal(100)
    return exact.quantize(Decimal(1).scaleb(-NET_PRICE_PLACES), rounding=ROUND_HALF_UP) + 0


@transaction.atomic
def shipment_create(
    *,
    actor: Any,
    order: Order,
    lines: list[tuple[Any, Any]],
    shipped_on: Any = None,
    carrier: str = "",
    tracking: str = "",
    note: str = "",
    expected_version: int | None = None,
) -> Shipment:
    """Ship ``lines`` (order line or its id, quantity) of a confirmed or partially shipped order; never
    more than is left on a line. The order becomes partially shipped or shipped; each shipped line is
    recorded as a consumption line; the customer's timeline shows the shipment."""
    from kith.sales.models import ConsumptionKind, ConsumptionSource
    from kith.sales.services.consumption import consumption_add_many

    _require(actor, EDIT)
    _within_reach(actor, order, write=True)
    fresh = _locked(order, expected_version, statuses=SHIPPABLE)
    errors: Errors = {}
    day = clean_date(shipped_on, "shipped_on", errors) if not blank(shipped_on) else timezone.localdate()
    if day is not None and day > timezone.localdate():
        add_error(errors, "shipped_on", _("A shipment is recorded once it has left: not in the future."))
    carrier = clean_text(carrier, "carrier", 100, errors)
    tracking = clean_text(tracking, "tracking", 100, errors)
    note = clean_text(note, "note", 500, errors)
    order_lines = {
        line.pk: line for line in fresh.lines.select_related("product").select_for_update(of=("self",))
    }
    wanted: dict[int, Decimal] = {}
    for index, pair in enumerate(lines or []):
        try:
            raw_line, raw_quantity = pair
        except (TypeError, ValueError):
            add_error(errors, f"lines.{index}", _("Give the order line and the quantity."))
            continue
        pk = getattr(raw_line, "pk", raw_line)
        line = order_lines.get(int(pk)) if str(pk).isascii() and str(pk).isdigit() else None
        if line is None:
            add_error(errors, f"lines.{index}.order_line", _("This is not a line of the order."))
            continue
        quantity = clean_quantity(raw_quantity, f"lines.{index}.quantity", errors)
        if quantity is None:
            continue
        wanted[line.pk] = wanted.get(line.pk, Decimal(0)) + quantity
        left = line.quantity - line.shipped_quantity - line.cancelled_quantity
        if wanted[line.pk] > left:
            add_error(
                errors,
                f"lines.{index}.quantity",
                _("Only %(left)s of “%(line)s” are left to ship.")
                % {"left": f"{left.normalize():f}", "line": line.description},
            )
    if not wanted and not errors:
        add_error(errors, "lines", _("Ship at least one line (a quantity above zero)."))
    if errors:
        raise ValidationError(errors)
    assert day is not None
    count = fresh.shipments.count()
    shipment = Shipment.objects.create(
        order=fresh,
        number=f"{fresh.number}-{count + 1}",
        shipped_on=day,
        carrier=carrier,
        tracking=tracking,
        note=note,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    last = ShipmentLine.objects.filter(order_line__order=fresh).aggregate(m=Max("line_number"))["m"] or 0
    rows = []
    for place, (pk, quantity) in enumerate(wanted.items(), start=last + 1):
        line = order_lines[pk]
        ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=quantity, line_number=place)
        line.shipped_quantity += quantity
        line.save(update_fields=["shipped_quantity"])
        rows.append(
            {
                "customer": fresh.customer,
                "occurred_on": day,
                "product": line.product,
                "sku": line.product.sku if line.product is not None else "",
                "description": line.description,
                "quantity": quantity,
                "unit_price": net_unit_price(line),
                "currency": fresh.currency,
                "kind": ConsumptionKind.PURCHASE,
                "reference": fresh.number,
                "line_number": place,
            }
        )
    # the order's permissions were checked: the consumption lines are what the shipment delivered, written
    # by the system (actor None) so a representative who ships needs no consumption permission of their own
    try:
        consumption_add_many(actor=None, rows=rows, source=ConsumptionSource.ORDER)
    except ValidationError as exc:
        raise ValidationError({"__all__": exc.messages}) from exc
    done = all(
        line.quantity - line.shipped_quantity - line.cancelled_quantity <= 0 for line in order_lines.values()
    )
    fresh.status = OrderStatus.SHIPPED if done else OrderStatus.PARTIALLY_SHIPPED
    now = timezone.now()
    _bump(fresh, now, "status")
    shipped = ", ".join(f"{order_lines[pk].description} × {q.normalize():f}" for pk, q in wanted.items())
    timeline.publish(
        subject=fresh.customer,
        kind=TIMELINE_SHIPMENT,
        occurred_at=now,
        title=(_("Order %(number)s shipped") if done else _("Order %(number)s partly shipped"))
        % {"number": fresh.number},
        summary=" · ".join(p for p in (shipped[:500], carrier, tracking) if p),
        actor=actor,
        source=shipment,
    )
    sync(order, fresh)
    return shipment
