"""The sales records in the data-subject export and in erasure: deals, quotes, orders, shipments,
invoices, payments, contracts (with their documents) and leads, also of people who are not customers."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from kith.audit.context import audit_context
from kith.audit.models import AuditEntry
from kith.core.errors import DomainError
from kith.privacy.models import ErasureRecord
from kith.privacy.selectors.lookup import find_subjects
from kith.privacy.services.erasure import customer_erase, lead_erase
from kith.privacy.services.export import export_bundle
from kith.privacy.tests.factories import privacy_officer
from kith.sales.models import Contract, Invoice, Lead, Opportunity, Order, Payment, Quote, Shipment
from kith.sales.services import billing, contracts, orders
from kith.sales.tests import lead_factories, opportunity_factories, order_factories, quote_factories

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% Wilhelmina's signed lease\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EMAIL = "wilhelmina.quixotel@example.org"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _sales_of(actor: Any, customer: Any, *, tag: str) -> dict[str, Any]:
    """A deal, a sent quote with lines, a confirmed order shipped in part, its invoice paid in part and a
    contract with a signed document, all of ``customer``; ``tag`` marks the texts."""
    deal = opportunity_factories.opportunity(
        actor, customer=customer, name=f"Deal {tag}", description=f"Met {tag} at the fair"
    )
    quote = quote_factories.quote(
        actor, customer=customer, lines=[quote_factories.free_line(description=f"Setup {tag}")]
    )
    Quote.objects.filter(pk=quote.pk).update(sent_to=f"{tag.lower()}@example.org", terms=f"Dear {tag}")
    order = order_factories.confirmed_order(actor, customer=customer, notes=f"Ring {tag} at the gate")
    line = order.lines.get()
    orders.shipment_create(
        actor=actor,
        order=order,
        lines=[(line, "4")],
        carrier="DHL",
        tracking=f"TRACK-{tag}",
        note=f"for {tag}",
    )
    invoice = billing.invoice_from_order(actor=actor, order=Order.objects.get(pk=order.pk))
    Invoice.objects.filter(pk=invoice.pk).update(description=f"Services for {tag}")
    billing.payment_create(
        actor=actor,
        data={"invoice": invoice.pk, "amount": "100.00", "method": "card", "reference": f"Card of {tag}"},
    )
    today = timezone.localdate()
    contract = contracts.contract_create(
        actor=actor,
        data={
            "customer": customer,
            "title": f"Lease {tag}",
            "start_date": today.isoformat(),
            "end_date": (today + dt.timedelta(days=365)).isoformat(),
            "value": "1200.00",
            "currency": "EUR",
            "notes": f"{tag} wants paper copies",
        },
        document=SimpleUploadedFile(f"Lease {tag}.pdf", PDF, content_type="application/pdf"),
    )
    return {
        "deal": deal,
        "quote": quote,
        "order": Order.objects.get(pk=order.pk),
        "invoice": Invoice.objects.get(pk=invoice.pk),
        "contract": contract,
    }


@pytest.fixture
def sales(admin_user: Any, rich_customer: Any, other_customer: Any) -> dict[str, Any]:
    mine = _sales_of(admin_user, rich_customer, tag="Quixotel")
    theirs = _sales_of(admin_user, other_customer, tag="Bystander")
    same_email = lead_factories.lead(
        admin_user, given_name="Wilma", family_name="Quixotel", company="", email=EMAIL.upper()
    )
    converted = lead_factories.lead(admin_user, given_name="W.", family_name="Q.", company="Quixotel GmbH")
    Lead.objects.filter(pk=converted.pk).update(converted_customer=rich_customer, status="converted")
    converted.refresh_from_db()
    stranger = lead_factories.lead(
        admin_user, given_name="Nora", family_name="Field", email="nora@example.net"
    )
    return {
        "mine": mine,
        "theirs": theirs,
        "lead_same_email": same_email,
        "lead_converted": converted,
        "lead_stranger": stranger,
    }


def _open(content: bytes) -> tuple[zipfile.ZipFile, dict[str, Any]]:
    bundle = zipfile.ZipFile(io.BytesIO(content))
    return bundle, orjson.loads(bundle.read("subject.json"))


def test_export_holds_the_customers_sales_records_and_no_one_elses(admin_user, rich_customer, sales):
    bundle, document = _open(export_bundle(actor=admin_user, customer=rich_customer).content)
    data = document["sections"]
    mine, theirs = sales["mine"], sales["theirs"]
    assert [d["name"] for d in data["opportunities"]] == ["Deal Quixotel"]
    assert [q["number"] for q in data["quotes"]] == [mine["quote"].number]
    assert data["quotes"][0]["sent_to"] == "quixotel@example.org"
    assert [line["description"] for line in data["quote_lines"]] == ["Setup Quixotel"]
    assert [o["number"] for o in data["orders"]] == [mine["order"].number]
    assert data["orders"][0]["notes"] == "Ring Quixotel at the gate"
    assert [line["order_number"] for line in data["order_lines"]] == [mine["order"].number]
    assert [s["tracking"] for s in data["shipments"]] == ["TRACK-Quixotel"]
    assert [i["number"] for i in data["invoices"]] == [mine["invoice"].number]
    assert [(p["amount"], p["reference"]) for p in data["payments"]] == [("100.00", "Card of Quixotel")]
    [contract] = data["contracts"]
    assert contract["title"] == "Lease Quixotel" and contract["document_name"] == "Lease Quixotel.pdf"
    assert bundle.read(contract["document_file"]) == PDF  # the document itself is in the ZIP
    assert {lead["id"] for lead in data["leads"]} == {
        sales["lead_same_email"].pk,
        sales["lead_converted"].pk,
    }
    assert {"opportunities.csv", "quotes.csv", "invoices.csv", "contracts.csv", "leads.csv"} <= set(
        bundle.namelist()
    )
    whole = b"".join(bundle.read(name) for name in bundle.namelist())
    for text in ("Bystander", theirs["order"].number, theirs["invoice"].number, "Nora"):
        assert text.encode() not in whole, text
    assert [n for n in bundle.namelist() if n.startswith("documents/")] == [contract["document_file"]]


def test_a_lead_found_by_email_is_exported_and_erased(admin_user, rich_customer, sales):
    stranger = sales["lead_stranger"]
    twin = lead_factories.lead(
        admin_user, given_name="N.", family_name="Field", company="", email="nora@example.net"
    )
    found = find_subjects(user=admin_user, query="Nora@Example.net")
    assert {lead.pk for lead in found.leads} == {stranger.pk, twin.pk} and found.customers == []
    by_customer_email = find_subjects(user=admin_user, query=EMAIL)
    assert [c.pk for c in by_customer_email.customers] == [rich_customer.pk]

    bundle = export_bundle(actor=admin_user, lead=stranger)
    _zip, document = _open(bundle.content)
    assert document["customer_number"] is None
    assert {lead["id"] for lead in document["sections"]["leads"]} == {stranger.pk, twin.pk}
    assert "orders" not in document["sections"]  # customer sections: the person is no customer
    assert AuditEntry.objects.filter(action="export", object_id=str(stranger.pk)).exists()

    with pytest.raises(ValidationError):
        lead_erase(actor=admin_user, lead=stranger, reason="request 99", confirmation="1234567")
    last = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    with audit_context(source="web", actor=admin_user):
        record = lead_erase(
            actor=admin_user, lead=stranger, reason="request 99", confirmation=str(stranger.pk)
        )
    assert record.lead_id == stranger.pk and record.customer_id is None and record.summary["leads"] == 2
    for lead in Lead.objects.filter(pk__in=[stranger.pk, twin.pk]):
        assert (lead.given_name, lead.email, lead.phone, lead.company) == ("", "", "", "")
        assert lead.family_name == f"Erased lead {lead.pk}"
    assert Lead.objects.get(pk=sales["lead_same_email"].pk).email == EMAIL.lower()  # someone else's
    new = list(AuditEntry.objects.filter(seq__gt=last))
    assert [(e.object_type, e.action) for e in new] == [("privacy.erasurerecord", "create")]
    assert new[0].actor_id == admin_user.pk and "request 99" in orjson.dumps(new[0].changes).decode()
    written = orjson.dumps([[e.object_repr, e.changes] for e in new]).decode()
    assert "Nora" not in written and "nora@example.net" not in written
    with pytest.raises(DomainError):
        lead_erase(actor=admin_user, lead=stranger, reason="request 99", confirmation=str(stranger.pk))


def test_a_converted_lead_is_answered_as_its_customer(admin_user, sales):
    converted = sales["lead_converted"]
    with pytest.raises(PermissionDenied):
        export_bundle(actor=admin_user, lead=converted)
    with pytest.raises(DomainError):
        lead_erase(actor=admin_user, lead=converted, reason="request 5", confirmation=str(converted.pk))


def test_erasure_blanks_the_sales_records_deletes_the_document_and_keeps_the_amounts(
    admin_user, rich_customer, sales, media, django_capture_on_commit_callbacks
):
    mine, theirs = sales["mine"], sales["theirs"]
    document = media / "contracts" / mine["contract"].document.name
    their_document = media / "contracts" / theirs["contract"].document.name
    assert document.read_bytes() == PDF
    invoice_before = Invoice.objects.values("total", "paid", "currency", "number", "status").get(
        pk=mine["invoice"].pk
    )
    order_before = Order.objects.values("total", "subtotal", "tax_total", "number").get(pk=mine["order"].pk)

    with django_capture_on_commit_callbacks(execute=True):
        record = customer_erase(
            actor=admin_user,
            customer=rich_customer,
            reason="request 17",
            confirmation=rich_customer.customer_number,
        )

    assert not document.exists() and their_document.read_bytes() == PDF
    assert record.summary["contracts"] == 1 and record.summary["leads"] == 2
    contract = Contract.objects.get(pk=mine["contract"].pk)
    assert (contract.document.name, contract.document_name, contract.notes) == ("", "", "")
    assert contract.title == "[redacted]" and contract.value == Decimal("1200.00")
    assert (
        Invoice.objects.values("total", "paid", "currency", "number", "status").get(pk=mine["invoice"].pk)
        == invoice_before
    )
    assert Invoice.objects.get(pk=mine["invoice"].pk).description == ""
    assert (
        Order.objects.values("total", "subtotal", "tax_total", "number").get(pk=mine["order"].pk)
        == order_before
    )
    assert Order.objects.get(pk=mine["order"].pk).notes == ""
    payment = Payment.objects.get(invoice=mine["invoice"])
    assert payment.amount == Decimal("100.00") and payment.reference == ""
    shipment = Shipment.objects.get(order=mine["order"])
    assert (shipment.tracking, shipment.note, shipment.carrier) == ("", "", "DHL")
    quote = Quote.objects.get(pk=mine["quote"].pk)
    assert (quote.sent_to, quote.terms) == ("", "") and quote.total == mine["quote"].total
    deal = Opportunity.objects.get(pk=mine["deal"].pk)
    assert (deal.name, deal.description) == ("[redacted]", "") and deal.amount == Decimal("1000.00")
    for key in ("lead_same_email", "lead_converted"):
        lead = Lead.objects.get(pk=sales[key].pk)
        assert (lead.given_name, lead.company, lead.email) == ("", "", "")
    assert Lead.objects.get(pk=sales["lead_stranger"].pk).given_name == "Nora"
    # another customer's records are untouched
    assert Order.objects.get(pk=theirs["order"].pk).notes == "Ring Bystander at the gate"
    assert Quote.objects.get(pk=theirs["quote"].pk).sent_to == "bystander@example.org"
    assert Contract.objects.get(pk=theirs["contract"].pk).document_name == "Lease Bystander.pdf"
    assert ErasureRecord.objects.filter(customer=rich_customer).count() == 1


def test_a_rolled_back_erasure_keeps_the_document(
    admin_user, rich_customer, sales, media, monkeypatch, django_capture_on_commit_callbacks
):
    document = media / "contracts" / sales["mine"]["contract"].document.name
    from kith.privacy.services import erasure

    def fail(old_search_name: str) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(erasure, "_forget_words", fail)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        customer_erase(
            actor=admin_user,
            customer=rich_customer,
            reason="request 17",
            confirmation=rich_customer.customer_number,
        )
    assert callbacks == [] and document.read_bytes() == PDF
    assert Contract.objects.get(pk=sales["mine"]["contract"].pk).document_name == "Lease Quixotel.pdf"


def test_the_pages_find_export_and_erase_a_lead(client, admin_user, sales):
    client.force_login(admin_user)
    stranger = sales["lead_stranger"]
    page = client.get(reverse("privacy:subjects"), {"q": "nora@example.net"})
    assert page.status_code == 200 and f"#{stranger.pk}".encode() in page.content
    assert client.get(reverse("privacy:subjects"), {"q": "not an address"}).status_code == 400
    download = client.post(reverse("privacy:lead_export", kwargs={"pk": stranger.pk}))
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    erase_page = client.get(reverse("privacy:lead_erase", kwargs={"pk": stranger.pk}))
    assert erase_page.status_code == 200 and b"nora@example.net" in erase_page.content
    done = client.post(
        reverse("privacy:lead_erase", kwargs={"pk": stranger.pk}),
        {"reason": "request 99", "confirmation": str(stranger.pk)},
    )
    assert done.status_code == 302 and ErasureRecord.objects.filter(lead=stranger).exists()


def test_the_customer_erasure_page_names_the_leads_and_the_rule(client, admin_user, rich_customer, sales):
    client.force_login(admin_user)
    page = client.get(reverse("privacy:customer_erase", kwargs={"number": rich_customer.customer_number}))
    assert page.status_code == 200
    assert f"#{sales['lead_same_email'].pk}".encode() in page.content
    assert b"invoices" in page.content.lower()


def test_lead_requests_need_the_privacy_permissions(client, sales):
    officer = privacy_officer()  # sees customers, not leads
    with pytest.raises(PermissionDenied):
        export_bundle(actor=order_factories.viewer(), lead=sales["lead_stranger"])
    client.force_login(officer)
    assert (
        client.post(reverse("privacy:lead_export", kwargs={"pk": sales["lead_stranger"].pk})).status_code
        == 404
    )


def test_the_api_finds_exports_and_erases_a_lead(admin_user, sales):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(admin_user)
    stranger = sales["lead_stranger"]
    found = api.get("/api/v1/privacy/subjects/", {"q": "nora@example.net"})
    assert found.status_code == 200 and [lead["id"] for lead in found.json()["leads"]] == [stranger.pk]
    assert api.get("/api/v1/privacy/subjects/", {"q": "nonsense"}).status_code == 400
    exported = api.get(f"/api/v1/privacy/leads/{stranger.pk}/export/")
    assert exported.status_code == 200 and exported["Content-Type"] == "application/zip"
    assert api.get(f"/api/v1/privacy/leads/{stranger.pk}/erasure/").status_code == 404
    erased = api.post(
        f"/api/v1/privacy/leads/{stranger.pk}/erasure/",
        {"reason": "request 99", "confirmation": str(stranger.pk)},
        format="json",
    )
    assert erased.status_code == 201 and erased.json()["summary"]["leads"] == 1
    assert api.get(f"/api/v1/privacy/leads/{stranger.pk}/erasure/").json()["lead"] == stranger.pk
