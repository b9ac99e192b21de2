"""The REST API at /api/v1/: authentication, customers, search, records, catalogues, errors and the schema."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from kith.parties import services
from kith.parties.models import Customer, CustomFieldDefinition, Interaction, Relationship, Tag
from kith.parties.services import catalogues
from kith.parties.tests.factories import company, person
from kith.security.testing import make_user, with_clearance

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def admin_api(admin_user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def _error_body(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert {"code", "detail", "errors"} <= set(body), body
    return body


def _all_pages(api: APIClient, url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        url = body["next"]
        assert (url is None) == (body["next_cursor"] is None)
    return rows


# --- authentication ----------------------------------------------------------------------------


def test_requests_without_credentials_get_401_json():
    response = APIClient().get(f"{API}/customers/")
    assert response.status_code == 401
    assert _error_body(response)["code"] == "not_authenticated"
    assert APIClient().post(f"{API}/customers/", {"kind": "person"}, format="json").status_code == 401


def test_token_is_issued_for_good_credentials_and_authenticates(user):
    client = APIClient()
    bad = client.post(f"{API}/auth/token/", {"username": "manager", "password": "wrong"}, format="json")
    assert bad.status_code == 400
    assert "non_field_errors" in _error_body(bad)
    response = client.post(
        f"{API}/auth/token/", {"username": "manager", "password": "a-long-Passw0rd!"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=user).key == token
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"{API}/customers/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(f"{API}/customers/").status_code == 401


def test_session_login_works_for_the_api(user):
    client = APIClient()
    client.force_login(user)
    assert client.get(f"{API}/customers/").status_code == 200


# --- customers: CRUD ---------------------------------------------------------------------------


def test_customer_round_trip_create_read_update_delete(api, user, settings):
    with_clearance(user)  # the round trip reads back phones and the ID number unmasked
    settings.KITH_DEFAULT_REGION = "CN"
    tree = catalogues.category_tree_create(actor=None, data={"name": "Industry"})
    telecom = catalogues.category_create(actor=None, tree=tree, name="Telecom")
    mobile = catalogues.category_create(actor=None, tree=tree, name="Mobile", parent=telecom)
    role = catalogues.role_create(actor=None, data={"code": "buyer", "name": "Buyer"})
    catalogues.custom_field_create(
        actor=None, data={"key": "loyalty_points", "label": "Loyalty points", "field_type": "integer"}
    )
    body = {
        "kind": "person",
        "family_name": "Wang",
        "given_name": "Li",
        "birth_date": "1990-02-03",
        "status": "active",
        "phones": [{"number": "138-0013-8000", "label": "mobile"}],
        "emails": [{"address": "li.wang@example.com"}],
        "addresses": [{"line1": "1 Main Street", "city": "Shanghai", "country": "cn"}],
        "custom_data": {"loyalty_points": "12"},
        "categories": [mobile.pk],
        "tags": ["VIP", "vip", "Golf"],
        "roles": [role.pk],
    }
    created = api.post(f"{API}/customers/", body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    number = data["customer_number"]
    assert created["Location"].endswith(f"/api/v1/customers/{number}/")
    assert data["display_name"] == "Li Wang"
    assert data["owner"]["id"] == user.pk
    assert data["phones"][0]["number"] == "+8613800138000"
    assert data["addresses"][0]["country"] == "CN"
    assert data["custom_data"] == {"loyalty_points": 12}
    assert [c["label"] for c in data["categories"]] == ["Industry › Telecom › Mobile"]
    assert sorted(t["name"] for t in data["tags"]) == ["Golf", "VIP"]
    assert [r["code"] for r in data["roles"]] == ["buyer"]
    assert data["version"] == 1

    read = api.get(f"{API}/customers/{number}/")
    assert read.status_code == 200
    assert read.json() == data

    patched = api.patch(
        f"{API}/customers/{number}/",
        {"version": 1, "given_name": "Lei", "display_name": "", "tags": ["Golf"]},
        format="json",
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["version"] == 2
    assert patched.json()["display_name"] == "Lei Wang"
    assert [t["name"] for t in patched.json()["tags"]] == ["Golf"]
    assert patched.json()["phones"] == data["phones"]  # lists not sent stay as they were

    assert api.delete(f"{API}/customers/{number}/").status_code == 204
    gone = api.get(f"{API}/customers/{number}/")
    assert gone.status_code == 404
    assert _error_body(gone)["code"] == "not_found"


def test_service_validation_errors_come_back_as_field_errors_and_nothing_is_saved(api):
    catalogues.custom_field_create(
        actor=None, data={"key": "segment", "label": "Segment", "field_type": "choice", "choices": ["Gold"]}
    )
    response = api.post(
        f"{API}/customers/",
        {
            "kind": "person",
            "family_name": "Doe",
            "phones": [{"number": "+1 202 555 0100"}, {"number": "12"}],
            "emails": [{"address": "not-an-email"}],
            "custom_data": {"segment": "Bronze", "nope": 1},
            "birth_date": "2999-01-01",
        },
        format="json",
    )
    assert response.status_code == 400
    errors = _error_body(response)["errors"]
    assert {
        "phones.1.number",
        "emails.0.address",
        "custom_data.segment",
        "custom_data.nope",
        "birth_date",
    } <= set(errors)
    assert Customer.objects.count() == 0


def test_type_errors_are_field_errors_with_dotted_keys(api):
    response = api.post(
        f"{API}/customers/",
        {"kind": "robot", "phones": [{"number": "+12025550100", "label": "pager"}], "owner": "x", "bogus": 1},
        format="json",
    )
    assert response.status_code == 400
    errors = _error_body(response)["errors"]
    assert {"kind", "phones.0.label", "owner", "bogus"} <= set(errors)
    assert errors["bogus"] == ["Unknown field."]


def test_patch_needs_the_version_and_a_stale_version_is_a_conflict(api, user):
    customer = person(user)
    url = f"{API}/customers/{customer.customer_number}/"
    missing = api.patch(url, {"given_name": "Jane"}, format="json")
    assert missing.status_code == 400
    assert "version" in _error_body(missing)["errors"]
    assert api.patch(url, {"version": 1, "given_name": "Jane"}, format="json").status_code == 200
    stale = api.patch(url, {"version": 1, "given_name": "Joan"}, format="json")
    assert stale.status_code == 409
    assert _error_body(stale)["code"] == "conflict"
    customer.refresh_from_db()
    assert customer.given_name == "Jane"
    assert customer.version == 2


def test_delete_is_refused_for_a_customer_with_interactions_except_for_superusers(api, admin_api, user):
    customer = person(user)
    services.interaction_create(actor=user, customer=customer, data={"kind": "call", "subject": "Hello"})
    url = f"{API}/customers/{customer.customer_number}/"
    refused = api.delete(url)
    assert refused.status_code == 409
    assert _error_body(refused)["code"] == "delete_refused"
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert admin_api.delete(url).status_code == 204
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_archive_and_reactivate(api, user):
    customer = person(user, status="active")
    url = f"{API}/customers/{customer.customer_number}"
    archived = api.post(f"{url}/archive/", {"version": 1}, format="json")
    assert archived.status_code == 200
    assert archived.json()["status"] == "archived"
    assert api.post(f"{url}/archive/", {"version": 1}, format="json").status_code == 409
    reactivated = api.post(f"{url}/reactivate/", {}, format="json")
    assert reactivated.status_code == 200
    assert reactivated.json()["status"] == "active"


# --- customers: search -------------------------------------------------------------------------


def test_search_by_number_phone_formats_email_and_name(api, user, settings):
    settings.KITH_DEFAULT_REGION = "CN"
    target = company(
        user,
        legal_name="Shanghai Blue Ocean Trading Co",
        phones=[{"number": "+86 138 0013 8000"}],
        emails=[{"address": "Sales@BlueOcean.example"}],
    )
    person(user, family_name="Other", phones=[{"number": "+86 139 0000 0000"}])

    def found(q: str) -> list[str]:
        response = api.get(f"{API}/customers/", {"q": q})
        assert response.status_code == 200, response.content
        return [r["customer_number"] for r in response.json()["results"]]

    for query in (
        target.customer_number,
        target.customer_number.lower(),
        "13800138000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "008613800138000",
        "sales@blueocean.example",
        "blue ocean",
        "Trading",
    ):
        assert found(query) == [target.customer_number], query
    row = api.get(f"{API}/customers/", {"q": "blue ocean"}).json()["results"][0]
    assert row["primary_phone"] == "+8613800138000"
    assert row["primary_email"] == "Sales@blueocean.example"
    assert row["url"].endswith(f"/api/v1/customers/{target.customer_number}/")


def test_filters_and_bad_filter_values(api, user, django_user_model):
    other = make_user("other", "sales_rep", manager=user)  # reports to user: user sees theirs
    a = person(user, family_name="Alpha", status="active")
    b = company(user, legal_name="Beta Ltd", status="prospect")
    c = person(other, family_name="Gamma", owner=other.pk)
    services.customer_update(actor=user, customer=a, expected_version=1, tag_names=["VIP"])

    def numbers(**params: Any) -> set[str]:
        response = api.get(f"{API}/customers/", params)
        assert response.status_code == 200, response.content
        return {r["customer_number"] for r in response.json()["results"]}

    assert numbers(kind="company") == {b.customer_number}
    assert numbers(status="active") == {a.customer_number}
    assert numbers(tag="vip") == {a.customer_number}
    assert numbers(owner=other.pk) == {c.customer_number}
    today = timezone.localdate().isoformat()
    assert numbers(created_from=today) == {a.customer_number, b.customer_number, c.customer_number}

    bad = api.get(
        f"{API}/customers/",
        {"kind": "robot", "owner": "abc", "created_from": "2024-13-45", "sort": "shoe", "limit": "0"},
    )
    assert bad.status_code == 400
    assert {"kind", "owner", "created_from", "sort", "limit"} <= set(_error_body(bad)["errors"])
    for params in ({"cursor": "!!!"}, {"cursor": "WzFd"}, {"cf_": "x"}, {"owner": "²"}, {"limit": "10" * 20}):
        response = api.get(f"{API}/customers/", params)
        assert response.status_code == 400, params
        _error_body(response)


def test_cursor_pagination_is_stable_with_no_duplicates(api, user):
    for i in range(23):
        person(user, family_name=f"Same{i % 3}", given_name="Pat")
    for sort in ("name", "-name", "number", "-created"):
        rows = _all_pages(api, f"{API}/customers/?limit=5&sort={sort}")
        ids = [r["id"] for r in rows]
        assert len(ids) == 23 == len(set(ids)), sort
    rows = _all_pages(api, f"{API}/customers/?limit=4&sort=name")
    names = [(r["display_name"].casefold(), r["id"]) for r in rows]
    assert names == sorted(names)


def test_customer_list_stays_within_its_query_budget(api, user, django_assert_max_num_queries):
    for i in range(30):
        person(user, family_name=f"Budget{i}", phones=[{"number": f"+1 202 555 01{i:02d}"}])
    api.get(f"{API}/customers/", {"limit": 30})  # warm: the user's permissions and reach come from the cache
    with django_assert_max_num_queries(5):  # + the security generation, read once per request
        response = api.get(f"{API}/customers/", {"limit": 30})
    assert len(response.json()["results"]) == 30


# --- customer page and timeline ----------------------------------------------------------------


def test_customer_page_has_everything_in_one_call(api, user, django_assert_max_num_queries):
    tree = catalogues.category_tree_create(actor=None, data={"name": "Value tier"})
    gold = catalogues.category_create(actor=None, tree=tree, name="Gold")
    catalogues.custom_field_create(
        actor=None, data={"key": "shoe_size", "label": "Shoe size", "field_type": "integer"}
    )
    employs = catalogues.relationship_type_create(
        actor=None,
        data={"code": "employs", "name": "employs", "inverse_name": "employed by", "from_kind": "company"},
    )
    employer = company(user, legal_name="Acme Ltd")
    employee = person(user, family_name="Ng", birth_date="1980-02-29", custom={"shoe_size": 42})
    services.customer_update(actor=user, customer=employee, expected_version=1, category_ids=[gold.pk])
    services.relationship_add(actor=user, type=employs, from_customer=employer, to_customer=employee)
    for i in range(25):
        services.interaction_create(
            actor=user, customer=employee, data={"kind": "call", "subject": f"Call {i}"}
        )
    services.special_date_add(
        actor=user, customer=employee, kind="wedding", month=6, day=1, year=2010, label=""
    )

    api.get(f"{API}/customers/{employee.customer_number}/page/")  # warm: permissions and reach cached
    with django_assert_max_num_queries(15):  # + the security generation, read once per request
        response = api.get(f"{API}/customers/{employee.customer_number}/page/")
    assert response.status_code == 200
    page = response.json()
    assert page["customer"]["customer_number"] == employee.customer_number
    assert page["customer"]["categories"][0]["label"] == "Value tier › Gold"
    assert {"key": "shoe_size", "label": "Shoe size", "value": 42}.items() <= page["custom_fields"][0].items()
    (side,) = page["relationships"]
    assert side["label"] == "employed by"
    assert side["outgoing"] is False
    assert side["other"]["customer_number"] == employer.customer_number
    assert len(page["timeline"]["results"]) == 20
    assert page["timeline"]["next_cursor"]
    assert "/timeline/?cursor=" in page["timeline"]["next"]
    kinds = {d["kind"]: d for d in page["special_dates"]}
    assert set(kinds) == {"birthday", "wedding"}
    assert kinds["birthday"]["derived"] is True
    next_birthday = dt.date.fromisoformat(kinds["birthday"]["next_occurrence"])
    assert next_birthday >= timezone.localdate()
    assert (next_birthday.month, next_birthday.day) in ((2, 28), (2, 29))
    assert kinds["wedding"]["years_at_next"] == next_birthday.year - 2010 or kinds["wedding"]["years_at_next"]

    other_side = api.get(f"{API}/customers/{employer.customer_number}/page/").json()["relationships"]
    assert [(r["label"], r["outgoing"]) for r in other_side] == [("employs", True)]

    # the rest of the timeline follows the cursor, without overlap
    rest = api.get(page["timeline"]["next"]).json()
    assert len(rest["results"]) == 5  # 25 calls in all
    assert rest["next_cursor"] is None
    first_ids = {e["id"] for e in page["timeline"]["results"]}
    assert not first_ids & {e["id"] for e in rest["results"]}


def test_timeline_endpoint_filters_by_kind_and_refuses_bad_input(api, user):
    customer = person(user)
    services.interaction_create(actor=user, customer=customer, data={"kind": "call", "subject": "Ring"})
    services.interaction_create(actor=user, customer=customer, data={"kind": "complaint", "subject": "Bad"})
    url = f"{API}/customers/{customer.customer_number}/timeline/"
    calls = api.get(url, {"kind": "parties.call"}).json()["results"]
    assert [e["title"] for e in calls] == ["Ring"]
    assert calls[0]["source_type"] == "parties.interaction"
    assert calls[0]["actor"]["id"] == user.pk
    for params in (
        {"kind": "nope"},
        {"cursor": "garbage"},
        {"cursor": "2024-01-01T00:00:00|1"},
        {"limit": "x"},
    ):
        response = api.get(url, params)
        assert response.status_code == 400, params
        _error_body(response)


# --- interactions, relationships, special dates ------------------------------------------------


def test_interactions_create_list_update_delete(api, user):
    customer = person(user)
    other = person(user, family_name="Other")
    created = api.post(
        f"{API}/interactions/",
        {
            "customer": customer.customer_number,
            "kind": "visit",
            "subject": "First visit",
            "channel": "in_person",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    interaction = created.json()
    assert interaction["customer"]["customer_number"] == customer.customer_number
    api.post(
        f"{API}/interactions/",
        {"customer": other.customer_number, "kind": "call", "subject": "Other call"},
        format="json",
    )
    listed = api.get(f"{API}/interactions/", {"customer": customer.customer_number}).json()["results"]
    assert [i["subject"] for i in listed] == ["First visit"]
    url = f"{API}/interactions/{interaction['id']}/"
    updated = api.patch(
        url, {"version": 1, "subject": "First visit (done)", "outcome": "positive"}, format="json"
    )
    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    assert api.patch(url, {"version": 1, "subject": "x"}, format="json").status_code == 409
    assert api.delete(url).status_code == 204
    assert not Interaction.objects.filter(pk=interaction["id"]).exists()
    unknown = api.post(
        f"{API}/interactions/", {"customer": "NOPE", "kind": "call", "subject": "x"}, format="json"
    )
    assert unknown.status_code == 400
    assert "customer" in _error_body(unknown)["errors"]


def test_interaction_list_pages_newest_first_without_duplicates(api, user):
    customer = person(user)
    now = timezone.now()
    for i in range(7):
        services.interaction_create(
            actor=user,
            customer=customer,
            data={"kind": "note", "subject": f"n{i}", "occurred_at": now - dt.timedelta(hours=i % 3)},
        )
    rows = _all_pages(api, f"{API}/interactions/?customer={customer.customer_number}&limit=3")
    assert len({r["id"] for r in rows}) == 7 == len(rows)
    times = [r["occurred_at"] for r in rows]
    assert times == sorted(times, reverse=True)


def test_relationships_create_list_and_delete(api, user):
    rel_type = catalogues.relationship_type_create(
        actor=None, data={"code": "parent", "name": "parent of", "inverse_name": "child of"}
    )
    parent, child = company(user, legal_name="Holding AG"), company(user, legal_name="Sub GmbH")
    created = api.post(
        f"{API}/relationships/",
        {"type": rel_type.pk, "from_customer": parent.customer_number, "to_customer": child.customer_number},
        format="json",
    )
    assert created.status_code == 201, created.content
    seen_from_child = api.get(f"{API}/relationships/", {"customer": child.customer_number}).json()["results"]
    assert [(r["label"], r["other"]["customer_number"]) for r in seen_from_child] == [
        ("child of", parent.customer_number)
    ]
    again = api.post(
        f"{API}/relationships/",
        {"type": rel_type.pk, "from_customer": parent.customer_number, "to_customer": child.customer_number},
        format="json",
    )
    assert again.status_code == 400
    assert "to_customer" in _error_body(again)["errors"]
    assert api.delete(f"{API}/relationships/{created.json()['id']}/").status_code == 204
    assert Relationship.objects.count() == 0


def test_special_dates_add_list_delete(api, user):
    customer = person(user, birth_date="1985-07-14")
    url = f"{API}/customers/{customer.customer_number}/special-dates/"
    added = api.post(url, {"kind": "custom", "label": "Joined club", "month": 2, "day": 29}, format="json")
    assert added.status_code == 201, added.content
    assert added.json()["years_at_next"] is None
    bad = api.post(url, {"kind": "custom", "label": "x", "month": 4, "day": 31, "year": 2020}, format="json")
    assert bad.status_code == 400
    assert "day" in _error_body(bad)["errors"]
    listed = api.get(url).json()["results"]
    assert {d["kind"] for d in listed} == {"birthday", "custom"}
    birthday = next(d for d in listed if d["kind"] == "birthday")
    assert api.delete(f"{url}{birthday['id']}/").status_code == 400  # derived from the birth date
    assert api.delete(f"{url}{added.json()['id']}/").status_code == 204


# --- anniversaries -----------------------------------------------------------------------------


def test_anniversaries_on_a_date_and_upcoming(api, user, django_user_model):
    with_clearance(user)  # birth years (ages) are sensitive
    other = make_user("other", "sales_rep", manager=user)  # reports to user: user sees theirs
    today = timezone.localdate()
    soon = today + dt.timedelta(days=3)
    mine = person(user, family_name="Today", birth_date=today.replace(year=1990).isoformat())
    theirs = person(other, family_name="Soon", owner=other.pk, birth_date=soon.replace(year=1991).isoformat())

    on = api.get(f"{API}/anniversaries/", {"date": today.isoformat()})
    assert on.status_code == 200
    assert [a["customer_number"] for a in on.json()["results"]] == [mine.customer_number]
    assert on.json()["results"][0]["years"] == today.year - 1990

    upcoming = api.get(f"{API}/anniversaries/upcoming/", {"days": 7}).json()["results"]
    assert [a["customer_number"] for a in upcoming] == [mine.customer_number, theirs.customer_number]
    owned = api.get(f"{API}/anniversaries/upcoming/", {"days": 7, "owner": other.pk}).json()["results"]
    assert [a["customer_number"] for a in owned] == [theirs.customer_number]
    for params in ({"days": "0"}, {"days": "999999999999999999999"}, {"date": "2024-02-30"}, {"owner": "-1"}):
        path = "upcoming/" if "days" in params else ""
        response = api.get(f"{API}/anniversaries/{path}", params)
        assert response.status_code == 400, params
        _error_body(response)


# --- catalogues --------------------------------------------------------------------------------

CATALOGUE_WRITES = [
    ("custom-fields/", {"key": "vip", "label": "VIP", "field_type": "boolean"}),
    ("category-trees/", {"name": "Region"}),
    ("tags/", {"name": "Key account"}),
    ("roles/", {"code": "payer", "name": "Payer"}),
    ("relationship-types/", {"code": "knows", "name": "knows", "inverse_name": "knows"}),
]


@pytest.mark.parametrize(("path", "body"), CATALOGUE_WRITES)
def test_catalogue_writes_are_for_administrators_only(api, admin_api, path, body):
    refused = api.post(f"{API}/{path}", body, format="json")
    assert refused.status_code == 403
    assert _error_body(refused)["code"] == "permission_denied"
    assert api.get(f"{API}/{path}").json()["results"] == []
    created = admin_api.post(f"{API}/{path}", body, format="json")
    assert created.status_code == 201, created.content
    assert len(api.get(f"{API}/{path}").json()["results"]) == 1
    duplicate = admin_api.post(f"{API}/{path}", body, format="json")
    assert duplicate.status_code == 400


def test_catalogue_updates_and_categories(api, admin_api):
    tree = admin_api.post(f"{API}/category-trees/", {"name": "Industry"}, format="json").json()
    top = admin_api.post(f"{API}/categories/", {"tree": tree["id"], "name": "Telecom"}, format="json").json()
    leaf = admin_api.post(
        f"{API}/categories/", {"tree": tree["id"], "parent": top["id"], "name": "Mobile"}, format="json"
    ).json()
    assert leaf["path"] == "Telecom/Mobile"
    renamed = admin_api.patch(f"{API}/categories/{top['id']}/", {"name": "Telco"}, format="json")
    assert renamed.status_code == 200
    assert api.get(f"{API}/categories/{leaf['id']}/").json()["path"] == "Telco/Mobile"
    assert api.patch(f"{API}/categories/{top['id']}/", {"name": "X"}, format="json").status_code == 403
    field = admin_api.post(
        f"{API}/custom-fields/", {"key": "size", "label": "Size", "field_type": "integer"}, format="json"
    ).json()
    frozen = admin_api.patch(f"{API}/custom-fields/{field['id']}/", {"field_type": "text"}, format="json")
    assert frozen.status_code == 400
    assert "field_type" in _error_body(frozen)["errors"]
    retired = admin_api.patch(f"{API}/custom-fields/{field['id']}/", {"is_active": False}, format="json")
    assert retired.json()["is_active"] is False
    assert CustomFieldDefinition.objects.get(pk=field["id"]).is_active is False
    tag = admin_api.post(f"{API}/tags/", {"name": "Old"}, format="json").json()
    assert api.delete(f"{API}/tags/{tag['id']}/").status_code == 403
    assert admin_api.delete(f"{API}/tags/{tag['id']}/").status_code == 204
    assert not Tag.objects.filter(pk=tag["id"]).exists()


def test_customer_number_pattern_setting_is_for_administrators(api, admin_api, user):
    url = f"{API}/settings/customer-number-pattern/"
    assert api.get(url).status_code == 403
    assert api.put(url, {"pattern": "K{seq}"}, format="json").status_code == 403
    bad = admin_api.put(url, {"pattern": "K{year}"}, format="json")
    assert bad.status_code == 400
    assert "pattern" in _error_body(bad)["errors"]
    good = admin_api.put(url, {"pattern": "K{year}-{seq:04}"}, format="json")
    assert good.status_code == 200
    assert good.json()["example"] == f"K{timezone.now().year}-0001"
    assert person(user).customer_number == f"K{timezone.now().year}-0001"


# --- garbage in, 4xx out -----------------------------------------------------------------------

GARBAGE: list[Any] = [
    [],
    [1, 2],
    "text",
    42,
    {"kind": 5},
    {"kind": ["person"]},
    {"kind": {"a": 1}},
    {"kind": "person", "family_name": {"nested": True}},
    {"kind": "person", "family_name": "x" * 10_000},
    {"kind": "person", "family_name": "Nul\x00l"},
    {"kind": "person", "family_name": "A", "custom_data": {"k\x00": "v"}},
    {"kind": "person", "family_name": "A", "custom_data": {"k": {"deep": 1}}},
    {"kind": "person", "family_name": "A", "custom_data": []},
    {"kind": "person", "family_name": "A", "phones": {"number": "1"}},
    {"kind": "person", "family_name": "A", "phones": ["+12025550100"]},
    {"kind": "person", "family_name": "A", "phones": [{"number": "not a phone"}]},
    {"kind": "person", "family_name": "A", "emails": [{"address": "@@"}]},
    {"kind": "person", "family_name": "A", "emails": [{"address": "a@" + "b" * 300 + ".com"}]},
    {"kind": "person", "family_name": "A", "birth_date": "1990-02-30"},
    {"kind": "person", "family_name": "A", "birth_date": 19900101},
    {"kind": "company", "legal_name": "A", "annual_revenue": "1e400", "annual_revenue_currency": "EUR"},
    {"kind": "company", "legal_name": "A", "annual_revenue": "NaN", "annual_revenue_currency": "EUR"},
    {"kind": "person", "family_name": "A", "owner": 10**18},
    {"kind": "person", "family_name": "A", "owner": 2**70},
    {"kind": "person", "family_name": "A", "categories": [2**62, "x"]},
    {"kind": "person", "family_name": "A", "roles": [-1]},
    {"kind": "person", "family_name": "A", "tags": [None, ""]},
    {"version": 2**70},
    {"version": "1", "kind": "company"},
    {"customer": "X", "kind": "call", "subject": "s", "occurred_at": "yesterday"},
    {"customer": "X", "kind": "call", "subject": "s", "occurred_at": "0001-01-01T00:00:00+14:00"},
    {"type": 2**63, "from_customer": "A", "to_customer": "B"},
    {"kind": "custom", "label": "x", "month": 13, "day": 99, "year": 2**40},
    {"key": "Bad Key!", "label": "", "field_type": "nope", "min_value": "abc", "choices": "x"},
    {"name": ["a"], "tree": "x", "parent": 1.5},
    {"code": "", "name": None, "color": "red", "pattern": "(", "allow_multiple": "maybe"},
    {"pattern": "{seq}{seq}", "position": -1},
]
RAW_BODIES = [b"null", b"{not json", b"\xff\xfe", b"[" * 5000 + b"]" * 5000, b'{"a": 1e999999}', b"\x00"]


def test_garbage_input_to_every_write_endpoint_is_a_4xx_json_error(admin_api, admin_user):
    customer = person(admin_user, family_name="Target")
    interaction = services.interaction_create(
        actor=admin_user, customer=customer, data={"kind": "call", "subject": "x"}
    )
    tree = catalogues.category_tree_create(actor=None, data={"name": "T"})
    category = catalogues.category_create(actor=None, tree=tree, name="C")
    field = catalogues.custom_field_create(actor=None, data={"key": "f", "label": "F", "field_type": "text"})
    role = catalogues.role_create(actor=None, data={"code": "r", "name": "R"})
    rel_type = catalogues.relationship_type_create(
        actor=None, data={"code": "t", "name": "t", "inverse_name": "t"}
    )
    number = customer.customer_number
    endpoints = [
        ("post", "auth/token/"),
        ("post", "customers/"),
        ("patch", f"customers/{number}/"),
        ("post", f"customers/{number}/archive/"),
        ("post", f"customers/{number}/reactivate/"),
        ("post", f"customers/{number}/special-dates/"),
        ("post", "interactions/"),
        ("patch", f"interactions/{interaction.pk}/"),
        ("post", "relationships/"),
        ("post", "custom-fields/"),
        ("patch", f"custom-fields/{field.pk}/"),
        ("post", "category-trees/"),
        ("patch", f"category-trees/{tree.pk}/"),
        ("post", "categories/"),
        ("patch", f"categories/{category.pk}/"),
        ("post", "tags/"),
        ("post", "roles/"),
        ("patch", f"roles/{role.pk}/"),
        ("post", "relationship-types/"),
        ("patch", f"relationship-types/{rel_type.pk}/"),
        ("put", "settings/customer-number-pattern/"),
    ]
    for method, path in endpoints:
        send = getattr(admin_api, method)
        for body in GARBAGE:
            response = send(f"{API}/{path}", body, format="json")
            assert 400 <= response.status_code < 500, (method, path, body, response.content[:300])
            _error_body(response)
        for raw in RAW_BODIES:
            response = send(f"{API}/{path}", raw, content_type="application/json")
            assert 400 <= response.status_code < 500, (method, path, raw[:20], response.content[:300])
            _error_body(response)
        form = send(f"{API}/{path}", "a=1", content_type="application/x-www-form-urlencoded")
        assert 400 <= form.status_code < 500, (method, path)
    assert Customer.objects.count() == 1
    for path in ("customers/%00/", "customers/?q=%00", "interactions/?customer=x%00", "customers/?cf_x=%00"):
        response = admin_api.get(f"{API}/{path}")
        assert 400 <= response.status_code < 500, path
        _error_body(response)
    for path in ("interactions/99999999999999999999/", f"customers/{number}/special-dates/{2**70}/"):
        assert admin_api.get(f"{API}/{path}").status_code in (404, 405)


# --- schema and docs ---------------------------------------------------------------------------


def test_schema_validates_and_lists_every_endpoint(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/customers/",
        "/api/v1/customers/{number}/",
        "/api/v1/customers/{number}/page/",
        "/api/v1/customers/{number}/timeline/",
        "/api/v1/customers/{number}/archive/",
        "/api/v1/customers/{number}/reactivate/",
        "/api/v1/customers/{number}/special-dates/",
        "/api/v1/customers/{number}/special-dates/{id}/",
        "/api/v1/interactions/",
        "/api/v1/interactions/{id}/",
        "/api/v1/relationships/",
        "/api/v1/relationships/{id}/",
        "/api/v1/anniversaries/",
        "/api/v1/anniversaries/upcoming/",
        "/api/v1/custom-fields/",
        "/api/v1/category-trees/",
        "/api/v1/categories/",
        "/api/v1/tags/",
        "/api/v1/roles/",
        "/api/v1/relationship-types/",
        "/api/v1/settings/customer-number-pattern/",
        "/api/v1/data-quality/",
        "/api/v1/data-quality/rules/",
        "/api/v1/data-quality/rules/{id}/",
        "/api/v1/data-quality/rules/{id}/bulk/",
    ):
        assert f"  {path}:" in schema, path


def test_api_docs_load_no_asset_from_the_internet(api, client, user):
    client.force_login(user)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html)
    assert assets
    assert not [a for a in assets if re.match(r"^(https?:)?//", a)], assets
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost|testserver)", html)
