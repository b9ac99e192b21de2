"""Export of the sales lists (leads, opportunities, quotes and their lines, orders and their lines, invoices,
contracts, products, price lists and their items, consumption lines) to CSV, XLSX or JSON, as a background
job (``kith.jobs``) with a progress bar.

Each list is one ``ExportSpec``: the object type whose ``export`` permission it needs, the list's own
visibility-scoped selector called with the list's filters (the parameters its page takes, read as its filter
form reads them), and the columns: a header and the fields each value is made of. Money is a Decimal with a
currency column beside it. The rules are the list's rules: only the rows the user may see (the selector
applies ``visible_q``), the ``export`` permission checked when the export is asked for and again when it
runs, every export one row in the access log with the customers the exported rows belong to.

Rows are read as ``values_list`` through a database iterator in chunks of ``CHUNK`` (never the whole list
in memory) and written through ``kith.core.exports`` (formula injection neutralised, CSV with a BOM).

Field security: a list whose records have field rules (``ExportSpec.guarded``: leads, opportunities) is
written as its owner sees it on the page, per chunk with one ``masking.field_views`` call: a field hidden by
the owner's field rules leaves its cells empty, a sensitive one they may not see in full is masked
(a lead's phone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kith.audit.choices import AccessKind
from kith.audit.services import log_access
from kith.core.crypto import reveal, seal
from kith.core.exports import Column as WriterColumn
from kith.core.exports import CsvWriter, JsonWriter, RowWriter, XlsxWriter
from kith.jobs import services as jobs
from kith.jobs.models import Job
from kith.parties.selectors.search import loggable_query
from kith.sales.choices import (
    CONSUMPTION,
    LEAD,
    OPPORTUNITY,
    PRICE_LIST,
    PRODUCT,
    QUOTE,
    LeadSource,
    LeadStatus,
    OpportunityStatus,
    QuoteStatus,
)
from kith.sales.models import (
    ConsumptionLine,
    ContractStatus,
    InvoiceStatus,
    OrderLine,
    OrderStatus,
    PriceListItem,
    QuoteLine,
)
from kith.sales.order_types import CONTRACT, INVOICE, ORDER
from kith.sales.selectors import billing, contracts, leads, opportunities, orders, pricing, products, quotes
from kith.security import masking
from kith.security.rules import EXPORT, require_permission

JOB_PREFIX = "sales.export."
CHUNK = 2000
FORMATS: dict[str, tuple[str, Any]] = {
    "csv": (".csv", gettext_lazy("CSV (Excel, any spreadsheet)")),
    "xlsx": (".xlsx", gettext_lazy("Excel workbook (XLSX)")),
    "json": (".json", gettext_lazy("JSON")),
}
# parameters of a list page or of the export form that select nothing
NOT_FILTERS = frozenset({"page", "type", "format", "csrfmiddlewaretoken", "cursor", "limit", "offset"})
_SEALED = ("q",)  # a search text may be a phone number or an email: kept encrypted in the job's parameters
_SEAL_LABEL = "jobs.job.params.q"


# --- reading a list's parameters ---------------------------------------------------------------------


class Params:
    """A list's query parameters (``{name: [values]}``), read the way its filter form reads them; a bad
    value is an error keyed by the parameter (an export never silently drops a filter and exports more)."""

    def __init__(self, data: Mapping[str, Sequence[str]]) -> None:
        self.data = data
        self.errors: dict[str, list[str]] = {}
        self.used: set[str] = set()  # the parameters the list reads (others are dropped, as the page does)

    def get(self, name: str) -> str:
        self.used.add(name)
        values = self.data.get(name) or []
        return str(values[-1]).strip() if values else ""

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def text(self, name: str, max_length: int = 100) -> str:
        value = self.get(name)
        if len(value) > max_length:
            self.error(name, _("At most %(count)d characters.") % {"count": max_length})
            return ""
        return value

    def choice(self, name: str, choices: Iterable[str]) -> str:
        value = self.get(name)
        if value and value not in set(choices):
            self.error(
                name,
                _("Select a valid choice. %(value)s is not one of the available choices.") % {"value": value},
            )
            return ""
        return value

    def whole(self, name: str, *, low: int = 1, high: int = 2**31 - 1) -> int | None:
        value = self.get(name)
        if not value:
            return None
        if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
            self.error(name, _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high})
            return None
        return int(value)

    def date(self, name: str) -> dt.date | None:
        value = self.get(name)
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.error(name, _("Enter a valid date (YYYY-MM-DD)."))
            return None

    def single(self, names: Iterable[str]) -> dict[str, str]:
        return {name: value for name in names if (value := self.get(name))}


# --- what an export is -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column: its key (the JSON name), its header and the fields its value is read from; ``value``
    makes the cell of those fields' values (None: the one field as it is)."""

    key: str
    header: Promise | str
    fields: tuple[str, ...]
    value: Callable[..., Any] | None = None


