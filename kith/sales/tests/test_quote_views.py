"""The quote pages: list and filters, create from an opportunity or a customer, the inline line editor
(htmx and plain posts), header edit with a stale version, send with the approval gate, revise, accept,
PDF download; permissions and visibility."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kith.sales.choices import QuoteStatus
from kith.sales.models import Quote, QuoteLine
from kith.sales.tests import opportunity_factories
from kith.sales.tests.factories import product
from kith.sales.tests.quote_factories import customer, free_line, quote
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def manager() -> Any:
    return make_user("boss", "sales_manager")


@pytest.fixture
def rep(manager: Any) -> Any:
    return make_user("rep", "sales_rep", manager=manager)


@pytest.fixture
def rep_client(client: Client, rep: Any) -> Client:
    client.force_login(rep)
    return client


def test_create_from_a_customer_number_then_list_and_filter(rep_client, rep):
    buyer = customer(owner=rep, legal_name="Lotus Trading")
    page = rep_client.get("/sales/quotes/new/", {"customer": buyer.customer_number})
    assert page.status_code == 200 and buyer.customer_number in page.content.decode()
    response = rep_client.post(
        "/sales/quotes/new/", {"customer": buyer.customer_number, "currency": "EUR", "terms": "Net 30"}
    )
    made = Quote.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/sales/quotes/{made.pk}/"
    listed = rep_client.get("/sales/quotes/").content.decode()
    assert made.number in listed and "Lotus Trading" in listed
    assert made.number not in rep_client.get("/sales/quotes/", {"status": "sent"}).content.decode()
    assert (
        made.number in rep_client.get("/sales/quotes/", {"customer": buyer.customer_number}).content.decode()
    )


def test_create_errors_are_on_the_fields_and_nothing_is_saved(rep_client, rep):
    response = rep_client.post("/sales/quotes/new/", {"customer": "NOPE", "currency": ""})
    assert response.status_code == 400 and "customer" in response.context["form"].errors
    response = rep_client.post(
        "/sales/quotes/new/",
        {"customer": customer(owner=rep).customer_number, "currency": "", "valid_until": "2001-01-01"},
    )
    assert response.status_code == 400
    assert {"currency", "valid_until"} <= set(response.context["form"].errors)
    assert Quote.objects.count() == 0


def test_create_from_an_opportunity(rep_client, rep):
    deal = opportunity_factories.opportunity(rep, currency="USD")
    page = rep_client.get("/sales/quotes/new/", {"opportunity": deal.pk})
    assert page.status_code == 200 and deal.name in page.content.decode()
    response = rep_client.post("/sales/quotes/new/", {"opportunity": deal.pk, "currency": "USD"})
    made = Quote.objects.get()
    assert response.status_code == 302 and made.opportunity == deal and made.customer == deal.customer


def test_the_inline_line_editor_with_htmx(rep_client, rep):
    sim = product(sku="SIM-100", name="SIM card", list_price="19.99", tax_rate="13")
    made = quote(rep)
    options = rep_client.get("/sales/quotes/products/", {"product_q": "sim"}).content.decode()
    assert "SIM-100" in options and f'value="{sim.pk}"' in options
    added = rep_client.post(
        f"/sales/quotes/{made.pk}/lines/",
        {"product": sim.pk, "quantity": "3", "discount_percent": "7.5", "version": made.version},
        **HTMX,
    )
    body = added.content.decode()
    assert added.status_code == 200 and 'id="quote-lines"' in body and "<html" not in body
    assert "62.68 EUR" in body  # the totals follow
    line = QuoteLine.objects.get()
    made.refresh_from_db()
    changed = rep_client.post(
        f"/sales/quotes/{made.pk}/lines/{line.pk}/",
        {"quantity": "1", "unit_price": "19.99", "discount_percent": "0", "version": made.version},
        **HTMX,
    )
    assert "22.59 EUR" in changed.content.decode()  # 19.99 + 2.60 tax
    made.refresh_from_db()
    bad = rep_client.post(
        f"/sales/quotes/{made.pk}/lines/",
        {"description": "Setup", "quantity": "-1", "unit_price": "1.001", "version": made.version},
        **HTMX,
    )
    form = bad.context["line_form"]
    assert {"quantity", "unit_price"} <= set(form.errors) and QuoteLine.objects.count() == 1
    stale = rep_client.post(
        f"/sales/quotes/{made.pk}/lines/", {**free_line(), "version": made.version - 1}, **HTMX
    )
    assert "Someone else changed this quote" in stale.content.decode() and QuoteLine.objects.count() == 1
    removed = rep_client.post(f"/sales/quotes/{made.pk}/lines/{line.pk}/remove/", {"version": made.version})
    assert removed.status_code == 302 and QuoteLine.objects.count() == 0


def test_plain_posts_work_without_htmx_and_lines_move(rep_client, rep):
    made = quote(rep, lines=[free_line(description="First"), free_line(description="Second")])
    second = made.lines.get(description="Second")
    response = rep_client.post(
        f"/sales/quotes/{made.pk}/lines/{second.pk}/move/", {"direction": "up", "version": made.version}
    )
    assert response.status_code == 302
    assert list(made.lines.order_by("position").values_list("description", flat=True)) == ["Second", "First"]
    bad = rep_client.post(f"/sales/quotes/{made.pk}/lines/", {"description": "", "quantity": "1"})
    assert bad.status_code == 400


def test_header_edit_and_a_stale_version(rep_client, rep):
    made = quote(rep)
    ok = rep_client.post(
        f"/sales/quotes/{made.pk}/edit/", {"currency": "EUR", "terms": "Net 60", "version": made.version}
    )
    assert ok.status_code == 302 and Quote.objects.get().terms == "Net 60"
    stale = rep_client.post(
        f"/sales/quotes/{made.pk}/edit/", {"currency": "EUR", "terms": "Net 90", "version": made.version}
    )
    assert stale.status_code == 409 and Quote.objects.get().terms == "Net 60"


def test_send_is_gated_by_approval_with_a_link_to_the_opportunity(rep_client, rep, mailoutbox):
    deal = opportunity_factories.opportunity(rep, amount="1000.00", discount_percent="20")
    made = quote(rep, opportunity=deal, lines=[free_line(unit_price="1000.00", discount_percent="20")])
    page = rep_client.get(f"/sales/quotes/{made.pk}/send/")
    assert f"/sales/opportunities/{deal.pk}/" in page.content.decode()
    refused = rep_client.post(
        f"/sales/quotes/{made.pk}/send/", {"to": "buyer@example.com", "version": made.version}
    )
    assert refused.status_code == 409 and Quote.objects.get().status == QuoteStatus.DRAFT and mailoutbox == []
    assert "approval" in refused.content.decode()


def test_send_revise_accept_and_the_pdf(rep_client, rep, mailoutbox):
    made = quote(rep, lines=[free_line()])
    bad = rep_client.post(f"/sales/quotes/{made.pk}/send/", {"to": "nope", "version": made.version})
    assert bad.status_code == 400 and "to" in bad.context["form"].errors
    sent = rep_client.post(
        f"/sales/quotes/{made.pk}/send/",
        {"to": "buyer@example.com", "message": "Hi", "version": made.version},
    )
    assert sent.status_code == 302
    made.refresh_from_db()
    assert made.status == QuoteStatus.SENT
    pdf = rep_client.get(f"/sales/quotes/{made.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and made.number.encode() in pdf.content
    revised = rep_client.post(f"/sales/quotes/{made.pk}/revise/", {"version": made.version})
    new = Quote.objects.get(revision=2)
    assert revised["Location"] == f"/sales/quotes/{new.pk}/"
    rep_client.post(f"/sales/quotes/{new.pk}/send/", {"to": "buyer@example.com", "version": new.version})
    new.refresh_from_db()
    accepted = rep_client.post(f"/sales/quotes/{new.pk}/accept/", {"version": new.version})
    assert accepted.status_code == 302 and Quote.objects.get(pk=new.pk).status == QuoteStatus.ACCEPTED
    page = rep_client.get(f"/sales/quotes/{new.pk}/").content.decode()
    assert "Revision 1" in page and "100.00 EUR" in page


def test_visibility_and_permissions(client, rep, manager):
    made = quote(rep)
    peer = make_user("peer", "sales_rep")
    client.force_login(peer)
    assert client.get(f"/sales/quotes/{made.pk}/").status_code == 404
    assert client.get(f"/sales/quotes/{made.pk}/pdf/").status_code == 404
    assert made.number not in client.get("/sales/quotes/").content.decode()
    client.force_login(manager)
    assert client.get(f"/sales/quotes/{made.pk}/").status_code == 200
    viewer = make_user("viewer", "viewer")
    client.force_login(viewer)
    assert client.get("/sales/quotes/new/").status_code == 403


def test_the_quote_page_costs_the_same_for_more_lines(rep_client, rep):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sim = product(sku="SIM-100")
    made = quote(rep, lines=[{"product": sim.pk, "quantity": "1"}])

    def cost() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert rep_client.get(f"/sales/quotes/{made.pk}/").status_code == 200
        return len(captured)

    cost()  # warm the per-user caches
    few = cost()
    for n in range(5):
        made.lines.create(product=sim, description=f"x{n}", quantity=1, unit_price=1, currency="EUR")
    assert cost() == few
