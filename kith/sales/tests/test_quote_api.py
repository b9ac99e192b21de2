"""The quote API: create with lines in one POST, field errors as JSON, lines, patch with a stale version
(409), send with the approval gate, revise, accept, reject, PDF, delete; visibility and the token area."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kith.sales.choices import QuoteStatus
from kith.sales.models import Quote
from kith.sales.tests import opportunity_factories
from kith.sales.tests.factories import product
from kith.sales.tests.quote_factories import customer, free_line, quote
from kith.security import tokens
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager() -> Any:
    return make_user("boss", "sales_manager")


@pytest.fixture
def rep(manager: Any) -> Any:
    return make_user("rep", "sales_rep", manager=manager)


@pytest.fixture
def api(rep: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(rep)
    return client


def test_create_with_lines_in_one_post_and_read_it_back(api, rep):
    sim = product(sku="SIM-100", name="SIM card", list_price="19.99", tax_rate="13")
    buyer = customer(owner=rep)
    created = api.post(
        "/api/v1/quotes/",
        {
            "customer": buyer.customer_number,
            "currency": "EUR",
            "lines": [
                {"product": sim.pk, "quantity": "3", "discount_percent": "7.5"},
                {"description": "Installation", "quantity": "1", "unit_price": "50", "tax_rate": "0"},
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["subtotal"] == "109.97" and data["discount_total"] == "4.50"
    assert data["tax_total"] == "7.21" and data["total"] == "112.68" and data["version"] == 1
    assert [line["sku"] for line in data["lines"]] == ["SIM-100", None]
    assert api.get(f"/api/v1/quotes/{data['id']}/").json()["number"] == data["number"]
    listed = api.get("/api/v1/quotes/", {"customer": buyer.customer_number}).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == data["id"]
    assert api.get("/api/v1/quotes/", {"status": "sent"}).json()["count"] == 0
    lines = api.get(f"/api/v1/quotes/{data['id']}/lines/").json()["results"]
    assert [line["net"] for line in lines] == ["55.47", "50.00"]


def test_errors_are_json_per_field_and_per_line(api, rep):
    buyer = customer(owner=rep)
    response = api.post(
        "/api/v1/quotes/",
        {
            "customer": buyer.customer_number,
            "currency": "JPY",
            "lines": [free_line(unit_price="10.5"), free_line(quantity="-1", currency="EUR")],
        },
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"lines.0.unit_price", "lines.1.quantity", "lines.1.currency"}
    assert "Currency mismatch" in errors["lines.1.currency"][0]
    unknown = api.post("/api/v1/quotes/", {"customer": buyer.customer_number, "nope": 1}, format="json")
    assert unknown.status_code == 400 and "nope" in unknown.json()["errors"]
    missing = api.post("/api/v1/quotes/", {"customer": "C-NOPE"}, format="json")
    assert missing.status_code == 400 and "customer" in missing.json()["errors"]
    assert Quote.objects.count() == 0


def test_lines_patch_and_a_stale_version(api, rep):
    made = quote(rep, lines=[free_line()])
    added = api.post(
        f"/api/v1/quotes/{made.pk}/lines/", {**free_line(), "expected_version": 1}, format="json"
    )
    assert added.status_code == 201 and added.json()["total"] == "200.00" and added.json()["version"] == 2
    line = added.json()["lines"][1]["id"]
    changed = api.patch(
        f"/api/v1/quotes/{made.pk}/lines/{line}/",
        {"discount_percent": "50", "expected_version": 2},
        format="json",
    )
    assert changed.status_code == 200 and changed.json()["total"] == "150.00"
    stale = api.patch(f"/api/v1/quotes/{made.pk}/", {"terms": "x", "expected_version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    removed = api.delete(f"/api/v1/quotes/{made.pk}/lines/{line}/?expected_version=3")
    assert removed.status_code == 200 and removed.json()["total"] == "100.00"


def test_send_gate_revise_accept_reject_and_pdf(api, rep, manager, mailoutbox):
    from kith.sales.services import approvals

    deal = opportunity_factories.opportunity(rep, amount="1000.00", discount_percent="20")
    created = api.post(
        "/api/v1/quotes/",
        {"opportunity": deal.pk, "lines": [free_line(unit_price="1000.00", discount_percent="20")]},
        format="json",
    ).json()
    pk = created["id"]
    refused = api.post(f"/api/v1/quotes/{pk}/send/", {"to": "buyer@example.com"}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "approval_required"
    approval = approvals.approval_request(actor=rep, opportunity=deal)
    approvals.approval_decide(actor=manager, approval=approval, approve=True)
    sent = api.post(
        f"/api/v1/quotes/{pk}/send/", {"to": "buyer@example.com", "expected_version": 1}, format="json"
    )
    assert sent.status_code == 200 and sent.json()["status"] == QuoteStatus.SENT
    assert sent.json()["sent_to"] == "buyer@example.com"
    pdf = api.get(f"/api/v1/quotes/{pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    rejected = api.post(f"/api/v1/quotes/{pk}/reject/", {}, format="json")
    assert rejected.json()["status"] == QuoteStatus.REJECTED
    revised = api.post(f"/api/v1/quotes/{pk}/revise/", {}, format="json")
    assert revised.status_code == 201 and revised.json()["revision"] == 2
    new = revised.json()["id"]
    assert (
        api.post(f"/api/v1/quotes/{new}/send/", {"to": "buyer@example.com"}, format="json").status_code == 200
    )
    accepted = api.post(f"/api/v1/quotes/{new}/accept/", {}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == QuoteStatus.ACCEPTED
    assert accepted.json()["deal_not_won"]  # no reason given while the pipeline has won reasons
    assert accepted.json()["superseded"] == [] and "deal_amount_not_updated" in accepted.json()
    assert api.post(f"/api/v1/quotes/{new}/accept/", {}, format="json").status_code == 400


def test_delete_a_draft_only(rep, manager):
    client = APIClient()
    client.force_authenticate(manager)
    made = quote(rep)
    assert client.delete(f"/api/v1/quotes/{made.pk}/").status_code == 204
    assert client.get(f"/api/v1/quotes/{made.pk}/").status_code == 404


def test_visibility_and_the_token_area(rep, admin_user):
    made = quote(rep)
    peer = APIClient()
    peer.force_authenticate(make_user("peer", "sales_rep"))
    assert peer.get(f"/api/v1/quotes/{made.pk}/").status_code == 404
    assert peer.get("/api/v1/quotes/").json()["count"] == 0
    _token, key = tokens.create_token(actor=admin_user, data={"name": "ci", "scopes": ["customers:read"]})
    outsider = APIClient()
    outsider.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert outsider.get("/api/v1/quotes/").status_code == 403
    _token, key = tokens.create_token(actor=admin_user, data={"name": "ci2", "scopes": ["sales:read"]})
    insider = APIClient()
    insider.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert insider.get("/api/v1/quotes/").status_code == 200


def test_the_schema_is_valid_and_documents_the_quote_endpoints(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in (
        "/api/v1/quotes/",
        "/api/v1/quotes/{id}/",
        "/api/v1/quotes/{id}/lines/",
        "/api/v1/quotes/{id}/send/",
        "/api/v1/quotes/{id}/accept/",
        "/api/v1/quotes/{id}/reject/",
        "/api/v1/quotes/{id}/revise/",
        "/api/v1/quotes/{id}/pdf/",
    ):
        assert f"  {path}:" in schema, path
    assert "operationId: quotes_send" in schema and "application/pdf" in schema


def test_the_list_costs_the_same_for_more_quotes(api, rep):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(url).status_code == 200
        return len(captured)

    first = quote(rep, lines=[free_line()])
    urls = ["/api/v1/quotes/", f"/api/v1/quotes/{first.pk}/"]
    cost(urls[0])  # warm the per-user caches
    few = [cost(url) for url in urls]
    for _ in range(5):
        quote(rep)
        first.lines.create(description="x", quantity=1, unit_price=1, currency="EUR")
    assert [cost(url) for url in urls] == few