def col(key: str, header: Promise | str, *fields: str, value: Callable[..., Any] | None = None) -> Column:
    return Column(key, header, fields or (key,), value)


@dataclass(frozen=True)
class ExportSpec:
    """An exportable sales list: ``rows(user, params)`` is the list's visibility-scoped selector with the
    list's filters; ``customer`` the field of a row naming the customer it belongs to (for the access log)."""

    key: str
    object_type: str
    label: Promise | str  # "orders": what the job page and the menu say
    file_stem: str
    rows: Callable[[Any, Params], QuerySet[Any]]
    columns: tuple[Column, ...]
    customer: str | None = None
    # field security: the fields a row is read from -> the record's field a field rule names (owner's name
    # -> ``owner``); the record's id is read too. Empty: the list's records have no field rules.
    guarded: Mapping[str, str] | None = None

    @property
    def job_kind(self) -> str:
        return JOB_PREFIX + self.key

    @property
    def job_label(self) -> Promise | str:
        return format_lazy(gettext_lazy("Export of {what}"), what=self.label)

    def writer_columns(self) -> list[WriterColumn]:
        return [(c.key, str(c.header)) for c in self.columns]


def _person(display_name: str | None, username: str | None) -> str:
    return display_name or username or ""


def _owner(prefix: str = "owner") -> Column:
    return col(
        "owner", gettext_lazy("Owner"), f"{prefix}__display_name", f"{prefix}__username", value=_person
    )


def _customer(prefix: str = "customer") -> tuple[Column, Column]:
    return (
        col("customer_number", gettext_lazy("Customer number"), f"{prefix}__customer_number"),
        col("customer_name", gettext_lazy("Customer"), f"{prefix}__display_name"),
    )


def _lead_name(given: str, family: str) -> str:
    return " ".join(part for part in (given, family) if part)


# --- the lists: each one's selector and filters, as its page takes them --------------------------------


def _leads(user: Any, p: Params) -> QuerySet[Any]:
    owner = p.text("owner", 20)
    if owner and owner not in (leads.MINE, leads.UNASSIGNED) and not (owner.isascii() and owner.isdigit()):
        p.error(
            "owner",
            _("Select a valid choice. %(value)s is not one of the available choices.") % {"value": owner},
        )
        owner = ""
    filters = leads.LeadFilters(
        q=p.text("q"),
        status=p.choice("status", LeadStatus.values),
        owner=owner,
        source=p.choice("source", LeadSource.values),
        territory=p.text("territory", 50),
    )
    return leads.lead_list(user=user, filters=filters)


_OPPORTUNITY_ORDERINGS = [o for name in opportunities.ORDERINGS for o in (name, f"-{name}")]


def _opportunities(user: Any, p: Params) -> QuerySet[Any]:
    return opportunities.opportunity_list(
        user=user,
        q=p.text("q"),
        pipeline=p.whole("pipeline"),
        stage=p.whole("stage"),
        status=p.choice("status", OpportunityStatus.values),
        owner=p.whole("owner"),
        customer=p.text("customer", 40),
        close_from=p.date("close_from"),
        close_to=p.date("close_to"),
        ordering=p.choice("ordering", _OPPORTUNITY_ORDERINGS) or "-created_at",
    )


