"""The real Online Retail invoice lines: imported by the documented rules, and each customer's revenue in
Kith equals what a spreadsheet gives on the file by the same rules."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from kith.parties.models import Customer
from kith.sales.imports.online_retail import import_online_retail
from kith.sales.models import ConsumptionLine, Product
from kith.sales.selectors.consumption import StatsQuery, consumption_scope, consumption_stats

ROWS = 4000
NOT_PRODUCTS = {"POST", "DOT", "C2", "M", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK", "B"}


def spreadsheet_revenue(path, rows: int) -> dict[str, Decimal]:
    """Per CustomerID: the sum of Quantity x UnitPrice (each rounded to pence) over the first ``rows``
    rows, exact duplicate rows and non-product codes left out — written apart from the importer."""
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    seen = set()
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for i, row in enumerate(csv.DictReader(handle)):
            if i >= rows:
                break
            key = tuple(row.values())
            if key in seen:
                continue
            seen.add(key)
            code = row["StockCode"].strip().upper()
            if code in NOT_PRODUCTS or code.startswith("GIFT_") or not row["CustomerID"]:
                continue
            amount = Decimal(row["Quantity"]) * Decimal(row["UnitPrice"])
            revenue[row["CustomerID"][:-2]] += amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return revenue


@pytest.mark.django_db
def test_online_retail_import_reconciles_per_customer(online_retail, admin_user):
    report = import_online_retail(online_retail, actor=admin_user, limit=ROWS)
    assert report.rows_read == ROWS
    assert report.rejected == 0, report.errors[:5]
    assert report.duplicates_skipped > 0  # the file has exact duplicate lines early on
    kept = ROWS - report.duplicates_skipped - report.stock_adjustments_skipped
    assert report.lines_added == kept == ConsumptionLine.objects.count()
    assert report.kinds["return"] > 0 and report.kinds["non_product"] > 0
    assert Product.objects.filter(sku="85123A").exists()
    assert not Product.objects.filter(sku__in=["POST", "DOT", "M"]).exists()  # not products
    expected = spreadsheet_revenue(online_retail, ROWS)
    customers = {
        c.custom_data["retail_customer_id"]: c
        for c in Customer.objects.filter(custom_data__has_key="retail_customer_id")
    }
    assert set(expected) <= set(customers)
    checked = 0
    for key in sorted(expected, key=lambda k: -abs(expected[k]))[:15]:  # the biggest, cancellations too
        query = StatsQuery(
            customer=customers[key].customer_number,
            period="month",
            date_from=dt.date(2010, 12, 1),
            date_to=dt.date(2011, 12, 31),
        )
        stats = consumption_stats(scope=consumption_scope(user=admin_user, query=query), query=query)
        gbp = next(t for t in stats["totals"] if t["currency"] == "GBP")
        assert gbp["revenue"] == expected[key], key
        checked += 1
    assert checked == 15
    # a second run of the same rows adds nothing
    again = import_online_retail(online_retail, actor=admin_user, limit=ROWS)
    assert again.lines_added == 0 and again.lines_existing == kept
    assert again.customers_added == 0 and again.products_added == 0


def test_line_rules():
    from kith.sales.imports.online_retail import line_of

    base = {
        "InvoiceNo": "536365",
        "StockCode": "85123A",
        "Description": "WHITE HANGING HEART",
        "Quantity": "6",
        "InvoiceDate": "2010-12-01 08:26:00",
        "UnitPrice": "2.55",
        "CustomerID": "17850.0",
        "Country": "United Kingdom",
    }
    assert line_of(base)[0] == "purchase"
    assert line_of({**base, "InvoiceNo": "C536379", "Quantity": "-1"})[0] == "return"
    assert line_of({**base, "InvoiceNo": "C536379", "Quantity": "1"}) == (
        "a cancellation invoice (C...) with a positive quantity"
    )
    bad_debt: Any = line_of(
        {**base, "InvoiceNo": "A563186", "StockCode": "B", "Quantity": "1", "UnitPrice": "-11062.06"}
    )
    assert (
        bad_debt[0] == "non_product"
        and bad_debt[1]["quantity"] == "-1"
        and bad_debt[1]["unit_price"] == "11062.06"
    )
    assert line_of({**base, "StockCode": "POST"})[0] == "non_product"
    assert line_of({**base, "StockCode": "gift_0001_20"})[0] == "non_product"
    assert line_of({**base, "Quantity": "-5", "UnitPrice": "0", "CustomerID": ""}) == "stock adjustment"
    assert line_of({**base, "UnitPrice": "0"})[0] == "purchase"  # zero price: quantity, no revenue
    assert line_of({**base, "UnitPrice": "-1"}) == "negative unit price on a product line"
    assert line_of({**base, "InvoiceDate": "soon"}) == "InvoiceDate is not a date"


def test_reads_plain_csv_too(tmp_path):
    from kith.sales.imports.online_retail import _rows

    plain = tmp_path / "lines.csv"
    plain.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,X,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n",
        encoding="utf-8",
    )
    assert [r["StockCode"] for _n, r in _rows(plain, None)] == ["85123A"]
    wrong = tmp_path / "other.csv"
    wrong.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(Exception, match="not an Online Retail file"):
        list(_rows(wrong, None))


# --- invoices as orders ------------------------------------------------------------------------------

SMALL_FILE = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom\n"  # duplicate
    "536365,POST,POSTAGE,1,2010-12-01 08:26:00,18.00,17850.0,United Kingdom\n"
    "536366,22633,HAND WARMER,3,2010-12-01 08:28:00,0.001,17850.0,United Kingdom\n"
    "C536379,85123A,WHITE HANGING HEART,-2,2010-12-01 09:41:00,2.55,17850.0,United Kingdom\n"
    "536380,22633,HAND WARMER,-10,2010-12-01 09:45:00,0,,United Kingdom\n"  # stock adjustment
    "A563186,B,Adjust bad debt,1,2011-08-12 14:51:00,-11062.06,,United Kingdom\n"
    "536381,22633,HAND WARMER,2,2010-12-01 10:00:00,1.85,,United Kingdom\n"
)


@pytest.fixture
def small_retail(tmp_path):
    path = tmp_path / "retail.csv"
    path.write_text(SMALL_FILE, encoding="utf-8")
    return path


def _revenue(user, customer) -> Any:
    query = StatsQuery(
        customer=customer.customer_number,
        period="month",
        date_from=dt.date(2010, 12, 1),
        date_to=dt.date(2011, 12, 31),
    )
    stats = consumption_stats(scope=consumption_scope(user=user, query=query), query=query)
    return {t["currency"]: (t["revenue"], t.get("other_charges"), t.get("quantity")) for t in stats["totals"]}


@pytest.mark.django_db
def test_invoices_become_orders_by_the_rules(small_retail, admin_user):
    from kith.core import timeline
    from kith.sales.models import Order, OrderLine, OrderStatus

    report = import_online_retail(small_retail, actor=admin_user, orders=True)
    assert report.orders is not None and report.orders.pop("seconds") >= 0
    assert report.orders == {
        "orders_added": 4,  # 536365, 536366, C536379, 536381; none for the stock adjustment or A563186
        "orders_existing": 0,
        "cancelled_orders": 1,
        "order_lines_added": 6,
        "order_lines_left_out": 1,  # the bad-debt line: a negative quantity on an ordinary invoice
        "invoices_without_lines": 1,
    }
    orders = {o.number: o for o in Order.objects.all()}
    assert set(orders) == {"OR-536365", "OR-536366", "OR-C536379", "OR-536381"}
    first = orders["OR-536365"]
    assert first.status == OrderStatus.SHIPPED and first.currency == "GBP"
    lines = list(first.lines.order_by("position"))
    assert [(line.description, line.quantity, line.net) for line in lines] == [
        ("WHITE HANGING HEART", Decimal(6), Decimal("15.30")),
        ("WHITE METAL LANTERN", Decimal(6), Decimal("20.34")),  # the duplicate row is left out
        ("POSTAGE", Decimal(1), Decimal("18.00")),
    ]
    assert all(line.shipped_quantity == line.quantity and line.open_quantity == 0 for line in lines)
    assert first.total == Decimal("53.64")
    assert first.customer.custom_data["retail_customer_id"] == "17850"
    # a price finer than pence is rounded on the order; the net is the consumption line's amount
    (cheap,) = orders["OR-536366"].lines.all()
    assert cheap.unit_price == Decimal("0.00") and cheap.net == Decimal("0.00")
    cancelled = orders["OR-C536379"]
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.cancelled_at is not None
    (returned,) = cancelled.lines.all()
    assert returned.quantity == Decimal(2) and returned.cancelled_quantity == Decimal(2)
    assert returned.shipped_quantity == 0 and cancelled.total == Decimal("5.10")
    assert orders["OR-536381"].customer.custom_data["retail_customer_id"] == "guest"
    assert OrderLine.objects.count() == 6
    # the customer's timeline shows the orders, at the invoice's time
    page = timeline.entries_for(first.customer, user=admin_user, kinds=["sales.order"])
    titles = {entry.title for entry in page.entries}
    assert titles == {
        "Order OR-536365 shipped",
        "Order OR-536366 shipped",
        "Order OR-C536379 cancelled",
    }
    when = next(e.occurred_at for e in page.entries if e.source_id == first.pk)
    assert when == dt.datetime(2010, 12, 1, 8, 26, tzinfo=dt.UTC)  # 08:26 in London in winter


@pytest.mark.django_db
def test_orders_count_no_revenue_twice(small_retail, admin_user):
    from kith.sales.models import ConsumptionSource

    import_online_retail(small_retail, actor=admin_user)
    customer = Customer.objects.get(custom_data__retail_customer_id="17850")
    before_lines = ConsumptionLine.objects.count()
    before = _revenue(admin_user, customer)
    assert before["GBP"][0] == Decimal("15.30") + Decimal("20.34") - Decimal("5.10")
    report = import_online_retail(small_retail, actor=admin_user, orders=True)  # orders after the lines
    assert report.orders is not None
    assert report.lines_added == 0 and report.orders["orders_added"] == 4
    assert ConsumptionLine.objects.count() == before_lines
    assert not ConsumptionLine.objects.filter(source=ConsumptionSource.ORDER).exists()
    assert _revenue(admin_user, customer) == before


@pytest.mark.django_db
def test_a_second_run_adds_no_order_and_each_chunk_is_one_audit_entry(small_retail, admin_user, monkeypatch):
    from kith.audit.models import AuditEntry
    from kith.core.models import TimelineEntry
    from kith.sales.imports import online_retail_orders
    from kith.sales.models import Order, OrderLine

    monkeypatch.setattr(online_retail_orders, "CHUNK", 2)
    import_online_retail(small_retail, actor=admin_user, orders=True)
    entries = AuditEntry.objects.filter(object_type__in=["sales.order", "sales.orderline"])
    # 6 invoices in chunks of 2: 3 chunks, each with new orders; nothing recorded per order or line
    assert list(entries.values_list("action", "object_type")) == [("import", "sales.order")] * 3
    assert sum(e.changes["orders"] for e in entries) == 4
    assert sum(e.changes["lines"] for e in entries) == 6
    counts = (
        Order.objects.count(),
        OrderLine.objects.count(),
        TimelineEntry.objects.count(),
        entries.count(),
    )
    again = import_online_retail(small_retail, actor=admin_user, orders=True)
    assert again.orders is not None
    assert again.orders["orders_added"] == 0 and again.orders["orders_existing"] == 4
    assert (
        Order.objects.count(),
        OrderLine.objects.count(),
        TimelineEntry.objects.count(),
        entries.count(),
    ) == counts


@pytest.mark.django_db
def test_importing_orders_needs_the_order_import_permission(small_retail, django_user_model):
    from django.core.exceptions import PermissionDenied

    from kith.sales.models import Order

    clerk = django_user_model.objects.create_user(username="clerk", password="x" * 12)
    with pytest.raises(PermissionDenied):
        import_online_retail(small_retail, actor=clerk, orders=True)
    assert not Order.objects.exists() and not ConsumptionLine.objects.exists()


def file_invoices(path, rows: int) -> tuple[dict[str, int], str]:
    """Per invoice of the first ``rows`` rows: how many order lines it should get (exact duplicates and
    stock adjustments out, lines whose sign does not fit the invoice out), and the last invoice —
    written apart from the importer."""
    counts: dict[str, int] = defaultdict(int)
    seen = set()
    last = ""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for i, row in enumerate(csv.DictReader(handle)):
            if i >= rows:
                break
            key = tuple(row.values())
            if key in seen:
                continue
            seen.add(key)
            invoice, quantity = row["InvoiceNo"], Decimal(row["Quantity"])
            last = invoice
            cancelled = invoice.startswith("C")
            if row["StockCode"] == "B" and Decimal(row["UnitPrice"]) < 0:
                quantity = -quantity
            if (quantity < 0) == cancelled and quantity != 0:
                counts[invoice] += 1
            else:
                counts.setdefault(invoice, 0)
    return {k: v for k, v in counts.items() if v and k != last}, last


@pytest.mark.django_db
def test_the_real_file_gives_one_order_per_invoice(online_retail, admin_user):
    from django.db.models import Count, Sum

    from kith.sales.models import Order, OrderStatus

    expected, last = file_invoices(online_retail, ROWS)
    report = import_online_retail(online_retail, actor=admin_user, limit=ROWS, orders=True)
    assert report.orders is not None and report.orders["orders_added"] == len(expected)
    made = dict(Order.objects.annotate(n=Count("lines")).values_list("number", "n"))
    assert made == {f"OR-{invoice}": n for invoice, n in expected.items()}
    assert not Order.objects.filter(number=f"OR-{last}").exists()  # the rows may stop inside it
    cancelled = Order.objects.filter(status=OrderStatus.CANCELLED)
    assert cancelled.count() == sum(1 for k in expected if k.startswith("C")) > 0
    # each order's total is what the statistics count for its invoice (cancellations as credits)
    some_cancelled = cancelled.first()
    assert some_cancelled is not None
    for order in Order.objects.filter(number__in=["OR-536365", some_cancelled.number]):
        invoice = order.number.removeprefix("OR-")
        amount = ConsumptionLine.objects.filter(reference=invoice).aggregate(s=Sum("amount"))["s"]
        assert order.total == abs(amount)


@pytest.mark.django_db
def test_imported_orders_show_on_the_order_and_customer_pages(small_retail, admin_user, client):
    from django.urls import reverse

    from kith.sales.models import Order

    import_online_retail(small_retail, actor=admin_user, orders=True)
    client.force_login(admin_user)
    order = Order.objects.get(number="OR-536365")
    page = client.get(reverse("sales:order_detail", args=[order.pk]))
    assert page.status_code == 200 and "OR-536365" in page.content.decode()
    listing = client.get(reverse("sales:order_list"))
    assert listing.status_code == 200 and "OR-C536379" in listing.content.decode()
    customer = client.get(reverse("parties:customer_detail", args=[order.customer.customer_number]))
    assert customer.status_code == 200 and "Order OR-536365 shipped" in customer.content.decode()
