"""The sales REST API: products, price lists with items, exchange rates, the price of a product; errors in
the project's JSON format; permissions and the token area."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kith.parties.services import catalogues
from kith.parties.services import customers as customer_services
from kith.sales.models import ExchangeRate, PriceList, Product
from kith.sales.tests.factories import price_list, product
from kith.security import tokens
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_product_crud(api):
    created = api.post(
        "/api/v1/products/",
        {"sku": "SIM-100", "name": "SIM card", "list_price": "10.5", "currency": "eur", "tax_rate": "20"},
        format="json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["list_price"] == "10.50" and data["currency"] == "EUR" and data["version"] == 1
    pk = data["id"]
    assert api.get(f"/api/v1/products/{pk}/").json()["sku"] == "SIM-100"
    changed = api.patch(
        f"/api/v1/products/{pk}/", {"name": "SIM (nano)", "expected_version": 1}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = api.patch(f"/api/v1/products/{pk}/", {"name": "Again", "expected_version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    assert api.delete(f"/api/v1/products/{pk}/").status_code == 204
    assert api.get(f"/api/v1/products/{pk}/").status_code == 404


def test_product_field_errors_are_json(api):
    product(sku="SIM-100")
    response = api.post(
        "/api/v1/products/",
        {
            "sku": "sim-100",
            "name": "",
            "list_price": "1.999",
            "currency": "ABC",
            "tax_rate": "-2",
            "colour": "red",
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and set(body["errors"]) == {"colour"}  # unknown fields first
    response = api.post(
        "/api/v1/products/",
        {"sku": "sim-100", "name": "", "list_price": "1.999", "currency": "ABC", "tax_rate": "-2"},
        format="json",
    )
    assert set(response.json()["errors"]) == {"sku", "name", "list_price", "currency", "tax_rate"}
    assert Product.objects.count() == 1


def test_product_list_filters_and_ordering(api):
    product(sku="B-1", name="Beta", category="Hardware", list_price="5")
    product(sku="A-1", name="Alpha", category="Services", list_price="7")
    product(sku="C-1", name="Gamma", category="Hardware", list_price="6", is_active=False)
    skus = lambda r: [p["sku"] for p in r.json()["results"]]  # noqa: E731
    assert skus(api.get("/api/v1/products/")) == ["A-1", "B-1", "C-1"]
    assert skus(api.get("/api/v1/products/", {"ordering": "-list_price"})) == ["A-1", "C-1", "B-1"]
    assert skus(api.get("/api/v1/products/", {"category": "Hardware", "active": "true"})) == ["B-1"]
    assert skus(api.get("/api/v1/products/", {"q": "gam"})) == ["C-1"]
    page = api.get("/api/v1/products/", {"limit": 2}).json()
    assert page["count"] == 3 and page["next_offset"] == 2
    assert api.get("/api/v1/products/", {"ordering": "colour"}).json()["errors"].keys() == {"ordering"}
    assert api.get("/api/v1/products/", {"limit": "0"}).status_code == 400


def test_price_lists_with_items(api):
    sim = product()
    created = api.post(
        "/api/v1/price-lists/",
        {"name": "Wholesale", "currency": "EUR", "items": [{"product": sim.pk, "unit_price": "8"}]},
        format="json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["items"][0]["unit_price"] == "8.00" and data["items"][0]["sku"] == "SIM-100"
    pk = data["id"]
    bad = api.patch(
        f"/api/v1/price-lists/{pk}/",
        {"items": [{"product": sim.pk, "unit_price": "x"}, {"product": 0, "unit_price": "1"}]},
        format="json",
    )
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"items.0.unit_price", "items.1.product"}
    changed = api.patch(
        f"/api/v1/price-lists/{pk}/",
        {
            "valid_from": "2026-01-01",
            "items": [{"product": sim.pk, "unit_price": "7.5", "min_quantity": "5"}],
        },
        format="json",
    )
    assert changed.status_code == 200
    assert [(i["unit_price"], i["min_quantity"]) for i in changed.json()["items"]] == [("7.50", "5.000")]
    assert [p["name"] for p in api.get("/api/v1/price-lists/").json()] == ["Wholesale"]
    assert api.delete(f"/api/v1/price-lists/{pk}/").status_code == 204
    assert not PriceList.objects.exists()


def test_exchange_rates(api):
    created = api.post(
        "/api/v1/exchange-rates/",
        {"from_currency": "EUR", "to_currency": "USD", "rate": "1.1", "date": "2026-01-01"},
        format="json",
    )
    assert created.status_code == 201 and created.json()["rate"] == "1.10000000"
    bad = api.post(
        "/api/v1/exchange-rates/",
        {"from_currency": "EUR", "to_currency": "USD", "rate": "-1", "date": "soon"},
        format="json",
    )
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"rate", "date"}
    assert len(api.get("/api/v1/exchange-rates/", {"currency": "usd"}).json()["results"]) == 1
    assert api.delete(f"/api/v1/exchange-rates/{created.json()['id']}/").status_code == 204
    assert not ExchangeRate.objects.exists()


def test_the_price_of_a_product_for_a_customer(api, user):
    tree = catalogues.category_tree_create(actor=None, data={"name": "Customer group"})
    wholesale = catalogues.category_create(actor=None, tree=tree, name="Wholesale")
    buyer = customer_services.customer_create(
        actor=user, kind="company", data={"legal_name": "Buyer Ltd"}, category_ids=[wholesale.pk]
    )
    sim = product(list_price="10.00")
    price_list(
        customer_group=wholesale.pk,
        items=[
            {"product": sim, "unit_price": "8.00"},
            {"product": sim, "unit_price": "7.00", "min_quantity": 10},
        ],
    )
    url = f"/api/v1/products/{sim.pk}/price/"
    plain = api.get(url).json()
    assert (plain["unit_price"], plain["source"]) == ("10.00", "list_price")
    group = api.get(url, {"customer": buyer.customer_number}).json()
    assert (group["unit_price"], group["source"], group["price_list_name"]) == (
        "8.00",
        "price_list",
        "Wholesale",
    )
    bulk = api.get(url, {"customer": buyer.customer_number, "quantity": "12", "date": "2026-05-01"}).json()
    assert bulk["unit_price"] == "7.00" and bulk["date"] == "2026-05-01"
    assert api.get(url, {"customer": "nope"}).json()["errors"].keys() == {"customer"}
    assert api.get(url, {"quantity": "-1"}).json()["errors"].keys() == {"quantity"}
    assert api.get(url, {"quantity": "1e999999"}).json()["errors"].keys() == {"quantity"}
    assert api.get(url, {"date": "tomorrow"}).json()["errors"].keys() == {"date"}
    no_rate = api.get(url, {"currency": "USD"})
    assert no_rate.status_code == 400 and no_rate.json()["code"] == "no_exchange_rate"


def test_a_sales_rep_without_product_edit_gets_403():
    sim = product()
    rep = APIClient()
    rep.force_authenticate(make_user("rep", "sales_rep"))
    assert rep.get("/api/v1/products/").status_code == 200
    refused = rep.patch(f"/api/v1/products/{sim.pk}/", {"name": "Hacked"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    body = {"sku": "X", "name": "X", "list_price": "1", "currency": "EUR"}
    assert rep.post("/api/v1/products/", body, format="json").status_code == 403
    assert rep.delete(f"/api/v1/products/{sim.pk}/").status_code == 403
    sim.refresh_from_db()
    assert sim.name == "SIM card" and Product.objects.count() == 1


def test_the_token_area_is_sales(admin_user):
    product()
    client = APIClient()
    _token, key = tokens.create_token(actor=admin_user, data={"name": "ci", "scopes": ["customers:read"]})
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/products/").status_code == 403
    _token, key = tokens.create_token(actor=admin_user, data={"name": "ci2", "scopes": ["sales:read"]})
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/products/").status_code == 200
    assert client.post("/api/v1/exchange-rates/", {}, format="json").status_code == 403


def test_schema_lists_the_sales_endpoints(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in (
        "/api/v1/products/",
        "/api/v1/products/{id}/",
        "/api/v1/products/{id}/price/",
        "/api/v1/price-lists/",
        "/api/v1/price-lists/{id}/",
        "/api/v1/exchange-rates/",
        "/api/v1/exchange-rates/{id}/",
    ):
        assert f"  {path}:" in schema, path
    assert "operationId: products_price" in schema


def test_api_lists_cost_the_same_for_more_rows(api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(url).status_code == 200
        return len(captured)

    first = product(sku="P-0")
    listed = price_list(items=[{"product": first, "unit_price": "1"}])
    urls = ["/api/v1/products/", "/api/v1/price-lists/", f"/api/v1/price-lists/{listed.pk}/"]
    cost(urls[0])  # warm the per-user caches (what the user holds)
    few = [cost(url) for url in urls]
    for n in range(1, 12):
        listed.items.create(product=product(sku=f"P-{n}"), unit_price=n)
        price_list(name=f"L{n}")
    assert [cost(url) for url in urls] == few