def _quotes(user: Any, p: Params) -> QuerySet[Any]:
    return quotes.quote_list(
        user=user,
        status=p.choice("status", QuoteStatus.values),
        customer_number=p.text("customer", 40),
        opportunity=p.whole("opportunity"),
        owner=p.whole("owner"),
    )


def _quote_lines(user: Any, p: Params) -> QuerySet[Any]:
    documents = _quotes(user, p).order_by().values("pk")
    return QuoteLine.objects.filter(quote__in=documents).order_by(
        "-quote__created_at", "-quote_id", "position", "pk"
    )


def _orders(user: Any, p: Params) -> QuerySet[Any]:
    return orders.order_list(
        user=user,
        status=p.choice("status", OrderStatus.values),
        customer_number=p.text("customer", 40),
        q=p.text("q", 30),
    )


def _order_lines(user: Any, p: Params) -> QuerySet[Any]:
    documents = _orders(user, p).order_by().values("pk")
    return OrderLine.objects.filter(order__in=documents).order_by(
        "-order__created_at", "-order_id", "position", "pk"
    )


def _invoices(user: Any, p: Params) -> QuerySet[Any]:
    return billing.invoice_list(
        user=user,
        status=p.choice("status", InvoiceStatus.values),
        customer_number=p.text("customer", 40),
        q=p.text("q", 30),
    )


def _contracts(user: Any, p: Params) -> QuerySet[Any]:
    return contracts.contract_list(
        user=user,
        status=p.choice("status", ContractStatus.values),
        customer_number=p.text("customer", 40),
        renewing_within=p.whole("renewing", low=0, high=3650),
        q=p.text("q"),
    )


def _products(user: Any, p: Params) -> QuerySet[Any]:
    active = p.choice("active", ("1", "0"))
    return products.product_list(
        user=user,
        q=p.text("q"),
        active=None if not active else active == "1",
        category=p.text("category"),
    )


def _price_lists(user: Any, p: Params) -> QuerySet[Any]:
    return pricing.price_lists_for(user)


def _price_list_items(user: Any, p: Params) -> QuerySet[Any]:
    lists = pricing.price_lists_for(user).order_by().values("pk")
    return PriceListItem.objects.filter(price_list__in=lists).order_by(
        "price_list__name", "price_list_id", "product__sku", "product_id", "min_quantity", "pk"
    )


_CONSUMPTION_PARAMS = ("customer", "category", "tag", "role", "owner", "subordinates", "period", "from", "to")


def _consumption(user: Any, p: Params) -> QuerySet[Any]:
    """The lines the statistics page counts for its query (a customer or a group; every customer the user
    sees when neither is given), in its date range (``from``, ``to``; the page's defaults)."""
    from kith.sales.selectors import consumption

    try:
        query = consumption.StatsQuery.from_params(p.single(_CONSUMPTION_PARAMS))
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            for message in messages:
                p.error(name, message)
        query = consumption.StatsQuery()
    try:
        scope = consumption.consumption_scope(user=user, query=query)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            for message in messages:
                p.error(name, message)
        return ConsumptionLine.objects.none()
    return scope.lines.filter(occurred_on__gte=query.date_from, occurred_on__lte=query.date_to).order_by(
        "occurred_on", "id"
    )


_CREATED = col("created_at", gettext_lazy("Created"))
_MONEY_LINE = (
    col("quantity", gettext_lazy("Quantity")),
    col("unit", gettext_lazy("Unit")),
    col("unit_price", gettext_lazy("Unit price")),
    col("discount_percent", gettext_lazy("Discount (%)")),
    col("tax_rate", gettext_lazy("Tax rate (%)")),
    col("net", gettext_lazy("Net")),
    col("tax", gettext_lazy("Tax")),
    col("total", gettext_lazy("Total")),
    col("currency", gettext_lazy("Currency")),
)
_TOTALS = (
    col("subtotal", gettext_lazy("Subtotal")),
    col("discount_total", gettext_lazy("Discount")),
    col("tax_total", gettext_lazy("Tax")),
    col("total", gettext_lazy("Total")),
    col("currency", gettext_lazy("Currency")),
)

