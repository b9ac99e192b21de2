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
from django.db.models import QuerySet
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


# The bucket's first day. SQLite: its own date functions (Django's Trunc calls a Python function per row
# there, which made the bucket query of a 10,000-customer group ~6× slower); dates are "YYYY-MM-DD" text.
_SQLITE_BUCKETS = {
    "week": "date(%(expressions)s, 'weekday 0', '-6 days')",
    "month": "date(%(expressions)s, 'start of month')",
    "quarter": (
        "substr(%(expressions)s, 1, 5) || CASE WHEN substr(%(expressions)s, 6, 2) <= '03' THEN '01' "
        "WHEN substr(%(expressions)s, 6, 2) <= '06' THEN '04' WHEN substr(%(expressions)s, 6, 2) <= '09' "
        "THEN '07' ELSE '10' END || '-01'"
    ),
}


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


_POSTGRES_BUCKETS = {
    "week": "CAST(DATE_TRUNC('week', %(expressions)s) AS date)",  # ISO weeks: from Monday
    "month": "CAST(DATE_TRUNC('month', %(expressions)s) AS date)",
    "quarter": "CAST(DATE_TRUNC('quarter', %(expressions)s) AS date)",
}


def _bucket_sql(period: str, column: str) -> str:
    if period == "day":
        return column
    templates = _POSTGRES_BUCKETS if connection.vendor == "postgresql" else _SQLITE_BUCKETS
    return templates[period] % {"expressions": column}


def _decimal(value: Any) -> Decimal | None:
    """A number as the database hands it back: SQLite gives floats (their shortest text is the stored
    value) or integers, PostgreSQL Decimals."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _day(value: Any) -> dt.date | None:
    if isinstance(value, str):  # SQLite keeps dates as text
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value  # type: ignore[no-any-return]


def _one_pass(
    lines: QuerySet[ConsumptionLine], query: StatsQuery, previous: tuple[dt.date, dt.date]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One statement and one walk of the statistics index for both periods: the lines are read once (a
    common table expression, which both engines materialise because it is used twice), then

    - grouped per (current or previous period, bucket, currency, kind, product code, unit price) with the
      summed amount and quantity and the number of lines: the buckets, totals, top products and price
      ranges are all read from these rows (a group of 10,000 customers over a year gives a few thousand);
    - per buying customer of the period (purchase days, invoices, first and last date), added up into one
      row: the purchase frequency.

    A group's lines were read four times, once per figure, before; reading them is most of the cost."""
    inner = lines.filter(occurred_on__gte=previous[0], occurred_on__lte=query.date_to).values_list(
        "customer_id",
        "occurred_on",
        "kind",
        "currency",
        "sku",
        "unit_price",
        "quantity",
        "amount",
        "reference",
    )
    inner_sql, inner_params = inner.query.sql_with_params()
    if connection.vendor == "postgresql":
        span = "t.last_day - t.first_day"
    else:
        span = "CAST(julianday(t.last_day) - julianday(t.first_day) AS INTEGER)"
    bought = ", ".join(["%s"] * len(BOUGHT_KINDS))
    none = {kind: f"CAST(NULL AS {kind})" for kind in ("date", "text", "numeric", "bigint")}
    sql = (
        f"WITH l (customer_id, occurred_on, kind, currency, sku, unit_price, quantity, amount, reference) "  # noqa: S608 - no input
        f"AS ({inner_sql}) "
        "SELECT 0, CASE WHEN l.occurred_on >= %s THEN 1 ELSE 0 END, "
        f"{_bucket_sql(query.period, 'l.occurred_on')}, l.currency, l.kind, l.sku, l.unit_price, "
        "SUM(l.amount), SUM(l.quantity), COUNT(*), "
        f"{none['bigint']}, {none['bigint']}, {none['bigint']}, {none['date']}, {none['date']}, "
        f"{none['bigint']}, {none['bigint']} "
        "FROM l GROUP BY 2, 3, 4, 5, 6, 7 "
        "UNION ALL "
        f"SELECT 1, 1, {none['date']}, {none['text']}, {none['text']}, {none['text']}, {none['numeric']}, "
        f"{none['numeric']}, {none['numeric']}, {none['bigint']}, "
        "COUNT(*), SUM(t.days), SUM(t.invoices), MIN(t.first_day), MAX(t.last_day), "
        f"SUM(CASE WHEN t.days >= 2 THEN {span} ELSE 0 END), "
        "SUM(CASE WHEN t.days >= 2 THEN t.days - 1 ELSE 0 END) "
        "FROM (SELECT l.customer_id, COUNT(DISTINCT l.occurred_on) AS days, "
        "COUNT(DISTINCT CASE WHEN l.reference <> '' THEN l.reference END) AS invoices, "
        "MIN(l.occurred_on) AS first_day, MAX(l.occurred_on) AS last_day "
        f"FROM l WHERE l.occurred_on >= %s AND l.kind IN ({bought}) AND l.quantity > 0 "
        "GROUP BY l.customer_id) t"
    )
    params = [*inner_params, query.date_from, query.date_from, *BOUGHT_KINDS]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    rows: list[dict[str, Any]] = []
    frequency: dict[str, Any] = {}
    for part, current, bucket, currency, kind, sku, price, amount, quantity, count, *rest in found:
        if part == 0:
            rows.append(
                {
                    "current": bool(current),
                    "bucket": _day(bucket),
                    "currency": currency,
                    "kind": kind,
                    "sku": sku,
                    "unit_price": _decimal(price),
                    "amount": _money(_decimal(amount)),
                    "quantity": _quantity(_decimal(quantity)),
                    "lines": int(count),
                }
            )
            continue
        customers, days, invoices, first, last, span_days, gaps = rest
        frequency = {
            "customers": int(customers or 0),
            "purchase_days": int(days or 0),
            "invoices": int(invoices or 0),
            "first": _day(first),
            "last": _day(last),
            "average_days_between": (Decimal(int(span_days)) / int(gaps)).quantize(Decimal("0.1"))
            if gaps
            else None,
        }
    return rows, frequency


