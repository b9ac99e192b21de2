"""The consumption API: push one line or a batch (idempotent), list a customer's lines with a cursor, the
statistics; JSON field errors; visibility; the token area; a valid schema."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kith.parties.tests.factories import person
from kith.sales.models import ConsumptionLine
from kith.security import tokens
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def line(customer: Any, **data: Any) -> dict[str, Any]:
    return {
        "customer": customer.customer_number,
        "occurred_on": "2024-03-05",
        "sku": "85123A",
        "description": "WHITE HANGING HEART T-LIGHT HOLDER",
        "quantity": "6",
        "unit_price": "2.55",
        "currency": "GBP",
        **data,
    }


def test_push_one_line_then_the_same_again(api, user):
    customer = person(actor=user)
    first = api.post("/api/v1/consumption/", line(customer, reference="536365"), format="json")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["created"] == 1 and body["results"][0]["amount"] == "15.30"
    assert body["results"][0]["source"] == "api" and body["results"][0]["line_number"] == 1
    again = api.post("/api/v1/consumption/", line(customer, reference="536365"), format="json")
    assert again.status_code == 200 and again.json()["existing"] == 1
    assert ConsumptionLine.objects.count() == 1


def test_push_a_batch_idempotently(api, user):
    customer = person(actor=user)
    batch = {
        "reference": "536366",
        "lines": [line(customer), line(customer, sku="22633", quantity="-1", unit_price="1.85")],
    }
    created = api.post("/api/v1/consumption/", batch, format="json")
    assert created.status_code == 201 and created.json()["created"] == 2
    assert [r["kind"] for r in created.json()["results"]] == ["purchase", "return"]
    repeated = api.post("/api/v1/consumption/", batch, format="json")
    assert repeated.status_code == 200 and repeated.json() == {**repeated.json(), "created": 0, "existing": 2}
    assert ConsumptionLine.objects.count() == 2


def test_field_errors_are_json_and_nothing_is_saved(api, user):
    customer = person(actor=user)
    response = api.post(
        "/api/v1/consumption/",
        {"lines": [line(customer), line(customer, unit_price="1.23456", currency="ABC", colour="red")]},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"lines.1.colour"}  # unknown fields first
    response = api.post(
        "/api/v1/consumption/",
        {"lines": [line(customer), line(customer, unit_price="1.23456", currency="ABC", quantity="x")]},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"lines.1.unit_price", "lines.1.currency", "lines.1.quantity"}
    assert api.post("/api/v1/consumption/", {"lines": []}, format="json").status_code == 400
    assert not ConsumptionLine.objects.exists()


def test_list_with_cursor_and_visibility(api, user):
    customer = person(actor=user)
    for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
        api.post("/api/v1/consumption/", line(customer, occurred_on=day), format="json")
    page = api.get("/api/v1/consumption/", {"customer": customer.customer_number, "limit": 2}).json()
    assert [r["occurred_on"] for r in page["results"]] == ["2024-01-03", "2024-01-02"]
    rest = api.get(
        "/api/v1/consumption/", {"customer": customer.customer_number, "cursor": page["next_cursor"]}
    ).json()
    assert [r["occurred_on"] for r in rest["results"]] == ["2024-01-01"] and rest["next_cursor"] is None
    assert api.get("/api/v1/consumption/").status_code == 400
    rep = APIClient()
    rep.force_authenticate(make_user("rep", "sales_rep"))
    hidden = rep.get("/api/v1/consumption/", {"customer": customer.customer_number})
    assert hidden.status_code == 400 and "customer" in hidden.json()["errors"]
    one = page["results"][0]["id"]
    assert rep.get(f"/api/v1/consumption/{one}/").status_code == 404
    assert api.delete(f"/api/v1/consumption/{one}/").status_code == 204
    assert ConsumptionLine.objects.count() == 2


def test_stats_of_a_customer(api, user):
    customer = person(actor=user)
    api.post(
        "/api/v1/consumption/",
        {
            "reference": "INV1",
            "lines": [
                line(customer, occurred_on="2024-01-10", quantity="10", unit_price="2"),
                line(
                    customer,
                    occurred_on="2024-01-10",
                    sku="POST",
                    kind="non_product",
                    quantity="1",
                    unit_price="5",
                ),
                line(customer, occurred_on="2024-01-20", quantity="-2", unit_price="2"),
            ],
        },
        format="json",
    )
    response = api.get(
        "/api/v1/consumption/stats/",
        {"customer": customer.customer_number, "from": "2024-01-01", "to": "2024-01-31", "period": "week"},
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["customer"] == customer.customer_number and data["period"] == "week"
    [gbp] = data["totals"]
    assert (gbp["revenue"], gbp["other_charges"], gbp["quantity"]) == ("16.00", "5.00", "8.000")
    assert data["top_by_amount"][0]["sku"] == "85123A"
    assert api.get("/api/v1/consumption/stats/").status_code == 400
    bad = api.get("/api/v1/consumption/stats/", {"customer": "X", "period": "year"})
    assert bad.status_code == 400 and "period" in bad.json()["errors"]


def test_the_token_area_is_sales():
    from kith.sales.api.consumption import ConsumptionListView, ConsumptionStatsView

    assert tokens.needed_scope(ConsumptionListView(), "POST") == "sales:write"
    assert tokens.needed_scope(ConsumptionStatsView(), "GET") == "sales:read"


def test_the_schema_is_valid():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)  # the whole project's
    validate_schema(schema)
    assert {"/api/v1/consumption/", "/api/v1/consumption/stats/", "/api/v1/consumption/{id}/"} <= set(
        schema["paths"]
    )
