"""Findings of the security review of the sales part of the data-subject export and erasure: whose leads a
request covers (a shared mailbox, a lead the officer does not see, a lead converted into someone else),
personal data in the titles of the sales timeline entries, and the lookup by email or phone in the access
log."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from kith.audit.choices import AccessKind
from kith.audit.models import AccessLog
from kith.core.models import TimelineEntry
from kith.parties.models import Customer
from kith.privacy.models import ErasureRecord
from kith.privacy.services.erasure import customer_erase, lead_erase
from kith.privacy.services.export import export_bundle
from kith.sales.models import Lead
from kith.sales.services import contracts
from kith.sales.services import quotes as quote_services
from kith.sales.tests import lead_factories, opportunity_factories, quote_factories

pytestmark = pytest.mark.django_db

PHONE = "+86 139-1234-5678"  # rich_customer's phone (region CN)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _sections(content: bytes) -> dict[str, Any]:
    return orjson.loads(zipfile.ZipFile(io.BytesIO(content)).read("subject.json"))["sections"]


def _converted(lead: Lead, customer: Any) -> Lead:
    Lead.objects.filter(pk=lead.pk).update(converted_customer=customer, status="converted")
    return Lead.objects.get(pk=lead.pk)


def _untouched(lead: Lead) -> None:
    fresh = Lead.objects.get(pk=lead.pk)
    assert (fresh.given_name, fresh.family_name, fresh.email, fresh.phone, fresh.description) == (
        lead.given_name,
        lead.family_name,
        lead.email,
        lead.phone,
        lead.description,
    )


def _erased(lead: Lead) -> bool:
    fresh = Lead.objects.get(pk=lead.pk)
    return fresh.family_name == f"Erased lead {lead.pk}" and fresh.email == fresh.phone == ""


# --- 1. a lead converted into another customer is that customer's -----------------------------------


def test_a_customers_request_leaves_the_leads_converted_into_another_customer(
    client, admin_user, rich_customer, other_customer
):
    shared = rich_customer.emails.get().address.lower()
    # customer B came from leads that used A's mailbox and A's phone
    by_email = _converted(
        lead_factories.lead(
            admin_user,
            given_name="Otto",
            family_name="Bystander",
            company="B GmbH",
            email=shared,
            description="Otto's private notes",
        ),
        other_customer,
    )
    by_phone = _converted(
        lead_factories.lead(admin_user, given_name="Otto", family_name="Phone", phone=PHONE), other_customer
    )
    assert by_phone.phone  # stored as E.164, as the customer's number
    # A's own twins: not converted, or converted into A
    open_twin = lead_factories.lead(admin_user, given_name="Wilma", family_name="Q.", email=shared)
    phone_twin = lead_factories.lead(admin_user, given_name="W.", family_name="Phone", phone=PHONE)
    mine = _converted(lead_factories.lead(admin_user, given_name="W.", email=shared), rich_customer)

    leads = _sections(export_bundle(actor=admin_user, customer=rich_customer).content)["leads"]
    assert {row["id"] for row in leads} == {open_twin.pk, phone_twin.pk, mine.pk}

    client.force_login(admin_user)
    page = client.get(reverse("privacy:customer_erase", kwargs={"number": rich_customer.customer_number}))
    assert page.status_code == 200
    listed = {lead.pk for lead in page.context["leads"]}
    assert listed == {open_twin.pk, phone_twin.pk, mine.pk}

    record = customer_erase(
        actor=admin_user,
        customer=rich_customer,
        reason="request 1",
        confirmation=rich_customer.customer_number,
    )
    assert record.summary["leads"] == 3
    assert all(_erased(lead) for lead in (open_twin, phone_twin, mine))
    _untouched(by_email)
    _untouched(by_phone)
    # B's own request still covers them
    theirs = _sections(export_bundle(actor=admin_user, customer=other_customer).content)["leads"]
    assert {row["id"] for row in theirs} == {by_email.pk, by_phone.pk}


# --- 2. a lead's request: twins not converted, and only those the officer sees --------------------------


def _lead_officer() -> Any:
    from kith.security import services
    from kith.security.testing import make_user

    services.save_role(
        code="dpo_leads",
        name="DPO with leads",
        permissions=[
            "privacy.view",
            "privacy.edit",
            "privacy.export",
            "privacy.administer",
            "customer.view",
            "lead.view",
        ],
    )
    return make_user("dpo_leads", "dpo_leads"), make_user("seller_leads", "dpo_leads")


def _owned(lead: Lead, owner: Any) -> Lead:
    Lead.objects.filter(pk=lead.pk).update(owner=owner)
    return Lead.objects.get(pk=lead.pk)


@pytest.fixture
def nora(admin_user: Any, other_customer: Any) -> dict[str, Any]:
    dpo, seller = _lead_officer()
    email = "nora@example.net"
    mine = _owned(lead_factories.lead(admin_user, given_name="Nora", family_name="Field", email=email), dpo)
    twin = _owned(lead_factories.lead(admin_user, given_name="N.", family_name="Field", email=email), dpo)
    hidden = _owned(
        lead_factories.lead(
            admin_user, given_name="Nora", family_name="Other", email=email, description="not yours"
        ),
        seller,
    )
    converted = _converted(
        _owned(lead_factories.lead(admin_user, given_name="Nora", family_name="Customer", email=email), dpo),
        other_customer,
    )
    return {"dpo": dpo, "mine": mine, "twin": twin, "hidden": hidden, "converted": converted}


def test_a_lead_export_holds_only_the_twins_the_officer_sees_and_none_converted(nora):
    dpo, mine = nora["dpo"], nora["mine"]
    leads = _sections(export_bundle(actor=dpo, lead=mine).content)["leads"]
    assert {row["id"] for row in leads} == {mine.pk, nora["twin"].pk}
    whole = orjson.dumps(leads).decode()
    assert "not yours" not in whole and "Customer" not in whole


def test_the_lead_erasure_page_lists_exactly_the_leads_the_erasure_erases(client, nora):
    dpo, mine = nora["dpo"], nora["mine"]
    client.force_login(dpo)
    page = client.get(reverse("privacy:lead_erase", kwargs={"pk": mine.pk}))
    assert page.status_code == 200
    listed = {lead.pk for lead in page.context["leads"]}
    assert listed == {mine.pk, nora["twin"].pk}
    assert f"#{nora['hidden'].pk}".encode() not in page.content
    assert f"#{nora['converted'].pk}".encode() not in page.content

    done = client.post(
        reverse("privacy:lead_erase", kwargs={"pk": mine.pk}),
        {"reason": "request 2", "confirmation": str(mine.pk)},
    )
    assert done.status_code == 302
    assert ErasureRecord.objects.get(lead=mine).summary["leads"] == len(listed)
    erased = {pk for pk in Lead.objects.values_list("pk", flat=True) if _erased(Lead.objects.get(pk=pk))}
    assert erased == listed
    _untouched(nora["hidden"])
    _untouched(nora["converted"])


def test_the_lead_erasure_service_keeps_to_what_the_actor_sees(nora, admin_user):
    record = lead_erase(
        actor=nora["dpo"], lead=nora["mine"], reason="request 3", confirmation=str(nora["mine"].pk)
    )
    assert record.summary["leads"] == 2
    _untouched(nora["hidden"])
    _untouched(nora["converted"])
    # someone who sees every lead erases the hidden twin with its own request, never the converted one
    other = lead_erase(
        actor=admin_user, lead=nora["hidden"], reason="request 4", confirmation=str(nora["hidden"].pk)
    )
    assert other.summary["leads"] == 1 and _erased(nora["hidden"])
    _untouched(nora["converted"])


# --- 3. the titles of the sales timeline entries ----------------------------------------------------------


def _titles(customer: Any) -> list[tuple[str, str]]:
    return list(
        TimelineEntry.objects.filter(
            subject_type=ContentType.objects.get_for_model(Customer), subject_id=customer.pk
        )
        .order_by("id")
        .values_list("kind", "title")
    )


def test_erasure_leaves_no_personal_data_in_the_sales_timeline_titles(
    admin_user, rich_customer, other_customer, mailoutbox
):
    old_email = rich_customer.emails.get().address
    deal = opportunity_factories.opportunity(
        admin_user, customer=rich_customer, name="Wilhelmina's divorce settlement"
    )
    quote = quote_factories.quote(admin_user, opportunity=deal, lines=[quote_factories.free_line()])
    quote_services.quote_send(actor=admin_user, quote=quote, to=old_email)
    today = timezone.localdate()
    contracts.contract_create(
        actor=admin_user,
        data={
            "customer": rich_customer,
            "title": "Lease of Wilhelmina Quixotel's flat",
            "start_date": today.isoformat(),
            "end_date": (today + dt.timedelta(days=365)).isoformat(),
            "value": "1200.00",
            "currency": "EUR",
        },
    )
    their_deal = opportunity_factories.opportunity(admin_user, customer=other_customer, name="Otto's boat")
    before = " ".join(title for _kind, title in _titles(rich_customer))
    assert old_email in before and "divorce" in before and "Quixotel" in before  # what the test is about

    record = customer_erase(
        actor=admin_user,
        customer=rich_customer,
        reason="request 1",
        confirmation=rich_customer.customer_number,
    )

    titles = _titles(rich_customer)
    sales = [(kind, title) for kind, title in titles if kind.startswith("sales.")]
    assert {kind for kind, _title in sales} == {"sales.opportunity", "sales.quote", "sales.contract"}
    joined = " ".join(title for _kind, title in titles).lower()
    for text in (old_email, "divorce", "wilhelmina", "quixotel", "settlement", "lease"):
        assert text.lower() not in joined, text
    assert record.summary["sales_timeline_titles"] == len(sales)
    assert ("sales.quote", f"Quote {quote.number}") in sales
    assert ("sales.opportunity", f"Opportunity #{deal.pk}") in sales
    # another customer's titles stay as they were
    assert any("Otto's boat" in title for _kind, title in _titles(other_customer)), their_deal


# --- 4. the lookup by email or phone is logged ---------------------------------------------------------


def _searches() -> list[AccessLog]:
    return list(AccessLog.objects.filter(kind=AccessKind.SEARCH).order_by("id"))


def test_a_lookup_on_the_page_writes_one_access_log_row(client, admin_user, rich_customer):
    lead = lead_factories.lead(admin_user, given_name="Wilma", email=rich_customer.emails.get().address)
    client.force_login(admin_user)
    assert _searches() == []
    page = client.get(reverse("privacy:subjects"), {"q": rich_customer.emails.get().address})
    assert page.status_code == 200
    [row] = _searches()
    assert row.user_id == admin_user.pk and row.customer_ids == [rich_customer.pk]
    assert row.query == rich_customer.emails.get().address
    assert row.filters == f"lookup=email&lead={lead.pk}" and row.result_count == 2
    # no lookup, no row: the empty form and a text that is neither an address nor a number
    client.get(reverse("privacy:subjects"))
    assert client.get(reverse("privacy:subjects"), {"q": "not an address"}).status_code == 400
    assert len(_searches()) == 1


def test_a_phone_lookup_through_the_api_is_logged_without_the_number(admin_user, rich_customer):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(admin_user)
    found = api.get("/api/v1/privacy/subjects/", {"q": PHONE})
    assert found.status_code == 200 and [c["customer_number"] for c in found.json()["customers"]] == [
        rich_customer.customer_number
    ]
    [row] = _searches()
    assert row.customer_ids == [rich_customer.pk] and row.result_count == 1
    assert row.filters == "lookup=phone"
    assert "5678" not in row.query and row.query.endswith("…78]")
