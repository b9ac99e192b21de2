"""Erasure as anonymisation: the identity disappears everywhere, business records and counts stay."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from kith.core.errors import DomainError
from kith.core.models import SearchWord, TimelineEntry
from kith.parties.models import Customer, Interaction, Relationship, SpecialDate
from kith.parties.selectors.search import CustomerFilters, customer_search
from kith.privacy.models import ConsentRecord, ErasureRecord
from kith.privacy.selectors import is_erased, may_contact
from kith.privacy.services.erasure import customer_erase
from kith.privacy.tests.factories import consent, privacy_officer

pytestmark = pytest.mark.django_db

OLD_TEXTS = [
    "Quixotel",
    "Wilhelmina",
    "wilhelmina.quixotel@example.org",
    "13912345678",
    "+86 139-1234-5678",
    "X1234567",
    "12 Elm Street",
    "husband is Bob",
]


def find(user: Any, q: str) -> list[str]:
    page = customer_search(user=user, filters=CustomerFilters.from_params({"q": q}), limit=25)
    return [row["customer_number"] for row in page.rows]


def _timeline_count(customer: Customer) -> int:
    return TimelineEntry.objects.filter(
        subject_type=ContentType.objects.get_for_model(Customer), subject_id=customer.pk
    ).count()


def test_erasure_removes_the_identity_everywhere_and_keeps_business_records(
    client, admin_user, rich_customer, other_customer
):
    number = rich_customer.customer_number
    interactions_before = Interaction.objects.filter(customer=rich_customer).count()
    timeline_before = _timeline_count(rich_customer)
    for text in ("Quixotel", "wilhelmina.quixotel@example.org", "13912345678", "quixotl"):
        assert find(admin_user, text) == [number], text  # found before

    record = customer_erase(
        actor=admin_user, customer=rich_customer, reason="GDPR request 2026-17", confirmation=number
    )

    customer = Customer.objects.get(pk=rich_customer.pk)
    assert customer.display_name == f"Erased customer {number}"
    assert customer.status == "archived"
    assert (customer.family_name, customer.given_name, customer.gender, customer.marital_status) == (
        "",
        "",
        "",
        "",
    )
    assert customer.birth_date is None and customer.id_document_number == "" and customer.notes == ""
    assert customer.custom_data == {}
    assert not customer.phones.exists() and not customer.emails.exists() and not customer.addresses.exists()
    assert not SpecialDate.objects.filter(customer=customer).exists()
    assert not Relationship.objects.filter(to_customer=customer).exists()
    assert is_erased(customer) and record.erased_by == admin_user and record.reason == "GDPR request 2026-17"
    assert record.summary["phones"] == 1 and record.summary["interactions_redacted"] == 2

    # search by the old name, phone, email or a typo of the name finds nothing; the number still works
    for text in (
        "Quixotel",
        "wilhelmina",
        "wilhelmina.quixotel@example.org",
        "13912345678",
        "+86 139 1234 5678",
        "quixotl",
    ):
        assert find(admin_user, text) == [], text
    assert find(admin_user, number) == [number]
    assert not SearchWord.objects.filter(word="quixotel").exists()
    assert find(admin_user, "Bystander") == [other_customer.customer_number]  # others untouched

    # business records and counts stay; their free text is redacted
    interactions = list(Interaction.objects.filter(customer=customer))
    assert len(interactions) == interactions_before
    assert all(i.subject == "[redacted]" and i.content == "" for i in interactions)
    assert all(i.kind == "call" and i.channel == "phone" for i in interactions)
    assert _timeline_count(customer) == timeline_before + 1  # plus "personal data erased"
    entries = TimelineEntry.objects.filter(subject_id=customer.pk, kind__startswith="parties.")
    assert all("Wilhelmina" not in e.title and "Elm" not in e.summary for e in entries)

    # consents: history kept, evidence redacted, nothing in force any more
    assert not may_contact(customer.pk, "marketing_email", "email")
    assert ConsentRecord.objects.filter(customer=customer).count() == 2
    assert not ConsentRecord.objects.filter(customer=customer, evidence__contains="Quixotel").exists()

    # the page and the API show no trace of the identity
    client.force_login(admin_user)
    page = client.get(reverse("parties:customer_detail", kwargs={"number": number})).content.decode()
    api = APIClient()
    api.force_authenticate(admin_user)
    detail = api.get(f"/api/v1/customers/{number}/").content.decode()
    full = api.get(f"/api/v1/customers/{number}/page/").content.decode()
    exported = api.get(f"/api/v1/customers/{number}/export/").content
    for text in OLD_TEXTS:
        assert text not in page and text not in detail and text not in full, text
    import io
    import zipfile

    bundle = zipfile.ZipFile(io.BytesIO(exported))
    everything = "".join(bundle.read(n).decode("utf-8-sig") for n in bundle.namelist())
    for text in OLD_TEXTS:
        assert text not in everything, text
    assert f"Erased customer {number}" in page


def test_erasure_needs_permission_confirmation_and_reason(user, admin_user, rich_customer):
    number = rich_customer.customer_number
    with pytest.raises(PermissionDenied):
        customer_erase(actor=user, customer=rich_customer, reason="request", confirmation=number)
    with pytest.raises(ValidationError) as caught:
        customer_erase(actor=admin_user, customer=rich_customer, reason="", confirmation="C-WRONG")
    assert set(caught.value.message_dict) == {"reason", "confirmation"}
    assert not is_erased(rich_customer)
    assert Customer.objects.get(pk=rich_customer.pk).family_name == "Quixotel"


def test_a_privacy_officer_may_erase_without_edit_rights(db):
    from kith.parties.tests.factories import person

    officer = privacy_officer()
    customer = person(None, family_name="Zebulon", owner=officer)
    customer_erase(
        actor=officer, customer=customer, reason="request by letter", confirmation=customer.customer_number
    )
    assert Customer.objects.get(pk=customer.pk).family_name == ""


def test_erasure_is_once(admin_user, rich_customer):
    number = rich_customer.customer_number
    customer_erase(actor=admin_user, customer=rich_customer, reason="first time", confirmation=number)
    with pytest.raises(DomainError):
        customer_erase(actor=admin_user, customer=rich_customer, reason="second time", confirmation=number)
    assert ErasureRecord.objects.count() == 1
    with pytest.raises(DomainError):
        consent(admin_user, rich_customer, "given")


def test_an_erased_customer_can_no_longer_be_changed(client, admin_user, rich_customer):
    from kith.parties import services as parties

    number = rich_customer.customer_number
    customer_erase(
        actor=admin_user, customer=rich_customer, reason="asked by the subject", confirmation=number
    )
    erased = Customer.objects.get(pk=rich_customer.pk)
    with pytest.raises(PermissionDenied):  # not even an administrator
        parties.customer_update(
            actor=admin_user, customer=erased, expected_version=None, data={"notes": "back"}
        )
    with pytest.raises(PermissionDenied):
        parties.customer_set_status(actor=admin_user, customer=erased, status="active", expected_version=None)
    with pytest.raises(PermissionDenied):
        parties.interaction_create(actor=admin_user, customer=erased, data={"kind": "call", "subject": "Hi"})
    client.force_login(admin_user)
    answer = client.post(f"/customers/{number}/status/", {"status": "active", "version": erased.version})
    assert answer.status_code == 403
    assert Customer.objects.get(pk=erased.pk).status == "archived"


def test_erase_page_and_api(client, admin_user, user, rich_customer):
    number = rich_customer.customer_number
    url = reverse("privacy:customer_erase", kwargs={"number": number})
    client.force_login(user)
    assert client.get(url).status_code in (403, 404)
    client.force_login(admin_user)
    assert client.get(url).status_code == 200
    bad = client.post(url, {"reason": "why not", "confirmation": "nope"})
    assert bad.status_code == 400 and "field-error" in bad.content.decode()
    assert not is_erased(rich_customer)
    done = client.post(url, {"reason": "request 17", "confirmation": number})
    assert done.status_code == 302 and is_erased(rich_customer)

    api = APIClient()
    api.force_authenticate(admin_user)
    response = api.get(f"/api/v1/customers/{number}/erasure/")
    assert response.status_code == 200 and response.json()["reason"] == "request 17"


def test_api_erasure_errors(admin_user, other_customer):
    api = APIClient()
    api.force_authenticate(admin_user)
    url = f"/api/v1/customers/{other_customer.customer_number}/erasure/"
    response = api.post(url, {"reason": "", "confirmation": "x"}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    response = api.post(url, {"reason": "request", "confirmation": "x"}, format="json")
    assert response.status_code == 400 and "confirmation" in response.json()["errors"]
    assert api.get(url).status_code == 404
    response = api.post(
        url, {"reason": "request", "confirmation": other_customer.customer_number}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["summary"]["phones"] == 0