_PRODUCT = frozenset(PRODUCT_KINDS)
_BOUGHT = frozenset(BOUGHT_KINDS)


def _cell() -> dict[str, Any]:
    return {
        "revenue": _ZERO,
        "purchases": _ZERO,
        "returns": _ZERO,
        "other_charges": _ZERO,
        "quantity": _quantity(None),
        "lines": 0,
    }


def _count_into(cell: dict[str, Any], row: Mapping[str, Any]) -> None:
    """Add one grouped row to a bucket's or a total's figures by the counting rules."""
    kind, amount = row["kind"], row["amount"]
    if kind in _PRODUCT:
        cell["revenue"] += amount
        cell["quantity"] += row["quantity"]
    if kind in _BOUGHT:
        cell["purchases"] += amount
    elif kind == ConsumptionKind.RETURN:
        cell["returns"] += amount
    elif kind == ConsumptionKind.NON_PRODUCT:
        cell["other_charges"] += amount
    cell["lines"] += row["lines"]


def _totals_and_buckets(
    rows: list[dict[str, Any]], query: StatsQuery, previous: tuple[dt.date, dt.date]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Per bucket and currency and per currency in all, this period against the previous one."""
    now_starts = bucket_starts(query.date_from, query.date_to, query.period)
    before_starts = bucket_starts(previous[0], previous[1], query.period)
    weight: dict[str, Decimal] = {}
    cells: dict[tuple[bool, dt.date, str], dict[str, Any]] = {}
    sums: dict[tuple[bool, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["current"], row["bucket"], row["currency"])
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = _cell()
        _count_into(cell, row)
    for (current, _bucket, code), cell in cells.items():
        total = sums.get((current, code))
        if total is None:
            total = sums[(current, code)] = _cell()
        for name, value in cell.items():
            total[name] += value
    for (_current, code), total in sums.items():
        weight[code] = weight.get(code, _ZERO) + abs(total["revenue"])
    codes = sorted(weight, key=lambda c: (-weight[c], c))
    buckets = []
    for index, start in enumerate(now_starts):
        before = before_starts[index] if index < len(before_starts) else None
        buckets.append(
            {
                "start": start,
                "previous_start": before,
                "currencies": {
                    code: {
                        "current": cells.get((True, start, code)) or _cell(),
                        "previous": (cells.get((False, before, code)) if before else None) or _cell(),
                    }
                    for code in codes
                },
            }
        )
    total_rows = []
    for code in codes:
        now = sums.get((True, code)) or _cell()
        earlier = sums.get((False, code)) or _cell()
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


def _tops(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ten product codes of the period with the most revenue and the ten with the most quantity (per
    code and currency, from the grouped rows); only their names are then read from the products."""
    per_code: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        if not row["current"] or row["kind"] not in _PRODUCT:
            continue
        key = (row["sku"], row["currency"])
        top = per_code.get(key)
        if top is None:
            top = per_code[key] = {
                "sku": key[0],
                "currency": key[1],
                "description": "",
                "product_id": None,
                "amount": _ZERO,
                "quantity": _quantity(None),
                "lines": 0,
            }
        top["amount"] += row["amount"]
        top["quantity"] += row["quantity"]
        top["lines"] += row["lines"]
    candidates = per_code.values()
    by_amount = heapq.nsmallest(TOP, candidates, key=lambda r: (-r["amount"], r["sku"], r["currency"]))
    by_quantity = heapq.nsmallest(TOP, candidates, key=lambda r: (-r["quantity"], r["sku"], r["currency"]))
    by_amount = [dict(r) for r in by_amount]
    by_quantity = [dict(r) for r in by_quantity]
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


def _price_ranges(rows: list[dict[str, Any]], keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The unit prices the products named were bought at in the period, and how many lines paid each."""
    if not keys:
        return []
    wanted = set(keys)
    counts: dict[tuple[str, str], dict[Decimal, int]] = {}
    for row in rows:
        key = (row["sku"], row["currency"])
        price = row["unit_price"]
        if not row["current"] or row["kind"] not in _BOUGHT or key not in wanted or price is None:
            continue
        price = Decimal(price)
        if price <= 0:
            continue
        prices = counts.setdefault(key, {})
        prices[price] = prices.get(price, 0) + row["lines"]
    out = []
    for key in keys:
        if key not in counts:
            continue
        histogram = sorted(counts[key].items())
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
    """Every figure of the statistics page and API: one grouped pass over the lines of both periods, one
    for the purchase frequency, one for the top products' names."""
    previous = previous_range(query.date_from, query.date_to)
    rows, frequency = _one_pass(scope.lines, query, previous)
    totals, buckets, codes = _totals_and_buckets(rows, query, previous)
    by_amount, by_quantity = _tops(rows)
    keys = list(dict.fromkeys((r["sku"], r["currency"]) for r in [*by_amount, *by_quantity]))
    names = {(r["sku"], r["currency"]): r["description"] for r in [*by_amount, *by_quantity]}
    ranges = _price_ranges(rows, keys)
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
        "frequency": frequency,
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
