"""Consents: append-only history, the record in force, may_contact and the bulk filter, UI and API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kith.parties.models import Customer
from kith.parties.tests.factories import person
from kith.privacy.models import ConsentRecord
from kith.privacy.selectors import consent_history, contactable_q, current_consent, may_contact
from kith.privacy.tests.factories import consent, privacy_officer, purpose

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def api(admin_user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def test_withdrawal_is_a_new_record_and_the_newest_is_in_force(admin_user):
    customer = person(admin_user)
    given = consent(admin_user, customer, "given")
    withdrawn = consent(admin_user, customer, "withdrawn", evidence="phoned to unsubscribe")
    assert ConsentRecord.objects.filter(customer=customer).count() == 2
    given.refresh_from_db()
    assert given.status == "given" and not given.is_current  # never overwritten
    assert current_consent(customer.pk, "marketing_email", "email") == withdrawn
    assert [r.status for r in consent_history(customer)] == ["withdrawn", "given"]
    assert not may_contact(customer.pk, "marketing_email", "email")
    consent(admin_user, customer, "given", evidence="signed again at the fair")
    assert may_contact(customer.pk, "marketing_email", "email")
    assert ConsentRecord.objects.filter(customer=customer, is_current=True).count() == 1


def test_late_entry_with_an_earlier_date_joins_the_history_only(admin_user):
    customer = person(admin_user)
    consent(admin_user, customer, "given")
    old = consent(admin_user, customer, "withdrawn", occurred_at=timezone.now() - dt.timedelta(days=30))
    assert not old.is_current
    assert may_contact(customer.pk, "marketing_email", "email")


def test_consent_is_per_purpose_and_channel_and_absent_means_no(admin_user):
    customer = person(admin_user)
    assert not may_contact(customer.pk, "marketing_email", "email")  # opt-in
    consent(admin_user, customer, "given")
    assert may_contact(customer.pk, purpose("marketing_email"), "email")
    assert may_contact(customer.pk, purpose("marketing_email").pk, "email")
    assert not may_contact(customer.pk, "marketing_email", "sms")
    assert not may_contact(customer.pk, "profiling", "email")


def test_bulk_filter(admin_user):
    yes, no, never = person(admin_user), person(admin_user), person(admin_user)
    consent(admin_user, yes, "given")
    consent(admin_user, no, "given")
    consent(admin_user, no, "withdrawn")
    ids = set(
        Customer.objects.filter(pk__in=[yes.pk, no.pk, never.pk])
        .filter(contactable_q("marketing_email", "email"))
        .values_list("pk", flat=True)
    )
    assert ids == {yes.pk}


def test_service_field_errors_and_nothing_saved(admin_user):
    customer = person(admin_user)
    with pytest.raises(ValidationError) as caught:
        consent(admin_user, customer, "maybe", channel="pigeon", evidence="", occurred_at="tomorrow")
    assert set(caught.value.message_dict) == {"status", "channel", "occurred_at"}
    with pytest.raises(ValidationError) as caught:
        consent(admin_user, customer, "given", evidence="")
    assert "evidence" in caught.value.message_dict  # a consent given needs its source
    future = timezone.now() + dt.timedelta(days=2)
    with pytest.raises(ValidationError) as caught:
        consent(admin_user, customer, "given", occurred_at=future)
    assert "occurred_at" in caught.value.message_dict
    assert not ConsentRecord.objects.exists()


def test_refused_without_permission(user):
    customer = person(user)
    with pytest.raises(PermissionDenied):
        consent(user, customer, "given")


def test_a_privacy_role_may_record(db):
    officer = privacy_officer()
    customer = person(None, owner=officer)
    consent(officer, customer, "given")
    assert may_contact(customer.pk, "marketing_email", "email")


# --- web ---------------------------------------------------------------------------------------


def test_section_is_loaded_into_the_customer_page(client, admin_user):
    customer = person(admin_user)
    client.force_login(admin_user)
    page = client.get(reverse("parties:customer_detail", kwargs={"number": customer.customer_number}))
    url = reverse("privacy:customer_consents", kwargs={"number": customer.customer_number})
    assert url in page.content.decode()
    section = client.get(url, **HTMX)
    assert section.status_code == 200
    assert 'id="consents"' in section.content.decode()
    assert "<html" not in section.content.decode()


def test_record_and_withdraw_in_the_ui_with_field_errors(client, admin_user):
    customer = person(admin_user)
    client.force_login(admin_user)
    url = reverse("privacy:customer_consents", kwargs={"number": customer.customer_number})
    bad = client.post(url, {"purpose": "", "channel": "email", "status": "given", "evidence": ""}, **HTMX)
    assert bad.status_code == 200  # htmx swaps the section with its field errors
    assert "field-error" in bad.content.decode()
    assert not ConsentRecord.objects.exists()
    missing_evidence = client.post(
        url, {"purpose": purpose().pk, "channel": "email", "status": "given", "evidence": ""}
    )
    assert missing_evidence.status_code == 400
    assert "Say where the consent comes from" in missing_evidence.content.decode()
    ok = client.post(
        url, {"purpose": purpose().pk, "channel": "email", "status": "given", "evidence": "web form"}, **HTMX
    )
    assert ok.status_code == 200
    assert may_contact(customer.pk, "marketing_email", "email")
    client.post(url, {"purpose": purpose().pk, "channel": "email", "status": "withdrawn"})
    assert not may_contact(customer.pk, "marketing_email", "email")
    assert ConsentRecord.objects.filter(customer=customer).count() == 2


def test_section_left_out_and_page_refused_without_permission(client, user):
    customer = person(user)
    client.force_login(user)
    url = reverse("privacy:customer_consents", kwargs={"number": customer.customer_number})
    assert client.get(url, **HTMX).content == b""
    assert client.get(url).status_code == 403
    response = client.post(
        url, {"purpose": purpose().pk, "channel": "email", "status": "given", "evidence": "x"}
    )
    assert response.status_code == 403
    assert not ConsentRecord.objects.exists()


# --- API ---------------------------------------------------------------------------------------


def test_api_record_and_list(api, admin_user):
    customer = person(admin_user)
    url = f"/api/v1/customers/{customer.customer_number}/consents/"
    created = api.post(
        url,
        {"purpose": "marketing_email", "channel": "email", "status": "given", "evidence": "form"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["in_force"] is True
    api.post(url, {"purpose": "marketing_email", "channel": "email", "status": "withdrawn"}, format="json")
    body = api.get(url).json()
    assert [c["status"] for c in body["current"]] == ["withdrawn"]
    assert [c["status"] for c in body["history"]] == ["withdrawn", "given"]


def test_api_validation_errors_are_field_level(api, admin_user):
    customer = person(admin_user)
    url = f"/api/v1/customers/{customer.customer_number}/consents/"
    response = api.post(
        url, {"purpose": "nope", "channel": "fax", "status": "given", "colour": 1}, format="json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"channel", "colour"} <= set(errors)
    response = api.post(
        url, {"purpose": "nope", "channel": "email", "status": "given", "evidence": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "purpose" in response.json()["errors"]
    response = api.post(
        url,
        {"purpose": "marketing_email", "channel": "email", "status": "given", "occurred_at": "soon"},
        format="json",
    )
    assert response.status_code == 400 and "occurred_at" in response.json()["errors"]
    assert not ConsentRecord.objects.exists()


def test_api_refuses_without_permission_and_hides_invisible_customers(user, admin_user):
    client = APIClient()
    client.force_authenticate(user)
    own = person(user)
    assert client.get(f"/api/v1/customers/{own.customer_number}/consents/").status_code == 403
    response = client.post(
        f"/api/v1/customers/{own.customer_number}/consents/",
        {"purpose": "marketing_email", "channel": "email", "status": "given", "evidence": "x"},
        format="json",
    )
    assert response.status_code == 403
    assert client.get("/api/v1/customers/C0000NOPE/consents/").status_code == 404


def test_schema_documents_the_endpoints(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert "post" in paths["/api/v1/customers/{number}/consents/"]
    assert "get" in paths["/api/v1/customers/{number}/export/"]
    assert "post" in paths["/api/v1/customers/{number}/erasure/"]