SPECS: dict[str, ExportSpec] = {
    spec.key: spec
    for spec in (
        ExportSpec(
            key="lead",
            object_type=LEAD,
            label=gettext_lazy("leads"),
            file_stem="leads",
            rows=_leads,
            customer="converted_customer_id",
            guarded={
                **{name: name for name in ("given_name", "family_name", "company", "title", "email")},
                **{name: name for name in ("phone", "territory", "source", "estimated_value", "currency")},
                "owner__display_name": "owner",
                "owner__username": "owner",
            },
            columns=(
                col("id", gettext_lazy("ID")),
                col("name", gettext_lazy("Name"), "given_name", "family_name", value=_lead_name),
                col("company", gettext_lazy("Company")),
                col("title", gettext_lazy("Job title")),
                col("email", gettext_lazy("Email")),
                col("phone", gettext_lazy("Phone")),
                col("territory", gettext_lazy("Territory")),
                col("status", gettext_lazy("Status")),
                col("source", gettext_lazy("Source")),
                col("estimated_value", gettext_lazy("Estimated value")),
                col("currency", gettext_lazy("Currency")),
                _owner(),
                col(
                    "converted_customer_number",
                    gettext_lazy("Converted to customer"),
                    "converted_customer__customer_number",
                ),
                _CREATED,
            ),
        ),
        ExportSpec(
            key="opportunity",
            object_type=OPPORTUNITY,
            label=gettext_lazy("opportunities"),
            file_stem="opportunities",
            rows=_opportunities,
            customer="customer_id",
            guarded={
                **{name: name for name in ("name", "amount", "currency", "discount_percent", "probability")},
                **{name: name for name in ("expected_close_date", "next_step")},
                "customer__customer_number": "customer",
                "customer__display_name": "customer",
                "owner__display_name": "owner",
                "owner__username": "owner",
            },
            columns=(
                col("id", gettext_lazy("ID")),
                col("name", gettext_lazy("Name")),
                *_customer(),
                col("pipeline", gettext_lazy("Pipeline"), "pipeline__name"),
                col("stage", gettext_lazy("Stage"), "stage__name"),
                col("status", gettext_lazy("Status")),
                col("amount", gettext_lazy("Amount")),
                col("currency", gettext_lazy("Currency")),
                col("discount_percent", gettext_lazy("Discount (%)")),
                col("probability", gettext_lazy("Probability (%)")),
                col("expected_close_date", gettext_lazy("Expected close")),
                col("next_step", gettext_lazy("Next step")),
                col("close_reason", gettext_lazy("Close reason"), "close_reason__name"),
                col("closed_at", gettext_lazy("Closed")),
                _owner(),
                _CREATED,
            ),
        ),
        ExportSpec(
            key="quote",
            object_type=QUOTE,
            label=gettext_lazy("quotes"),
            file_stem="quotes",
            rows=_quotes,
            customer="customer_id",
            columns=(
                col("number", gettext_lazy("Number")),
                col("revision", gettext_lazy("Revision")),
                *_customer(),
                col("opportunity", gettext_lazy("Opportunity"), "opportunity__name"),
                col("status", gettext_lazy("Status")),
                *_TOTALS,
                col("valid_until", gettext_lazy("Valid until")),
                col("sent_at", gettext_lazy("Sent")),
                _owner(),
                _CREATED,
            ),
        ),
        ExportSpec(
            key="quote_line",
            object_type=QUOTE,
            label=gettext_lazy("quote lines"),
            file_stem="quote-lines",
            rows=_quote_lines,
            customer="quote__customer_id",
            columns=(
                col("quote_number", gettext_lazy("Quote"), "quote__number"),
                col("quote_revision", gettext_lazy("Revision"), "quote__revision"),
                *_customer("quote__customer"),
                col("position", gettext_lazy("Position")),
                col("sku", gettext_lazy("SKU"), "product__sku"),
                col("description", gettext_lazy("Description")),
                *_MONEY_LINE,
            ),
        ),
        ExportSpec(
            key="order",
            object_type=ORDER,
            label=gettext_lazy("orders"),
            file_stem="orders",
            rows=_orders,
            customer="customer_id",
            columns=(
                col("number", gettext_lazy("Number")),
                *_customer(),
                col("status", gettext_lazy("Status")),
                *_TOTALS,
                col("requested_delivery_date", gettext_lazy("Requested delivery date")),
                col("confirmed_at", gettext_lazy("Confirmed")),
                _owner(),
                _CREATED,
            ),
        ),
        ExportSpec(
            key="order_line",
            object_type=ORDER,
            label=gettext_lazy("order lines"),
            file_stem="order-lines",
            rows=_order_lines,
            customer="order__customer_id",
            columns=(
                col("order_number", gettext_lazy("Order"), "order__number"),
                *_customer("order__customer"),
                col("position", gettext_lazy("Position")),
                col("sku", gettext_lazy("SKU"), "product__sku"),
                col("description", gettext_lazy("Description")),
                *_MONEY_LINE,
                col("shipped_quantity", gettext_lazy("Shipped")),
                col("cancelled_quantity", gettext_lazy("Cancelled")),
            ),
        ),
        ExportSpec(
            key="invoice",
            object_type=INVOICE,
            label=gettext_lazy("invoices"),
            file_stem="invoices",
            rows=_invoices,
            customer="customer_id",
            columns=(
                col("number", gettext_lazy("Number")),
                *_customer(),
                col("order_number", gettext_lazy("Order"), "order__number"),
                col("status", gettext_lazy("Status")),
                col("issued_on", gettext_lazy("Issue date")),
                col("due_on", gettext_lazy("Due date")),
                col("total", gettext_lazy("Amount")),
                col("paid", gettext_lazy("Paid")),
                col("currency", gettext_lazy("Currency")),
                col("description", gettext_lazy("Description")),
                _owner(),
                _CREATED,
            ),
        ),
        ExportSpec(
            key="contract",
            object_type=CONTRACT,
            label=gettext_lazy("contracts"),
            file_stem="contracts",
            rows=_contracts,
            customer="customer_id",
            columns=(
                col("id", gettext_lazy("ID")),
                col("title", gettext_lazy("Title")),
                col("reference", gettext_lazy("Reference")),
                *_customer(),
                col("status", gettext_lazy("Status")),
                col("start_date", gettext_lazy("Start")),
                col("end_date", gettext_lazy("End")),
                col("value", gettext_lazy("Value")),
                col("currency", gettext_lazy("Currency")),
                col("renewal_date", gettext_lazy("Renewal date")),
                col("auto_renew", gettext_lazy("Renews automatically")),
                col("notice_days", gettext_lazy("Notice period (days)")),
                _owner(),
                _CREATED,
            ),
        ),
        ExportSpec(
            key="product",
            object_type=PRODUCT,
            label=gettext_lazy("products"),
            file_stem="products",
            rows=_products,
            columns=(
                col("sku", gettext_lazy("SKU")),
                col("name", gettext_lazy("Name")),
                col("model", gettext_lazy("Model")),
                col("category", gettext_lazy("Category")),
                col("unit", gettext_lazy("Unit")),
                col("list_price", gettext_lazy("List price")),
                col("currency", gettext_lazy("Currency")),
                col("tax_rate", gettext_lazy("Tax rate (%)")),
                col("is_active", gettext_lazy("Active")),
            ),
        ),
        ExportSpec(
            key="price_list",
            object_type=PRICE_LIST,
            label=gettext_lazy("price lists"),
            file_stem="price-lists",
            rows=_price_lists,
            columns=(
                col("id", gettext_lazy("ID")),
                col("name", gettext_lazy("Name")),
                col("currency", gettext_lazy("Currency")),
                col("customer_group", gettext_lazy("Customer group"), "customer_group__name"),
                col("valid_from", gettext_lazy("Valid from")),
                col("valid_to", gettext_lazy("Valid to")),
                col("is_active", gettext_lazy("Active")),
            ),
        ),
        ExportSpec(
            key="price_list_item",
            object_type=PRICE_LIST,
            label=gettext_lazy("price list items"),
            file_stem="price-list-items",
            rows=_price_list_items,
            columns=(
                col("price_list", gettext_lazy("Price list"), "price_list__name"),
                col("sku", gettext_lazy("SKU"), "product__sku"),
                col("product", gettext_lazy("Product"), "product__name"),
                col("min_quantity", gettext_lazy("From quantity")),
                col("unit_price", gettext_lazy("Unit price")),
                col("currency", gettext_lazy("Currency"), "price_list__currency"),
            ),
        ),
        ExportSpec(
            key="consumption",
            object_type=CONSUMPTION,
            label=gettext_lazy("consumption lines"),
            file_stem="consumption",
            rows=_consumption,
            customer="customer_id",
            columns=(
                col("occurred_on", gettext_lazy("Date")),
                *_customer(),
                col("kind", gettext_lazy("Kind")),
                col("sku", gettext_lazy("Code")),
                col("description", gettext_lazy("Description")),
                col("quantity", gettext_lazy("Quantity")),
                col("unit_price", gettext_lazy("Unit price")),
                col("amount", gettext_lazy("Amount")),
                col("currency", gettext_lazy("Currency")),
                col("source", gettext_lazy("Source")),
                col("reference", gettext_lazy("Reference")),
                col("line_number", gettext_lazy("Line")),
            ),
        ),
    )
}


