"""price_for (price lists by customer group, validity, quantity, lowest wins) and convert (direct, inverse)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kith.parties.services import catalogues
from kith.parties.services import customers as customer_services
from kith.sales import services
from kith.sales.choices import PriceSource
from kith.sales.selectors import NoExchangeRate, convert, price_for, rate_between
from kith.sales.tests.factories import price_list, product

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 6, 15)


@pytest.fixture
def groups():
    tree = catalogues.category_tree_create(actor=None, data={"name": "Customer group"})
    wholesale = catalogues.category_create(actor=None, tree=tree, name="Wholesale")
    gold = catalogues.category_create(actor=None, tree=tree, name="Gold", parent=wholesale)
    retail = catalogues.category_create(actor=None, tree=tree, name="Retail")
    return {"wholesale": wholesale, "gold": gold, "retail": retail}


def _customer(*categories):
    return customer_services.customer_create(
        actor=None, kind="company", data={"legal_name": "Buyer Ltd"}, category_ids=[c.pk for c in categories]
    )


def _rate(source, target, rate, day):
    services.exchange_rate_create(
        actor=None, data={"from_currency": source, "to_currency": target, "rate": rate, "date": day}
    )


def test_without_a_price_list_the_list_price(groups):
    sim = product(list_price="10.00")
    price = price_for(sim, _customer(groups["retail"]), on=DAY)
    assert (price.amount, price.currency, price.source) == (Decimal("10.00"), "EUR", PriceSource.LIST_PRICE)


def test_the_group_list_beats_the_list_price_even_above_it(groups):
    sim = product(list_price="10.00")
    wholesale = price_list(
        customer_group=groups["wholesale"].pk, items=[{"product": sim, "unit_price": "8.00"}]
    )
    price_list(
        name="Retail", customer_group=groups["retail"].pk, items=[{"product": sim, "unit_price": "12.00"}]
    )
    member = _customer(groups["gold"])  # a category below the list's group counts
    price = price_for(sim, member, on=DAY)
    assert (price.amount, price.source, price.price_list) == (
        Decimal("8.00"),
        PriceSource.PRICE_LIST,
        wholesale,
    )
    assert price_for(sim, _customer(groups["retail"]), on=DAY).amount == Decimal("12.00")
    assert price_for(sim, None, on=DAY).source == PriceSource.LIST_PRICE  # no group, no group list
    assert price_for(sim, _customer(), on=DAY).amount == Decimal("10.00")


def test_validity_dates_and_the_active_flag(groups):
    sim = product(list_price="10.00")
    price_list(
        name="Summer",
        valid_from="2026-06-01",
        valid_to="2026-06-30",
        items=[{"product": sim, "unit_price": "7.00"}],
    )
    price_list(name="Off", is_active=False, items=[{"product": sim, "unit_price": "1.00"}])
    assert price_for(sim, None, on=dt.date(2026, 6, 1)).amount == Decimal("7.00")  # bounds included
    assert price_for(sim, None, on=dt.date(2026, 6, 30)).amount == Decimal("7.00")
    assert price_for(sim, None, on=dt.date(2026, 5, 31)).amount == Decimal("10.00")
    assert price_for(sim, None, on=dt.date(2026, 7, 1)).amount == Decimal("10.00")


def test_min_quantity_and_the_lowest_wins(groups):
    sim = product(list_price="10.00")
    price_list(
        name="Everyone",
        items=[
            {"product": sim, "unit_price": "9.00"},
            {"product": sim, "unit_price": "8.00", "min_quantity": "10"},
            {"product": sim, "unit_price": "7.00", "min_quantity": "100"},
        ],
    )
    price_list(name="Gold", customer_group=groups["gold"].pk, items=[{"product": sim, "unit_price": "8.50"}])
    gold = _customer(groups["gold"])
    assert price_for(sim, gold, on=DAY, quantity=1).amount == Decimal("8.50")
    assert price_for(sim, gold, on=DAY, quantity=9).amount == Decimal("8.50")
    assert price_for(sim, gold, on=DAY, quantity=10).amount == Decimal("8.00")
    assert price_for(sim, gold, on=DAY, quantity=Decimal("250")).amount == Decimal("7.00")
    assert price_for(sim, None, on=DAY, quantity=1).amount == Decimal("9.00")


def test_a_list_in_another_currency_applies_only_when_that_currency_is_asked_for():
    sim = product(list_price="10.00", currency="EUR")
    price_list(name="USD", currency="USD", items=[{"product": sim, "unit_price": "9.00"}])
    assert price_for(sim, None, on=DAY).amount == Decimal("10.00")
    assert price_for(sim, None, on=DAY, currency="USD").amount == Decimal("9.00")


def test_convert_direct_inverse_latest_and_none():
    _rate("EUR", "USD", "1.10", dt.date(2026, 1, 1))
    _rate("EUR", "USD", "1.20", dt.date(2026, 3, 1))
    _rate("USD", "CNY", "7.00000000", dt.date(2026, 1, 1))
    assert convert(Decimal("10.00"), "EUR", "USD", on=dt.date(2026, 2, 1)) == Decimal("11.00")
    assert convert(Decimal("10.00"), "EUR", "USD", on=dt.date(2026, 3, 1)) == Decimal("12.00")
    assert convert(Decimal("12.00"), "USD", "EUR", on=dt.date(2026, 3, 2)) == Decimal("10.00")  # inverse
    assert convert(Decimal("7.00"), "CNY", "USD", on=DAY) == Decimal("1.00")
    assert convert(Decimal("5"), "EUR", "EUR") == Decimal("5")
    # a newer opposite rate wins over an older direct one
    _rate("USD", "EUR", "0.50", dt.date(2026, 4, 1))
    assert rate_between("EUR", "USD", on=DAY) == Decimal(2)
    with pytest.raises(NoExchangeRate) as excinfo:
        convert(Decimal("1"), "EUR", "USD", on=dt.date(2025, 12, 31))  # no rate on or before the date
    assert "EUR" in excinfo.value.message and "2025-12-31" in excinfo.value.message
    with pytest.raises(NoExchangeRate):
        convert(Decimal("1"), "EUR", "JPY", on=DAY)


def test_convert_rounds_to_the_target_currency():
    _rate("EUR", "JPY", "161.237", DAY)
    assert convert(Decimal("10.00"), "EUR", "JPY", on=DAY) == Decimal("1612")
    assert convert(Decimal("1000"), "JPY", "EUR", on=DAY) == Decimal("6.20")


def test_the_list_price_is_converted_when_another_currency_is_asked_for():
    sim = product(list_price="10.00", currency="EUR")
    _rate("EUR", "GBP", "0.85", DAY)
    price = price_for(sim, None, on=DAY, currency="GBP")
    assert (price.amount, price.currency, price.source) == (Decimal("8.50"), "GBP", PriceSource.LIST_PRICE)
    with pytest.raises(NoExchangeRate):
        price_for(sim, None, on=DAY, currency="CHF")
