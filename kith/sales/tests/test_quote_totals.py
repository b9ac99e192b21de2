"""Quote totals are exact: Decimal arithmetic, each line rounded half up to the currency, totals adding
the rounded lines."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kith.sales.services.quote_totals import line_amounts, quote_totals, round_money
from kith.sales.services.quotes import quote_line_add, quote_line_update
from kith.sales.tests.quote_factories import free_line, quote

D = Decimal


def test_three_at_19_99_with_7_5_percent_off_and_13_percent_tax():
    line = line_amounts(
        quantity=D(3), unit_price=D("19.99"), discount_percent=D("7.5"), tax_rate=D(13), currency="EUR"
    )
    # 59.97 gross; 59.97 x 0.925 = 55.47225 -> 55.47; 55.47 x 0.13 = 7.2111 -> 7.21
    assert (line.gross, line.net, line.tax, line.total) == (D("59.97"), D("55.47"), D("7.21"), D("62.68"))
    totals = quote_totals([line])
    assert totals.subtotal == D("59.97") and totals.discount_total == D("4.50")
    assert totals.tax_total == D("7.21") and totals.total == D("62.68")


def test_yen_has_no_decimals():
    line = line_amounts(
        quantity=D(3), unit_price=D(333), discount_percent=D("12.5"), tax_rate=D(10), currency="JPY"
    )
    # 999 x 0.875 = 874.125 -> 874; 87.4 -> 87
    assert (line.gross, line.net, line.tax, line.total) == (D(999), D(874), D(87), D(961))


def test_thirds_round_half_up_per_line_and_the_lines_add_up():
    lines = [
        line_amounts(
            quantity=D("0.333"), unit_price=D("10.00"), discount_percent=D(0), tax_rate=D(20), currency="EUR"
        )
        for _ in range(3)
    ]
    # 3.33 each (0.666 tax -> 0.67); the total is the sum of the rounded lines, not of 9.99 x 1.2
    assert [line.net for line in lines] == [D("3.33")] * 3 and lines[0].tax == D("0.67")
    totals = quote_totals(lines)
    assert totals.subtotal == D("9.99") and totals.tax_total == D("2.01") and totals.total == D("12.00")
    assert sum(line.total for line in lines) == totals.total


def test_half_a_cent_rounds_up_and_a_full_discount_is_free():
    assert round_money(D("0.005"), "EUR") == D("0.01") and round_money(D("2.5"), "JPY") == D(3)
    free = line_amounts(
        quantity=D(2), unit_price=D("5.00"), discount_percent=D(100), tax_rate=D(20), currency="EUR"
    )
    assert (free.gross, free.net, free.tax) == (D("10.00"), D("0.00"), D("0.00"))


def test_overall_discount_percent_is_rounded_up():
    totals = quote_totals(
        [
            line_amounts(
                quantity=D(3), unit_price=D("1.00"), discount_percent=D(0), tax_rate=D(0), currency="EUR"
            )
        ]
    )
    assert totals.discount_percent == D("0.00")
    odd = quote_totals(
        [
            line_amounts(
                quantity=D(3),
                unit_price=D("1.00"),
                discount_percent=D("33.33"),
                tax_rate=D(0),
                currency="EUR",
            )
        ]
    )
    # 3.00 - 2.00 = 1.00 off 3.00 = 33.333...% -> 33.34
    assert odd.discount_total == D("1.00") and odd.discount_percent == D("33.34")


@pytest.mark.django_db
def test_the_saved_quote_keeps_its_totals_in_step_with_its_lines():
    made = quote(lines=[free_line(quantity="3", unit_price="19.99", discount_percent="7.5", tax_rate="13")])
    assert (made.subtotal, made.discount_total, made.tax_total, made.total) == (
        D("59.97"),
        D("4.50"),
        D("7.21"),
        D("62.68"),
    )
    line = quote_line_add(
        actor=None, quote=made, data=free_line(quantity="1", unit_price="0.01", tax_rate="50")
    )
    assert line.net == D("0.01") and line.tax == D("0.01")  # 0.005 rounds half up
    assert made.total == D("62.70")
    quote_line_update(actor=None, line=line, data={"quantity": "2"})
    made.refresh_from_db()
    assert made.subtotal == D("59.99") and made.total == D("62.71")