def spec_of(export_type: str) -> ExportSpec:
    try:
        return SPECS[export_type]
    except KeyError:
        raise ValidationError(
            {"type": [_("Choose one of: %(types)s.") % {"types": ", ".join(SPECS)}]}
        ) from None


def _clean_filters(filters: Mapping[str, Any]) -> dict[str, list[str]]:
    clean: dict[str, list[str]] = {}
    for key, value in filters.items():
        values = [
            str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v not in (None, "")
        ]
        if values and str(key) not in NOT_FILTERS:
            clean[str(key)] = values
    return clean


def _rows(
    spec: ExportSpec, user: Any, filters: Mapping[str, Sequence[str]]
) -> tuple[QuerySet[Any], set[str]]:
    """The list's rows for ``user`` and the parameters the list reads; bad filters raise one
    ValidationError keyed by parameter."""
    params = Params(filters)
    rows = spec.rows(user, params)
    if params.errors:
        raise ValidationError(params.errors)
    return rows, params.used


# --- asking for an export ------------------------------------------------------------------------------


def start_sales_export(
    *,
    actor: Any,
    export_type: str,
    file_format: str,
    filters: Mapping[str, Any] | None = None,
    source: str | None = None,
    enqueue: bool = True,
) -> Job:
    """Queue an export of the ``export_type`` list (``lead``, ``order``, ``order_line`` ...) with the list's
    ``filters`` (its page's parameters). Needs ``export`` on the list's object type (PermissionDenied);
    bad input raises one ValidationError keyed by field (``type``, ``format``, a filter)."""
    spec = spec_of(export_type)
    require_permission(actor, spec.object_type, EXPORT)
    errors: dict[str, list[str]] = {}
    if file_format not in FORMATS:
        errors["format"] = [_("Choose one of: %(formats)s.") % {"formats": ", ".join(FORMATS)}]
    clean = _clean_filters(filters or {})
    try:
        # the filters checked now; nothing is read yet (the queryset is lazy)
        _queryset, used = _rows(spec, actor, clean)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    else:
        clean = {key: values for key, values in clean.items() if key in used}
    if errors:
        raise ValidationError(errors)
    for key in _SEALED:
        if key in clean:
            clean[key] = [seal(v, _SEAL_LABEL) for v in clean[key]]
    return jobs.start(
        spec.job_kind,
        actor=actor,
        params={"type": spec.key, "format": file_format, "filters": clean},
        title=_("Export of %(what)s (%(format)s)") % {"what": spec.label, "format": file_format.upper()},
        source=source,
        enqueue=enqueue,
    )


