"""The order, contract, invoice and payment API: JSON field errors (400), 409 on a stale version, 404 for
peers, partial shipments, payments and balances, the document upload and download, the token area and a
valid schema."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from kith.sales.models import ConsumptionLine, Order
from kith.sales.tests import order_factories as f
from kith.security import tokens

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.7\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def boss() -> Any:
    return f.manager()


@pytest.fixture
def rep(boss: Any) -> Any:
    return f.rep(manager=boss)


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_order_lifecycle_through_the_api(rep):
    client = api(rep)
    customer = f.customer(owner=rep)
    bad = client.post(
        "/api/v1/orders/",
        {
            "customer": customer.customer_number,
            "currency": "EUR",
            "lines": [
                {"description": "A", "quantity": "-1", "unit_price": "1"},
                {"description": "B", "quantity": "1", "unit_price": "1.005"},
                {"description": "C", "quantity": "1", "unit_price": "1", "currency": "USD"},
            ],
        },
        format="json",
    )
    assert bad.status_code == 400
    errors = bad.json()
    flat = {**errors, **errors.get("errors", {})}
    assert {"lines.0.quantity", "lines.1.unit_price", "lines.2.currency"} <= set(flat)
    assert not Order.objects.exists()
    made = client.post(
        "/api/v1/orders/",
        {
            "customer": customer.customer_number,
            "currency": "EUR",
            "lines": [{"description": "Router", "quantity": "5", "unit_price": "20.00", "tax_rate": "10"}],
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    order = made.json()
    assert order["total"] == "110.00" and order["status"] == "draft" and len(order["lines"]) == 1
    url = f"/api/v1/orders/{order['id']}/"
    stale = client.patch(url, {"notes": "x", "version": order["version"] + 5}, format="json")
    assert stale.status_code == 409
    patched = client.patch(url, {"notes": "Ring first", "version": order["version"]}, format="json")
    assert patched.status_code == 200 and patched.json()["notes"] == "Ring first"
    confirmed = client.post(f"{url}confirm/", {"version": patched.json()["version"]}, format="json")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    line_id = order["lines"][0]["id"]
    over = client.post(
        f"{url}shipments/", {"lines": [{"order_line": line_id, "quantity": "6"}]}, format="json"
    )
    assert over.status_code == 400
    shipped = client.post(
        f"{url}shipments/",
        {"lines": [{"order_line": line_id, "quantity": "2"}], "carrier": "UPS"},
        format="json",
    )
    assert shipped.status_code == 201 and shipped.json()["lines"][0]["quantity"] == "2.000"
    assert client.get(url).json()["status"] == "partial"
    assert ConsumptionLine.objects.count() == 1
    assert len(client.get(f"{url}shipments/").json()["results"]) == 1
    invoice = client.post("/api/v1/invoices/", {"order": order["id"]}, format="json")
    assert invoice.status_code == 201 and invoice.json()["total"] == "110.00"
    pay_url = f"/api/v1/invoices/{invoice.json()['id']}/payments/"
    assert client.post(pay_url, {"amount": "200", "method": "cash"}, format="json").status_code == 400
    paid = client.post(
        pay_url, {"amount": "10.00", "method": "bank_transfer", "reference": "TX1"}, format="json"
    )
    assert paid.status_code == 201
    assert client.get(f"/api/v1/invoices/{invoice.json()['id']}/").json()["status"] == "partial"
    balance = client.get(f"/api/v1/balances/{customer.customer_number}/")
    assert balance.json() == {"customer": customer.customer_number, "balances": {"EUR": "100.00"}}
    listed = client.get("/api/v1/orders/?status=partial")
    assert listed.json()["count"] == 1
    assert client.get("/api/v1/orders/?status=nonsense").status_code == 400
    cancelled = client.post(f"{url}cancel/", {}, format="json")
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["lines"][0]["cancelled_quantity"] == "3.000"


def test_order_from_quote_and_archived_customer(rep):
    from kith.parties.choices import CustomerStatus
    from kith.parties.models import Customer

    client = api(rep)
    quote = f.accepted_quote(rep)
    made = client.post("/api/v1/orders/from-quote/", {"quote": quote.pk, "confirm": True}, format="json")
    assert (
        made.status_code == 201 and made.json()["status"] == "confirmed" and made.json()["quote"] == quote.pk
    )
    again = client.post("/api/v1/orders/from-quote/", {"quote": quote.pk}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "quote_has_order"
    archived = f.customer(owner=rep, legal_name="Gone Ltd")
    Customer.objects.filter(pk=archived.pk).update(status=CustomerStatus.ARCHIVED)
    refused = client.post(
        "/api/v1/orders/", {"customer": archived.customer_number, "currency": "EUR"}, format="json"
    )
    assert refused.status_code == 400 and "archived" in str(refused.json())


def test_peers_get_404(rep, boss):
    order = f.order(rep)
    peer = api(f.rep("peer", manager=boss))
    assert peer.get(f"/api/v1/orders/{order.pk}/").status_code == 404
    assert peer.get("/api/v1/orders/").json()["count"] == 0
    assert api(boss).get(f"/api/v1/orders/{order.pk}/").status_code == 200


def test_contracts_and_their_document(rep, boss):
    client = api(rep)
    customer = f.customer(owner=rep)
    made = client.post(
        "/api/v1/contracts/",
        {
            "customer": customer.customer_number,
            "title": "Support",
            "start_date": timezone.localdate().isoformat(),
            "currency": "EUR",
            "value": "1200",
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    contract = made.json()
    url = f"/api/v1/contracts/{contract['id']}/"
    bad = client.patch(url, {"end_date": "1999-01-01", "value": "1.001"}, format="json")
    assert bad.status_code == 400
    upload = client.post(
        f"{url}document/", {"document": SimpleUploadedFile("c.pdf", PDF)}, format="multipart"
    )
    assert upload.status_code == 200, upload.content
    assert upload.json()["document_name"] == "c.pdf" and upload.json()["document_size"] == len(PDF)
    wrong = client.post(f"{url}document/", {"document": SimpleUploadedFile("c.png", PDF)}, format="multipart")
    assert wrong.status_code == 400
    download = client.get(f"{url}document/")
    assert download.status_code == 200 and _body(download) == PDF
    peer = api(f.rep("peer", manager=boss))
    assert peer.get(f"{url}document/").status_code == 404
    assert client.get("/api/v1/contracts/?renewing_within=30").status_code == 200
    assert api(boss).delete(url).status_code == 204


def test_payment_on_account_lowers_the_balance(rep):
    client = api(rep)
    customer = f.customer(owner=rep)
    client.post(
        "/api/v1/invoices/",
        {"customer": customer.customer_number, "total": "100", "currency": "EUR"},
        format="json",
    )
    paid = client.post(
        "/api/v1/payments/",
        {"customer": customer.customer_number, "amount": "30", "currency": "EUR", "method": "cash"},
        format="json",
    )
    assert paid.status_code == 201 and paid.json()["invoice"] is None
    assert client.get(f"/api/v1/balances/{customer.customer_number}/").json()["balances"] == {"EUR": "70.00"}
    assert client.get("/api/v1/payments/").json()["count"] == 1


def test_the_token_area_is_sales(admin_user):
    client = APIClient()
    _token, key = tokens.create_token(actor=admin_user, data={"name": "ci", "scopes": ["customers:read"]})
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/orders/").status_code == 403
    _token, key = tokens.create_token(actor=admin_user, data={"name": "ci2", "scopes": ["sales:read"]})
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/orders/").status_code == 200
    assert client.get("/api/v1/invoices/").status_code == 200
    assert client.post("/api/v1/orders/", {}, format="json").status_code == 403


def test_the_schema_is_valid_and_lists_the_endpoints(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(target),
    )
    schema = target.read_text()
    for path in (
        "/api/v1/orders/",
        "/api/v1/orders/{id}/",
        "/api/v1/orders/{id}/shipments/",
        "/api/v1/contracts/{id}/document/",
        "/api/v1/invoices/{id}/payments/",
        "/api/v1/balances/{number}/",
    ):
        assert f"  {path}:" in schema, path


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)
