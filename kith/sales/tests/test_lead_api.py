"""The lead API: capture (source api, idempotency key), filters, visibility, field errors, stale version
(409), status steps, conversion with dedup (candidates, existing customer, double conversion), rules and
tasks; the token area."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kith.parties.models import Customer
from kith.parties.services import customers as customer_services
from kith.sales.models import FollowUpTask, Lead
from kith.sales.tests.lead_factories import lead
from kith.security import tokens
from kith.security.testing import make_user, with_clearance

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _region(settings):
    settings.KITH_DEFAULT_REGION = "CN"
    settings.KITH_DEFAULT_CURRENCY = "CNY"


def _api(who: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(who)
    return client


def test_capture_read_update_delete(user):
    api = _api(with_clearance(user))  # the phone is sensitive: this test reads it whole
    created = api.post(
        "/api/v1/leads/",
        {"given_name": "Li", "family_name": "Wei", "phone": "138 0013 8000", "email": "LI@Example.com"},
        format="json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["source"] == "api" and data["phone"] == "+8613800138000" and data["email"] == "li@example.com"
    assert data["owner"] == user.pk and data["version"] == 1
    pk = data["id"]
    assert api.get(f"/api/v1/leads/{pk}/").json()["family_name"] == "Wei"
    changed = api.patch(f"/api/v1/leads/{pk}/", {"title": "CEO", "expected_version": 1}, format="json")
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = api.patch(f"/api/v1/leads/{pk}/", {"title": "CTO", "expected_version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    qualified = api.patch(f"/api/v1/leads/{pk}/", {"status": "qualified"}, format="json")
    assert qualified.json()["status"] == "qualified"
    no_reason = api.patch(f"/api/v1/leads/{pk}/", {"status": "unqualified"}, format="json")
    assert no_reason.status_code == 400 and "disqualified_reason" in no_reason.json()["errors"]
    assert api.delete(f"/api/v1/leads/{pk}/").status_code == 204
    assert api.get(f"/api/v1/leads/{pk}/").status_code == 404


def test_field_errors_are_json_and_nothing_is_saved(user):
    api = _api(user)
    response = api.post("/api/v1/leads/", {"email": "nope", "phone": "12", "colour": "red"}, format="json")
    assert response.status_code == 400
    assert {"colour"} <= set(response.json()["errors"])
    response = api.post("/api/v1/leads/", {"email": "nope", "phone": "12"}, format="json")
    assert {"email", "phone"} <= set(response.json()["errors"])
    response = api.post("/api/v1/leads/", {"title": "CEO"}, format="json")
    assert "family_name" in response.json()["errors"]
    assert not Lead.objects.exists()


def test_idempotency_key_makes_one_lead(user):
    api = _api(user)
    body = {"company": "Acme"}
    first = api.post("/api/v1/leads/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/leads/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1


def test_visibility_and_filters(user):
    rep = make_user("rep", "sales_rep", manager=user)
    peer = make_user("peer", "sales_rep")
    lead(rep, company="Rep Co", territory="North")
    lead(user, company="Boss Co")
    assert [r["company"] for r in _api(rep).get("/api/v1/leads/").json()["results"]] == ["Rep Co"]
    assert _api(peer).get("/api/v1/leads/").json()["count"] == 0
    manager = _api(user)
    assert manager.get("/api/v1/leads/").json()["count"] == 2
    assert [r["company"] for r in manager.get("/api/v1/leads/?owner=mine").json()["results"]] == ["Boss Co"]
    assert manager.get("/api/v1/leads/?territory=north").json()["count"] == 1
    assert manager.get("/api/v1/leads/?status=bogus").status_code == 400
    rep_lead = Lead.objects.get(company="Rep Co")
    assert _api(peer).get(f"/api/v1/leads/{rep_lead.pk}/").status_code == 404


def test_convert_offers_and_uses_the_existing_customer(user):
    existing = customer_services.customer_create(
        actor=user,
        kind="person",
        data={"given_name": "Li", "family_name": "Wei"},
        emails=[{"address": "li@example.com"}],
    )
    made = lead(user, given_name="Li", family_name="Wei", email="li@example.com")
    api = _api(user)
    candidates = api.get(f"/api/v1/leads/{made.pk}/convert/").json()["results"]
    assert candidates[0]["customer_number"] == existing.customer_number and candidates[0]["score"] == 100
    converted = api.post(
        f"/api/v1/leads/{made.pk}/convert/",
        {"customer": existing.customer_number, "opportunity": {"name": "Fleet", "amount": "500"}},
        format="json",
    )
    assert converted.status_code == 200, converted.content
    body = converted.json()
    assert body["customer"] == existing.customer_number and not body["customer_created"]
    assert body["opportunity"] and body["lead"]["status"] == "converted"
    again = api.post(f"/api/v1/leads/{made.pk}/convert/", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "lead_converted"
    edit = api.patch(f"/api/v1/leads/{made.pk}/", {"company": "X"}, format="json")
    assert edit.status_code == 409
    assert Customer.objects.count() == 1


def test_convert_into_a_new_customer(user):
    made = lead(user, company="Acme", given_name="", family_name="")
    response = _api(user).post(
        f"/api/v1/leads/{made.pk}/convert/", {"create_opportunity": False}, format="json"
    )
    assert response.status_code == 200 and response.json()["customer_created"]
    assert Customer.objects.get().kind == "company"


def test_rules_and_tasks(user):
    rep = make_user("rep", "sales_rep", manager=user)
    api = _api(user)
    created = api.post("/api/v1/lead-rules/", {"name": "All", "users": [rep.pk]}, format="json")
    assert created.status_code == 201 and created.json()["users"] == [rep.pk]
    pk = created.json()["id"]
    assert (
        api.patch(
            f"/api/v1/lead-rules/{pk}/", {"territory": "EU", "expected_version": 1}, format="json"
        ).status_code
        == 200
    )
    assert _api(rep).get("/api/v1/lead-rules/").status_code == 403
    made = lead(user)
    bad = api.post("/api/v1/tasks/", {"lead": made.pk, "title": "", "due_date": "soon"}, format="json")
    assert bad.status_code == 400 and {"title", "due_date"} <= set(bad.json()["errors"])
    task = api.post(
        "/api/v1/tasks/", {"lead": made.pk, "title": "Call", "due_date": "2030-01-02"}, format="json"
    )
    assert task.status_code == 201
    assert [t["title"] for t in api.get("/api/v1/tasks/").json()["results"]] == ["Call"]
    done = api.patch(
        f"/api/v1/tasks/{task.json()['id']}/", {"done": True, "expected_version": 1}, format="json"
    )
    assert done.status_code == 200 and done.json()["done_at"]
    assert api.get("/api/v1/tasks/").json()["results"] == []
    assert FollowUpTask.objects.get().done_at is not None


def test_the_token_area_is_sales(admin_user):
    client = APIClient()
    _token, key = tokens.create_token(actor=admin_user, data={"name": "ci", "scopes": ["customers:write"]})
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/leads/").status_code == 403
    _token, key = tokens.create_token(
        actor=admin_user, data={"name": "ci2", "scopes": ["sales:write", "sales:read"]}
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.post("/api/v1/leads/", {"company": "Acme"}, format="json").status_code == 201