# --- the run ------------------------------------------------------------------------------------------


def _writer(file_format: str, path: Any, columns: list[WriterColumn], sheet: str) -> RowWriter:
    if file_format == "xlsx":
        return XlsxWriter(path, columns, sheet=sheet)
    if file_format == "json":
        return JsonWriter(path, columns)
    return CsvWriter(path, columns)


def _cell(positions: list[int], make: Callable[..., Any] | None) -> Callable[[Sequence[Any]], Any]:
    if make is None:
        return itemgetter(positions[0])  # most columns: one field as it is
    return lambda row: make(*[row[i] for i in positions])


def _cells(spec: ExportSpec, fields: list[str]) -> list[Callable[[Sequence[Any]], Any]]:
    """Per column, the function from a ``values_list`` row to the cell (decided once, not per row)."""
    at = {name: i for i, name in enumerate(fields)}
    return [_cell([at[name] for name in column.fields], column.value) for column in spec.columns]


def _field_security(
    spec: ExportSpec, user: Any, fields: list[str]
) -> Callable[[list[Sequence[Any]]], list[Sequence[Any]]] | None:
    """For a list with field rules, the function that makes a chunk of ``values_list`` rows what ``user``
    may see: one ``masking.field_views`` call per chunk (one query for the grants at most); None when the
    list has no field rules."""
    if not spec.guarded:
        return None
    object_type = spec.object_type
    id_at = fields.index("id")
    guarded = [(i, spec.guarded[name]) for i, name in enumerate(fields) if name in spec.guarded]

    def apply(batch: list[Sequence[Any]]) -> list[Sequence[Any]]:
        views = masking.field_views(user, [{"id": row[id_at]} for row in batch], object_type=object_type)
        out: list[Sequence[Any]] = []
        for row in batch:
            view = views[row[id_at]]
            if not view.hidden and not view.masked:
                out.append(row)
                continue
            cells = list(row)
            for i, name in guarded:
                if cells[i] in (None, ""):
                    continue
                if name in view.hidden:
                    cells[i] = ""
                elif name in view.masked:
                    cells[i] = masking.mask(view.masked[name].kind, cells[i])
            out.append(cells)
        return out

    return apply


