"""The order, contract and invoice pages: lists and details, bad input re-rendered with field errors
(400), shipping in part, payments, the document download's permission check, stale versions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from kith.sales.models import Contract, Invoice, Order, OrderStatus, Payment, Shipment
from kith.sales.services import billing, contracts
from kith.sales.tests import order_factories as f

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"


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


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_order_pages_create_add_lines_confirm_ship_invoice_pay(rep):
    web = client_of(rep)
    customer = f.customer(owner=rep)
    response = web.post("/sales/orders/new/", {"customer": customer.customer_number, "currency": "EUR"})
    assert response.status_code == 302
    order = Order.objects.get()
    page = f"/sales/orders/{order.pk}/"
    bad = web.post(
        f"{page}lines/",
        {"description": "Router", "quantity": "-1", "unit_price": "9.999", "version": order.version},
    )
    assert bad.status_code == 400
    assert "more than zero" in bad.content.decode() and "decimal places" in bad.content.decode()
    ok = web.post(
        f"{page}lines/",
        {"description": "Router", "quantity": "10", "unit_price": "9.99", "version": order.version},
    )
    assert ok.status_code == 302
    order.refresh_from_db()
    assert order.total == Decimal("99.90")
    assert web.post(f"{page}confirm/", {"version": order.version}).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    line = order.lines.get()
    form = web.get(f"{page}ship/")
    assert form.status_code == 200 and f"line_{line.pk}" in form.content.decode()
    over = web.post(f"{page}ship/", {f"line_{line.pk}": "11", "version": order.version})
    assert over.status_code == 400 and "left to ship" in over.content.decode()
    shipped = web.post(f"{page}ship/", {f"line_{line.pk}": "4", "carrier": "DHL", "version": order.version})
    assert shipped.status_code == 302 and Shipment.objects.count() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    detail = web.get(page)
    assert detail.status_code == 200 and "DHL" in detail.content.decode()
    invoiced = web.post(f"{page}invoice/")
    invoice = Invoice.objects.get()
    assert invoiced.status_code == 302 and invoiced["Location"] == f"/sales/invoices/{invoice.pk}/"
    bad_pay = web.post(f"/sales/invoices/{invoice.pk}/payments/", {"amount": "500", "method": "card"})
    assert bad_pay.status_code == 400 and "still owes" in bad_pay.content.decode()
    paid = web.post(f"/sales/invoices/{invoice.pk}/payments/", {"amount": "50", "method": "card"})
    assert paid.status_code == 302 and Payment.objects.count() == 1
    balance = web.get(f"/sales/invoices/balances/{customer.customer_number}/")
    assert balance.status_code == 200 and "49.90" in balance.content.decode()
    for url in (
        "/sales/orders/",
        "/sales/invoices/",
        f"/sales/invoices/{invoice.pk}/",
        "/sales/orders/?status=partial",
    ):
        assert web.get(url).status_code == 200


def test_a_stale_version_is_shown_as_a_conflict(rep):
    web = client_of(rep)
    order = f.order(rep)
    stale = order.version
    f.order_services.order_update(actor=rep, order=order, data={"notes": "changed"})
    response = web.post(
        f"/sales/orders/{order.pk}/edit/", {"currency": "EUR", "notes": "mine", "version": stale}
    )
    assert response.status_code == 400 and "changed this record" in response.content.decode()
    assert Order.objects.get(pk=order.pk).notes == "changed"


def test_an_archived_customer_is_refused_on_the_form(rep):
    from kith.parties.choices import CustomerStatus
    from kith.parties.models import Customer

    customer = f.customer(owner=rep)
    Customer.objects.filter(pk=customer.pk).update(status=CustomerStatus.ARCHIVED)
    response = client_of(rep).post(
        "/sales/orders/new/", {"customer": customer.customer_number, "currency": "EUR"}
    )
    assert response.status_code == 400 and "archived" in response.content.decode()
    assert not Order.objects.exists()


def test_peers_get_404_and_managers_see_the_team(rep, boss):
    peer = f.rep("peer", manager=boss)
    order = f.order(rep)
    assert client_of(peer).get(f"/sales/orders/{order.pk}/").status_code == 404
    assert client_of(boss).get(f"/sales/orders/{order.pk}/").status_code == 200
    assert order.number not in client_of(peer).get("/sales/orders/").content.decode()


def test_contract_form_upload_and_download_permission(rep, boss):
    web = client_of(rep)
    customer = f.customer(owner=rep)
    today = timezone.localdate().isoformat()
    bad = web.post(
        "/sales/contracts/new/",
        {
            "customer": customer.customer_number,
            "title": "Support",
            "start_date": today,
            "currency": "EUR",
            "value": "100",
            "status": "active",
            "document": SimpleUploadedFile("x.pdf", b"not a pdf"),
        },
    )
    assert bad.status_code == 400 and "does not match" in bad.content.decode()
    good = web.post(
        "/sales/contracts/new/",
        {
            "customer": customer.customer_number,
            "title": "Support",
            "start_date": today,
            "currency": "EUR",
            "value": "100",
            "status": "active",
            "document": SimpleUploadedFile("Signed.pdf", PDF),
        },
    )
    assert good.status_code == 302
    contract = Contract.objects.get()
    download = web.get(f"/sales/contracts/{contract.pk}/document/")
    assert download.status_code == 200
    assert _body(download) == PDF
    assert "Signed.pdf" in download["Content-Disposition"] and download["Content-Type"] == "application/pdf"
    peer = f.rep("peer", manager=boss)
    assert client_of(peer).get(f"/sales/contracts/{contract.pk}/document/").status_code == 404
    assert client_of(boss).get(f"/sales/contracts/{contract.pk}/document/").status_code == 200
    assert web.get("/sales/contracts/").status_code == 200
    assert web.get(f"/sales/contracts/{contract.pk}/").status_code == 200
    assert web.get(f"/sales/contracts/{contract.pk}/edit/").status_code == 200


def test_order_from_an_accepted_quote_page(rep):
    quote = f.accepted_quote(rep)
    web = client_of(rep)
    response = web.post("/sales/orders/from-quote/", {"quote": quote.pk})
    order = Order.objects.get()
    assert response.status_code == 302 and order.quote == quote
    again = web.post("/sales/orders/from-quote/", {"quote": quote.pk})
    assert again["Location"] == f"/sales/orders/{order.pk}/" and Order.objects.count() == 1


def test_the_list_pages_cost_the_same_for_more_rows(rep, django_assert_max_num_queries):
    web = client_of(rep)
    customer = f.customer(owner=rep)
    for _ in range(3):
        order = f.order(rep, customer=customer)
        billing.invoice_create(actor=rep, data={"customer": customer, "total": "5", "currency": "EUR"})
    contracts.contract_create(
        actor=rep,
        data={"customer": customer, "title": "A", "start_date": timezone.localdate(), "currency": "EUR"},
    )
    web.get("/sales/orders/")  # warm the permission caches
    with django_assert_max_num_queries(25):
        assert web.get("/sales/orders/").status_code == 200
    with django_assert_max_num_queries(25):
        assert web.get("/sales/invoices/").status_code == 200
    with django_assert_max_num_queries(25):
        assert web.get("/sales/contracts/").status_code == 200
    with django_assert_max_num_queries(30):
        assert web.get(f"/sales/orders/{order.pk}/").status_code == 200


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)
