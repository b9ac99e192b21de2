"""The opportunity API: create/get/patch/delete with field errors and conflicts, moves with approvals,
pipelines, approvals (request, decide), visibility, the token area and the schema."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kith.sales.models import Approval, Opportunity, Pipeline, Stage
from kith.sales.tests import opportunity_factories as f
from kith.security import tokens
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def team():  # type: ignore[no-untyped-def]
    boss = make_user("boss", "sales_manager")
    rep = make_user("rep", "sales_rep", manager=boss)
    peer = make_user("peer", "sales_rep", manager=boss)
    return boss, rep, peer


def test_crud_and_conflict(team) -> None:  # type: ignore[no-untyped-def]
    boss, rep, _peer = team
    customer = f.customer(owner=rep)
    api = client_for(rep)
    created = api.post(
        "/api/v1/opportunities/",
        {"customer": customer.customer_number, "name": "Fibre", "amount": "1200.5", "currency": "eur"},
        format="json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["amount"] == "1200.50" and data["stage_name"] == "Qualification" and data["version"] == 1
    pk = data["id"]
    changed = api.patch(f"/api/v1/opportunities/{pk}/", {"next_step": "Call", "version": 1}, format="json")
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = api.patch(f"/api/v1/opportunities/{pk}/", {"name": "Again", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    assert api.delete(f"/api/v1/opportunities/{pk}/").status_code == 403  # reps do not delete
    assert client_for(boss).delete(f"/api/v1/opportunities/{pk}/").status_code == 204
    assert api.get(f"/api/v1/opportunities/{pk}/").status_code == 404


def test_field_errors_all_at_once(team) -> None:  # type: ignore[no-untyped-def]
    _boss, rep, _peer = team
    customer = f.customer(owner=rep)
    other = Stage.objects.create(pipeline=Pipeline.objects.create(name="Renewals"), name="Open")
    api = client_for(rep)
    response = api.post(
        "/api/v1/opportunities/",
        {
            "customer": customer.customer_number,
            "name": "",
            "amount": "10.999",
            "currency": "EUR",
            "discount_percent": "101",
            "pipeline": f.pipeline().pk,
            "stage": other.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "amount", "discount_percent", "stage"}
    negative = api.post(
        "/api/v1/opportunities/",
        {"customer": customer.customer_number, "name": "x", "amount": "-1", "currency": "EUR"},
        format="json",
    )
    assert set(negative.json()["errors"]) == {"amount"}
    unknown = api.post("/api/v1/opportunities/", {"customer": "NOPE", "name": "x"}, format="json")
    assert set(unknown.json()["errors"]) == {"customer"}
    assert not Opportunity.objects.exists()


def test_visibility(team) -> None:  # type: ignore[no-untyped-def]
    boss, rep, peer = team
    deal = f.opportunity(rep)
    assert [o["id"] for o in client_for(boss).get("/api/v1/opportunities/").json()["results"]] == [deal.pk]
    assert client_for(peer).get("/api/v1/opportunities/").json()["results"] == []
    assert client_for(peer).get(f"/api/v1/opportunities/{deal.pk}/").status_code == 404
    assert (
        client_for(rep)
        .get("/api/v1/opportunities/", {"status": "open", "customer": deal.customer.customer_number})
        .json()["count"]
        == 1
    )
    assert client_for(rep).get("/api/v1/opportunities/", {"status": "won"}).json()["count"] == 0
    assert client_for(rep).get("/api/v1/opportunities/", {"ordering": "colour"}).status_code == 400


def test_move_needs_approval_then_decide(team, mailoutbox, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    boss, rep, _peer = team
    deal = f.opportunity(rep, amount="250000", currency="EUR")
    api = client_for(rep)
    proposal = f.stage("Proposal sent")
    refused = api.post(
        f"/api/v1/opportunities/{deal.pk}/move/", {"stage": proposal.pk, "version": 1}, format="json"
    )
    assert refused.status_code == 409 and refused.json()["code"] == "approval_required"
    with django_capture_on_commit_callbacks(execute=True):
        asked = api.post(f"/api/v1/opportunities/{deal.pk}/approvals/", {"comment": "Big one"}, format="json")
    assert asked.status_code == 201 and asked.json()["approver"] == boss.pk
    assert mailoutbox[0].to == [boss.email]
    again = api.post(f"/api/v1/opportunities/{deal.pk}/approvals/", {}, format="json")
    assert again.status_code == 409
    pk = asked.json()["id"]
    assert api.post(f"/api/v1/approvals/{pk}/decide/", {"approve": True}, format="json").status_code == 403
    todo = client_for(boss).get("/api/v1/approvals/").json()["results"]
    assert [a["id"] for a in todo] == [pk]
    no_comment = client_for(boss).post(f"/api/v1/approvals/{pk}/decide/", {"approve": False}, format="json")
    assert no_comment.status_code == 400 and "comment" in no_comment.json()["errors"]
    decided = client_for(boss).post(
        f"/api/v1/approvals/{pk}/decide/", {"approve": True, "comment": "ok"}, format="json"
    )
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    moved = api.post(
        f"/api/v1/opportunities/{deal.pk}/move/", {"stage": proposal.pk, "version": 1}, format="json"
    )
    assert moved.status_code == 200 and moved.json()["stage"] == proposal.pk
    assert api.get("/api/v1/approvals/", {"box": "requested"}).json()["results"][0]["status"] == "approved"


def test_pipelines_with_stages(team) -> None:  # type: ignore[no-untyped-def]
    _boss, rep, _peer = team
    body = client_for(rep).get("/api/v1/pipelines/").json()
    assert body["results"][0]["name"] == "Sales"
    assert [s["name"] for s in body["results"][0]["stages"]][:2] == ["Qualification", "Needs analysis"]
    assert client_for(make_user("nobody")).get("/api/v1/pipelines/").status_code == 403


def test_the_token_area_is_sales(admin_user) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    _token, key = tokens.create_token(actor=admin_user, data={"name": "ci", "scopes": ["customers:read"]})
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/opportunities/").status_code == 403
    _token, key = tokens.create_token(actor=admin_user, data={"name": "ci2", "scopes": ["sales:read"]})
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/opportunities/").status_code == 200
    assert client.post("/api/v1/opportunities/", {}, format="json").status_code == 403
    assert not Approval.objects.exists()


def test_schema_is_valid_with_the_opportunity_endpoints(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in ("/api/v1/opportunities/{id}/move/", "/api/v1/pipelines/", "/api/v1/approvals/{id}/decide/"):
        assert path in schema