def run_sales_export(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    spec = spec_of(job.params["type"])
    user = job.owner
    require_permission(user, spec.object_type, EXPORT)  # it may have been withdrawn since it was asked for
    file_format = job.params["format"]
    suffix = FORMATS[file_format][0]
    stored = job.params.get("filters") or {}
    filters = {
        k: [reveal(v, _SEAL_LABEL) for v in values] if k in _SEALED else values
        for k, values in stored.items()
    }
    rows, _used = _rows(spec, user, filters)
    fields = list(dict.fromkeys(name for column in spec.columns for name in column.fields))
    if spec.guarded and "id" not in fields:
        fields.append("id")
    if spec.customer:
        fields.append(spec.customer)
    cells = _cells(spec, fields)
    as_seen = _field_security(spec, user, fields)
    progress.set_total(rows.count())
    path = progress.work_file(suffix)
    writer = _writer(file_format, path, spec.writer_columns(), str(spec.label).capitalize())
    customers: set[int] = set()
    written = 0

    def flush(batch: list[Sequence[Any]]) -> None:
        nonlocal written
        shown = as_seen(batch) if as_seen is not None else batch
        writer.write_rows([[cell(row) for cell in cells] for row in shown])
        if spec.customer:
            customers.update(row[-1] for row in batch if row[-1] is not None)
        written += len(batch)
        progress.advance(len(batch))

    try:
        batch: list[Sequence[Any]] = []
        for row in rows.values_list(*fields).iterator(chunk_size=CHUNK):
            batch.append(row)
            if len(batch) >= CHUNK:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    finally:
        writer.close()
    log_access(
        user,
        AccessKind.EXPORT,
        customer_ids=sorted(customers),
        query=loggable_query(" ".join(filters.get("q") or []), []),
        filters={
            "type": [spec.key],
            **{k: v for k, v in stored.items() if k not in _SEALED},
            "format": [file_format],
        },
        result_count=written,
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return {
        "rows": written,
        "type": spec.key,
        "format": file_format,
        "customers": len(customers),
        "download_name": f"{spec.file_stem}-{stamp}{suffix}",
    }
