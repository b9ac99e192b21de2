"""Consumption statistics for one customer or a group of customers, always within what the asking user may
see, aggregated in the database (one query per figure, no loop over lines).

Counting rules (docs/sales-consumption.md; the statistics page shows them too):

- Revenue (product revenue) = the amounts of purchases and service usage plus the amounts of returns and
  cancellations, which are negative (quantity < 0): a cancellation subtracts. Lines that are not a product
  (postage, fees, bank charges, adjustments) are left out of revenue and shown on their own ("other
  charges"); revenue + other charges = everything invoiced.
- A line's amount is its quantity × unit price rounded half up to the currency's minor units, once, when it
  is recorded; every total is a sum of those amounts. A zero-price line adds its quantity, not revenue.
- Quantity = the quantities of purchases, usage and returns (returns subtract); not-product lines add none.
- Amounts are never added across currencies: every money figure is per currency.
- Buckets (day, ISO week from Monday, month, quarter) follow the line's date (``occurred_on``, the invoice
  or usage date), not the date it was recorded.
- The previous period has the same length and ends the day before the period starts; when the period is
  whole calendar months it is the same number of calendar months before.
- Purchase frequency counts purchase and usage lines with a quantity above zero: purchase days (distinct
  dates per customer, added up over customers), invoices (distinct references per customer), and the
  average days between purchases = Σ(last − first purchase date) / Σ(purchase days − 1) over the customers
  with two purchase days or more (for one customer: (last − first) / (days − 1)).
- Typical price range per product (code and currency): minimum, 25th percentile, median, 75th percentile
  and maximum of the unit prices of its purchase and usage lines with a price above zero, each line
  counting once (percentiles interpolated as a spreadsheet's PERCENTILE.INC / MEDIAN does).
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BooleanField as BoolField
from django.db.models import Case, Count, DateField, F, Func, Max, Min, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth, TruncQuarter, TruncWeek
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.parties.models import Customer
from kith.parties.selectors.customers import customer_by_number, visible_customers_q
from kith.parties.selectors.search import CustomerFilters
from kith.parties.selectors.search import _filtered as filtered_customers
from kith.sales.models import ConsumptionKind, ConsumptionLine, Product
from kith.sales.services.consumption import OBJECT_TYPE
from kith.security.models import Reach
from kith.security.rules import VIEW, require_permission

PERIODS = ("day", "week", "month", "quarter")
PRODUCT_KINDS = (ConsumptionKind.PURCHASE, ConsumptionKind.USAGE, ConsumptionKind.RETURN)
BOUGHT_KINDS = (ConsumptionKind.PURCHASE, ConsumptionKind.USAGE)
MAX_BUCKETS = 400
MAX_DAYS = 3700  # ten years
TOP = 10
_ZERO = Decimal("0.00")


# --- what is asked ----------------------------------------------------------------------------------


@dataclass
class StatsQuery:
    """One customer (by number) or a group (category and the categories below it, tag, role, owner and
    the owner's subordinates), a date range and a bucket size."""

    customer: str = ""
    category_id: int | None = None
    tag: str = ""
    role_id: int | None = None
    owner_id: int | None = None
    subordinates: bool = True
    period: str = "month"
    date_from: dt.date = field(default_factory=timezone.localdate)
    date_to: dt.date = field(default_factory=timezone.localdate)

    @property
    def is_group(self) -> bool:
        return not self.customer

    @property
    def names_someone(self) -> bool:
        return bool(self.customer or self.category_id or self.tag or self.role_id or self.owner_id)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> StatsQuery:
        """Read the query from a QueryDict or dict; bad values raise one ValidationError keyed by
        parameter."""
        errors: dict[str, list[str]] = {}

        def text(name: str) -> str:
            return str(params.get(name) or "").strip()[:200]

        def number(name: str) -> int | None:
            value = text(name)
            if not value:
                return None
            if not (value.isascii() and value.isdigit()) or len(value) > 18:
                errors[name] = [_("Enter a whole number.")]
                return None
            return int(value)

        def date(name: str) -> dt.date | None:
            value = text(name)
            if not value:
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                errors[name] = [_("Enter a valid date (YYYY-MM-DD).")]
                return None

        period = text("period") or "month"
        if period not in PERIODS:
            errors["period"] = [_("Choose one of: %(periods)s.") % {"periods": ", ".join(PERIODS)}]
            period = "month"
        today = timezone.localdate()
        date_to = date("to") or today
        date_from = date("from") or default_from(date_to, period)
        query = cls(
            customer=text("customer"),
            category_id=number("category"),
            tag=text("tag"),
            role_id=number("role"),
            owner_id=number("owner"),
            subordinates=text("subordinates").lower() not in ("0", "false", "no", "off"),
            period=period,
            date_from=date_from,
            date_to=date_to,
        )
        if query.customer and (query.category_id or query.tag or query.role_id or query.owner_id):
            errors["customer"] = [_("Give either a customer or a group, not both.")]
        if "from" not in errors and "to" not in errors:
            if date_from > date_to:
                errors["to"] = [_("The end is before the start.")]
            elif (date_to - date_from).days >= MAX_DAYS:
                errors["from"] = [_("At most ten years at a time.")]
            elif "period" not in errors and len(bucket_starts(date_from, date_to, period)) > MAX_BUCKETS:
                errors["period"] = [
                    _("That is more than %(n)d buckets: choose a longer bucket or a shorter range.")
                    % {"n": MAX_BUCKETS}
                ]
        if errors:
            raise ValidationError(errors)
        return query


def default_from(date_to: dt.date, period: str) -> dt.date:
    """Thirty days for daily buckets, else the twelve calendar months that end with ``date_to``'s."""
    if period == "day":
        return date_to - dt.timedelta(days=29)
    return _add_months(date_to.replace(day=1), -11)


# --- dates and buckets ------------------------------------------------------------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(day: dt.date) -> dt.date:
    return _add_months(day.replace(day=1), 1) - dt.timedelta(days=1)


def previous_range(date_from: dt.date, date_to: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length just before: whole calendar months when the range is whole months,
    else the same number of days."""
    if date_from.day == 1 and date_to == _month_end(date_to):
        months = (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1
        return _add_months(date_from, -months), date_from - dt.timedelta(days=1)
    days = (date_to - date_from).days + 1
    return date_from - dt.timedelta(days=days), date_from - dt.timedelta(days=1)


def bucket_start(day: dt.date, period: str) -> dt.date:
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return day


def _next_bucket(start: dt.date, period: str) -> dt.date:
    if period == "week":
        return start + dt.timedelta(days=7)
    if period == "month":
        return _add_months(start, 1)
    if period == "quarter":
        return _add_months(start, 3)
    return start + dt.timedelta(days=1)


def bucket_starts(date_from: dt.date, date_to: dt.date, period: str) -> list[dt.date]:
    """The buckets that meet the range, by their first day (the first may start before ``date_from``)."""
    out: list[dt.date] = []
    start = bucket_start(date_from, period)
    while start <= date_to and len(out) <= MAX_BUCKETS:
        out.append(start)
        start = _next_bucket(start, period)
    return out


# SQLite: the bucket's first day with SQLite's own date functions. Django's Trunc calls a Python function
# per row there (django_date_trunc), which made the bucket query of a 10,000-customer group ~6× slower.
# Dates are stored as "YYYY-MM-DD" text on SQLite.
_SQLITE_BUCKETS = {
    "week": "date(%(expressions)s, 'weekday 0', '-6 days')",
    "month": "date(%(expressions)s, 'start of month')",
    "quarter": (
        "substr(%(expressions)s, 1, 5) || CASE WHEN substr(%(expressions)s, 6, 2) <= '03' THEN '01' "
        "WHEN substr(%(expressions)s, 6, 2) <= '06' THEN '04' WHEN substr(%(expressions)s, 6, 2) <= '09' "
        "THEN '07' ELSE '10' END || '-01'"
    ),
}


class _BucketStart(Func):
    """The first day of the line's bucket: Django's Trunc, or SQLite's date functions on SQLite."""

    output_field = DateField()

    def __init__(self, period: str) -> None:
        super().__init__(F("occurred_on"))
        self.period = period

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> Any:
        trunc = {"week": TruncWeek, "month": TruncMonth, "quarter": TruncQuarter}[self.period]
        return compiler.compile(trunc(self.source_expressions[0], output_field=DateField()))

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, template=_SQLITE_BUCKETS[self.period], **extra)


def _bucket_expression(period: str) -> Any:
    return F("occurred_on") if period == "day" else _BucketStart(period)


# --- whose lines -------------------------------------------------------------------------------------


@dataclass
class Scope:
    lines: QuerySet[ConsumptionLine]
    customer: Customer | None = None


def consumption_scope(*, user: Any, query: StatsQuery, customers: QuerySet[Customer] | None = None) -> Scope:
    """The lines the statistics count: one visible customer's (an unknown or hidden number is a field
    error), or those of the visible customers in the group (``customers``: an explicit set, narrowed to
    the visible ones)."""
    require_permission(user, OBJECT_TYPE, VIEW)
    lines = ConsumptionLine.objects.order_by()
    if query.customer:
        try:
            customer = customer_by_number(user=user, customer_number=query.customer)
        except Http404:
            raise ValidationError({"customer": [_("No customer you may see has this number.")]}) from None
        return Scope(lines.filter(customer_id=customer.pk), customer)
    if customers is not None:
        return Scope(
            lines.filter(customer__in=customers.order_by().values("pk")).filter(
                visible_customers_q(user, via="customer__")
            )
        )
    group = filtered_customers(
        user, CustomerFilters(category_id=query.category_id, tag=query.tag, role_id=query.role_id)
    )
    if query.owner_id:
        if query.subordinates:
            group = group.filter(
                owner_id__in=Reach.objects.filter(manager_id=query.owner_id).values("member_id")
            )
        else:
            group = group.filter(owner_id=query.owner_id)
    return Scope(lines.filter(customer__in=group.order_by().values("pk")))


def lines_of(*, user: Any, customer: Customer) -> QuerySet[ConsumptionLine]:
    """One customer's lines, newest first (the customer already read through the visibility rules)."""
    require_permission(user, OBJECT_TYPE, VIEW)
    return ConsumptionLine.objects.filter(customer_id=customer.pk).order_by("-occurred_on", "-id")


def line_for(*, user: Any, pk: int) -> ConsumptionLine:
    require_permission(user, OBJECT_TYPE, VIEW)
    line = (
        ConsumptionLine.objects.filter(visible_customers_q(user, via="customer__"))
        .select_related("customer")
        .filter(pk=pk)
        .first()
    )
    if line is None:
        raise Http404
    return line


# --- the figures -------------------------------------------------------------------------------------


def _change(current: Decimal | int, previous: Decimal | int) -> dict[str, Any]:
    diff = Decimal(current) - Decimal(previous)
    pct = None
    if previous:
        pct = (diff * 100 / abs(Decimal(previous))).quantize(Decimal("0.1"))
    if isinstance(current, int) and isinstance(previous, int):
        return {"absolute": int(diff), "percent": pct}
    return {"absolute": diff, "percent": pct}


def _money(value: Any) -> Decimal:
    """A sum as stored amounts are written (SQLite hands back ``Decimal("16")`` for 16.00)."""
    return (Decimal(value) if value is not None else _ZERO).quantize(_ZERO) + 0


def _quantity(value: Any) -> Decimal:
    return (Decimal(value) if value is not None else _ZERO).quantize(Decimal("0.001")) + 0


def _figures(row: Mapping[str, Any] | None) -> dict[str, Any]:
    row = row or {}
    return {
        "revenue": _money(row.get("revenue")),
        "purchases": _money(row.get("purchases")),
        "returns": _money(row.get("returns")),
        "other_charges": _money(row.get("other_charges")),
        "quantity": _quantity(row.get("quantity")),
        "lines": row.get("lines") or 0,
    }


def _add(into: dict[str, Any], row: Mapping[str, Any]) -> None:
    for key, value in _figures(row).items():
        into[key] = into[key] + value


def _aggregates() -> dict[str, Any]:
    return {
        "revenue": Sum("amount", filter=Q(kind__in=PRODUCT_KINDS)),
        "purchases": Sum("amount", filter=Q(kind__in=BOUGHT_KINDS)),
        "returns": Sum("amount", filter=Q(kind=ConsumptionKind.RETURN)),
        "other_charges": Sum("amount", filter=Q(kind=ConsumptionKind.NON_PRODUCT)),
        "quantity": Sum("quantity", filter=Q(kind__in=PRODUCT_KINDS)),
        "lines": Count("id"),
    }


def _totals_and_buckets(
    lines: QuerySet[ConsumptionLine], query: StatsQuery, previous: tuple[dt.date, dt.date]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """One query: per (current or previous period, bucket, currency) the figures."""
    rows = list(
        lines.filter(occurred_on__gte=previous[0], occurred_on__lte=query.date_to)
        .annotate(
            current=Case(
                When(occurred_on__gte=query.date_from, then=Value(True)),
                default=Value(False),
                output_field=BoolField(),
            ),
            bucket=_bucket_expression(query.period),
        )
        .values("current", "bucket", "currency")
        .annotate(**_aggregates())
        .order_by()
    )
    now_starts = bucket_starts(query.date_from, query.date_to, query.period)
    before_starts = bucket_starts(previous[0], previous[1], query.period)
    currencies: dict[str, Decimal] = {}
    for row in rows:
        currencies[row["currency"]] = currencies.get(row["currency"], _ZERO) + abs(row["revenue"] or _ZERO)
    codes = sorted(currencies, key=lambda c: (-currencies[c], c))
    now_cells: dict[tuple[dt.date, str], dict[str, Any]] = {}
    before_cells: dict[tuple[dt.date, str], dict[str, Any]] = {}
    totals = {code: {"current": _figures(None), "previous": _figures(None)} for code in codes}
    for row in rows:
        bucket = row["bucket"]
        if isinstance(bucket, dt.datetime):
            bucket = bucket.date()
        current = bool(row["current"])
        (now_cells if current else before_cells)[(bucket, row["currency"])] = _figures(row)
        _add(totals[row["currency"]]["current" if current else "previous"], row)
    buckets = []
    for index, start in enumerate(now_starts):
        before = before_starts[index] if index < len(before_starts) else None
        buckets.append(
            {
                "start": start,
                "previous_start": before,
                "currencies": {
                    code: {
                        "current": now_cells.get((start, code)) or _figures(None),
                        "previous": (before_cells.get((before, code)) if before else None) or _figures(None),
                    }
                    for code in codes
                },
            }
        )
    total_rows = []
    for code in codes:
        now, earlier = totals[code]["current"], totals[code]["previous"]
        total_rows.append(
            {
                "currency": code,
                **now,
                "previous": earlier,
                "change": {
                    key: _change(now[key], earlier[key])
                    for key in ("revenue", "other_charges", "quantity", "lines")
                },
            }
        )
    return total_rows, buckets, codes


def _tops(lines: QuerySet[ConsumptionLine]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two queries: every product code's revenue, quantity and lines (one row per code and currency, read
    from the statistics index alone); the top ten by revenue and by quantity are picked from those rows,
    and only their names and products are then read from the lines."""
    rows = [
        {
            "sku": row["sku"],
            "currency": row["currency"],
            "description": "",
            "product_id": None,
            "amount": _money(row["amount"]),
            "quantity": _quantity(row["quantity"]),
            "lines": row["lines"],
        }
        for row in lines.filter(kind__in=PRODUCT_KINDS)
        .values("sku", "currency")
        .annotate(amount=Sum("amount"), quantity=Sum("quantity"), lines=Count("id"))
        .order_by()
    ]
    by_amount = heapq.nsmallest(TOP, rows, key=lambda r: (-r["amount"], r["sku"], r["currency"]))
    by_quantity = heapq.nsmallest(TOP, rows, key=lambda r: (-r["quantity"], r["sku"], r["currency"]))
    skus = {r["sku"] for r in [*by_amount, *by_quantity] if r["sku"]}
    if skus:  # the product of each code (SKUs are unique whatever their case); a code of none shows as is
        products = {
            sku.upper(): (pk, name)
            for pk, sku, name in Product.objects.filter(sku__in=skus).values_list("pk", "sku", "name")
        }
        for row in [*by_amount, *by_quantity]:
            pk, name = products.get(row["sku"].upper(), (None, ""))
            row["description"], row["product_id"] = name, pk
    return by_amount, by_quantity


def _frequency(lines: QuerySet[ConsumptionLine]) -> dict[str, Any]:
    """One query: per customer with purchases, their purchase days, invoices, first and last date, summed
    over the customers in the database (a group of 10,000 returns one row, not 10,000)."""
    per_customer = (
        lines.filter(kind__in=BOUGHT_KINDS, quantity__gt=0)
        .values("customer_id")
        .annotate(
            days=Count("occurred_on", distinct=True),
            invoices=Count("reference", distinct=True, filter=~Q(reference="")),
            first=Min("occurred_on"),
            last=Max("occurred_on"),
        )
        .order_by()
        .values("days", "invoices", "first", "last")
    )
    sql, params = per_customer.query.sql_with_params()
    if connection.vendor == "postgresql":
        span = 't."last" - t."first"'
    else:
        span = 'CAST(julianday(t."last") - julianday(t."first") AS INTEGER)'
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), SUM(t.days), SUM(t.invoices), MIN(t.first), MAX(t.last), "  # noqa: S608 - no input
            f"SUM(CASE WHEN t.days >= 2 THEN {span} ELSE 0 END), "
            "SUM(CASE WHEN t.days >= 2 THEN t.days - 1 ELSE 0 END) "
            f"FROM ({sql}) t",
            params,
        )
        customers, days, invoices, first, last, span_days, gaps = cursor.fetchone()
    if isinstance(first, str):  # SQLite gives dates back as text
        first, last = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return {
        "customers": int(customers or 0),
        "purchase_days": int(days or 0),
        "invoices": int(invoices or 0),
        "first": first,
        "last": last,
        "average_days_between": (Decimal(int(span_days)) / int(gaps)).quantize(Decimal("0.1"))
        if gaps
        else None,
    }


def percentile(histogram: list[tuple[Decimal, int]], p: Decimal) -> Decimal:
    """PERCENTILE.INC of the values a sorted (value, count) histogram holds."""
    total = sum(n for _value, n in histogram)
    rank = p * (total - 1)
    low = int(rank)
    frac = rank - low

    def at(index: int) -> Decimal:
        seen = 0
        for value, n in histogram:
            seen += n
            if index < seen:
                return value
        return histogram[-1][0]

    low_value = at(low)
    value = low_value if not frac else low_value + frac * (at(low + 1) - low_value)
    return value.quantize(Decimal("0.0001"))


def _price_ranges(lines: QuerySet[ConsumptionLine], keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """One query: the distinct unit prices of the products named and how many lines paid each."""
    if not keys:
        return []
    rows = (
        lines.filter(
            kind__in=BOUGHT_KINDS,
            unit_price__gt=0,
            sku__in={k[0] for k in keys},
            currency__in={k[1] for k in keys},
        )
        .values("sku", "currency", "unit_price")
        .annotate(n=Count("id"))
        .order_by("sku", "currency", "unit_price")
    )
    histograms: dict[tuple[str, str], list[tuple[Decimal, int]]] = {}
    for row in rows:
        histograms.setdefault((row["sku"], row["currency"]), []).append((row["unit_price"], row["n"]))
    out = []
    for key in keys:
        histogram = histograms.get(key)
        if not histogram:
            continue
        out.append(
            {
                "sku": key[0],
                "currency": key[1],
                "lines": sum(n for _value, n in histogram),
                "min": histogram[0][0].quantize(Decimal("0.0001")),
                "p25": percentile(histogram, Decimal("0.25")),
                "median": percentile(histogram, Decimal("0.5")),
                "p75": percentile(histogram, Decimal("0.75")),
                "max": histogram[-1][0].quantize(Decimal("0.0001")),
            }
        )
    return out


def consumption_stats(*, scope: Scope, query: StatsQuery) -> dict[str, Any]:
    """Every figure of the statistics page and API, in four queries."""
    previous = previous_range(query.date_from, query.date_to)
    totals, buckets, codes = _totals_and_buckets(scope.lines, query, previous)
    current = scope.lines.filter(occurred_on__gte=query.date_from, occurred_on__lte=query.date_to)
    by_amount, by_quantity = _tops(current)
    keys = list(dict.fromkeys((r["sku"], r["currency"]) for r in [*by_amount, *by_quantity]))
    names = {(r["sku"], r["currency"]): r["description"] for r in [*by_amount, *by_quantity]}
    ranges = _price_ranges(current, keys)
    for row in ranges:
        row["description"] = names.get((row["sku"], row["currency"]), "")
    return {
        "period": query.period,
        "from": query.date_from,
        "to": query.date_to,
        "previous_from": previous[0],
        "previous_to": previous[1],
        "currencies": codes,
        "totals": totals,
        "buckets": buckets,
        "top_by_amount": by_amount,
        "top_by_quantity": by_quantity,
        "frequency": _frequency(current),
        "price_ranges": ranges,
    }


SUBJECT_COLUMNS = (
    "occurred_on",
    "period_start",
    "period_end",
    "sku",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "currency",
    "kind",
    "source",
    "reference",
    "line_number",
)


def subject_rows(customer: Customer) -> Iterator[dict[str, Any]]:
    """A customer's lines for the data-subject export (``kith.privacy.subject_data``), oldest first."""
    rows = ConsumptionLine.objects.filter(customer_id=customer.pk).order_by("occurred_on", "id")
    for row in rows.values(*SUBJECT_COLUMNS).iterator(chunk_size=2000):
        yield {
            key: value if isinstance(value, str | int) or value is None else str(value)
            for key, value in row.items()
        }
