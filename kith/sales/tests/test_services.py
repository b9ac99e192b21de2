"""Product, price-list and exchange-rate rules: field errors, never a half-saved record; version conflicts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kith.audit.models import AuditEntry
from kith.core.errors import ConflictError, DeleteRefused
from kith.sales import services
from kith.sales.models import ExchangeRate, PriceList, PriceListItem, Product
from kith.sales.tests.factories import price_list, product

pytestmark = pytest.mark.django_db


def _errors(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def test_a_product_is_created_with_decimal_money():
    made = product(list_price="12.5", currency="eur", tax_rate="7.5", sku=" Abc-1 ")
    made.refresh_from_db()
    assert made.sku == "Abc-1" and made.currency == "EUR" and made.unit == "pcs"
    assert made.list_price == Decimal("12.50") and made.tax_rate == Decimal("7.50") and made.version == 1
    free = product(list_price="-0", tax_rate="-0.0", sku="FREE-1")
    assert (str(free.list_price), str(free.tax_rate)) == ("0.00", "0.00")  # no "-0.00" shown anywhere


def test_the_sku_is_unique_whatever_its_case():
    product(sku="SIM-100")
    with pytest.raises(ValidationError) as excinfo:
        product(sku="sim-100", name="Other")
    assert "SKU" in _errors(excinfo)["sku"][0]
    assert Product.objects.count() == 1
    other = product(sku="SIM-200")
    with pytest.raises(ValidationError) as excinfo:
        services.product_update(actor=None, product=other, data={"sku": "Sim-100"})
    assert "sku" in _errors(excinfo)


def test_every_bad_field_is_reported_at_once_and_nothing_is_saved():
    with pytest.raises(ValidationError) as excinfo:
        services.product_create(
            actor=None,
            data={"sku": "", "name": "", "list_price": "-1", "currency": "XYZ", "tax_rate": "120"},
        )
    errors = _errors(excinfo)
    assert set(errors) == {"sku", "name", "list_price", "currency", "tax_rate"}
    assert "negative" in errors["list_price"][0]
    assert "ISO 4217" in errors["currency"][0]
    assert "0 to 100" in errors["tax_rate"][0]
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("price", "currency", "message"),
    [
        ("abc", "EUR", "number"),
        ("1.234", "EUR", "2 decimal"),
        ("100.5", "JPY", "no decimal"),
        ("1e13", "EUR", "too large"),
        ("NaN", "EUR", "number"),
    ],
)
def test_prices_are_checked_against_the_currency(price, currency, message):
    with pytest.raises(ValidationError) as excinfo:
        product(list_price=price, currency=currency)
    assert message in _errors(excinfo)["list_price"][0]


def test_tax_rate_range():
    assert product(tax_rate="0").tax_rate == 0
    assert product(sku="B", tax_rate="100").tax_rate == 100
    for bad in ("-1", "100.01", "x"):
        with pytest.raises(ValidationError) as excinfo:
            product(sku="C", tax_rate=bad)
        assert "tax_rate" in _errors(excinfo)


def test_a_stale_version_is_a_conflict_and_changes_nothing():
    made = product()
    first = Product.objects.get(pk=made.pk)
    second = Product.objects.get(pk=made.pk)
    services.product_update(actor=None, product=first, data={"name": "SIM card (nano)"}, expected_version=1)
    assert first.version == 2
    with pytest.raises(ConflictError):
        services.product_update(actor=None, product=second, data={"list_price": "1.00"}, expected_version=1)
    made.refresh_from_db()
    assert made.name == "SIM card (nano)" and made.list_price == Decimal("10.00") and made.version == 2


def test_every_change_is_audited():
    made = product()
    services.product_update(actor=None, product=made, data={"list_price": "11.00"})
    listed = price_list(items=[{"product": made.pk, "unit_price": "9.00"}])
    rate = services.exchange_rate_create(
        actor=None, data={"from_currency": "EUR", "to_currency": "USD", "rate": "1.1", "date": "2026-01-01"}
    )
    entries = {(e.object_type, e.action) for e in AuditEntry.objects.all()}
    assert {
        ("sales.product", "create"),
        ("sales.product", "update"),
        ("sales.pricelist", "create"),
        ("sales.pricelistitem", "create"),
        ("sales.exchangerate", "create"),
    } <= entries
    update = AuditEntry.objects.filter(object_type="sales.product", action="update").get()
    assert update.changes["list_price"] == ["10.00", "11.00"]
    services.price_list_delete(actor=None, price_list=listed)
    services.exchange_rate_delete(actor=None, rate=rate)
    deleted = {e.object_type for e in AuditEntry.objects.filter(action="delete")}
    assert {"sales.pricelist", "sales.pricelistitem", "sales.exchangerate"} <= deleted


def test_a_product_on_a_price_list_is_not_deleted():
    made = product()
    price_list(items=[{"product": made, "unit_price": "9.00"}])
    with pytest.raises(DeleteRefused):
        services.product_delete(actor=None, product=made)
    assert Product.objects.filter(pk=made.pk).exists()


def test_price_list_items_are_checked_and_replaced():
    a, b = product(sku="A"), product(sku="B")
    with pytest.raises(ValidationError) as excinfo:
        price_list(
            currency="JPY",
            items=[
                {"product": a.pk, "unit_price": "10.5"},
                {"product": 999999, "unit_price": "1"},
                {"product": b.pk, "unit_price": "5", "min_quantity": "0"},
                {"product": a.pk, "unit_price": "9", "min_quantity": "1"},
            ],
        )
    errors = _errors(excinfo)
    assert set(errors) == {
        "items.0.unit_price",
        "items.1.product",
        "items.2.min_quantity",
        "items.3.min_quantity",
    }
    assert not PriceList.objects.exists() and not PriceListItem.objects.exists()

    listed = price_list(items=[{"product": a.pk, "unit_price": "9"}, {"product": b.pk, "unit_price": "8"}])
    services.price_list_update(
        actor=None,
        price_list=listed,
        data={},
        items=[
            {"product": a.pk, "unit_price": "8.50"},
            {"product": a.pk, "unit_price": "7", "min_quantity": 10},
        ],
    )
    assert sorted((i.product.sku, i.min_quantity, i.unit_price) for i in listed.items.all()) == [
        ("A", Decimal("1.000"), Decimal("8.50")),
        ("A", Decimal("10.000"), Decimal("7.00")),
    ]


def test_price_list_dates_and_version():
    with pytest.raises(ValidationError) as excinfo:
        price_list(valid_from="2026-02-01", valid_to="2026-01-01")
    assert "valid_to" in _errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        price_list(valid_from="1 Feb", customer_group=424242)
    assert set(_errors(excinfo)) == {"valid_from", "customer_group"}
    listed = price_list()
    stale = PriceList.objects.get(pk=listed.pk)
    services.price_list_update(actor=None, price_list=listed, data={"name": "Retail"})
    with pytest.raises(ConflictError):
        services.price_list_update(actor=None, price_list=stale, data={"name": "Other"}, expected_version=1)


def test_item_add_refuses_the_same_product_and_quantity_twice():
    made = product()
    listed = price_list()
    services.price_list_item_add(actor=None, price_list=listed, data={"product": made, "unit_price": "9"})
    with pytest.raises(ValidationError) as excinfo:
        services.price_list_item_add(actor=None, price_list=listed, data={"product": made, "unit_price": "8"})
    assert "min_quantity" in _errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        services.price_list_item_add(
            actor=None, price_list=listed, data={"product": None, "unit_price": "-8"}
        )
    assert set(_errors(excinfo)) == {"product", "unit_price"}


def test_exchange_rate_rules():
    good = {"from_currency": "EUR", "to_currency": "USD", "rate": "1.08", "date": dt.date(2026, 1, 1)}
    services.exchange_rate_create(actor=None, data=good)
    with pytest.raises(ValidationError) as excinfo:
        services.exchange_rate_create(actor=None, data=good)
    assert "date" in _errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        services.exchange_rate_create(
            actor=None, data={"from_currency": "EUR", "to_currency": "EUR", "rate": "0", "date": ""}
        )
    assert set(_errors(excinfo)) == {"to_currency", "rate", "date"}
    with pytest.raises(ValidationError) as excinfo:
        services.exchange_rate_create(actor=None, data={**good, "rate": "-1", "date": "2026-01-02"})
    assert "more than zero" in _errors(excinfo)["rate"][0]
    assert ExchangeRate.objects.count() == 1
