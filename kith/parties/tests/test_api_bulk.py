"""The integrator's API: bulk create and update of customers (per item or all or nothing, the single
endpoints' checks and errors), and sparse fields on the customer list and detail (masking still applies)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from kith.audit.choices import AccessKind
from kith.audit.models import AccessLog
from kith.parties.models import Customer
from kith.parties.tests.factories import person
from kith.parties.tests.test_api import GARBAGE
from kith.security import tokens
from kith.security.testing import make_user, with_clearance

pytestmark = pytest.mark.django_db

API = "/api/v1"
BULK = f"{API}/customers/bulk/"
PHONE = "+8613800138000"
MASKED_PHONE = "+86 138****8000"
ID_NUMBER = "110101199003121234"
MASKED_ID = "1101**********1234"


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert {"code", "detail", "errors"} <= set(body), body
    return body


def _bulk(client: APIClient, items: list[Any], **options: Any) -> Any:
    return client.post(BULK, {"items": items, **options}, format="json")


# --- bulk ----------------------------------------------------------------------------------------


def test_bulk_mixed_items_each_succeed_or_fail_on_their_own(user):
    api = _api(user)
    ann, bob = person(user, given_name="Ann"), person(user, given_name="Bob")
    response = _bulk(
        api,
        [
            {
                "kind": "person",
                "family_name": "New",
                "phones": [{"number": "+1 202 555 0100"}],
                "tags": ["VIP"],
            },
            {"kind": "person", "family_name": "Bad", "emails": [{"address": "not-an-email"}], "bogus": 1},
            {"customer_number": ann.customer_number, "version": 1, "given_name": "Anna"},
            {"customer_number": bob.customer_number, "version": 7, "given_name": "Robert"},
            {"customer_number": "NO-SUCH-1", "version": 1, "given_name": "X"},
            {"kind": "company", "legal_name": "Acme"},
        ],
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["updated"], body["failed"]) == (2, 1, 3)
    results = body["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["status"] for r in results] == ["created", "error", "updated", "error", "error", "created"]

    new = Customer.objects.get(customer_number=results[0]["customer_number"])
    assert results[0]["version"] == new.version == 1 and results[0]["errors"] == {}
    # through the same services as the single create: the phone normalised, the tag made
    assert new.phones.get().number == "+12025550100" and [t.name for t in new.tags.all()] == ["VIP"]

    assert results[1]["code"] == "invalid"
    assert results[1]["errors"] == {"bogus": ["Unknown field."]}

    ann.refresh_from_db()
    assert ann.given_name == "Anna" and ann.version == 2 == results[2]["version"]

    assert results[3]["code"] == "conflict" and results[3]["customer_number"] == bob.customer_number
    bob.refresh_from_db()
    assert bob.given_name == "Bob" and bob.version == 1

    assert results[4]["code"] == "not_found" and "customer_number" in results[4]["errors"]
    assert Customer.objects.count() == 4  # ann, bob and the two created


def test_bulk_item_errors_are_those_of_the_single_endpoints(user):
    api = _api(user)
    customer = person(user)
    create = {"kind": "robot", "phones": [{"number": "+12025550100", "label": "pager"}], "owner": "x"}
    update = {"version": 1, "birth_date": "2999-01-01", "emails": [{"address": "@@"}]}
    single_create = api.post(f"{API}/customers/", create, format="json")
    single_update = api.patch(f"{API}/customers/{customer.customer_number}/", update, format="json")
    assert single_create.status_code == single_update.status_code == 400
    body = _bulk(api, [create, {"customer_number": customer.customer_number, **update}]).json()
    assert body["results"][0]["errors"] == _error(single_create)["errors"]
    assert body["results"][1]["errors"] == _error(single_update)["errors"]
    assert body["failed"] == 2 and Customer.objects.count() == 1


def test_two_updates_of_one_customer_with_one_version_the_second_is_a_conflict(user):
    customer = person(user)
    number = customer.customer_number
    body = _bulk(
        _api(user),
        [
            {"customer_number": number, "version": 1, "given_name": "First"},
            {"customer_number": number, "version": 1, "given_name": "Second"},
        ],
    ).json()
    assert [r["status"] for r in body["results"]] == ["updated", "error"]
    assert body["results"][1]["code"] == "conflict"
    customer.refresh_from_db()
    assert customer.given_name == "First" and customer.version == 2


def test_atomic_bulk_saves_nothing_when_an_item_is_refused(user):
    api = _api(user)
    ann = person(user, given_name="Ann")
    before = Customer.objects.count()
    response = _bulk(
        api,
        [
            {"kind": "person", "family_name": "One"},
            {"customer_number": ann.customer_number, "version": 1, "given_name": "Anna"},
            {"customer_number": ann.customer_number, "version": 1, "given_name": "Stale"},
            {"kind": "person", "family_name": "Two", "birth_date": "not a date"},
        ],
        atomic=True,
    )
    assert response.status_code == 400
    body = _error(response)
    assert body["code"] == "bulk_refused"
    assert (body["created"], body["updated"], body["failed"]) == (0, 0, 2)
    assert [r["status"] for r in body["results"]] == ["rolled_back", "rolled_back", "error", "error"]
    assert body["results"][0]["customer_number"] is None
    assert body["results"][2]["code"] == "conflict"
    assert set(body["errors"]) == {"items.2", "items.3.birth_date"}
    assert Customer.objects.count() == before
    ann.refresh_from_db()
    assert ann.given_name == "Ann" and ann.version == 1
    # the same items without the stale and the bad one: all saved
    ok = _bulk(api, [{"kind": "person", "family_name": "One"}], atomic=True)
    assert ok.status_code == 200 and ok.json()["created"] == 1
    assert Customer.objects.count() == before + 1


def test_bulk_refuses_more_than_500_items_and_bad_shapes(user):
    api = _api(user)
    too_many = _bulk(api, [{"kind": "person", "family_name": f"P{i}"} for i in range(501)])
    assert too_many.status_code == 400
    assert "items" in _error(too_many)["errors"]
    bodies: list[dict[str, Any]] = [
        {"items": []},
        {"items": "x"},
        {"items": [{"kind": "person", "family_name": "A"}, "not an object"]},
        {"items": [{"kind": "person", "family_name": "A"}], "atomic": "perhaps"},
        {"items": [{"kind": "person", "family_name": "A"}], "extra": 1},
        {},
    ]
    for body in bodies:
        response = api.post(BULK, body, format="json")
        assert response.status_code == 400, body
        _error(response)
    assert not Customer.objects.exists()


def test_bulk_garbage_items_are_item_errors_never_a_5xx(admin_user):
    api = _api(admin_user)
    items = [g for g in GARBAGE if isinstance(g, dict) and "\\u0000" not in json.dumps(g)]
    response = _bulk(api, items)
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["failed"] == len(items) and body["created"] == 0
    assert all(r["status"] == "error" and r["code"] for r in body["results"])
    assert len(items) > 20
    odd = _bulk(api, [{"customer_number": 5, "version": 1}, {"customer_number": "", "version": 1}]).json()
    assert [(r["code"], r["customer_number"]) for r in odd["results"]] == [("invalid", None), ("invalid", "")]
    assert all("customer_number" in r["errors"] for r in odd["results"])
    with_nul = _bulk(api, [{"kind": "person", "family_name": "Nul\x00l"}])
    assert with_nul.status_code == 400 and "items.0.family_name" in _error(with_nul)["errors"]
    assert not Customer.objects.exists()


def test_bulk_applies_permissions_per_item(user):
    auditor = make_user("auditor1", "auditor")
    mine = person(user)
    other = person(make_user("someone", "sales_rep"), family_name="Hidden")
    body = _bulk(
        _api(auditor),
        [
            {"kind": "person", "family_name": "No"},
            {"customer_number": mine.customer_number, "version": 1, "given_name": "No"},
        ],
    ).json()
    assert [r["code"] for r in body["results"]] == ["permission_denied", "permission_denied"]
    # a customer the caller cannot see is not found, as on PATCH
    hidden = _bulk(_api(user), [{"customer_number": other.customer_number, "version": 1, "notes": "x"}])
    assert hidden.json()["results"][0]["code"] == "not_found"
    assert Customer.objects.count() == 2


def test_bulk_needs_the_write_scope(user):
    _token, read_key = tokens.create_token(actor=user, data={"name": "ro", "scopes": ["customers:read"]})
    _token, write_key = tokens.create_token(actor=user, data={"name": "rw", "scopes": ["customers:write"]})
    items = [{"kind": "person", "family_name": "Scoped"}]
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {read_key}")
    refused = _bulk(reader, items)
    assert refused.status_code == 403 and "customers:write" in _error(refused)["detail"]
    assert not Customer.objects.exists()
    writer = APIClient()
    writer.credentials(HTTP_AUTHORIZATION=f"Bearer {write_key}")
    assert _bulk(writer, items).json()["created"] == 1
    assert APIClient().post(BULK, {"items": items}, format="json").status_code == 401


def test_a_repeated_bulk_with_its_idempotency_key_is_replayed(user):
    api = _api(user)
    body = {"items": [{"kind": "person", "family_name": "Once"}, {"kind": "person", "family_name": "Twice"}]}
    first = api.post(BULK, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-2026-01")
    again = api.post(BULK, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-2026-01")
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true" and again.content == first.content
    assert Customer.objects.count() == 2


# --- sparse fields -------------------------------------------------------------------------------


@pytest.fixture
def rep_and_customer(user: Any) -> tuple[Any, Customer]:
    rep = make_user("rep", "sales_rep")
    customer = person(
        rep, given_name="Li", family_name="Wei", id_document_number=ID_NUMBER, phones=[{"number": PHONE}]
    )
    return rep, customer


def test_sparse_fields_on_the_list_keep_masking(rep_and_customer):
    rep, customer = rep_and_customer
    person(rep, given_name="Second")
    api = _api(rep)
    response = api.get(
        f"{API}/customers/", {"fields": "customer_number,display_name,primary_phone", "sort": "name"}
    )
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert all(list(row) == ["customer_number", "display_name", "primary_phone"] for row in rows)
    assert {
        "customer_number": customer.customer_number,
        "display_name": "Li Wei",
        "primary_phone": MASKED_PHONE,
    } in rows
    # the next page keeps the fields
    page = api.get(f"{API}/customers/", {"fields": "customer_number", "limit": "1"}).json()
    assert "fields=customer_number" in page["next"]
    assert [list(r) for r in api.get(page["next"]).json()["results"]] == [["customer_number"]]
    # repeated parameters work too; a cleared user sees the value
    cleared = _api(with_clearance(rep))
    rows = cleared.get(f"{API}/customers/?fields=customer_number&fields=primary_phone&q=Wei").json()[
        "results"
    ]
    assert rows == [{"customer_number": customer.customer_number, "primary_phone": PHONE}]


def test_sparse_fields_on_the_detail_keep_masking(rep_and_customer):
    rep, customer = rep_and_customer
    url = f"{API}/customers/{customer.customer_number}/"
    data = _api(rep).get(url, {"fields": "customer_number,id_document_number,phones,masked_fields"}).json()
    assert set(data) == {"customer_number", "id_document_number", "phones", "masked_fields"}
    assert data["id_document_number"] == MASKED_ID
    assert data["phones"][0]["number"] == MASKED_PHONE
    assert "id_document_number" in data["masked_fields"]
    full = _api(rep).get(url).json()
    assert {k: full[k] for k in data} == data
    assert _api(with_clearance(rep)).get(url, {"fields": "id_document_number"}).json() == {
        "id_document_number": ID_NUMBER
    }


def test_unknown_sparse_fields_are_a_400_on_fields(rep_and_customer):
    rep, customer = rep_and_customer
    api = _api(rep)
    for url in (f"{API}/customers/", f"{API}/customers/{customer.customer_number}/"):
        response = api.get(url, {"fields": "customer_number,password,__dict__"})
        assert response.status_code == 400
        errors = _error(response)["errors"]
        assert list(errors) == ["fields"] and "password" in errors["fields"][0]


def test_sparse_fields_alone_are_not_logged_as_a_search(rep_and_customer):
    rep, _customer = rep_and_customer
    assert _api(rep).get(f"{API}/customers/", {"fields": "customer_number"}).status_code == 200
    assert not AccessLog.objects.filter(kind=AccessKind.SEARCH).exists()
