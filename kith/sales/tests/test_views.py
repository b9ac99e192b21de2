"""The sales pages: products, price lists with items inline, exchange rates; permissions and field errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from kith.sales.models import ExchangeRate, PriceList, PriceListItem, Product
from kith.sales.tests.factories import price_list, product
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep_client(client: Client) -> Client:
    client.force_login(make_user("rep", "sales_rep"))
    return client


def _product_form(**data: str) -> dict[str, str]:
    return {
        "sku": "SIM-100",
        "name": "SIM card",
        "unit": "pcs",
        "list_price": "10.00",
        "currency": "EUR",
        "tax_rate": "20",
        "is_active": "on",
        **data,
    }


def test_create_a_product_and_see_it_listed_and_found(signed_in):
    response = signed_in.post("/sales/products/new/", _product_form())
    made = Product.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/sales/products/{made.pk}/"
    product(sku="ROUTER-1", name="Router", category="Hardware")
    page = signed_in.get("/sales/products/")
    assert (
        page.status_code == 200 and "SIM-100" in page.content.decode() and "ROUTER-1" in page.content.decode()
    )
    assert "Sales" in page.content.decode()  # the menu link
    found = signed_in.get("/sales/products/", {"q": "rout"}).content.decode()
    assert "ROUTER-1" in found and "SIM-100" not in found
    filtered = signed_in.get("/sales/products/", {"category": "Hardware", "active": "1"}).content.decode()
    assert "ROUTER-1" in filtered and "SIM-100" not in filtered


def test_field_errors_are_shown_and_nothing_is_saved(signed_in):
    product(sku="SIM-100")
    response = signed_in.post(
        "/sales/products/new/", _product_form(sku="sim-100", list_price="-3", currency="", tax_rate="101")
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) >= {"sku", "list_price", "currency", "tax_rate"}
    assert Product.objects.count() == 1


def test_a_stale_edit_is_refused_with_a_message(signed_in):
    made = product()
    signed_in.post(f"/sales/products/{made.pk}/edit/", _product_form(name="First", version="1"))
    response = signed_in.post(f"/sales/products/{made.pk}/edit/", _product_form(name="Second", version="1"))
    assert response.status_code == 409
    assert "Someone else changed this record" in response.content.decode()
    made.refresh_from_db()
    assert made.name == "First" and made.version == 2


def test_a_sales_rep_sees_products_but_may_not_change_them(rep_client):
    made = product()
    assert rep_client.get("/sales/products/").status_code == 200
    page = rep_client.get(f"/sales/products/{made.pk}/")
    assert page.status_code == 200 and f"/sales/products/{made.pk}/edit/" not in page.content.decode()
    assert rep_client.get("/sales/products/new/").status_code == 403
    assert rep_client.get(f"/sales/products/{made.pk}/edit/").status_code == 403
    response = rep_client.post(f"/sales/products/{made.pk}/edit/", _product_form(name="Hacked", version="1"))
    assert response.status_code == 403
    assert rep_client.post(f"/sales/products/{made.pk}/delete/").status_code == 403
    made.refresh_from_db()
    assert made.name == "SIM card" and made.version == 1
    listed = price_list()
    assert rep_client.post(f"/sales/price-lists/{listed.pk}/items/", {"product": made.pk}).status_code == 403
    assert rep_client.post("/sales/exchange-rates/", {"from_currency": "EUR"}).status_code == 403


def test_a_user_without_product_view_sees_no_sales(client):
    client.force_login(make_user("nobody"))
    assert client.get("/sales/products/").status_code == 403
    assert "/sales/products/" not in client.get("/").content.decode()


def test_price_list_with_items_inline(signed_in):
    made = product()
    response = signed_in.post(
        "/sales/price-lists/new/", {"name": "Wholesale", "currency": "EUR", "is_active": "on"}
    )
    listed = PriceList.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/sales/price-lists/{listed.pk}/"
    added = signed_in.post(
        f"/sales/price-lists/{listed.pk}/items/",
        {"product": made.pk, "unit_price": "8.5", "min_quantity": "10"},
    )
    assert added.status_code == 302
    item = PriceListItem.objects.get()
    assert (item.unit_price, item.min_quantity) == (Decimal("8.50"), Decimal("10"))
    refused = signed_in.post(
        f"/sales/price-lists/{listed.pk}/items/", {"product": made.pk, "unit_price": "-1"}
    )
    assert refused.status_code == 400 and "unit_price" in refused.context["item_form"].errors
    page = signed_in.get(f"/sales/price-lists/{listed.pk}/").content.decode()
    assert "SIM-100" in page and "8.50" in page
    product_page = signed_in.get(f"/sales/products/{made.pk}/").content.decode()
    assert "Wholesale" in product_page and "8.50" in product_page
    edited = signed_in.post(
        f"/sales/price-lists/{listed.pk}/edit/",
        {
            "name": "Wholesale",
            "currency": "EUR",
            "valid_from": "2026-02-01",
            "valid_to": "2026-01-01",
            "version": "1",
        },
    )
    assert edited.status_code == 400 and "valid_to" in edited.context["form"].errors
    removed = signed_in.post(f"/sales/price-lists/{listed.pk}/items/{item.pk}/remove/")
    assert removed.status_code == 302 and not PriceListItem.objects.exists()
    assert signed_in.get("/sales/price-lists/").status_code == 200


def test_exchange_rates_page(signed_in):
    bad = signed_in.post(
        "/sales/exchange-rates/", {"from_currency": "EUR", "to_currency": "USD", "rate": "0"}
    )
    assert bad.status_code == 400 and set(bad.context["form"].errors) == {"rate", "date"}
    good = signed_in.post(
        "/sales/exchange-rates/",
        {"from_currency": "EUR", "to_currency": "USD", "rate": "1.0825", "date": "2026-01-02"},
    )
    assert good.status_code == 302
    rate = ExchangeRate.objects.get()
    assert "1.0825" in signed_in.get("/sales/exchange-rates/").content.decode()
    assert signed_in.post(f"/sales/exchange-rates/{rate.pk}/delete/").status_code == 302
    assert not ExchangeRate.objects.exists()


def _queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_pages_cost_the_same_for_more_rows(signed_in):
    """Query budget: no query per row on the product list, a price list's page or a product's page."""
    first = product(sku="P-0")
    listed = price_list(items=[{"product": first, "unit_price": "1"}])
    urls = ["/sales/products/", f"/sales/price-lists/{listed.pk}/", f"/sales/products/{first.pk}/"]
    _queries(signed_in, urls[0])  # warm the per-user caches (what the user holds)
    few = [_queries(signed_in, url) for url in urls]
    for n in range(1, 12):
        made = product(sku=f"P-{n}")
        listed.items.create(product=made, unit_price=n)
        price_list(name=f"L{n}", items=[{"product": first, "unit_price": n}])
    assert [_queries(signed_in, url) for url in urls] == few


def test_the_sales_address_leads_to_the_deals_or_the_products(client, django_user_model):
    from kith.security.models import Role

    admin = django_user_model.objects.create_superuser("root", "root@example.com", "a-long-Passw0rd!")
    client.force_login(admin)
    response = client.get("/sales/")
    assert response.status_code == 302 and response["Location"] == "/sales/opportunities/board/"
    Role.objects.create(code="catalogue-only", name="Catalogue only", permissions=["product.view"])
    clerk = make_user("clerk", "catalogue-only")
    client.force_login(clerk)
    response = client.get("/sales/")
    assert response.status_code == 302 and response["Location"] == "/sales/products/"


def test_new_products_and_price_lists_start_in_the_default_currency(client, django_user_model, settings):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "a-long-Passw0rd!")
    client.force_login(admin)
    settings.KITH_DEFAULT_CURRENCY = "CNY"
    for path in ("/sales/products/new/", "/sales/price-lists/new/"):
        assert '<option value="CNY" selected>' in client.get(path).content.decode(), path
    settings.KITH_DEFAULT_CURRENCY = "XX1"  # not a currency: none chosen
    page = client.get("/sales/products/new/").content.decode()
    assert '<option value="" selected>' in page and '<option value="CNY" selected>' not in page
