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
